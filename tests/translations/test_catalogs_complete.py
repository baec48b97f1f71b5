"""Every part's catalog is complete in German: its .pot holds every message its code marks,
and its ``de`` .po translates every one of them, nothing fuzzy, each translation with the
same placeholders as its English (a missing ``%(name)s`` loses a name; an extra one fails
the page). Until the translations are merged, these fail: that is their point."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po

ROOT = Path(__file__).parents[2]
PARTS = [
    "core",
    *sorted(str(path.parent.relative_to(ROOT)) for path in ROOT.glob("plugins/*/plugin.py")),
    "examples/alma-kudos/alma_kudos",
]
LANGUAGES = ["de"]  # every language the project ships besides English
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]|%[sdif]|\{(\w*)\}")


def catalog(path: Path) -> Catalog:
    with path.open("rb") as file:
        return read_po(file)


def placeholders(text: str) -> set[str]:
    return {match.group(0) for match in PLACEHOLDER.finditer(text.replace("%%", ""))}


def problems(english: Message, translated: Message | None) -> list[str]:
    if translated is None or not any(
        translated.string if translated.pluralizable else [translated.string]
    ):
        return ["not translated"]
    found = ["fuzzy"] if translated.fuzzy else []
    if english.pluralizable:
        singular, plural = english.id
        forms = translated.string if isinstance(translated.string, tuple) else (translated.string,)
        if not all(forms):
            found.append("a plural form is empty")
        allowed = placeholders(singular) | placeholders(plural)
        if any(not placeholders(form) <= allowed for form in forms):
            found.append(f"placeholders other than {sorted(allowed)}")
        if forms and placeholders(forms[-1]) != placeholders(plural):
            found.append(f"the plural's placeholders are not {sorted(placeholders(plural))}")
    elif placeholders(translated.string) != placeholders(english.id):
        found.append(f"placeholders are not {sorted(placeholders(english.id))}")
    return found


@pytest.mark.parametrize("part", PARTS)
def test_a_parts_template_holds_every_message_its_code_marks(part):
    check = subprocess.run(
        [ROOT / "scripts" / "translations", "check"],
        env=os.environ | {"PART": part, "PYTHON": sys.executable},
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stderr


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("part", PARTS)
def test_every_message_of_a_part_is_translated(part, language):
    translations = ROOT / part / "translations"
    po = translations / language / "LC_MESSAGES" / "messages.po"
    assert po.is_file(), f"no {po.relative_to(ROOT)}: scripts/translations init {language}"
    english, translated = catalog(translations / "messages.pot"), catalog(po)

    wrong = {
        message.id: found
        for message in english
        if message.id
        for found in [problems(message, translated.get(message.id))]
        if found
    }

    assert wrong == {}, f"{len(wrong)} of {len(english)} messages of {part} in {language}"


def test_the_check_finds_what_a_translator_may_miss():
    def german(msgid, msgstr, **flags):
        return Message(msgid, msgstr, **flags)

    assert problems(Message("Save"), None) == ["not translated"]
    assert problems(Message("Save"), german("Save", "")) == ["not translated"]
    assert problems(Message("Save"), german("Save", "Sichern", flags=["fuzzy"])) == ["fuzzy"]
    hello = Message("Hello %(name)s")
    assert problems(hello, german(hello.id, "Hallo")) == ["placeholders are not ['%(name)s']"]
    assert problems(hello, german(hello.id, "Hallo %(name)s")) == []
    kudos = Message(("One kudos", "%(num)d kudos"))
    assert problems(kudos, german(kudos.id, ("Ein Kudos", "%(num)d Kudos"))) == []
    assert problems(kudos, german(kudos.id, ("Ein Kudos", "Kudos"))) == [
        "the plural's placeholders are not ['%(num)d']"
    ]
