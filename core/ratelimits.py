"""Rate limits on the writes a member can repeat (a chat message, a forum post, a wiki edit…)
and on what anyone can ask of the site without an account (registering, mailed links,
logging in).

One API serves pages and socket handlers alike: a limit is declared once, by name, with a
default (``rate_limit("wiki-edit", "30/hour")``), and the code that writes calls its
``hit()`` just before the write. Over the limit, ``hit()`` raises ``RateLimited``, an
``InvalidInput``: the form's page comes back filled, with the wait in the message, as for
any refused input, and the response becomes a 429 with ``Retry-After``; a socket handler
answers the error in its ack. ``rate_limited(...)`` is the same as a view decorator, for a
view that has no form to keep.

Counts are kept by the ``limits`` library, in a moving window: in
memory by default, in Redis when ``RATE_LIMIT_STORAGE_URL`` or ``SOCKETIO_MESSAGE_QUEUE``
names one, so that several web processes share them. When that Redis does not answer, the
writes go through unchecked (logged): a limit must never take the site down.
"""

from __future__ import annotations

import functools
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal, ParamSpec, TypeVar

import redis
from flask import Flask, Response, current_app, g, has_request_context, request
from flask_babel import format_timedelta
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from limits import RateLimitItem, parse_many
from limits.errors import StorageError
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from core.errors import InvalidInput

log = logging.getLogger(__name__)

STORAGE_TIMEOUT = 1.0  # seconds a request waits for Redis before it goes on unchecked
RETRY_EVERY = 1.0  # seconds during which a storage that failed is not asked again
Per = Literal["member", "ip"]


class RateLimited(InvalidInput):
    """Refused: the limit ``name`` is reached; ``retry_after`` is the wait, in seconds.
    Raised in a request, it turns that request's answer into a 429 with ``Retry-After``."""

    def __init__(self, message: str, name: str, retry_after: int) -> None:
        super().__init__(message)
        self.name = name
        self.retry_after = retry_after
        if has_request_context():
            g.alma_rate_limited = self


@dataclass(frozen=True)
class Quota:
    """What is left of a limit: ``remaining`` of ``limit`` calls, room again in ``reset``
    seconds."""

    limit: int
    remaining: int
    reset: int


@dataclass(frozen=True)
class RateLimit:
    """A declared limit. ``per="member"`` counts each logged-in member apart (and, for a
    visitor, each IP address); ``per="ip"`` counts each IP address, logged in or not."""

    name: str
    default: str
    per: Per = "member"
    message: str = field(default="", compare=False)  # with %(wait)s (lazy); else a generic one

    def hit(self, who: str | None = None) -> None:
        """Count one more write, or raise ``RateLimited`` (counting nothing) over the limit.
        ``who`` counts someone else than the ``per`` rule says (an API token: ``"token:12"``)."""
        ids, items = self._ids(who), self._items()

        def attempt(store: _Storage) -> float:
            # One call to the storage for the usual single limit: a moving window's
            # acquisition refuses atomically and then counts nothing. Several limits are
            # all tested first, so that one refusing does not leave the others counted.
            if len(items) > 1:
                reached = [item for item in items if not store.strategy.test(item, *ids)]
                if reached:
                    return _wait(store, reached, ids)
            refused = [item for item in items if not store.strategy.hit(item, *ids)]
            return _wait(store, refused, ids)

        self._refuse_for(_with_storage(attempt))

    def check(self) -> None:
        """Raise ``RateLimited`` if the limit is reached, counting nothing."""
        ids, items = self._ids(), self._items()

        def reached(store: _Storage) -> float:
            full = [item for item in items if not store.strategy.test(item, *ids)]
            return _wait(store, full, ids)

        self._refuse_for(_with_storage(reached))

    def quota(self, who: str | None = None) -> Quota | None:
        """What is left now of the tightest of the limit's windows (``None`` when the storage
        does not answer): an API answer's ``RateLimit-*`` headers."""
        ids, items = self._ids(who), self._items()

        def left(store: _Storage) -> Quota:
            now = time.time()
            quotas = []
            for item in items:
                stats = store.strategy.get_window_stats(item, *ids)
                reset = max(0, math.ceil(stats.reset_time - now))
                quotas.append(Quota(item.amount, stats.remaining, reset))
            return min(quotas, key=lambda quota: quota.remaining)

        quota: Quota | None = _with_storage(left)
        return quota

    def count(self) -> None:
        """Count one (a failed login, say) without refusing anything."""
        ids, items = self._ids(), self._items()
        _with_storage(lambda store: [store.strategy.hit(item, *ids) for item in items])

    def _items(self) -> list[RateLimitItem]:
        configured = current_app.config["RATE_LIMITS"].get(self.name, self.default)
        return parse_many(configured)

    def _ids(self, who: str | None = None) -> tuple[str, ...]:
        return (current_app.config["RATE_LIMIT_KEY_PREFIX"], self.name, who or self._who())

    def _who(self) -> str:
        if self.per == "member" and current_user and current_user.is_authenticated:
            return f"member:{current_user.id}"
        return f"ip:{request.remote_addr or ''}"

    def _refuse_for(self, seconds: float | None) -> None:
        """Raise ``RateLimited`` saying to wait ``seconds``, if there is a wait."""
        if not seconds or seconds <= 0:
            return
        retry_after = max(1, math.ceil(seconds))
        wait_text = format_timedelta(
            timedelta(seconds=retry_after), threshold=1.5, add_direction=False
        )
        message = self.message or _l("You did this too often for now. Try again in %(wait)s.")
        raise RateLimited(str(message) % {"wait": wait_text}, self.name, retry_after)


def _wait(store: _Storage, reached: list[RateLimitItem], ids: tuple[str, ...]) -> float:
    """Seconds until every limit of ``reached`` lets one more write through."""
    now = time.time()
    return max(
        (store.strategy.get_window_stats(item, *ids).reset_time - now for item in reached),
        default=0.0,
    )


DECLARED: dict[str, RateLimit] = {}  # every limit declared by the code imported, by name


def rate_limit(name: str, default: str, *, per: Per = "member", message: str = "") -> RateLimit:
    """Declare the limit ``name`` (a plugin prefixes it with its name: ``"wiki-edit"``)
    with its ``default`` (e.g. ``"30/hour"``, or ``"5/minute;100/day"``), which operators
    change in ``RATE_LIMITS``. ``message`` replaces the generic refusal; it holds
    ``%(wait)s``. Declaring the same name twice with the same values returns the same limit."""
    parse_many(default)  # a bad default fails at import, not at the first write
    declared = RateLimit(name, default, per, message)
    known = DECLARED.setdefault(name, declared)
    if known != declared:
        raise ValueError(f"rate limit {name!r} is declared twice, differently")
    return known


P = ParamSpec("P")
R = TypeVar("R")


def rate_limited(
    name: str, default: str, *, per: Per = "member"
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """A view decorator: each post (any method but GET, HEAD, OPTIONS) counts against the
    limit ``name``; over it, the member gets a 429 page saying how long to wait. A view with a
    form to give back filled calls ``rate_limit(...).hit()`` where it handles ``InvalidInput``
    instead."""
    limit = rate_limit(name, default, per=per)

    def decorate(view: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(view)
        def limited(*args: P.args, **kwargs: P.kwargs) -> R:
            if request.method not in ("GET", "HEAD", "OPTIONS"):
                limit.hit()
            return view(*args, **kwargs)

        return limited

    return decorate


# ---- the storage, per app -----------------------------------------------------------------


@dataclass
class _Storage:
    strategy: MovingWindowRateLimiter
    down_until: float = 0.0  # time.monotonic() before which the storage is not asked
    failing: bool = False  # its last answer was an error (logged once, and once it is back)


def storage_url(config: dict[str, Any] | Any) -> str:
    """Where the counts are kept: ``RATE_LIMIT_STORAGE_URL``, else the Redis of the message
    queue, else this process's memory."""
    return config["RATE_LIMIT_STORAGE_URL"] or config["SOCKETIO_MESSAGE_QUEUE"] or "memory://"


def init_rate_limits(app: Flask) -> None:
    """Give ``app`` its counts and the 429 answers of requests that reached a limit. Only
    the writes that declare a limit ask the storage: no other request pays for it."""
    url = storage_url(app.config)
    options: dict[str, Any] = {}
    if url.startswith(("redis://", "rediss://")):
        options = {"socket_timeout": STORAGE_TIMEOUT, "socket_connect_timeout": STORAGE_TIMEOUT}
    strategy = MovingWindowRateLimiter(storage_from_string(url, **options))
    app.extensions["alma_rate_limits"] = _Storage(strategy)
    app.after_request(_answer_of_limited)
    for name in app.config["RATE_LIMITS"]:
        if name not in DECLARED:
            log.warning(
                "RATE_LIMITS names %r, which no enabled code declares (known: %s)",
                name,
                ", ".join(sorted(DECLARED)),
            )


def _with_storage(action: Callable[[_Storage], Any]) -> Any:
    """``action(storage)``, or ``None`` (nothing counted, nothing refused) when the storage
    does not answer: not asked again for ``RETRY_EVERY`` seconds, and logged when it stops
    answering and when it answers again (not at every request in between)."""
    store: _Storage = current_app.extensions["alma_rate_limits"]
    if time.monotonic() < store.down_until:
        return None
    try:
        result = action(store)
    except (redis.RedisError, StorageError, OSError) as error:
        store.down_until = time.monotonic() + RETRY_EVERY
        if not store.failing:
            store.failing = True
            log.warning("rate limit storage did not answer, writes go unchecked: %s", error)
        return None
    if store.failing:
        store.failing = False
        log.warning("rate limit storage answers again, writes are counted")
    return result


def _answer_of_limited(response: Response) -> Response:
    """A page given back after ``RateLimited`` (the form again, filled) is a 429 with the
    wait; a redirect stays one."""
    refused: RateLimited | None = g.get("alma_rate_limited")
    if refused is not None and not 300 <= response.status_code < 400:
        response.status_code = 429
        response.headers["Retry-After"] = str(refused.retry_after)
    return response
