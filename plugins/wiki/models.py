"""The wiki's tables. What must hold under concurrent requests is a constraint here: one
revision number per article (two saves on the same base cannot both become revision N), one
rating per member and article, stars from 1 to 5, one article per title.

The full-text index is the database's own: on PostgreSQL a GIN index on ``SEARCH_DOCUMENT``
(declared below, made by the migration on PostgreSQL only); on SQLite an FTS5 virtual table
``wiki_search`` kept in step with ``wiki_articles`` by triggers (made by the migration on SQLite
only, as no model can describe a virtual table)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
    literal_column,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.api import Model, User, utcnow

MAX_TITLE = 120
MAX_SUMMARY = 200
MAX_TAG = 40
SEARCH_CONFIG = "simple"  # no stemming: the same words match on SQLite (FTS5 unicode61) too


class Article(Model):
    """An article as it reads now: its latest revision's title and text, rendered once when
    saved. ``revision_number`` is the latest revision's number; a save moves it from the
    number its editor started from to the next, or fails (someone saved in between)."""

    __tablename__ = "wiki_articles"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(MAX_TITLE))
    title_key: Mapped[str] = mapped_column(String(MAX_TITLE), unique=True)  # casefolded
    slug: Mapped[str] = mapped_column(String(MAX_TITLE))
    body: Mapped[str] = mapped_column(Text)  # Markdown, as written
    body_html: Mapped[str] = mapped_column(Text)  # rendered and sanitized
    plain_text: Mapped[str] = mapped_column(Text)  # what search reads
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    revision_number: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # set while the moderators hide the whole article (after a member's report)
    hidden_at: Mapped[datetime | None]

    author: Mapped[User | None] = relationship()
    tags: Mapped[list[Tag]] = relationship(secondary="wiki_article_tags", order_by="Tag.name")

    __table_args__ = (
        CheckConstraint("revision_number >= 1", name="revision_number_positive"),
        Index("ix_wiki_articles_updated_at", "updated_at"),
        Index("ix_wiki_articles_author_id", "author_id"),
        # AUTOINCREMENT: an id is never reused, so activity keys naming it stay unique
        {"sqlite_autoincrement": True},
    )


class Revision(Model):
    """One save of an article, kept forever (until the article is deleted)."""

    __tablename__ = "wiki_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("wiki_articles.id", ondelete="CASCADE"))
    number: Mapped[int]
    title: Mapped[str] = mapped_column(String(MAX_TITLE))
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(String(MAX_SUMMARY), default="")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    restored_from: Mapped[int | None]  # the number of the revision this one brought back
    recorded_activity: Mapped[bool] = mapped_column(Boolean, default=False)
    # set while the moderators hide this revision's text (after a member's report)
    hidden_at: Mapped[datetime | None]

    author: Mapped[User | None] = relationship()

    __table_args__ = (
        UniqueConstraint("article_id", "number"),
        CheckConstraint("number >= 1", name="number_positive"),
        Index("ix_wiki_revisions_author_id", "author_id"),
    )


class Rating(Model):
    """A member's stars for an article: one per member and article, changeable."""

    __tablename__ = "wiki_ratings"

    article_id: Mapped[int] = mapped_column(
        ForeignKey("wiki_articles.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    stars: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (CheckConstraint("stars BETWEEN 1 AND 5", name="stars_range"),)


class Tag(Model):
    __tablename__ = "wiki_tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(MAX_TAG))
    key: Mapped[str] = mapped_column(String(MAX_TAG), unique=True)  # casefolded name


class ArticleTag(Model):
    __tablename__ = "wiki_article_tags"

    article_id: Mapped[int] = mapped_column(
        ForeignKey("wiki_articles.id", ondelete="CASCADE"), primary_key=True
    )
    tag_id: Mapped[int] = mapped_column(
        ForeignKey("wiki_tags.id", ondelete="CASCADE"), primary_key=True, index=True
    )


# What PostgreSQL's full-text search reads; the query repeats this expression exactly, so the
# planner uses the GIN index below.
SEARCH_DOCUMENT = postgresql.to_tsvector(
    literal_column(f"'{SEARCH_CONFIG}'::regconfig"),
    Article.title.op("||")(literal_column("' '")).op("||")(Article.plain_text),
)

_articles = Article.__table__
assert isinstance(_articles, Table)  # a mapped class's table, though typed as a FromClause
_articles.append_constraint(
    Index("ix_wiki_articles_search", SEARCH_DOCUMENT, postgresql_using="gin").ddl_if(
        dialect="postgresql"
    )
)
