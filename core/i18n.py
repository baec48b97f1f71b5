"""Languages and time zones: which language a page is in, which zone its times are shown in,
and the lists members choose from."""

from __future__ import annotations

import functools
from zoneinfo import available_timezones

from flask import current_app, has_request_context, request
from flask_babel import get_locale
from flask_login import current_user


@functools.cache
def time_zones() -> tuple[str, ...]:
    """Every IANA time zone name, sorted (read from disk once)."""
    return tuple(sorted(available_timezones()))


def is_time_zone(name: str) -> bool:
    return name in _time_zone_set()


@functools.cache
def _time_zone_set() -> frozenset[str]:
    return frozenset(time_zones())


def language_names() -> dict[str, str]:
    """Two-letter language codes with their names in the current page's language."""
    return _language_names(str(get_locale()))


@functools.cache
def _language_names(locale: str) -> dict[str, str]:
    names = get_locale().languages
    two_letter = [(code, name) for code, name in names.items() if len(code) == 2]
    return dict(sorted(two_letter, key=lambda item: item[1]))


def language_name(code: str) -> str:
    return language_names().get(code, code)


def select_locale() -> str | None:
    """The member's chosen language, else the browser's best match among ``LANGUAGES``."""
    languages = current_app.config["LANGUAGES"]
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    return request.accept_languages.best_match(languages) if has_request_context() else None


def select_timezone() -> str | None:
    if current_user and current_user.is_authenticated:
        return current_user.timezone
    return None
