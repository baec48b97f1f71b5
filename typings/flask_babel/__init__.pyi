# The part of Flask-Babel that alma uses, typed. Flask-Babel is annotated only in part and not
# marked as typed. A lazy string is typed as the str it becomes when rendered: WTForms takes
# it as a label, a description or a message, and its stubs ask for a str.
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any

from babel import Locale
from babel.support import NullTranslations
from flask import Flask

def gettext(string: str, **variables: Any) -> str: ...
def ngettext(singular: str, plural: str, num: int, **variables: Any) -> str: ...
def lazy_gettext(string: str, **variables: Any) -> str: ...
def get_locale() -> Locale | None: ...
def get_translations() -> NullTranslations: ...
def force_locale(locale: str | Locale) -> AbstractContextManager[None]: ...
def format_number(number: float | Decimal | str) -> str: ...
def format_decimal(number: float | Decimal | str, format: str | None = ...) -> str: ...
def format_timedelta(
    datetime_or_timedelta: timedelta | datetime,
    granularity: str = ...,
    add_direction: bool = ...,
    threshold: float = ...,
    format: str = ...,
) -> str: ...

class Babel:
    def __init__(
        self,
        app: Flask | None = ...,
        *,
        locale_selector: Callable[[], str | None] | None = ...,
        timezone_selector: Callable[[], str | tzinfo | None] | None = ...,
        **kwargs: Any,
    ) -> None: ...
