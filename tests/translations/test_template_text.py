"""No template of core, a plugin or the example plugin shows text a member reads outside a
translation call: every text between tags, every visible attribute (``title``,
``placeholder``, ``aria-label``, ``alt``, a button's ``value``) and every line of a plain-text
mail is empty, blanks, punctuation and symbols, digits, or template expressions."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from jinja2 import Environment

ROOT = Path(__file__).parents[2]
TEMPLATES = sorted(
    path
    for folder in ("core/templates", "plugins", "examples/alma-kudos/alma_kudos/templates")
    for pattern in ("**/*.html", "**/*.txt")
    for path in (ROOT / folder).glob(pattern)
    if "templates" in path.parts
)
VISIBLE_ATTRIBUTES = {"title", "placeholder", "aria-label", "alt", "aria-description"}
BUTTON_TYPES = {"submit", "button", "reset"}
HIDDEN_ELEMENTS = {"script", "style"}
# what a template expression, tag or comment leaves in the text, where a tag's name or an
# attribute may stand too; not a word a member reads
EXPRESSION = "JINJA"
WORD = re.compile(r"[^\W\d_]")  # a letter, in any alphabet


def untranslated_text(source: str) -> str:
    """``source`` with every template expression, tag and comment replaced by
    :data:`EXPRESSION`, and the text inside ``{% trans %}`` blocks too."""
    environment = Environment(extensions=["jinja2.ext.i18n"])
    pieces: list[str] = []
    in_block = translating = False
    block: list[str] = []
    for _line, kind, value in environment.lex(source):
        if kind == "block_begin":
            in_block, block = True, []
        elif kind == "block_end":
            in_block = False
            if block[:1] == ["trans"]:
                translating = True
            elif block[:1] == ["endtrans"]:
                translating = False
        elif in_block and kind == "name":
            block.append(value)
        if kind == "data" and not translating:
            pieces.append(value)
        elif pieces[-1:] != [EXPRESSION]:
            pieces.append(EXPRESSION)
    return "".join(pieces)


def has_words(text: str) -> bool:
    return bool(WORD.search(text.replace(EXPRESSION, " ")))


def shown(text: str) -> str:
    return " ".join(text.replace(EXPRESSION, "…").split())


class VisibleText(HTMLParser):
    """The visible text of a page (outside scripts and styles) and its visible attributes
    that hold words."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        visible = set(VISIBLE_ATTRIBUTES)
        if tag == "button" or (tag == "input" and values.get("type") in BUTTON_TYPES):
            visible.add("value")
        for name, value in attrs:
            if name in visible and value and has_words(value):
                self.found.append(f'<{tag} {name}="{shown(value)}">')
        if tag in HIDDEN_ELEMENTS:
            self.hidden += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in HIDDEN_ELEMENTS:
            self.hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self.hidden and has_words(data):
            self.found.append(shown(data))


def text_outside_translations(path: Path) -> list[str]:
    text = untranslated_text(path.read_text(encoding="utf-8"))
    if path.suffix == ".txt":
        lines = text.splitlines()
        return [shown(line) for line in lines if has_words(line)]
    parser = VisibleText()
    parser.feed(text)
    parser.close()
    return parser.found


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda path: str(path.relative_to(ROOT)))
def test_a_template_shows_no_text_outside_a_translation(path):
    assert text_outside_translations(path) == []


def test_the_lint_finds_text_outside_translations():
    """The lint itself: what it must catch, and what it must let through."""
    caught = '<p>Hello</p><input type="submit" value="Send"><img alt="A photo"><a title="Go">'
    let_through = (
        '<p>{{ _("Hello") }} · 3 — {{ name }}</p><input type="hidden" value="token">'
        '<img alt=""><span title="{{ _("Go") }}">&times;</span>'
        "{% trans n=2 %}{{ n }} mails{% endtrans %}"
        '<script>const text = "not shown";</script>'
    )
    parser = VisibleText()
    parser.feed(untranslated_text(caught + let_through))
    assert parser.found == [
        "Hello",
        '<input value="Send">',
        '<img alt="A photo">',
        '<a title="Go">',
    ]
