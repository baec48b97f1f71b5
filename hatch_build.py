"""Hatch's build hook: compiles the translations (each part's ``.po``) into the ``.mo``
files the app reads, so that a wheel ships them though the repository holds no build
products (an editable install compiles them in the checkout, as ``scripts/setup`` does)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from hatchling.builders.hooks.plugin.interface import BuildHookInterface

# the parts of this distribution that ship a catalog: core and the first-party plugins
CATALOGS = (
    "core/translations/*/LC_MESSAGES/messages.po",
    "plugins/*/translations/*/LC_MESSAGES/messages.po",
)


class CompileCatalogs(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        root = Path(self.root)
        for pattern in CATALOGS:
            for source in root.glob(pattern):
                compiled = source.with_suffix(".mo")
                with source.open("rb") as po:
                    catalog = read_po(po)
                with compiled.open("wb") as mo:
                    write_mo(mo, catalog)
                build_data["artifacts"].append(compiled.relative_to(root).as_posix())
