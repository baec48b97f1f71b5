"""The wiki in alma's HTTP API (``/api/v1/wiki``): lists, articles, their revisions, writing
and rating, through the same services as the pages. An article's ``ETag`` names its revision;
an edit sends it back in ``If-Match``, so that it never overwrites a save made meanwhile (the
edit page's rule for two editors)."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from core.api import (
    ETAG_HEADER,
    ApiBlueprint,
    IdField,
    PageArguments,
    Problem,
    absolute_url,
    changed_meanwhile,
    cursor_page,
    db,
    entity_tag,
    next_link,
    page_schema,
    versions_in_if_match,
)
from plugins.wiki import services
from plugins.wiki.models import Article, Revision

bp = ApiBlueprint("wiki", __name__, url_prefix="/wiki", description="The members' wiki.")


class ListedSchema(ma.Schema):
    """An article in a list."""

    id = ma.fields.Integer(required=True, attribute="article.id")
    title = ma.fields.String(required=True, attribute="article.title")
    url = ma.fields.Function(lambda item: _page(item.article), required=True)
    author_id = ma.fields.Integer(allow_none=True, required=True, attribute="article.author_id")
    author_name = ma.fields.Function(lambda item: _author_name(item.article), allow_none=True)
    tags = ma.fields.Function(lambda item: [tag.name for tag in item.article.tags], required=True)
    updated_at = ma.fields.AwareDateTime(required=True, attribute="article.updated_at")
    average_stars = ma.fields.Float(allow_none=True, required=True, attribute="average")
    ratings = ma.fields.Integer(required=True, attribute="count")
    text_hidden = ma.fields.Boolean(
        required=True, metadata={"description": "The moderators hid its current text."}
    )


class ArticleSchema(ma.Schema):
    """An article as its page shows it; ``body`` is its Markdown, ``body_html`` the text
    rendered (both null while the moderators hide the current revision)."""

    id = ma.fields.Integer(required=True)
    title = ma.fields.String(required=True)
    url = ma.fields.String(required=True)
    author_id = ma.fields.Integer(allow_none=True, required=True)
    author_name = ma.fields.String(allow_none=True, required=True)
    tags = ma.fields.List(ma.fields.String(), required=True)
    revision = ma.fields.Integer(required=True, metadata={"description": "The current one."})
    body = ma.fields.String(allow_none=True, required=True)
    body_html = ma.fields.String(allow_none=True, required=True)
    text_hidden = ma.fields.Boolean(required=True)
    created_at = ma.fields.AwareDateTime(required=True)
    updated_at = ma.fields.AwareDateTime(required=True)
    average_stars = ma.fields.Float(allow_none=True, required=True)
    ratings = ma.fields.Integer(required=True)
    my_stars = ma.fields.Integer(allow_none=True, required=True)
    may_rate = ma.fields.Boolean(required=True)


class RevisionSchema(ma.Schema):
    """A revision in an article's history; its title and summary left out if the moderators
    hid it, as the history and compare pages leave them out."""

    number = ma.fields.Integer(required=True)
    title = ma.fields.Function(
        lambda rev: None if rev.hidden_at else rev.title,
        allow_none=True,
        required=True,
        metadata={"description": "Null if the moderators hid the revision."},
    )
    summary = ma.fields.Function(lambda rev: "" if rev.hidden_at else rev.summary, required=True)
    author_id = ma.fields.Integer(allow_none=True, required=True)
    author_name = ma.fields.Function(lambda rev: _author_name(rev), allow_none=True)
    created_at = ma.fields.AwareDateTime(required=True)
    restored_from = ma.fields.Integer(allow_none=True, required=True)
    hidden = ma.fields.Function(lambda rev: rev.hidden_at is not None, required=True)


class DiffLineSchema(ma.Schema):
    kind = ma.fields.String(
        required=True,
        metadata={"description": "same, added, removed, or gap (unchanged lines left out)"},
    )
    old_number = ma.fields.Integer(
        allow_none=True, required=True, metadata={"description": "Its line in the old text."}
    )
    new_number = ma.fields.Integer(
        allow_none=True, required=True, metadata={"description": "Its line in the new text."}
    )
    text = ma.fields.String(required=True)


class ComparisonSchema(ma.Schema):
    """Two revisions of an article and the lines that differ between their texts (with three
    unchanged lines around each change), as its compare page shows them."""

    old = ma.fields.Nested(RevisionSchema, required=True)
    new = ma.fields.Nested(RevisionSchema, required=True)
    text_hidden = ma.fields.Boolean(
        required=True,
        metadata={"description": "The moderators hid one of the two: no lines are shown."},
    )
    lines = ma.fields.List(
        ma.fields.Nested(DiffLineSchema),
        required=True,
        metadata={"description": "Empty if the texts are the same."},
    )


class CompareArguments(ma.Schema):
    new = IdField(
        strict=False, metadata={"description": "A revision's number; the current one if left out."}
    )
    old = IdField(
        strict=False,
        metadata={"description": "A revision's number; the one before `new` if left out."},
    )


class ListArguments(PageArguments):
    tag = ma.fields.String(metadata={"description": "Only articles with this tag."})
    q = ma.fields.String(
        validate=ma.validate.Length(max=200),
        metadata={"description": "Only articles holding every word."},
    )


class ArticleInSchema(ma.Schema):
    title = ma.fields.String(required=True)
    body = ma.fields.String(required=True, metadata={"description": "Markdown."})
    tags = ma.fields.List(ma.fields.String(), load_default=list)
    summary = ma.fields.String(load_default="", metadata={"description": "What changed."})


class RatingInSchema(ma.Schema):
    stars = ma.fields.Integer(required=True, validate=ma.validate.Range(1, 5))


class RatingSchema(ma.Schema):
    stars = ma.fields.Integer(required=True)
    average_stars = ma.fields.Float(allow_none=True, required=True)
    ratings = ma.fields.Integer(required=True)


@bp.get("/articles")
@bp.arguments(ListArguments, location="query")
@bp.response(200, page_schema(ListedSchema))
def articles(arguments: dict[str, Any]) -> Any:
    """The wiki's articles, newest first; ``?tag=`` and ``?q=`` narrow the list."""
    tag = services.tag_by_key(arguments["tag"]) if "tag" in arguments else None
    query = services.articles_query(tag=tag, search=arguments.get("q"))
    page = cursor_page(query, Article.id, arguments)
    page["items"] = services.listed(page["items"])
    return page, 200, next_link(page)


@bp.get("/articles/<int:article_id>")
@bp.response(200, ArticleSchema, headers=ETAG_HEADER)
def article(article_id: int) -> Any:
    """An article, with its rating; its ``ETag`` names the revision read."""
    found = _shown(article_id)
    return _answer(found), 200, {"ETag": _etag(found)}


@bp.get("/articles/<int:article_id>/revisions")
@bp.arguments(PageArguments, location="query")
@bp.response(200, page_schema(RevisionSchema))
def revisions(arguments: dict[str, Any], article_id: int) -> Any:
    """The article's revisions, newest first."""
    found = _shown(article_id)
    query = (
        select(Revision).where(Revision.article_id == found.id).options(joinedload(Revision.author))
    )
    page = cursor_page(query, Revision.id, arguments)
    return page, 200, next_link(page)


@bp.get("/articles/<int:article_id>/compare")
@bp.arguments(CompareArguments, location="query")
@bp.response(200, ComparisonSchema)
def compare(arguments: dict[str, Any], article_id: int) -> dict[str, Any]:
    """What changed from revision ``?old=`` to ``?new=`` (by default, what the current
    revision changed)."""
    found = _shown(article_id)
    old, new = services.compared_revisions(found, arguments.get("old"), arguments.get("new"))
    hidden = old.hidden_at is not None or new.hidden_at is not None
    return {
        "old": old,
        "new": new,
        "text_hidden": hidden,
        "lines": [] if hidden else services.line_diff(old.body, new.body),
    }


@bp.post("/articles")
@bp.arguments(ArticleInSchema)
@bp.response(201, ArticleSchema, headers=ETAG_HEADER)
def create(content: dict[str, Any]) -> Any:
    """Publish a new article, as the new-article page does."""
    services.EDITS.hit()
    created = services.create_article(
        current_user, content["title"], content["body"], tags=", ".join(content["tags"])
    )
    db.session.commit()
    return _answer(created), 201, {"ETag": _etag(created)}


@bp.put("/articles/<int:article_id>")
@bp.arguments(ArticleInSchema)
@bp.response(200, ArticleSchema, headers=ETAG_HEADER)
@bp.needs_if_match()
def edit(content: dict[str, Any], article_id: int) -> Any:
    """Save a new revision; ``If-Match`` names the version edited, and a save made meanwhile
    refuses it (412, with the current version)."""
    base = _revision_edited(article_id)
    services.EDITS.hit()
    try:
        services.save_article(
            article_id,
            current_user,
            base_number=base,
            title=content["title"],
            body=content["body"],
            tags=", ".join(content["tags"]),
            summary=content["summary"],
        )
    except services.EditConflict as conflict:
        db.session.rollback()
        raise _changed_meanwhile(article_id, str(conflict)) from None
    db.session.commit()
    saved = services.article_by_id(article_id)
    return _answer(saved), 200, {"ETag": _etag(saved)}


@bp.put("/articles/<int:article_id>/rating")
@bp.arguments(RatingInSchema)
@bp.response(200, RatingSchema)
def rate(rating: dict[str, Any], article_id: int) -> dict[str, Any]:
    """Give the article 1 to 5 stars, or change one's stars."""
    services.rate_article(article_id, current_user, rating["stars"])
    db.session.commit()
    reading = services.article_to_read(article_id, current_user)
    return {
        "stars": reading.stars_given,
        "average_stars": reading.average,
        "ratings": reading.count,
    }


def _shown(article_id: int) -> Article:
    """The article, unless the moderators hid it: every page of it says so instead."""
    found = services.article_by_id(article_id)
    if found.hidden_at is not None:
        raise Problem("forbidden", _("The moderators hid this article."))
    return found


def _answer(found: Article) -> dict[str, Any]:
    reading = services.article_to_read(found.id, current_user)
    hidden = reading.text_hidden
    return {
        "id": found.id,
        "title": found.title,
        "url": _page(found),
        "author_id": found.author_id,
        "author_name": _author_name(found),
        "tags": [tag.name for tag in reading.tags],
        "revision": found.revision_number,
        "body": None if hidden else found.body,
        "body_html": None if hidden else found.body_html,
        "text_hidden": hidden,
        "created_at": found.created_at,
        "updated_at": found.updated_at,
        "average_stars": reading.average,
        "ratings": reading.count,
        "my_stars": reading.stars_given,
        "may_rate": services.may_rate(found, current_user),
    }


def _etag(found: Article) -> str:
    return entity_tag("article", found.id, found.revision_number)


def _revision_edited(article_id: int) -> int:
    """The revision an edit was made on, of those ``If-Match`` names: the article's current
    one if it is among them (any tag sent may match), else the newest named, which the save
    refuses as stale (412) unless it is the same save sent twice. Naming none gives 0, a
    revision no article has (they count from 1): stale too, once the save checked the rest."""
    read = versions_in_if_match("article", article_id)
    current = services.article_by_id(article_id).revision_number
    return current if current in read else max(read, default=0)


def _changed_meanwhile(article_id: int, detail: str) -> Problem:
    """412 with the current version, to merge with and send again."""
    current = services.article_by_id(article_id)
    return changed_meanwhile(detail, _etag(current), ArticleSchema().dump(_answer(current)))


def _page(found: Article) -> str:
    return absolute_url(services.article_path(found))


def _author_name(item: Article | Revision) -> str | None:
    return item.author.display_name if item.author else None
