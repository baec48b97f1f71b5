"""The wiki part of a member's data export (hook ``export_member_data``): the articles they
created, every revision they wrote, and their ratings."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from core.api import ExportPart, User, db
from plugins.wiki.models import Article, Rating, Revision


def wiki_part(user: User) -> ExportPart | None:
    articles = db.session.scalars(
        select(Article).where(Article.author_id == user.id).order_by(Article.id)
    ).all()
    revisions = db.session.execute(
        select(Revision, Article.title)
        .join(Article, Article.id == Revision.article_id)
        .where(Revision.author_id == user.id)
        .order_by(Revision.id)
    ).all()
    ratings = db.session.execute(
        select(Rating, Article.title)
        .join(Article, Article.id == Rating.article_id)
        .where(Rating.user_id == user.id)
        .order_by(Rating.created_at)
    ).all()
    if not (articles or revisions or ratings):
        return None
    return ExportPart(
        "wiki",
        {
            "articles_created": [
                {"title": a.title, "created_at": a.created_at, "body": a.body} for a in articles
            ],
            "revisions_written": [
                {
                    "article": article_title,
                    "number": revision.number,
                    "title": revision.title,
                    "summary": revision.summary,
                    "body": revision.body,
                    "created_at": revision.created_at,
                }
                for revision, article_title in revisions
            ],
            "ratings": [
                {"article": article_title, "stars": rating.stars, "rated_at": rating.updated_at}
                for rating, article_title in ratings
            ],
        },
        about=_("The articles you created, every revision you wrote, and your ratings."),
    )
