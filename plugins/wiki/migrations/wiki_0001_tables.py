"""wiki tables, and the full-text index of each database

Revision ID: wiki_0001
Revises:
Create Date: 2026-12-01 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.api

revision: str = "wiki_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("wiki",)
depends_on: str | Sequence[str] | None = None

# PostgreSQL: a GIN index on the very expression the search query uses (models.SEARCH_DOCUMENT).
POSTGRESQL_SEARCH_INDEX = (
    "CREATE INDEX ix_wiki_articles_search ON wiki_articles USING gin "
    "(to_tsvector('simple'::regconfig, title || ' ' || plain_text))"
)

# SQLite: an FTS5 table holding each article's words under the article's id, kept in step
# with wiki_articles by triggers (so no code path can forget it).
SQLITE_SEARCH_TABLE = [
    "CREATE VIRTUAL TABLE wiki_search USING fts5("
    "title, plain_text, tokenize = 'unicode61 remove_diacritics 2')",
    "CREATE TRIGGER wiki_search_insert AFTER INSERT ON wiki_articles BEGIN "
    "INSERT INTO wiki_search (rowid, title, plain_text) "
    "VALUES (new.id, new.title, new.plain_text); END",
    "CREATE TRIGGER wiki_search_update AFTER UPDATE OF title, plain_text ON wiki_articles BEGIN "
    "DELETE FROM wiki_search WHERE rowid = old.id; "
    "INSERT INTO wiki_search (rowid, title, plain_text) "
    "VALUES (new.id, new.title, new.plain_text); END",
    "CREATE TRIGGER wiki_search_delete AFTER DELETE ON wiki_articles BEGIN "
    "DELETE FROM wiki_search WHERE rowid = old.id; END",
]


def upgrade() -> None:
    op.create_table(
        "wiki_articles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("title_key", sa.String(length=120), nullable=False),
        sa.Column("slug", sa.String(length=120), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("plain_text", sa.Text(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("revision_number", sa.Integer(), nullable=False),
        sa.Column("created_at", core.api.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.api.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "revision_number >= 1", name=op.f("ck_wiki_articles_revision_number_positive")
        ),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["users.id"],
            name=op.f("fk_wiki_articles_author_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wiki_articles")),
        sa.UniqueConstraint("title_key", name=op.f("uq_wiki_articles_title_key")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("wiki_articles", schema=None) as batch_op:
        batch_op.create_index("ix_wiki_articles_author_id", ["author_id"], unique=False)
        batch_op.create_index("ix_wiki_articles_updated_at", ["updated_at"], unique=False)

    op.create_table(
        "wiki_tags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wiki_tags")),
        sa.UniqueConstraint("key", name=op.f("uq_wiki_tags_key")),
    )
    op.create_table(
        "wiki_article_tags",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("tag_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["wiki_articles.id"],
            name=op.f("fk_wiki_article_tags_article_id_wiki_articles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tag_id"],
            ["wiki_tags.id"],
            name=op.f("fk_wiki_article_tags_tag_id_wiki_tags"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("article_id", "tag_id", name=op.f("pk_wiki_article_tags")),
    )
    with op.batch_alter_table("wiki_article_tags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_wiki_article_tags_tag_id"), ["tag_id"], unique=False)

    op.create_table(
        "wiki_ratings",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("stars", sa.Integer(), nullable=False),
        sa.Column("created_at", core.api.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.api.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("stars BETWEEN 1 AND 5", name=op.f("ck_wiki_ratings_stars_range")),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["wiki_articles.id"],
            name=op.f("fk_wiki_ratings_article_id_wiki_articles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_wiki_ratings_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("article_id", "user_id", name=op.f("pk_wiki_ratings")),
    )
    with op.batch_alter_table("wiki_ratings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_wiki_ratings_user_id"), ["user_id"], unique=False)

    op.create_table(
        "wiki_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("summary", sa.String(length=200), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("created_at", core.api.UTCDateTime(timezone=True), nullable=False),
        sa.Column("restored_from", sa.Integer(), nullable=True),
        sa.Column("recorded_activity", sa.Boolean(), nullable=False),
        sa.CheckConstraint("number >= 1", name=op.f("ck_wiki_revisions_number_positive")),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["wiki_articles.id"],
            name=op.f("fk_wiki_revisions_article_id_wiki_articles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["users.id"],
            name=op.f("fk_wiki_revisions_author_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wiki_revisions")),
        sa.UniqueConstraint(
            "article_id", "number", name=op.f("uq_wiki_revisions_article_id_number")
        ),
    )
    with op.batch_alter_table("wiki_revisions", schema=None) as batch_op:
        batch_op.create_index("ix_wiki_revisions_author_id", ["author_id"], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRESQL_SEARCH_INDEX)
    elif op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_SEARCH_TABLE:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("wiki_search_insert", "wiki_search_update", "wiki_search_delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS wiki_search")
    op.drop_table("wiki_revisions")
    op.drop_table("wiki_ratings")
    op.drop_table("wiki_article_tags")
    op.drop_table("wiki_tags")
    op.drop_table("wiki_articles")
