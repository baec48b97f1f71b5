"""The wiki's rules, as plain functions of the acting member. They flush, never commit: the
caller (a view, the demo, a test) owns the unit of work."""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any, Literal, NamedTuple

from flask_babel import gettext as _
from sqlalchemy import Integer, Select, and_, delete, false, func, literal_column, select, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import defer, joinedload, load_only, selectinload
from sqlalchemy.sql.elements import ColumnClause

from core.api import (
    InvalidInput,
    NotAllowed,
    NotFound,
    Page,
    Setting,
    User,
    db,
    emit_webhook,
    has_role,
    page_of,
    plugin_settings_as,
    positive,
    rate_limit,
    record_activity,
    site_path,
    undo_activity,
    utcnow,
)
from plugins.wiki.models import (
    MAX_SUMMARY,
    MAX_TAG,
    MAX_TITLE,
    SEARCH_CONFIG,
    SEARCH_DOCUMENT,
    Article,
    ArticleTag,
    Rating,
    Revision,
    Tag,
)
from plugins.wiki.rendering import plain_text, render_markdown

EDITS = rate_limit("wiki-edit", "30/hour")  # new articles and edits, by page or API
ARTICLE_CREATED = "wiki.article_created"
ARTICLE_EDITED = "wiki.article_edited"
ARTICLE_RATED = "wiki.article_rated"

MAX_BODY = 100_000
MAX_TAGS = 8
MAX_SEARCH_WORDS = 8
HIGHLIGHT_START, HIGHLIGHT_END = "\ue000", "\ue001"  # search snippets mark matches with these
WORD = re.compile(r"[^\W_]+")  # letters and digits: never a search operator nor a quote


# ---- settings ----------------------------------------------------------------------------


def _non_negative(value: int) -> str | None:
    return None if value >= 0 else "must be 0 or more"


SETTINGS = {
    "edit_grace_minutes": Setting(
        int, 10, _non_negative, "a save soon after one's own last save records no new activity"
    ),
    "trivial_edit_characters": Setting(
        int, 20, _non_negative, "changes of fewer characters record no activity"
    ),
    "articles_per_page": Setting(int, 20, positive, "articles per page of lists and search"),
}


@dataclass(frozen=True)
class WikiSettings:
    edit_grace_minutes: int
    trivial_edit_characters: int
    articles_per_page: int


def settings() -> WikiSettings:
    """``[plugins.wiki]``, checked against SETTINGS by core at startup."""
    return plugin_settings_as(WikiSettings, "wiki")


# ---- paths, keys, permissions ------------------------------------------------------------


def slugify(title: str) -> str:
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")[:80].rstrip("-")
    return slug or "article"


def article_path(article: Article) -> str:
    """The article's page, in a request or not (the demo)."""
    return site_path("wiki.article", article_id=article.id, slug=article.slug)


def _subject(article_id: int) -> str:
    return f"wiki.article:{article_id}"


def revision_activity_key(article_id: int, number: int) -> str:
    """The activity a revision earned: creating the article (1) or editing it."""
    if number == 1:
        return f"{ARTICLE_CREATED}:{article_id}"
    return f"{ARTICLE_EDITED}:{article_id}:{number}"


def rating_activity_key(article_id: int, user_id: int) -> str:
    return f"{ARTICLE_RATED}:{article_id}:{user_id}"


def may_delete(article: Article, user: User) -> bool:
    """Its author and moderators may delete an article; nobody else."""
    return has_role(user, "coordinator") or (
        article.author_id is not None and article.author_id == user.id
    )


def may_rate(article: Article, user: User) -> bool:
    return article.author_id != user.id


# ---- reading -----------------------------------------------------------------------------


def _no_such_article() -> NotFound:
    return NotFound(_("This article does not exist (any more)."))


def article_by_id(article_id: int, *, lock: bool = False) -> Article:
    """The article (404 if none); ``lock`` holds it until the unit of work ends, so that
    saves of one article take turns."""
    query = select(Article).where(Article.id == article_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    article = db.session.scalar(query)
    if article is None:
        raise _no_such_article()
    return article


def revision_of(article: Article, number: int) -> Revision:
    revision = db.session.scalar(
        select(Revision)
        .where(Revision.article_id == article.id, Revision.number == number)
        .options(joinedload(Revision.author))
    )
    if revision is None:
        raise NotFound(_("This article has no revision %(n)d.", n=number))
    return revision


def compared_revisions(
    article: Article, old: int | None = None, new: int | None = None
) -> tuple[Revision, Revision]:
    """The two revisions a comparison shows: ``new`` (the current one if not given) and
    ``old`` (the one before ``new`` if not given)."""
    new_number = article.revision_number if new is None else new
    old_number = max(new_number - 1, 1) if old is None else old
    return revision_of(article, old_number), revision_of(article, new_number)


def history(article: Article, page: int = 1) -> Page[Revision]:
    """The article's revisions, newest first, a page at a time."""
    query = (
        select(Revision)
        .where(Revision.article_id == article.id)
        .options(joinedload(Revision.author))
        .order_by(Revision.number.desc())
    )
    return page_of(query, page, settings().articles_per_page)


@dataclass(frozen=True)
class Listed:
    """An article in a list, with its rating and, in search results, where it matched."""

    article: Article
    average: float | None
    count: int
    snippet: str = ""
    text_hidden: bool = False  # its current revision was hidden by the moderators


# An article's average stars and number of ratings, as columns beside it in a query of
# articles: each reads only that article's ratings (through their primary key), so a short list
# costs little however many ratings the wiki holds.
AVERAGE_STARS = (
    select(func.avg(Rating.stars))
    .where(Rating.article_id == Article.id)
    .scalar_subquery()
    .label("average")
)
RATING_COUNT = (
    select(func.count()).where(Rating.article_id == Article.id).scalar_subquery().label("count")
)


def _listing() -> Select:
    """Articles to list: those the moderators hid are listed nowhere."""
    return (
        select(Article, AVERAGE_STARS, RATING_COUNT)
        .where(Article.hidden_at.is_(None))
        .options(joinedload(Article.author), selectinload(Article.tags))
    )


def _average(stars: Any) -> float | None:
    return float(stars) if stars is not None else None


def _listed(row: Any) -> Listed:
    """An ``(article, average, count)`` row of ``_listing()`` as a listed article."""
    article, average, count = row
    return Listed(article, _average(average), count)


def _page_of(query: Select, page: int) -> Page[Listed]:
    return _marking_hidden(
        page_of(query, page, settings().articles_per_page, rows=True).map(_listed)
    )


def _marking_hidden(listed: Page[Listed]) -> Page[Listed]:
    """The page, each article marked if its current text is hidden (one query for all)."""
    hidden = text_hidden(item.article.id for item in listed.items)
    if not hidden:
        return listed
    return listed.map(
        lambda item: (
            replace(item, snippet="", text_hidden=True) if item.article.id in hidden else item
        )
    )


def recent_articles(page: int = 1) -> Page:
    return _page_of(_listing().order_by(Article.updated_at.desc(), Article.id.desc()), page)


def top_rated_articles(page: int = 1) -> Page:
    """Rated articles, best average first (more ratings first among equals)."""
    query = _listing().where(RATING_COUNT > 0)
    query = query.order_by(AVERAGE_STARS.desc(), RATING_COUNT.desc(), Article.id.desc())
    return _page_of(query, page)


def tag_by_key(key: str) -> Tag:
    tag = db.session.scalar(select(Tag).where(Tag.key == key.casefold()))
    if tag is None:
        raise NotFound(_("No article has this tag."))
    return tag


def tagged_articles(tag: Tag, page: int = 1) -> Page:
    query = (
        _listing()
        .join(ArticleTag, ArticleTag.article_id == Article.id)
        .where(ArticleTag.tag_id == tag.id)
    )
    return _page_of(query.order_by(Article.title_key, Article.id), page)


def popular_tags(limit: int = 30) -> list[tuple[Tag, int]]:
    """Tags in use, most used first."""
    uses = func.count(ArticleTag.article_id)
    rows = db.session.execute(
        select(Tag, uses)
        .join(ArticleTag)
        .group_by(Tag.id)
        .order_by(uses.desc(), Tag.key)
        .limit(limit)
    )
    return [(tag, count) for tag, count in rows]


def articles_by(user: User, limit: int) -> list[Listed]:
    """The latest ``limit`` articles ``user`` created, newest first, for a list of their
    titles (so without their text, author or tags)."""
    query = (
        select(Article, AVERAGE_STARS, RATING_COUNT)
        .where(Article.author_id == user.id, Article.hidden_at.is_(None))
        .options(load_only(Article.title, Article.slug))
        .order_by(Article.created_at.desc(), Article.id.desc())
        .limit(limit)
    )
    return [_listed(row) for row in db.session.execute(query)]


def articles_by_page(user: User, page: int = 1) -> Page:
    """A page of every article ``user`` created, newest first."""
    query = _listing().where(Article.author_id == user.id)
    return _page_of(query.order_by(Article.created_at.desc(), Article.id.desc()), page)


def count_articles() -> int:
    return db.session.execute(
        select(func.count()).select_from(Article).where(Article.hidden_at.is_(None))
    ).scalar_one()


# a revision that is its article's current one (the article joined or correlated)
IS_CURRENT_REVISION = and_(
    Revision.article_id == Article.id, Revision.number == Article.revision_number
)


def text_hidden(article_ids: Iterable[int]) -> set[int]:
    """Which of the articles read now as a revision the moderators hid (their current one)."""
    ids = list(article_ids)
    if not ids:
        return set()
    return set(
        db.session.scalars(
            select(Revision.article_id)
            .join(Article, IS_CURRENT_REVISION)
            .where(Revision.article_id.in_(ids), Revision.hidden_at.is_not(None))
        )
    )


def count_ratings(article: Article) -> int:
    return db.session.execute(
        select(func.count()).where(Rating.article_id == article.id)
    ).scalar_one()


class ShownTag(NamedTuple):
    """A tag as an article's page shows it: its name, linking to its list by its key."""

    name: str
    key: str


@dataclass(frozen=True)
class Reading:
    """An article as a member reads it: with its tags, whether the moderators hid its text
    (its current revision), its rating and the stars they gave it, if any."""

    article: Article
    tags: list[ShownTag]  # by name
    text_hidden: bool
    average: float | None
    count: int
    stars_given: int | None


def article_to_read(article_id: int, reader: User) -> Reading:
    """The article (404 if none) with its author, tags, rating and ``reader``'s stars, and
    whether its text is hidden, in two statements. Its Markdown source and search text stay
    in the database: the page shows the rendered HTML."""
    stars_given = (
        select(Rating.stars)
        .where(Rating.article_id == Article.id, Rating.user_id == reader.id)
        .scalar_subquery()
    )
    current_text_hidden = (
        select(Revision.hidden_at.is_not(None)).where(IS_CURRENT_REVISION).scalar_subquery()
    )
    row = db.session.execute(
        select(Article, AVERAGE_STARS, RATING_COUNT, stars_given, current_text_hidden)
        .where(Article.id == article_id)
        .options(joinedload(Article.author), defer(Article.body), defer(Article.plain_text))
    ).one_or_none()
    if row is None:
        raise _no_such_article()
    article, average, count, stars, hidden = row
    tags = db.session.execute(
        select(Tag.name, Tag.key)
        .join(ArticleTag, ArticleTag.tag_id == Tag.id)
        .where(ArticleTag.article_id == article.id)
        .order_by(Tag.name)
    )
    shown = [ShownTag(name, key) for name, key in tags]
    return Reading(article, shown, bool(hidden), _average(average), count, stars)


def articles_query(*, tag: Tag | None = None, search: str | None = None) -> Select:
    """The articles the lists show (none the moderators hid), tagged ``tag`` and holding
    every word of ``search`` if given, for a list read by cursor (the HTTP API)."""
    query = select(Article).where(Article.hidden_at.is_(None))
    if tag is not None:
        query = query.join(ArticleTag, ArticleTag.article_id == Article.id).where(
            ArticleTag.tag_id == tag.id
        )
    if search is not None:
        words = search_words(search)
        query = query.where(_matching(words) if words else false())
    return query.options(joinedload(Article.author), selectinload(Article.tags))


def listed(articles: Sequence[Article]) -> list[Listed]:
    """These articles as a list shows them: with their rating, marked if their text is
    hidden (two queries for all)."""
    ids = [article.id for article in articles]
    ratings = {
        article_id: (_average(average), count)
        for article_id, average, count in db.session.execute(
            select(Rating.article_id, func.avg(Rating.stars), func.count())
            .where(Rating.article_id.in_(ids))
            .group_by(Rating.article_id)
        )
    }
    items = [Listed(article, *ratings.get(article.id, (None, 0))) for article in articles]
    page = Page(items, 1, False)
    return _marking_hidden(page).items


# ---- search ------------------------------------------------------------------------------


def search_words(query: str) -> list[str]:
    """The words of a search box: letters and digits only, so no quote, operator or
    syntax of either database's query language ever reaches it."""
    return [word.casefold() for word in WORD.findall(query)][:MAX_SEARCH_WORDS]


def search_articles(query: str, page: int = 1) -> Page:
    """Articles containing every word (as a word or the start of one), best match first."""
    words = search_words(query)
    if not words:
        return Page([], page, False)
    size = settings().articles_per_page
    offset = (page - 1) * size
    if db.session.get_bind().dialect.name == "postgresql":
        matches = _postgresql_matches(words, size + 1, offset)
    else:
        matches = _sqlite_matches(words, size + 1, offset)
    snippets = dict(matches[:size])
    rows = db.session.execute(_listing().where(Article.id.in_(snippets))).unique().all()
    by_id = {listed.article.id: listed for listed in map(_listed, rows)}
    found = [
        Listed(by_id[article_id].article, by_id[article_id].average, by_id[article_id].count, text)
        for article_id, text in snippets.items()
        if article_id in by_id
    ]
    return _marking_hidden(Page(found, page, len(matches) > size))


def _fts_query(words: list[str]) -> str:
    """SQLite FTS5's query for articles holding every word (or a word it starts)."""
    return " ".join('"{}"*'.format(word.replace('"', '""')) for word in words)


def _tsquery(words: list[str]) -> Any:
    """PostgreSQL's query for articles holding every word (or a word it starts)."""
    config: ColumnClause[Any] = literal_column(f"'{SEARCH_CONFIG}'::regconfig")
    return postgresql.to_tsquery(config, " & ".join(f"{word}:*" for word in words))


def _matching(words: list[str]) -> Any:
    """A condition on articles: they hold every word, by the search index."""
    if db.session.get_bind().dialect.name == "postgresql":
        return SEARCH_DOCUMENT.op("@@")(_tsquery(words))
    rowids = text("SELECT rowid FROM wiki_search WHERE wiki_search MATCH :query")
    return Article.id.in_(rowids.bindparams(query=_fts_query(words)).columns(rowid=Integer))


def _sqlite_matches(words: list[str], limit: int, offset: int) -> list[tuple[int, str]]:
    fts_query = _fts_query(words)
    rows = db.session.execute(
        text(
            "SELECT rowid, snippet(wiki_search, 1, :start, :end, '…', 24) FROM wiki_search "
            "WHERE wiki_search MATCH :query ORDER BY bm25(wiki_search, 5.0, 1.0), rowid DESC "
            "LIMIT :limit OFFSET :offset"
        ),
        {
            "start": HIGHLIGHT_START,
            "end": HIGHLIGHT_END,
            "query": fts_query,
            "limit": limit,
            "offset": offset,
        },
    )
    return [(article_id, snippet) for article_id, snippet in rows]


def _postgresql_matches(words: list[str], limit: int, offset: int) -> list[tuple[int, str]]:
    config: ColumnClause[Any] = literal_column(f"'{SEARCH_CONFIG}'::regconfig")
    tsquery = _tsquery(words)
    headline = postgresql.ts_headline(
        config,
        Article.plain_text,
        tsquery,
        f"StartSel={HIGHLIGHT_START}, StopSel={HIGHLIGHT_END}, MaxWords=35, MinWords=15",
    )
    rows = db.session.execute(
        select(Article.id, headline)
        .where(SEARCH_DOCUMENT.op("@@")(tsquery))
        .order_by(func.ts_rank(SEARCH_DOCUMENT, tsquery).desc(), Article.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [(article_id, snippet) for article_id, snippet in rows]


# ---- writing -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Content:
    """What a member wrote, checked and rendered."""

    title: str
    body: str
    body_html: str
    tag_names: list[str]
    summary: str


def checked_content(title: str, body: str, tags: str = "", summary: str = "") -> Content:
    title, summary = " ".join(title.split()), " ".join(summary.split())
    body = body.replace("\r\n", "\n").strip("\n")
    if not title:
        raise InvalidInput(_("Give the article a title."))
    if len(title.casefold()) > MAX_TITLE:  # its key too ("ß" folds to "ss")
        raise InvalidInput(_("Keep the title under %(n)d characters.", n=MAX_TITLE))
    if not body.strip():
        raise InvalidInput(_("Write the article's text."))
    if len(body) > MAX_BODY:
        raise InvalidInput(_("Keep the text under %(n)d characters.", n=MAX_BODY))
    if len(summary) > MAX_SUMMARY:
        raise InvalidInput(_("Keep the summary under %(n)d characters.", n=MAX_SUMMARY))
    return Content(title, body, render_markdown(body), _tag_names(tags), summary)


def _tag_names(tags: str) -> list[str]:
    names: dict[str, str] = {}
    for raw in tags.split(","):
        name = " ".join(raw.split())
        if not name:
            continue
        if len(name.casefold()) > MAX_TAG:  # its key too
            raise InvalidInput(_("Keep each tag under %(n)d characters.", n=MAX_TAG))
        names.setdefault(name.casefold(), name)
    if len(names) > MAX_TAGS:
        raise InvalidInput(_("Give at most %(n)d tags.", n=MAX_TAGS))
    return list(names.values())


def _tags(names: list[str]) -> list[Tag]:
    """The tags of these names, made when new (a concurrent request may make one first)."""
    found = []
    for name in names:
        tag = db.session.scalar(select(Tag).where(Tag.key == name.casefold()))
        if tag is None:
            tag = Tag(name=name, key=name.casefold())
            try:
                with db.session.begin_nested():
                    db.session.add(tag)
            except IntegrityError:  # created by a concurrent request
                tag = db.session.execute(select(Tag).where(Tag.key == name.casefold())).scalar_one()
        found.append(tag)
    return found


def _apply(article: Article, content: Content) -> None:
    article.title = content.title
    article.title_key = content.title.casefold()
    article.slug = slugify(content.title)
    article.body = content.body
    article.body_html = content.body_html
    article.plain_text = plain_text(content.body_html).translate(
        {ord(HIGHLIGHT_START): None, ord(HIGHLIGHT_END): None}
    )
    article.updated_at = utcnow()


def _flush_title(article: Article) -> None:
    """Store the article; the unique title refuses a title another article has."""
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise InvalidInput(
            _("An article titled “%(title)s” exists already.", title=article.title)
        ) from None


def create_article(
    author: User, title: str, body: str, tags: str = "", summary: str = ""
) -> Article:
    """Publish a new article; posting the same article twice (a double submit) publishes it
    once."""
    content = checked_content(title, body, tags, summary)
    existing = _article_titled(content.title)
    if existing is not None:
        return _same_article_or_refuse(existing, author, content)
    tags_ = _tags(content.tag_names)
    article = Article(author=author, revision_number=1, created_at=utcnow(), tags=tags_)
    _apply(article, content)
    try:
        with db.session.begin_nested():
            db.session.add(article)
    except IntegrityError:  # the title was taken by a concurrent request
        return _same_article_or_refuse(_article_titled(content.title), author, content)
    revision = _add_revision(article, author, 1, content.summary or _("First version"))
    revision.recorded_activity = True
    record_activity(
        ARTICLE_CREATED,
        author,
        subject=_subject(article.id),
        key=revision_activity_key(article.id, 1),
        url=article_path(article),
    )
    emit_webhook(
        "article.published",
        {"article_id": article.id, "author_id": author.id, "title": article.title},
    )
    return article


def _article_titled(title: str) -> Article | None:
    return db.session.scalar(select(Article).where(Article.title_key == title.casefold()))


def _same_article_or_refuse(existing: Article | None, author: User, content: Content) -> Article:
    """The article if ``author`` just published this very text (a form posted twice); else
    a refusal naming the article that has the title."""
    if (
        existing is not None
        and existing.author_id == author.id
        and existing.revision_number == 1
        and existing.body == content.body
    ):
        return existing
    raise InvalidInput(_("An article titled “%(title)s” exists already.", title=content.title))


class EditConflict(InvalidInput):
    """Someone saved the article after the editor began: their save would overwrite it."""

    def __init__(self) -> None:
        super().__init__(
            _(
                "Someone saved this article while you were editing it. Your text is kept "
                "below: compare it with the current text, merge, and save again."
            )
        )


def save_article(
    article_id: int,
    editor: User,
    *,
    base_number: int,
    title: str,
    body: str,
    tags: str = "",
    summary: str = "",
) -> Revision:
    """Save a new revision of the article, edited from revision ``base_number``; raise
    EditConflict if the article moved on since then."""
    content = checked_content(title, body, tags, summary)
    article = article_by_id(article_id, lock=True)
    _refuse_if_hidden(article)
    if base_number != article.revision_number:
        latest = revision_of(article, article.revision_number)
        if latest.number == base_number + 1 and _same_save(latest, editor, content):
            return latest  # the same form posted twice: saved once already
        raise EditConflict()
    tags_changed = {t.casefold() for t in content.tag_names} != {t.key for t in article.tags}
    if content.title == article.title and content.body == article.body and not tags_changed:
        raise InvalidInput(_("You changed nothing: there is nothing to save."))
    previous = revision_of(article, base_number)
    new_tags = _tags(content.tag_names)  # before the article changes: these queries flush
    old_text = f"{article.title}\n{article.body}"
    _apply(article, content)
    article.tags = new_tags
    return _new_revision(article, editor, previous, old_text, content.summary)


def _same_save(revision: Revision, editor: User, content: Content) -> bool:
    return (
        revision.author_id == editor.id
        and revision.title == content.title
        and revision.body == content.body
    )


def _refuse_if_hidden(article: Article) -> None:
    if article.hidden_at is not None:
        raise InvalidInput(_("The moderators hid this article: it cannot be changed."))


def restore_revision(article_id: int, editor: User, number: int) -> Revision:
    """Bring back an old revision's title and text, as a new revision (tags stay)."""
    article = article_by_id(article_id, lock=True)
    _refuse_if_hidden(article)
    old = revision_of(article, number)
    if old.hidden_at is not None:
        raise InvalidInput(_("The moderators hid revision %(n)d: it cannot come back.", n=number))
    if old.title == article.title and old.body == article.body:
        raise InvalidInput(_("Revision %(n)d reads like the current text already.", n=number))
    previous = revision_of(article, article.revision_number)
    old_text = f"{article.title}\n{article.body}"
    _apply(article, Content(old.title, old.body, old.body_html, [], ""))
    summary = _("Restored revision %(n)d", n=number)
    return _new_revision(article, editor, previous, old_text, summary, restored_from=number)


def _new_revision(
    article: Article,
    editor: User,
    previous: Revision,
    old_text: str,
    summary: str,
    restored_from: int | None = None,
) -> Revision:
    number = previous.number + 1
    article.revision_number = number
    _flush_title(article)
    revision = _add_revision(article, editor, number, summary, restored_from)
    if _earns_activity(previous, editor, old_text, f"{article.title}\n{article.body}"):
        revision.recorded_activity = True
        record_activity(
            ARTICLE_EDITED,
            editor,
            subject=_subject(article.id),
            key=revision_activity_key(article.id, number),
            url=article_path(article),
        )
    return revision


def _add_revision(
    article: Article, author: User, number: int, summary: str, restored_from: int | None = None
) -> Revision:
    revision = Revision(
        article_id=article.id,
        number=number,
        title=article.title,
        body=article.body,
        body_html=article.body_html,
        summary=summary,
        author=author,
        created_at=utcnow(),
        restored_from=restored_from,
    )
    try:
        with db.session.begin_nested():
            db.session.add(revision)
    except IntegrityError:  # unique (article_id, number): a concurrent save took this number
        raise EditConflict() from None
    return revision


def _earns_activity(previous: Revision, editor: User, old_text: str, new_text: str) -> bool:
    """An edit counts unless it continues the editor's own save of a few minutes ago, or
    changes only a few characters."""
    wanted = settings()
    grace = timedelta(minutes=wanted.edit_grace_minutes)
    if previous.author_id == editor.id and utcnow() - previous.created_at < grace:
        return False
    return changed_characters(old_text, new_text) >= wanted.trivial_edit_characters


def changed_characters(old: str, new: str) -> int:
    """How many characters an edit removed plus how many it added."""
    old_lines, new_lines = old.splitlines(keepends=True), new.splitlines(keepends=True)
    changed = 0
    for tag, i1, i2, j1, j2 in _line_opcodes(old_lines, new_lines):
        if tag != "equal":
            changed += _characters_changed("".join(old_lines[i1:i2]), "".join(new_lines[j1:j2]))
    return changed


def _characters_changed(removed: str, added: str) -> int:
    start, end = _common_ends(removed, added)
    removed, added = removed[start : len(removed) - end], added[start : len(added) - end]
    if len(removed) * len(added) > DIFF_BUDGET:
        return len(removed) + len(added)  # too long to match up: counted as rewritten
    matcher = difflib.SequenceMatcher(None, removed, added, autojunk=False)
    kept = sum(block.size for block in matcher.get_matching_blocks())
    return len(removed) + len(added) - 2 * kept


def delete_article(article_id: int, user: User) -> str:
    """Delete the article, its revisions and ratings, and undo every activity it earned (so
    that whatever those activities gave, credits say, is taken back). Returns its title."""
    article = article_by_id(article_id, lock=True)
    if not may_delete(article, user):
        raise NotAllowed(_("Only the article's author or a moderator may delete it."))
    numbers = db.session.scalars(
        select(Revision.number).where(
            Revision.article_id == article.id, Revision.recorded_activity.is_(True)
        )
    )
    raters = db.session.scalars(select(Rating.user_id).where(Rating.article_id == article.id))
    keys = [revision_activity_key(article.id, number) for number in numbers]
    keys += [rating_activity_key(article.id, rater) for rater in raters]
    for key in keys:
        undo_activity(key)
    title = article.title
    db.session.execute(delete(Article).where(Article.id == article.id))
    return title


def rate_article(article_id: int, user: User, stars: int) -> Rating:
    """Give or change one's stars; the first rating of an article records an activity."""
    article = article_by_id(article_id)
    if not may_rate(article, user):
        raise InvalidInput(_("You cannot rate your own article."))
    if stars not in range(1, 6):
        raise InvalidInput(_("Choose from 1 to 5 stars."))
    rating = _rating(article, user)
    if rating is None:
        rating = Rating(article_id=article.id, user_id=user.id, stars=stars)
        try:
            with db.session.begin_nested():
                db.session.add(rating)
        except IntegrityError:  # a double submit rated first
            rating = _rating(article, user)
            assert rating is not None  # the one the conflict was with
    rating.stars = stars
    rating.updated_at = utcnow()
    db.session.flush()
    record_activity(
        ARTICLE_RATED,
        user,
        subject=_subject(article.id),
        key=rating_activity_key(article.id, user.id),
        url=article_path(article),
    )
    return rating


def _rating(article: Article, user: User) -> Rating | None:
    return db.session.scalar(
        select(Rating)
        .where(Rating.article_id == article.id, Rating.user_id == user.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


# ---- comparing ---------------------------------------------------------------------------

# difflib compares every line (or character) of one text with the equal ones of the other:
# a text of one line repeated, or a long line, costs the square of its length (minutes for
# the longest article). Beyond this many pairs, about a third of a second, a stretch is taken
# as replaced whole rather than matched up.
DIFF_BUDGET = 4_000_000


def _common_ends(old: Sequence[Any], new: Sequence[Any]) -> tuple[int, int]:
    """How many items two sequences share at their start, and then at their end."""
    shortest = min(len(old), len(new))
    start = 0
    while start < shortest and old[start] == new[start]:
        start += 1
    end = 0
    while end < shortest - start and old[-1 - end] == new[-1 - end]:
        end += 1
    return start, end


# difflib's: what to do (and to which lines of the old text and of the new one)
Opcode = tuple[Literal["replace", "delete", "insert", "equal"], int, int, int, int]


def _line_opcodes(old: list[str], new: list[str]) -> list[Opcode]:
    """difflib's opcodes from ``old`` to ``new`` within the budget: the lines they share at
    both ends are matched first (an edit usually leaves most of an article alone), and what
    lies between is compared line by line, or taken as replaced whole when too long."""
    start, end = _common_ends(old, new)
    old_middle, new_middle = old[start : len(old) - end], new[start : len(new) - end]
    middle: list[Opcode]
    if len(old_middle) * len(new_middle) > DIFF_BUDGET:
        middle = [("replace", 0, len(old_middle), 0, len(new_middle))]
    else:
        matcher = difflib.SequenceMatcher(None, old_middle, new_middle, autojunk=False)
        middle = matcher.get_opcodes()
    opcodes: list[Opcode] = [("equal", 0, start, 0, start)] if start else []
    opcodes += [
        (tag, i1 + start, i2 + start, j1 + start, j2 + start) for tag, i1, i2, j1, j2 in middle
    ]
    if end:
        opcodes.append(("equal", len(old) - end, len(old), len(new) - end, len(new)))
    return opcodes


class _BoundedLineMatcher(difflib.SequenceMatcher):
    """difflib's matcher of lines (with its grouping of changes in context), on the opcodes
    of :func:`_line_opcodes`."""

    a: list[str]
    b: list[str]

    def get_opcodes(self) -> list[Opcode]:
        return _line_opcodes(self.a, self.b)


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "same", "added", "removed", or "gap" (unchanged lines left out)
    old_number: int | None
    new_number: int | None
    text: str


def line_diff(old: str, new: str, context: int = 3) -> list[DiffLine]:
    """The lines that differ, with ``context`` unchanged lines around each change; empty if
    the texts are the same."""
    old_lines, new_lines = old.splitlines(), new.splitlines()
    matcher = _BoundedLineMatcher(None, old_lines, new_lines, autojunk=False)
    lines: list[DiffLine] = []
    for group in matcher.get_grouped_opcodes(context):
        if lines or group[0][1] > 0 or group[0][3] > 0:
            lines.append(DiffLine("gap", None, None, ""))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                lines += [
                    DiffLine("same", i + 1, j + 1, old_lines[i])
                    for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
                ]
                continue
            lines += [DiffLine("removed", i + 1, None, old_lines[i]) for i in range(i1, i2)]
            lines += [DiffLine("added", None, j + 1, new_lines[j]) for j in range(j1, j2)]
    return lines
