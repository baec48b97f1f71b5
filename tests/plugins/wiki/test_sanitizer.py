"""The Markdown renderer and sanitizer against a corpus of known XSS vectors (xss_corpus.txt):
whatever a member writes, the HTML stored and shown has no script, no event handler, no
script or data URL, only allow-listed tags and attributes; harmless Markdown still renders."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from plugins.wiki.rendering import (
    ALLOWED_ATTRIBUTES,
    ALLOWED_TAGS,
    LINK_REL,
    plain_text,
    render_markdown,
)

CORPUS = Path(__file__).with_name("xss_corpus.txt")
SCRIPT_SCHEMES = {"javascript", "vbscript", "livescript", "data"}


def load_corpus() -> list[str]:
    vectors = []
    for block in re.split(r"^----$", CORPUS.read_text(encoding="utf-8"), flags=re.M)[1:]:
        lines = block.strip("\n").split("\n")
        while lines and lines[0].startswith("# ") and not lines[0].startswith("# <"):
            lines.pop(0)
        vectors.append("\n".join(lines))
    return vectors


VECTORS = load_corpus()


class Elements(HTMLParser):
    """Every start tag of an HTML fragment, with its attributes (entities decoded)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, attrs))

    handle_startendtag = handle_starttag


def elements(fragment: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    parser = Elements()
    parser.feed(fragment)
    parser.close()
    return parser.found


def scheme_of(url: str) -> str | None:
    """The scheme a browser would see: it ignores whitespace and control characters."""
    squeezed = re.sub(r"[\x00-\x20\x7f]+", "", url).lower()
    match = re.match(r"([a-z][a-z0-9+.-]*):", squeezed)
    return match[1] if match else None


def test_the_corpus_is_a_real_one():
    assert len(VECTORS) >= 80
    assert len(set(VECTORS)) == len(VECTORS)
    assert all(vector.strip() for vector in VECTORS)


@pytest.mark.parametrize("vector", VECTORS, ids=[f"v{n:03}" for n in range(len(VECTORS))])
def test_no_vector_survives_the_sanitizer(vector):
    output = render_markdown(vector)

    # Text may mention "javascript:" or show "<script>" escaped, and a quoted attribute value
    # may hold " onclick=" as text; markup may not.
    tags = re.sub(r'"[^"]*"', '""', " ".join(re.findall(r"<[a-zA-Z/][^>]*>", output)))
    assert "<script" not in output.lower()
    assert not re.search(r"\son[a-z]+\s*=", tags, re.I), output
    assert not re.search(r"""=\s*'?\s*(javascript|vbscript|livescript|data):""", tags, re.I)
    for tag, attributes in elements(output):
        assert tag in ALLOWED_TAGS, output
        allowed = ALLOWED_ATTRIBUTES.get(tag, set()) | ({"rel"} if tag == "a" else set())
        for name, value in attributes:
            assert name in allowed, output
            assert not name.startswith("on"), output
            assert scheme_of(value or "") not in SCRIPT_SCHEMES, output
            if name == "href":
                assert scheme_of(value or "") in (None, "http", "https", "mailto"), output
        if tag == "a":
            assert dict(attributes).get("rel") == LINK_REL, output


@pytest.mark.parametrize(
    ("markdown", "html"),
    [
        ("Hello **bold** and *italic*", "<p>Hello <strong>bold</strong> and <em>italic</em></p>"),
        ("# Title\n\n## Part", "<h1>Title</h1>\n<h2>Part</h2>"),
        ("- one\n- two", "<ul>\n<li>one</li>\n<li>two</li>\n</ul>"),
        ("3. three\n4. four", '<ol start="3">\n<li>three</li>\n<li>four</li>\n</ol>'),
        ("> a quote", "<blockquote>\n<p>a quote</p>\n</blockquote>"),
        ("`x < y`", "<p><code>x &lt; y</code></p>"),
        ("```\nif a < b:\n    pass\n```", "<pre><code>if a &lt; b:\n    pass\n</code></pre>"),
        ("~~gone~~", "<p><s>gone</s></p>"),
        ("a  \nb", "<p>a<br>\nb</p>"),
        ("---", "<hr>"),
        (
            '[site](https://example.org/a?b=1&c=2 "Title")',
            '<p><a href="https://example.org/a?b=1&amp;c=2" title="Title" rel="'
            + LINK_REL
            + '">site</a></p>',
        ),
        (
            "<https://example.org>",
            f'<p><a href="https://example.org" rel="{LINK_REL}">https://example.org</a></p>',
        ),
        (
            "[mail](mailto:ada@example.org)",
            f'<p><a href="mailto:ada@example.org" rel="{LINK_REL}">mail</a></p>',
        ),
        ("[page](/wiki/3-goals)", f'<p><a href="/wiki/3-goals" rel="{LINK_REL}">page</a></p>'),
        (
            "| a | b |\n|---|--:|\n| 1 | 2 |",
            "<table>\n<thead>\n<tr>\n<th>a</th>\n<th>b</th>\n</tr>\n</thead>\n<tbody>\n<tr>\n"
            "<td>1</td>\n<td>2</td>\n</tr>\n</tbody>\n</table>",
        ),
        ("5 > 3 & 2 < 4", "<p>5 &gt; 3 &amp; 2 &lt; 4</p>"),
        ("Ünïcödé — “quotes” 🙂", "<p>Ünïcödé — “quotes” 🙂</p>"),
    ],
)
def test_harmless_markdown_still_renders(markdown, html):
    assert render_markdown(markdown).strip() == html


def test_raw_html_shows_as_text_rather_than_vanishing():
    assert render_markdown("Use <b>tags</b> like this").strip() == (
        "<p>Use &lt;b&gt;tags&lt;/b&gt; like this</p>"
    )


def test_plain_text_keeps_the_words_apart_and_drops_the_markup():
    html = render_markdown("# Goals\n\nSet *one* goal.\n\n- first\n- second\n\n`a<b`")

    assert plain_text(html) == "Goals Set one goal. first second a<b"
