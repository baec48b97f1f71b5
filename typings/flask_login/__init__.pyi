# The part of Flask-Login that alma uses, typed: Flask-Login ships no annotations and
# no stubs are published, and an untyped `login_required` would leave every view unchecked.
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from flask import Flask

_ViewT = TypeVar("_ViewT", bound=Callable[..., Any])
_LoaderT = TypeVar("_LoaderT", bound=Callable[[str], Any])

# The member of the request, or an anonymous one: a proxy whose attributes are the User's.
current_user: Any

def login_required(func: _ViewT) -> _ViewT: ...
def login_user(
    user: Any,
    remember: bool = ...,
    duration: timedelta | None = ...,
    force: bool = ...,
    fresh: bool = ...,
) -> bool: ...
def logout_user() -> bool: ...

class UserMixin:
    @property
    def is_active(self) -> bool: ...
    @property
    def is_authenticated(self) -> bool: ...
    @property
    def is_anonymous(self) -> bool: ...
    def get_id(self) -> str: ...

class LoginManager:
    login_view: str | None
    session_protection: str | None
    def __init__(self, app: Flask | None = ..., add_context_processor: bool = ...) -> None: ...
    def user_loader(self, callback: _LoaderT) -> _LoaderT: ...
