"""Markdown written by members, turned into HTML that is safe to show: markdown-it-py renders
it (raw HTML in the Markdown stays text), then nh3 keeps only an allow-list of tags,
attributes and URL schemes. Both steps run when an article is saved, never when it is read."""

from __future__ import annotations

import html
import re

import nh3
from markdown_it import MarkdownIt

ALLOWED_TAGS = frozenset(
    {
        "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6",
        "strong", "em", "del", "s", "code", "pre", "blockquote",
        "ul", "ol", "li", "a",
        "table", "thead", "tbody", "tr", "th", "td",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
BLOCK_START = re.compile(r"<(?:p|h[1-6]|li|blockquote|pre|tr|td|th|br|hr)\b")
LINK_REL = "nofollow noopener noreferrer ugc"  # written by members: no endorsement, no opener

# CommonMark with tables and strike-through; raw HTML off (it shows as text), images off: the
# site's content security policy would block other sites' images anyway.
_markdown = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])
_markdown.disable("image")


def sanitize(fragment: str) -> str:
    """Keep only allowed tags, attributes and link schemes; drop script and style content."""
    return nh3.clean(
        fragment,
        tags=set(ALLOWED_TAGS),
        clean_content_tags={"script", "style"},
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel=LINK_REL,
        strip_comments=True,
    )


def render_markdown(source: str) -> str:
    """Safe HTML for the Markdown ``source``."""
    return sanitize(_markdown.render(source))


def plain_text(safe_html: str) -> str:
    """The words of rendered HTML, for search and excerpts."""
    # a space where a block begins, so that words of adjacent blocks stay apart
    spaced = BLOCK_START.sub(r" \g<0>", safe_html)
    text = html.unescape(nh3.clean(spaced, tags=set()))
    return " ".join(text.split())
