"""The words JavaScript shows come from the page (data attributes the templates fill with
``_()``), in the page's language: no script of core, a plugin or the example writes a
string of its own into the page or a dialog."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
SCRIPTS = sorted(
    path
    for folder in ("core/static/js", "plugins", "examples/alma-kudos/alma_kudos")
    for path in (ROOT / folder).rglob("*.js")
    if "vendor" not in path.parts
)
COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.DOTALL)
# text put where a member reads it: an element's text or visible attribute, a dialog
SHOWN = re.compile(
    r"(?:\.(?:textContent|innerText|innerHTML|title|placeholder|ariaLabel|alt)\s*=\s*"
    r"|\b(?:alert|confirm|prompt)\(\s*"
    r"|setAttribute\(\s*[\"'](?:title|placeholder|aria-label|alt)[\"']\s*,\s*)"
    r"(?:[^;]*?\|\|\s*)?"  # a fallback after the page's own words
    r"([\"'`])((?:(?!\1).)*)\1"
)
WORD = re.compile(r"[^\W\d_]")


def own_words(source: str) -> list[str]:
    code = COMMENT.sub("", source)
    return [match.group(0) for match in SHOWN.finditer(code) if WORD.search(match.group(2))]


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda path: str(path.relative_to(ROOT)))
def test_a_script_shows_only_the_pages_words(path):
    assert own_words(path.read_text(encoding="utf-8")) == []


def test_the_lint_finds_a_scripts_own_words():
    source = """
      status.textContent = "Saved";  // a comment with "words" is fine
      status.textContent = form.dataset.saved;
      error.textContent = (answer && answer.error) || "Not sent";
      if (!window.confirm("Really?")) {}
      button.setAttribute("title", 'Close');
      badge.textContent = String(count);
      notice.textContent = "";
    """
    assert own_words(source) == [
        '.textContent = "Saved"',
        '.textContent = (answer && answer.error) || "Not sent"',
        'confirm("Really?"',
        """setAttribute("title", 'Close'""",
    ]
