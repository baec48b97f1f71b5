"""What members may report in the wiki (core's moderation): an article (hiding it hides the
whole article: its title, text and history) and one revision (hiding it hides that revision's
text, and the article's while it is the current one)."""

from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core.api import ReportedItem, ReportKind, User, db, hiding_marks
from plugins.wiki.models import Article, Revision
from plugins.wiki.services import article_path

ARTICLE, REVISION = "wiki.article", "wiki.revision"


def find_article(article_id: int, viewer: User) -> ReportedItem | None:
    article = db.session.get(Article, article_id)
    if article is None or article.hidden_at is not None:
        return None
    return ReportedItem(
        title=_("Article “%(title)s”", title=article.title),
        text=article.plain_text,
        author_id=article.author_id,
        url=article_path(article),
    )


def find_revision(revision_id: int, viewer: User) -> ReportedItem | None:
    revision = db.session.get(Revision, revision_id)
    if revision is None or revision.hidden_at is not None:
        return None
    article = db.session.get(Article, revision.article_id)
    if article is None or article.hidden_at is not None:
        return None
    return ReportedItem(
        title=_("Revision %(n)d of “%(title)s”", n=revision.number, title=revision.title),
        text=revision.body,
        author_id=revision.author_id,
        url=url_for("wiki.revision", article_id=article.id, number=revision.number),
    )


def report_kinds() -> list[ReportKind]:
    return [
        ReportKind(ARTICLE, _l("Wiki article"), find_article, *hiding_marks(Article)),
        ReportKind(REVISION, _l("Wiki revision"), find_revision, *hiding_marks(Revision)),
    ]
