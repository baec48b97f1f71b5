"""Settings: defaults < alma.toml (or ALMA_CONFIG) < ALMA_<KEY> environment < create_app's
overrides, and every bad value stops startup with a message naming the key."""

from __future__ import annotations

import stat

import pytest

from core.app import create_app
from core.config import SETTINGS, ConfigError, load_settings


@pytest.fixture(autouse=True)
def no_alma_environment(monkeypatch):
    """The tests choose every ALMA_* variable themselves."""
    for key in [*SETTINGS, "CONFIG", "INSTANCE_PATH"]:
        monkeypatch.delenv(f"ALMA_{key}", raising=False)


@pytest.fixture
def instance(tmp_path):
    path = tmp_path / "instance"
    path.mkdir()
    return path


def write_toml(instance, text: str) -> None:
    (instance / "alma.toml").write_text(text, encoding="utf-8")


# ---- where values come from --------------------------------------------------------------


def test_defaults_need_no_file_and_no_environment(instance):
    settings = load_settings(instance, environ={})

    assert settings["PLUGINS"] == []
    assert settings["MAIL_BACKEND"] == "file"
    assert settings["MAIL_PORT"] == 25
    assert settings["SCHEDULER_IN_PROCESS"] is True
    assert settings["BASE_URL"] == "http://127.0.0.1:5000"
    assert settings["DEFAULT_TIMEZONE"] == "UTC"
    assert settings["PLUGIN_SETTINGS"] == {}
    assert settings["DATABASE_URL"] == f"sqlite:///{instance / 'alma.db'}"


def test_the_file_in_the_instance_folder_is_read(instance):
    write_toml(
        instance,
        'SITE_NAME = "Mentors of Lyon"\n'
        'PLUGINS = ["mentoring", "wiki"]\n'
        "MAIL_PORT = 2525\n"
        "SCHEDULER_IN_PROCESS = false\n"
        'DATABASE_URL = "postgresql+psycopg://alma@db.internal/alma"\n',
    )
    settings = load_settings(instance, environ={})

    assert settings["SITE_NAME"] == "Mentors of Lyon"
    assert settings["PLUGINS"] == ["mentoring", "wiki"]
    assert settings["MAIL_PORT"] == 2525
    assert settings["SCHEDULER_IN_PROCESS"] is False
    assert settings["DATABASE_URL"] == "postgresql+psycopg://alma@db.internal/alma"


def test_alma_config_names_another_file_instead(instance, tmp_path):
    write_toml(instance, 'SITE_NAME = "from the instance folder"\n')
    other = tmp_path / "elsewhere.toml"
    other.write_text('SITE_NAME = "from elsewhere"\n')

    settings = load_settings(instance, environ={"ALMA_CONFIG": str(other)})

    assert settings["SITE_NAME"] == "from elsewhere"


def test_a_missing_file_named_by_alma_config_is_an_error(instance, tmp_path):
    missing = tmp_path / "nowhere.toml"
    with pytest.raises(ConfigError) as error:
        load_settings(instance, environ={"ALMA_CONFIG": str(missing)})
    assert "ALMA_CONFIG" in str(error.value)
    assert str(missing) in str(error.value)


@pytest.mark.parametrize(
    ("variable", "raw", "key", "expected"),
    [
        ("ALMA_PLUGINS", "mentoring,wiki", "PLUGINS", ["mentoring", "wiki"]),
        ("ALMA_PLUGINS", " mentoring , wiki ,, ", "PLUGINS", ["mentoring", "wiki"]),
        ("ALMA_PLUGINS", "", "PLUGINS", []),
        ("ALMA_LANGUAGES", "en,de,fr", "LANGUAGES", ["en", "de", "fr"]),
        ("ALMA_MAIL_PORT", "2525", "MAIL_PORT", 2525),
        ("ALMA_SCHEDULER_IN_PROCESS", "false", "SCHEDULER_IN_PROCESS", False),
        ("ALMA_SCHEDULER_IN_PROCESS", "Off", "SCHEDULER_IN_PROCESS", False),
        ("ALMA_SCHEDULER_IN_PROCESS", "0", "SCHEDULER_IN_PROCESS", False),
        ("ALMA_WTF_CSRF_ENABLED", "no", "WTF_CSRF_ENABLED", False),
        ("ALMA_TESTING", "yes", "TESTING", True),
        ("ALMA_TESTING", "TRUE", "TESTING", True),
        ("ALMA_TESTING", "1", "TESTING", True),
        ("ALMA_SITE_NAME", "Mentors of Lyon", "SITE_NAME", "Mentors of Lyon"),
        ("ALMA_MAIL_BACKEND", "smtp", "MAIL_BACKEND", "smtp"),
    ],
)
def test_environment_variables_set_keys(instance, variable, raw, key, expected):
    settings = load_settings(instance, environ={variable: raw})
    assert settings[key] == expected
    assert type(settings[key]) is type(expected)


def test_overrides_beat_environment_beat_file_beat_defaults(instance):
    write_toml(
        instance,
        'SITE_NAME = "file"\nMAIL_FROM = "file <f@example.org>"\nMAIL_PORT = 2525\n'
        'MAIL_HOST = "smtp.file"\n',
    )
    environ = {"ALMA_SITE_NAME": "env", "ALMA_MAIL_FROM": "env <e@example.org>"}

    settings = load_settings(instance, {"SITE_NAME": "override"}, environ)

    assert settings["SITE_NAME"] == "override"
    assert settings["MAIL_FROM"] == "env <e@example.org>"
    assert settings["MAIL_PORT"] == 2525
    assert settings["MAIL_HOST"] == "smtp.file"
    assert settings["MAIL_TIMEOUT"] == SETTINGS["MAIL_TIMEOUT"].default


def test_overrides_are_checked_too(instance):
    with pytest.raises(ConfigError, match="MAIL_PORT"):
        load_settings(instance, {"MAIL_PORT": "25"}, {})


def test_plugin_tables_end_up_in_plugin_settings(instance):
    write_toml(
        instance,
        'PLUGINS = ["wiki", "credits"]\n\n'
        "[plugins.wiki]\nPAGE_SIZE = 20\nTITLE = 'Our wiki'\n\n"
        "[plugins.credits]\nPER_ARTICLE = 5\n",
    )
    settings = load_settings(instance, environ={})

    assert settings["PLUGIN_SETTINGS"] == {
        "wiki": {"PAGE_SIZE": 20, "TITLE": "Our wiki"},
        "credits": {"PER_ARTICLE": 5},
    }
    assert "plugins" not in settings


@pytest.mark.parametrize(
    "text",
    [
        pytest.param('plugins = ["mentoring", "wiki"]\n', id="lowercase-list"),
        pytest.param("[plugins]\nwiki = 20\n", id="not-a-table"),
    ],
)
def test_plugins_that_are_not_plugin_tables_are_an_error(instance, text):
    """``plugins = [...]`` (lower case) would otherwise silently enable nothing."""
    write_toml(instance, text)
    with pytest.raises(ConfigError) as error:
        load_settings(instance, environ={})
    assert "plugins" in str(error.value)
    assert "PLUGINS" in str(error.value)


# ---- bad values --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        pytest.param('MAIL_PORT = "25"', "MAIL_PORT", id="string-for-int"),
        pytest.param("MAIL_PORT = true", "MAIL_PORT", id="bool-for-int"),
        pytest.param("MAIL_PORT = 70000", "MAIL_PORT", id="port-out-of-range"),
        pytest.param("MAIL_TIMEOUT = 0", "MAIL_TIMEOUT", id="not-positive"),
        pytest.param('PLUGINS = "wiki"', "PLUGINS", id="string-for-list"),
        pytest.param('PLUGINS = ["my plugin"]', "PLUGINS", id="bad-plugin-name"),
        pytest.param("LANGUAGES = [1, 2]", "LANGUAGES", id="list-of-ints"),
        pytest.param('SCHEDULER_IN_PROCESS = "yes"', "SCHEDULER_IN_PROCESS", id="string-for-bool"),
        pytest.param("SITE_NAME = 42", "SITE_NAME", id="int-for-string"),
        pytest.param('MAIL_BACKEND = "sendmail"', "MAIL_BACKEND", id="mail-backend"),
        pytest.param('MAIL_SECURITY = "tls"', "MAIL_SECURITY", id="mail-security"),
        pytest.param('BASE_URL = "ftp://alma.example.org"', "BASE_URL", id="base-url-scheme"),
        pytest.param('BASE_URL = "alma.example.org"', "BASE_URL", id="base-url-no-scheme"),
        pytest.param('DATABASE_URL = "not a url"', "DATABASE_URL", id="database-url"),
        pytest.param('DATABASE_URL = "postgres://alma@db/alma"', "DATABASE_URL", id="postgres"),
        pytest.param('DATABASE_URL = "nosuchdb://alma@db/alma"', "DATABASE_URL", id="dialect"),
        pytest.param(
            'DATABASE_URL = "postgresql+notadriver://alma@db/alma"', "DATABASE_URL", id="driver"
        ),
        pytest.param(
            'SOCKETIO_MESSAGE_QUEUE = "amqp://guest@rabbit//"',
            "SOCKETIO_MESSAGE_QUEUE",
            id="message-queue",
        ),
        pytest.param('DEFAULT_TIMEZONE = "Mars/Olympus_Mons"', "DEFAULT_TIMEZONE", id="time-zone"),
        pytest.param('SITE_NAEM = "typo"', "SITE_NAEM", id="unknown-key"),
        pytest.param('site_name = "lower case"', "site_name", id="lower-case-key"),
    ],
)
def test_a_bad_value_in_the_file_names_the_key(instance, toml, key):
    write_toml(instance, toml + "\n")
    with pytest.raises(ConfigError) as error:
        load_settings(instance, environ={})
    assert key in str(error.value)
    assert error.value.key == key


@pytest.mark.parametrize(
    ("variable", "raw"),
    [
        ("ALMA_MAIL_PORT", "twenty-five"),
        ("ALMA_MAIL_PORT", "25.0"),
        ("ALMA_MAIL_PORT", ""),
        ("ALMA_MAIL_PORT", "0"),
        ("ALMA_SCHEDULER_IN_PROCESS", "maybe"),
        ("ALMA_TESTING", ""),
        ("ALMA_MAIL_BACKEND", "pigeon"),
        ("ALMA_BASE_URL", "alma.example.org"),
        ("ALMA_DATABASE_URL", "://"),
        ("ALMA_SOCKETIO_MESSAGE_QUEUE", "localhost:6379"),
        ("ALMA_DEFAULT_TIMEZONE", "Europe/Lyon"),
        ("ALMA_PLUGINS", "wiki,my-plugin"),
    ],
)
def test_a_bad_value_in_the_environment_names_the_key(instance, variable, raw):
    with pytest.raises(ConfigError) as error:
        load_settings(instance, environ={variable: raw})
    assert variable.removeprefix("ALMA_") in str(error.value)


def test_invalid_toml_names_the_file(instance):
    write_toml(instance, 'SITE_NAME = "unfinished\n')
    with pytest.raises(ConfigError) as error:
        load_settings(instance, environ={})
    assert str(instance / "alma.toml") in str(error.value)
    assert "not valid TOML" in str(error.value)


def test_a_bad_value_stops_create_app(instance, monkeypatch):
    write_toml(instance, 'MAIL_BACKEND = "sendmail"\n')
    with pytest.raises(ConfigError, match="MAIL_BACKEND"):
        create_app(instance_path=instance)

    write_toml(instance, "")
    monkeypatch.setenv("ALMA_MAIL_PORT", "smtp")
    with pytest.raises(ConfigError, match="ALMA_MAIL_PORT"):
        create_app(instance_path=instance)


# ---- the instance folder: database, secret key ---------------------------------------------


def test_the_secret_key_is_generated_once_per_instance_folder_and_private(instance, tmp_path):
    first = load_settings(instance, environ={})["SECRET_KEY"]
    second = load_settings(instance, environ={})["SECRET_KEY"]
    other = load_settings(tmp_path / "other-instance", environ={})["SECRET_KEY"]

    key_file = instance / "secret_key"
    assert first == second == key_file.read_text().strip()
    assert len(first) >= 32
    assert other != first
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert [p.name for p in instance.iterdir()] == ["secret_key"]  # no temporary file left


def test_a_configured_secret_key_is_used_and_nothing_is_written(instance):
    write_toml(instance, 'SECRET_KEY = "configured-by-the-operator"\n')
    assert load_settings(instance, environ={})["SECRET_KEY"] == "configured-by-the-operator"
    assert not (instance / "secret_key").exists()


def test_create_app_reads_the_instance_folder_named_by_alma_instance_path(tmp_path, monkeypatch):
    chosen = tmp_path / "chosen"
    chosen.mkdir()
    write_toml(chosen, 'SITE_NAME = "Chosen"\n')
    monkeypatch.setenv("ALMA_INSTANCE_PATH", str(chosen))
    monkeypatch.chdir(tmp_path)

    app = create_app()

    assert app.instance_path == str(chosen)
    assert app.config["SITE_NAME"] == "Chosen"
    assert app.config["DATABASE_URL"] == f"sqlite:///{chosen / 'alma.db'}"
    assert app.config["SECRET_KEY"] == (chosen / "secret_key").read_text().strip()
    assert not (tmp_path / "instance").exists()


def test_without_alma_instance_path_the_instance_folder_is_in_the_working_directory(
    tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    app = create_app()
    assert app.instance_path == str(tmp_path / "instance")
    assert (tmp_path / "instance" / "secret_key").is_file()


def test_settings_from_a_file_and_the_environment_reach_the_pages(make_app, tmp_path, monkeypatch):
    config = tmp_path / "site.toml"
    config.write_text('SITE_NAME = "Mentors of Lyon"\nMAIL_FROM = "Lyon <hello@lyon.example>"\n')
    monkeypatch.setenv("ALMA_CONFIG", str(config))
    monkeypatch.setenv("ALMA_LANGUAGES", "en,de")

    app = make_app()
    page = app.test_client().get("/register").text

    assert "Join Mentors of Lyon" in page
    assert app.config["MAIL_FROM"] == "Lyon <hello@lyon.example>"
    assert app.config["LANGUAGES"] == ["en", "de"]


def test_environment_values_reach_create_app(instance, monkeypatch):
    monkeypatch.setenv("ALMA_BASE_URL", "https://alma.example.org")
    app = create_app(instance_path=instance)

    assert app.config["BASE_URL"] == "https://alma.example.org"
    assert app.config["SESSION_COOKIE_SECURE"] is True  # https: cookies only over https


def test_the_database_pool_size_is_configurable(make_app):
    app = make_app(DATABASE_POOL_SIZE=3)

    with app.app_context():
        from core.db import db

        assert (db.engine.pool.size(), db.engine.pool._max_overflow) == (3, 3)
    with pytest.raises(ConfigError, match="DATABASE_POOL_SIZE"):
        make_app(DATABASE_POOL_SIZE=0)
