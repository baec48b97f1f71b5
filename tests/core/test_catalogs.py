"""Each part ships its own catalog: core's in ``core/translations``, a plugin's beside the
module that defines it, found without configuration, and loaded only while the plugin is
enabled. Where two translate the same message, the site's own folders win, then core, then
the plugins in ``PLUGINS`` order."""

from __future__ import annotations

import importlib.util
import sys

import pytest
from flask_babel import gettext

from core import i18n
from core.testing import compiled_catalogs


def plugin_with_catalog(tmp_path, name: str, german: dict[str, str]):
    """A plugin module (no hooks) in a package folder of its own, its catalog beside it."""
    folder = tmp_path / name
    folder.mkdir()
    (folder / "plugin.py").write_text('"""A plugin that only translates."""\n')
    compiled_catalogs(folder / "translations", {"de": german})
    spec = importlib.util.spec_from_file_location(f"{name}_plugin", folder / "plugin.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules.pop(spec.name, None)
    return module


@pytest.fixture
def core_catalog(tmp_path, monkeypatch):
    """Core's German catalog, as a checkout holds it once compiled."""
    folder = compiled_catalogs(tmp_path / "core", {"de": {"Save": "Speichern (core)"}})
    monkeypatch.setattr(i18n, "CORE_CATALOG", tmp_path / "core")
    return folder


def german(app, message: str) -> str:
    with app.test_request_context(headers={"Accept-Language": "de"}):
        return gettext(message)


def test_an_enabled_plugins_catalog_is_found_beside_its_module(make_app, tmp_path):
    thanks = plugin_with_catalog(tmp_path, "thanks", {"Thank you": "Danke"})

    app = make_app(extra_plugins={"thanks": thanks}, PLUGINS=["thanks"])

    assert german(app, "Thank you") == "Danke"


def test_a_disabled_plugins_catalog_is_not_read(make_app, tmp_path):
    thanks = plugin_with_catalog(tmp_path, "thanks", {"Thank you": "Danke"})

    app = make_app(extra_plugins={"thanks": thanks}, PLUGINS=[])

    assert german(app, "Thank you") == "Thank you"


def test_core_translates_its_own_messages_whatever_a_plugin_says(make_app, tmp_path, core_catalog):
    rewording = plugin_with_catalog(tmp_path, "loud", {"Save": "SICHERN!", "Loud": "Laut"})

    app = make_app(extra_plugins={"loud": rewording}, PLUGINS=["loud"])

    assert german(app, "Save") == "Speichern (core)"
    assert german(app, "Loud") == "Laut"


def test_the_first_plugin_in_plugins_wins_a_message_both_translate(make_app, tmp_path):
    first = plugin_with_catalog(tmp_path, "first", {"Groups": "Gruppen (first)"})
    second = plugin_with_catalog(tmp_path, "second", {"Groups": "Gruppen (second)"})

    app = make_app(extra_plugins={"first": first, "second": second}, PLUGINS=["first", "second"])

    assert german(app, "Groups") == "Gruppen (first)"


def test_the_sites_own_folders_win_over_core(make_app, tmp_path, core_catalog):
    site = compiled_catalogs(tmp_path / "site", {"de": {"Save": "Ablegen"}})

    app = make_app(BABEL_TRANSLATION_DIRECTORIES=site)

    assert german(app, "Save") == "Ablegen"


def test_english_needs_no_catalog(make_app, core_catalog):
    app = make_app()

    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert gettext("Save") == "Save"
