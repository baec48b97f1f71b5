"""Languages and time zones: which language a page is in, which zone its times are shown in,
and the lists members choose from.

Every date and time a member reads (pages, mails, alerts, PDFs, goal titles) is written by
:func:`format_when`, in the language and time zone of its reader: the viewer of a page, or
the member named by :func:`reading_as` (the recipient of a mail, the holder of a
certificate), whoever's request or job is running."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Literal, cast, get_args
from zoneinfo import ZoneInfo, available_timezones

from babel import Locale, dates
from babel.support import NullTranslations
from flask import current_app, g, has_request_context, request, session
from flask_babel import Babel, Domain, force_locale, get_domain, get_locale
from flask_login import current_user

from core.db import utcnow

if TYPE_CHECKING:
    from core.models import User


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
    names = Locale.parse(locale).languages
    two_letter = [(code, name) for code, name in names.items() if len(code) == 2]
    return dict(sorted(two_letter, key=lambda item: item[1]))


def language_name(code: str) -> str:
    return language_names().get(code, code)


# ---- catalogs: one per part ----------------------------------------------------------------

# Each part (core, every plugin) ships its catalog in its own package, in this folder next to
# the module that defines the plugin: ``translations/<language>/LC_MESSAGES/messages.mo``.
CATALOG_FOLDER = "translations"
CORE_CATALOG = Path(__file__).parent / CATALOG_FOLDER


def catalog_folder(plugin: object) -> Path:
    """Where ``plugin`` (a module, or an object whose class defines it) keeps its catalog."""
    defined_in = plugin if inspect.ismodule(plugin) else type(plugin)
    return Path(inspect.getfile(defined_in)).parent / CATALOG_FOLDER


def translation_directories(plugins: Iterable[object], site_folders: str = "") -> str:
    """Flask-Babel's ``BABEL_TRANSLATION_DIRECTORIES`` for core and the enabled ``plugins``
    (in ``PLUGINS`` order), with the site's own folders (``site_folders``, separated by
    ``;``). Flask-Babel merges them into one catalog, a later folder's translation of a
    message replacing an earlier one's; so the site's own win over core's, core's over every
    plugin's (a plugin cannot reword core's pages), and an earlier plugin's over a later
    one's."""
    plugin_folders = [catalog_folder(plugin) for plugin in plugins]
    parts = [folder for folder in [*reversed(plugin_folders), CORE_CATALOG] if folder.is_dir()]
    site = [folder for folder in site_folders.split(";") if folder]
    return ";".join([*map(str, parts), *site])


def site_languages() -> list[tuple[str, str]]:
    """The site's languages (``LANGUAGES``), each named in itself ("Deutsch"), for a switch
    read by someone who may not read the page's language."""
    return [(code, _own_name(code)) for code in current_app.config["LANGUAGES"]]


@functools.cache
def _own_name(code: str) -> str:
    name = Locale.parse(code).get_display_name(code) or code
    return name[:1].upper() + name[1:]


# where a visitor's choice of language is kept (a member's is ``User.locale``)
VISITOR_LOCALE = "locale"


def select_locale() -> str | None:
    """The member's chosen language, else a visitor's chosen one, else the browser's best
    match among ``LANGUAGES``, else the first of them."""
    languages = current_app.config["LANGUAGES"]
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        chosen: str = current_user.locale
        return chosen
    if not has_request_context():
        return None
    return visitors_language() or languages[0]


def visitors_language() -> str | None:
    """The language a visitor chose with the switch, else the one their browser asks for
    among ``LANGUAGES``; ``None`` when neither says (a new account then follows the browser,
    as "Follow my browser" in My data does)."""
    languages = current_app.config["LANGUAGES"]
    if session.get(VISITOR_LOCALE) in languages:
        visitor: str = session[VISITOR_LOCALE]
        return visitor
    matched: str | None = request.accept_languages.best_match(languages)
    return matched


def catalog() -> NullTranslations:
    """The catalog of the language being read now, as Flask-Babel finds it, in fewer steps:
    Flask-Babel walks its context three times and names the locale at each ``gettext``, and
    a page translates 20 to 130 strings. The catalog is kept beside the locale object it was
    found for, so that ``force_locale`` (a mail in its recipient's language), which sets
    another locale object, finds its own."""
    state = getattr(g, "_flask_babel", None)
    kept = getattr(state, "alma_catalog", None)
    if kept is not None and kept[0] is getattr(state, "babel_locale", None):  # not refresh()ed
        return cast("NullTranslations", kept[1])
    found = Domain.get_translations(get_domain())  # Flask-Babel's own way
    state = g._flask_babel  # made by get_domain()
    state.alma_catalog = (state.babel_locale, found)
    return found


class _CatalogDomain(Domain):
    """Flask-Babel's domain, through which every ``gettext`` of Python code goes, finding
    its catalog with :func:`catalog`."""

    def get_translations(self) -> NullTranslations:
        return catalog()


class AlmaBabel(Babel):
    """Flask-Babel, whose ``gettext`` (in Python code and, through the ``_`` Flask-Babel
    gives them, in templates) finds the catalog with :func:`catalog`."""

    @functools.cached_property
    def domain_instance(self) -> Domain:
        return _CatalogDomain(domain=self.domain)


def reading_locale() -> Locale | str:
    """The language being read now: Flask-Babel's ``get_locale()``, read where it keeps it
    when it has been asked already (a date on a page is formatted 10 to 40 times)."""
    state = getattr(g, "_flask_babel", None)
    return (
        getattr(state, "babel_locale", None) or get_locale() or current_app.config["LANGUAGES"][0]
    )


def select_timezone() -> str:
    """Flask-Babel's time zone (for its own filters; alma's templates use ``when``)."""
    return str(reader_zone())


# ---- dates and times as their reader reads them ---------------------------------------------

# The shapes a date or time takes, the same on every page, mail and document: in English a
# date as "Dec 3, 2026", a moment as "Dec 3, 2026, 11:30 PM"; in German "3. Dez. 2026" and
# "3. Dez. 2026, 23:30" (each language its own order, the month abbreviated in words).
SHORT_DAY = "yMMMd"  # a skeleton, which each language orders its own way
DAY_PATTERNS = {
    "date": SHORT_DAY,
    "datetime": SHORT_DAY,
    "long": "long",
    "full": "full",
    "month": "LLLL y",
    "weekday": "EEE",
}
WHEN_SHAPES = (*DAY_PATTERNS, "time", "zoned")
NamedLength = Literal["full", "long", "medium", "short"]  # Babel's named date formats


def format_when(
    value: date | datetime | None, shape: str | None = None, *, zone: tzinfo | None = None
) -> str:
    """``value`` as the current reader reads it: in their language and, for a moment (an
    aware ``datetime``), on their clock (or on the clock of ``zone``). ``shape`` is one of
    :data:`WHEN_SHAPES`: ``date`` (the default for a ``date``), ``datetime`` (the default
    for a ``datetime``), ``zoned`` (a ``datetime`` followed by the zone's name, for a mail or
    an alert read away from the site), ``long`` (a date in words, for documents), ``time``,
    ``full`` (with the weekday), ``month`` (a calendar's title) or ``weekday`` (a calendar's
    column). ``None`` gives ``""``. In templates it is the filter ``when``:
    ``{{ meeting.starts_at | when }}``, ``{{ member.created_at | when("date") }}``."""
    if value is None:
        return ""
    shape = shape or ("datetime" if isinstance(value, datetime) else "date")
    locale = reading_locale()
    zone = zone or reader_zone()
    if isinstance(value, datetime):
        value = value.astimezone(zone)
    if shape == "zoned":
        named = str(zone)
        if isinstance(value, datetime) and occurs_twice(value):  # which 02:30 of the night
            named += ", " + dates.format_time(value, "ZZZZ", locale=locale)
        return f"{format_when(value, 'datetime', zone=zone)} ({named})"
    if shape == "time" and not isinstance(value, datetime):
        raise ValueError("a time of day needs a datetime")
    if shape not in WHEN_SHAPES:
        raise ValueError(f"unknown shape of a date: {shape!r}")
    return _pattern(locale, shape, with_time=isinstance(value, datetime)).apply(value, locale)


@functools.cache
def _pattern(locale: Locale | str, shape: str, *, with_time: bool) -> dates.DateTimePattern:
    """Babel's pattern of ``shape`` in ``locale``, parsed once per language: a date's, a
    time's, or (``datetime`` and ``full`` of a moment) both, joined as the language joins
    them (e.g. "{1}, {0}": the date, then the time)."""
    at = dates.get_time_format("short", locale=locale).pattern
    if shape == "time":
        return dates.parse_pattern(at)
    day = DAY_PATTERNS[shape]
    if day == SHORT_DAY:  # a skeleton: the language's own order of it
        day = Locale.parse(str(locale)).datetime_skeletons[SHORT_DAY].pattern
    elif day in get_args(NamedLength):  # else a pattern of its own, e.g. "LLLL y"
        day = dates.get_date_format(cast(NamedLength, day), locale=locale).pattern
    if not (with_time and shape in ("datetime", "full")):
        return dates.parse_pattern(day)
    joined = str(dates.get_datetime_format("medium", locale=locale))
    return dates.parse_pattern(joined.replace("{1}", day).replace("{0}", at))


def occurs_twice(moment: datetime) -> bool:
    """Whether the time of day of ``moment`` (an aware time on a member's clock) comes twice
    on that clock (the hour the clocks go back): only the offset from UTC tells the two
    apart."""
    return moment.replace(fold=1 - moment.fold).utcoffset() != moment.utcoffset()


def reader_zone() -> ZoneInfo:
    """The time zone of the current reader: the member :func:`reading_as` names, else the
    logged-in viewer's, else ``DEFAULT_TIMEZONE`` (a visitor's)."""
    forced: ZoneInfo | None = g.get("alma_reader_zone") if g else None
    if forced is not None:
        return forced
    viewer = current_user._get_current_object()  # once: each use of the proxy looks it up
    if viewer is not None and viewer.is_authenticated:
        return zone_of(viewer)
    return ZoneInfo(current_app.config["DEFAULT_TIMEZONE"])


def zone_of(user: User) -> ZoneInfo:
    """The member's time zone (UTC if theirs is unknown to this machine)."""
    try:
        return ZoneInfo(user.timezone or "UTC")
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def local_clock(moment: datetime, user: User) -> datetime:
    """``moment`` (an aware time) on ``user``'s clock, e.g. to fill a form of theirs."""
    return moment.astimezone(zone_of(user))


def local_date(moment: datetime, user: User) -> date:
    """The day ``moment`` falls on where ``user`` lives."""
    return local_clock(moment, user).date()


def today_of(user: User) -> date:
    """Today where ``user`` lives (by the one clock, ``utcnow``)."""
    return local_date(utcnow(), user)


def from_local(day: date, time_of_day: time, user: User) -> datetime:
    """The UTC time of ``time_of_day`` on ``day`` on ``user``'s clock: the first of a time
    their clock shows twice; for one it skips, the offset before the jump. Raises
    ``OverflowError`` for the first or last hours of the years 1 and 9999."""
    return datetime.combine(day, time_of_day, tzinfo=zone_of(user)).astimezone(UTC)


def locale_of(user: User) -> str:
    """The member's language, if the site offers it, else the site's first language."""
    languages: list[str] = current_app.config["LANGUAGES"]
    if user.locale is not None and user.locale in languages:
        return user.locale
    return languages[0]


@contextmanager
def reading_as(user: User | None) -> Iterator[None]:
    """Translate and format dates as ``user`` reads them (their language and time zone)
    inside the block: a mail to a member, an alert, their certificate, whoever's request
    causes it. ``None`` changes nothing."""
    if user is None:
        yield
        return
    before = g.get("alma_reader_zone")
    g.alma_reader_zone = zone_of(user)
    try:
        with force_locale(locale_of(user)):
            yield
    finally:
        g.alma_reader_zone = before
