"""Settings: defaults, then ``alma.toml`` (or the file named by ``ALMA_CONFIG``), then
``ALMA_<KEY>`` environment variables, then the overrides given to ``create_app``.

Every key is declared once below with its type and a check, so a bad value stops startup with
a message naming the key. Plugin settings live in ``[plugins.<name>]`` tables of the file.
"""

from __future__ import annotations

import builtins
import os
import secrets
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit
from zoneinfo import available_timezones

from flask import Flask, current_app
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

ENV_PREFIX = "ALMA_"
# BASE_URL when it is not set, and alma serve is not the process (alma scheduler, a command)
DEFAULT_BASE_URL = "http://127.0.0.1:5000"


class ConfigError(Exception):
    """A setting has a bad value; the message names the key and what is wrong."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"configuration key {key}: {problem}")
        self.key = key


@dataclass(frozen=True)
class Setting:
    """One setting: its type (``str``, ``int``, ``bool``, ``list`` or ``dict``, a TOML table
    whose keys are text), its default, a check of its value and a line saying what it does.
    ``items`` is the type of a list's items or of a table's values."""

    type: type
    default: Any
    check: Callable[[Any], str | None] | None = None  # returns a problem, or None when fine
    doc: str = ""
    items: builtins.type = str  # builtins: inside the class, "type" is the field above


def _one_of(*choices: str) -> Callable[[Any], str | None]:
    def check(value: str) -> str | None:
        return None if value in choices else f"must be one of {', '.join(choices)}"

    return check


def positive(value: int) -> str | None:
    """A check for a ``Setting``: a whole number above zero."""
    return None if value > 0 else "must be a positive number"


def _not_negative(value: int) -> str | None:
    return None if value >= 0 else "must be 0 or more"


def _port(value: int) -> str | None:
    return None if 0 < value < 65536 else "must be a port number between 1 and 65535"


def _hour_of_day(value: int) -> str | None:
    return None if 0 <= value <= 23 else "must be an hour between 0 and 23"


def _http_url(value: str) -> str | None:
    if not value:
        return None  # alma serve derives it from the address it serves on
    parts = urlsplit(value)
    ok = parts.scheme in ("http", "https") and parts.netloc
    return None if ok else "must be an http:// or https:// URL"


def _database_url(value: str) -> str | None:
    if not value:
        return None  # the SQLite file in the instance folder
    try:
        url = make_url(value)
    except ArgumentError:
        return "is not a database URL (e.g. postgresql+psycopg://user@host/alma)"
    try:  # an unknown database or a driver that is not installed would fail later, unclearly
        url.get_dialect().import_dbapi()
    except (NoSuchModuleError, ImportError):
        return (
            f"names a database or driver that is not available: {url.drivername!r} "
            "(use postgresql+psycopg:// or sqlite:///)"
        )
    return None


def _redis_url(value: str) -> str | None:
    if not value or urlsplit(value).scheme in ("redis", "rediss"):
        return None
    return "must be a redis:// URL"


def _storage_url(value: str) -> str | None:
    if value in ("", "memory://") or urlsplit(value).scheme in ("redis", "rediss"):
        return None
    return "must be a redis:// URL or memory://"


def _rate_limits(value: dict[str, str]) -> str | None:
    from limits import parse_many

    bad = []
    for name, limit in value.items():
        try:
            parse_many(limit)
        except ValueError:
            bad.append(f"{name} = {limit!r}")
    if bad:
        return f'has limits that are not like "30/hour" or "5/minute;100/day": {", ".join(bad)}'
    return None


def _not_empty(value: str) -> str | None:
    return None if value.strip() else "must not be empty"


def _timezone(value: str) -> str | None:
    return None if value in available_timezones() else "is not a known time zone"


def _plugin_names(value: list[str]) -> str | None:
    bad = [name for name in value if not name.isidentifier()]
    return f"bad plugin name(s): {', '.join(bad)}" if bad else None


SETTINGS: dict[str, Setting] = {
    "SECRET_KEY": Setting(str, "", doc="signs sessions and e-mail links; generated if empty"),
    "DATABASE_URL": Setting(str, "", _database_url, "empty means SQLite in the instance folder"),
    "DATABASE_POOL_SIZE": Setting(
        int, 10, positive, "database connections a process keeps, and as many more in bursts"
    ),
    "PLUGINS": Setting(list, [], _plugin_names, "enabled plugins, in order"),
    "BASE_URL": Setting(
        str, "", _http_url, "the public address in links outside the site (mails, iCal, QR codes)"
    ),
    "SITE_NAME": Setting(str, "alma"),
    "MAIL_BACKEND": Setting(str, "file", _one_of("file", "smtp")),
    "MAIL_FROM": Setting(str, "alma <noreply@localhost>"),
    "MAIL_HOST": Setting(str, "127.0.0.1"),
    "MAIL_PORT": Setting(int, 25, _port),
    "MAIL_SECURITY": Setting(str, "none", _one_of("none", "starttls", "ssl")),
    "MAIL_USERNAME": Setting(str, ""),
    "MAIL_PASSWORD": Setting(str, ""),
    "MAIL_TIMEOUT": Setting(int, 10, positive),
    "MAIL_POLL_SECONDS": Setting(int, 10, positive, "how often the outbox is checked"),
    "MAIL_KEEP_DAYS": Setting(int, 30, positive, "how long sent mails stay in the outbox"),
    "MAIL_DIGEST_HOUR": Setting(
        int, 7, _hour_of_day, "the local hour at which a member's daily digest is sent"
    ),
    "WEBHOOK_ALLOW_LOCAL_HTTP": Setting(
        bool, False, doc="endpoints may be http://127.0.0.1 or localhost (tests, development)"
    ),
    "WEBHOOK_ALLOW_PRIVATE_ADDRESSES": Setting(
        bool,
        False,
        doc="endpoints may be on private, loopback, link-local or reserved addresses (intranets)",
    ),
    "WEBHOOK_TIMEOUT_SECONDS": Setting(int, 5, positive, "how long a receiver may take"),
    "WEBHOOK_POLL_SECONDS": Setting(int, 15, positive, "how often due deliveries are sent"),
    "WEBHOOK_DISABLE_AFTER_FAILURES": Setting(
        int, 10, positive, "failed attempts in a row (and hours) before an endpoint is disabled"
    ),
    "WEBHOOK_DISABLE_AFTER_HOURS": Setting(
        int, 24, positive, "hours of failing (and attempts) before an endpoint is disabled"
    ),
    "WEBHOOK_KEEP_DAYS": Setting(int, 30, positive, "how long delivered webhooks are logged"),
    "SOCKETIO_MESSAGE_QUEUE": Setting(str, "", _redis_url, "Redis URL for several web processes"),
    # Redis pub/sub ignores the database number of the URL: sites sharing a Redis server
    # must each use their own channel, or they push each other's events to their members.
    "SOCKETIO_CHANNEL": Setting(str, "flask-socketio", _not_empty, "Redis channel of this site"),
    "SCHEDULER_IN_PROCESS": Setting(bool, True, doc="alma serve runs the scheduler itself"),
    "LANGUAGES": Setting(
        list, ["en", "de"], doc="the languages members choose from; the first is the default"
    ),
    "DEFAULT_TIMEZONE": Setting(str, "UTC", _timezone),
    "PHOTO_MAX_BYTES": Setting(int, 2_000_000, positive),
    "PASSWORD_HASH_METHOD": Setting(str, "scrypt"),
    "LOGIN_MAX_FAILURES": Setting(
        int, 5, positive, "per IP address and account per window, before tries wait"
    ),
    "LOGIN_FAILURE_WINDOW_MINUTES": Setting(int, 15, positive),
    "SESSION_DAYS": Setting(int, 30, positive, "how long a login lasts, kept or not"),
    "EMAIL_TOKEN_MAX_AGE_HOURS": Setting(int, 48, positive),
    "ACCOUNT_DELETION_GRACE_DAYS": Setting(
        int, 7, _not_negative, "days before an account a member deleted is erased (0: next run)"
    ),
    "LINK_MAILS_PER_HOUR": Setting(
        int, 3, positive, "confirmation or reset links of one kind mailed to one address"
    ),
    "REPORTS_PER_HOUR": Setting(
        int, 5, positive, "reports one member may send the moderators in an hour"
    ),
    "TRUSTED_PROXIES": Setting(
        int, 0, doc="reverse proxies in front of alma whose X-Forwarded-* headers to trust"
    ),
    "RATE_LIMITS": Setting(
        dict,
        {},
        _rate_limits,
        'limits by name, replacing their defaults, e.g. {"register" = "20/hour"}',
    ),
    "RATE_LIMIT_STORAGE_URL": Setting(
        str,
        "",
        _storage_url,
        "where rate limits are counted: empty means SOCKETIO_MESSAGE_QUEUE's Redis, else memory",
    ),
    # like SOCKETIO_CHANNEL: sites sharing a Redis server count apart
    "RATE_LIMIT_KEY_PREFIX": Setting(str, "alma", _not_empty, "prefix of the counts in Redis"),
    "TESTING": Setting(bool, False),
    "WTF_CSRF_ENABLED": Setting(bool, True),
}


def _parse_env(key: str, setting: Setting, raw: str) -> Any:
    if setting.type is list:
        return [item.strip() for item in raw.split(",") if item.strip()]
    if setting.type is dict:  # name=value,name=value
        pairs = [item.partition("=") for item in raw.split(",") if item.strip()]
        if any(not sep or not name.strip() for name, sep, _value in pairs):
            raise ConfigError(key, f"expected name=value pairs separated by commas, got {raw!r}")
        return {name.strip(): value.strip() for name, _sep, value in pairs}
    if setting.type is bool:
        lowered = raw.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise ConfigError(key, f"expected true or false, got {raw!r}")
    if setting.type is int:
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(key, f"expected a whole number, got {raw!r}") from None
    return raw


def _is_a(value: Any, expected: type) -> bool:
    """``isinstance``, except that ``true`` and ``false`` are not whole numbers."""
    return isinstance(value, expected) and not (expected is int and isinstance(value, bool))


def _plural(kind: type) -> str:
    return {str: "strings", int: "whole numbers"}.get(kind, f"{kind.__name__} values")


def _validated(key: str, value: Any, setting: Setting | None = None) -> Any:
    setting = setting or SETTINGS[key]
    expected = setting.type
    if not _is_a(value, expected):
        raise ConfigError(key, f"expected {expected.__name__}, got {value!r}")
    items = setting.items
    if expected is list and not all(_is_a(item, items) for item in value):
        raise ConfigError(key, f"expected a list of {_plural(items)}")
    if expected is dict:
        bad = sorted(name for name, item in value.items() if not _is_a(item, items))
        if bad:
            raise ConfigError(
                key, f"expected {_plural(items)} as values; not so for {', '.join(bad)}"
            )
    problem = setting.check(value) if setting.check else None
    if problem:
        raise ConfigError(key, f"{value!r} {problem}")
    return value


def plugin_settings(
    name: str, raw: Mapping[str, Any], declared: Mapping[str, Setting]
) -> dict[str, Any]:
    """A plugin's ``[plugins.<name>]`` table checked against the settings it declares
    (``register_settings``), with the defaults filled in."""
    for key in raw:
        if key not in declared:
            known = ", ".join(sorted(declared)) or "none"
            raise ConfigError(f"plugins.{name}.{key}", f"unknown setting (known: {known})")
    return {
        key: _validated(f"plugins.{name}.{key}", raw[key], setting)
        if key in raw
        else setting.default
        for key, setting in declared.items()
    }


SettingsT = TypeVar("SettingsT")


def plugin_settings_as(
    settings_class: type[SettingsT], name: str, app: Flask | None = None
) -> SettingsT:
    """A plugin's ``[plugins.<name>]`` settings, as checked at startup, built into
    ``settings_class`` (a dataclass whose fields are the declared keys), e.g.
    ``plugin_settings_as(WikiSettings, "wiki")``. Uses the current app unless given one (at
    startup, in ``app_created``)."""
    return settings_class(**(app or current_app).config["PLUGIN_SETTINGS"][name])


def config_file(instance_path: Path, environ: Mapping[str, str]) -> Path | None:
    named = environ.get(ENV_PREFIX + "CONFIG")
    if named:
        path = Path(named)
        if not path.is_file():
            raise ConfigError("ALMA_CONFIG", f"no such file: {path}")
        return path
    default = instance_path / "alma.toml"
    return default if default.is_file() else None


def _read_file(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(str(path), f"not valid TOML: {error}") from None


def _plugin_tables(value: Any) -> dict[str, dict[str, Any]]:
    """``[plugins.<name>]`` tables; a lower-case ``plugins = [...]`` would otherwise silently
    enable nothing."""
    if not isinstance(value, dict) or not all(isinstance(t, dict) for t in value.values()):
        raise ConfigError(
            "plugins",
            "must be [plugins.<name>] tables of plugin settings "
            '(enable plugins with PLUGINS = ["name", ...])',
        )
    return value


def load_settings(
    instance_path: Path,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Return the validated settings, with ``PLUGIN_SETTINGS`` holding ``[plugins.*]`` and
    ``BASE_URL_DERIVED`` saying whether ``BASE_URL`` was left unset."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {key: setting.default for key, setting in SETTINGS.items()}
    plugin_settings: dict[str, dict[str, Any]] = {}

    path = config_file(instance_path, environ)
    if path:
        data = _read_file(path)
        plugin_settings = _plugin_tables(data.pop("plugins", {}))
        for key, value in data.items():
            if key not in SETTINGS:
                raise ConfigError(key, f"unknown key in {path}")
            values[key] = _validated(key, value)

    for key, setting in SETTINGS.items():
        raw = environ.get(ENV_PREFIX + key)
        if raw is not None:
            values[key] = _validated(key, _parse_env(ENV_PREFIX + key, setting, raw))

    for key, value in (overrides or {}).items():
        if key == "PLUGIN_SETTINGS":
            plugin_settings = dict(value)
        elif key in SETTINGS:
            values[key] = _validated(key, value)
        else:
            values[key] = value  # Flask's own keys, for tests and embedding

    # unset, alma serve replaces it with the address it serves on (core.cli)
    values["BASE_URL_DERIVED"] = not values["BASE_URL"]
    values["BASE_URL"] = values["BASE_URL"] or DEFAULT_BASE_URL
    if not values["DATABASE_URL"]:
        values["DATABASE_URL"] = f"sqlite:///{instance_path / 'alma.db'}"
    if not values["SECRET_KEY"]:
        values["SECRET_KEY"] = _instance_secret(instance_path)
    values["PLUGIN_SETTINGS"] = plugin_settings
    return values


def unset_base_url_warning(settings: Mapping[str, Any]) -> str | None:
    """What to tell the operator of a process that does not know the site's address (the
    scheduler, a gunicorn worker): its mails would link to the default one."""
    if not settings["BASE_URL_DERIVED"]:
        return None
    return (
        f"BASE_URL is not set; links in mails will point at {settings['BASE_URL']}."
        " Set it to the site's public address (the same on every process)."
    )


def _instance_secret(instance_path: Path) -> str:
    """A secret generated once per instance folder, so a newcomer needs no set-up."""
    path = instance_path / "secret_key"
    if not path.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as file:
            file.write(secrets.token_urlsafe(48))
        try:  # the first of several processes starting at once wins; the others read its key
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    return path.read_text().strip()


def instance_path_from_env(environ: Mapping[str, str] | None = None) -> Path:
    environ = os.environ if environ is None else environ
    return Path(environ.get(ENV_PREFIX + "INSTANCE_PATH", "instance")).resolve()
