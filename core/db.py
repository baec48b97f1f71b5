"""The database: one SQLAlchemy metadata shared by core and plugins, UTC times, and
after-commit callbacks for work that must only happen once the data is safely stored."""

from __future__ import annotations

import logging
import select
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar, cast

from flask import current_app, g, has_request_context, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, MetaData, Select, TextClause, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult, Engine
from sqlalchemy.exc import DisconnectionError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, ORMExecuteState, Session, registry
from sqlalchemy.pool import Pool
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.types import TypeDecorator

logger = logging.getLogger(__name__)

ViewT = TypeVar("ViewT", bound=Callable[..., Any])
M = TypeVar("M")  # a mapped class

LARGEST_ID = 2**31 - 1  # the largest id an id column holds (PostgreSQL's integer)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back time-zone aware (SQLite included)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use datetime.now(UTC)")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def insert_on_conflict(model: type[Base]) -> Any:
    """An INSERT that can say ON CONFLICT (``on_conflict_do_nothing``, ``…_do_update``), in
    the dialect of the database in use (PostgreSQL and SQLite spell it alike)."""
    dialect = db.session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model)


def like_pattern(text: str) -> str:
    """A ``LIKE`` pattern for values containing ``text`` as typed: its ``%``, ``_`` and ``\\``
    match themselves, not any text. Use it with the backslash as escape character:
    ``func.lower(User.display_name).like(like_pattern(word.lower()), escape="\\")``."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class Base(DeclarativeBase):
    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime()},
    )


db = SQLAlchemy(model_class=Base)

# The base class of every table, core's and plugins': ``db.Model``, which Flask-SQLAlchemy
# builds on Base. A type checker cannot take an attribute of an object as a base class, so
# tables subclass ``Model`` and are checked as the SQLAlchemy models they are.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model


# How far the clock is moved (``alma jobs run --now``), for the code running in this context
# only: web requests and other threads keep the real time.
_clock_moved_by: ContextVar[timedelta] = ContextVar("alma_clock_moved_by", default=timedelta())


def utcnow() -> datetime:
    """The project's clock: every "now" of core and plugins comes from here."""
    return datetime.now(UTC) + _clock_moved_by.get()


@contextmanager
def clock_set_to(moment: datetime) -> Iterator[None]:
    """Make ``utcnow()`` start from ``moment`` (aware) in this context, and run on from there,
    e.g. to run a job as if it were that time."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime given; use an aware one")
    token = _clock_moved_by.set(moment - datetime.now(UTC))
    try:
        yield
    finally:
        _clock_moved_by.reset(token)


def rows_changed(statement: UpdateBase, values: Mapping[str, Any] | None = None) -> int:
    """Run an UPDATE or DELETE in the current unit of work, with ``values`` for its
    ``bindparam``s (a statement built once); how many rows it changed."""
    # such a statement answers with a CursorResult, though Session.execute is typed as Result
    return cast("CursorResult[Any]", db.session.execute(statement, values)).rowcount


def after_commit(callback: Callable[[], Any], session: Session | None = None) -> None:
    """Run ``callback`` once the current transaction commits; forget it on rollback."""
    session = session or db.session()
    session.info.setdefault("after_commit", []).append(callback)


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    if session.in_nested_transaction():
        # SQLAlchemy fires after_commit for a released savepoint (begin_nested) too; the
        # outer transaction is still open, its locks held and its data invisible to others.
        return
    # The session still holds its connection here. The callbacks run once the transaction
    # has ended and given it back to the pool: a callback that reads the database (a count
    # pushed live to a member) then needs no second connection, so concurrent units of work
    # cannot each hold one while waiting for another one from an exhausted pool.
    session.info["committed"] = session.info.pop("after_commit", [])
    session.info.pop("savepoint_marks", None)


@event.listens_for(Session, "after_transaction_end")
def _run_after_commit(session: Session, transaction: Any) -> None:
    if transaction.parent is not None:  # a savepoint or a subtransaction
        return
    for callback in session.info.pop("committed", []):
        try:
            callback()
        except Exception:  # the data is committed; a failed side effect must not undo the request
            logger.exception("after-commit callback %r failed", callback)


@event.listens_for(Session, "after_transaction_create")
def _mark_savepoint(session: Session, transaction: Any) -> None:
    if transaction.nested:  # what is to run after commit so far: kept if it rolls back
        marks = session.info.setdefault("savepoint_marks", {})
        marks[id(transaction)] = len(session.info.get("after_commit", []))


@event.listens_for(Session, "after_soft_rollback")
def _forget_after_commit(session: Session, previous_transaction: Any) -> None:
    if previous_transaction.parent is None:  # the outermost transaction rolled back
        session.info.pop("after_commit", None)
        session.info.pop("savepoint_marks", None)
    elif previous_transaction.nested:  # a savepoint: forget what was added inside it
        mark = session.info.get("savepoint_marks", {}).pop(id(previous_transaction), None)
        if mark is not None:
            del session.info.get("after_commit", [])[mark:]


@event.listens_for(Engine, "connect")
def _sqlite_connect(dbapi_connection: Any, connection_record: Any) -> None:
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        # SQLAlchemy, not the sqlite3 module, begins transactions (see _sqlite_begin), so that
        # savepoints nest inside them instead of committing early.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()


READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@event.listens_for(Engine, "begin")
def _sqlite_begin(connection: Any) -> None:
    # SQLite has one write lock for the whole database. A unit of work that reads and then
    # writes after another one committed in between cannot proceed, so work that is expected
    # to write (form posts, jobs, commands) takes the lock up front with BEGIN IMMEDIATE and
    # waits its turn (busy_timeout); page views begin deferred and never block anyone.
    # A Socket.IO event (a chat message) runs in the context of the GET that opened the
    # socket, yet it writes: Flask-SocketIO marks it with ``request.event``.
    # PostgreSQL, for real concurrency, uses row locks instead.
    if connection.dialect.name == "sqlite":
        expects_writes = (
            not has_request_context()
            or request.method not in READ_ONLY_METHODS
            or getattr(request, "event", None) is not None
            or _view_writes_on_get()
        )
        connection.exec_driver_sql("BEGIN IMMEDIATE" if expects_writes else "BEGIN")


def writes_on_get(view: ViewT) -> ViewT:
    """Mark a view that writes even when it answers a GET (a page that marks what it shows
    as read): on SQLite its unit of work then takes the write lock up front, as a form
    post's does, instead of failing when another one commits between its reads and its
    write."""
    view.writes_on_get = True  # type: ignore[attr-defined]
    return view


def _view_writes_on_get() -> bool:
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    return getattr(view, "writes_on_get", False)


# ---- the end of a request's unit of work ------------------------------------------------------


def end_request_transaction(error: BaseException | None) -> None:
    """``teardown_request``: end what the request left of its transaction. One that wrote
    nothing is committed, which changes nothing, rather than rolled back: psycopg forgets
    every prepared statement of the connection at a ROLLBACK, so PostgreSQL would plan each
    statement of the next requests again. A transaction that wrote and was not committed, or
    a request that failed, is rolled back as before. Writes are seen through the session
    (a flush, or an INSERT, UPDATE, DELETE or non-SELECT text run by ``db.session.execute``);
    a write through ``db.session.connection()`` must be committed by its view. Then come the
    writes asked for with ``write_after_request``."""
    _end_own_work(error)
    _run_writes_after_request()


def _end_own_work(error: BaseException | None) -> None:
    session = db.session()
    if not session.in_transaction():
        return
    if (
        error is not None
        or session.info.get("wrote")
        or session.new
        or session.dirty
        or session.deleted
    ):
        session.rollback()
        return
    try:
        session.commit()
    except SQLAlchemyError:  # a broken transaction (a database error the page handled)
        session.rollback()


def work_through_due(
    due: Callable[[], Select[int]],
    handle: Callable[[int], bool],
    *,
    batch: int = 50,
    batches: int = 20,
) -> int:
    """For a job working through a queue (mails to send, certificates to render): the ids
    ``due()`` selects, in their order, ``batch`` at a time, each given to ``handle``, batch
    after batch until none is due (so a row committed while the job runs is not left for the
    next run) or ``batches`` ran; returns how many ``handle`` said it did. The ids are read in
    a short transaction, committed before handling: ``handle`` claims its row itself (a
    conditional UPDATE, committed), so no lock is held while it talks to the world, and two
    runs at once never both handle one row."""
    done = 0
    for _batch in range(batches):
        ids = list(db.session.scalars(due().limit(batch)))
        db.session.commit()
        if not ids:
            break
        done += sum(handle(row_id) for row_id in ids)
    return done


def write_after_request(write: Callable[[], None]) -> None:
    """Have ``write`` run once the request's own unit of work has ended, in a short one of its
    own, whatever the request did: a note of use (a session seen, a token used) does not make
    a page view a write, nor keep an uncommitted change the request left behind."""
    g.setdefault("writes_after_request", []).append(write)


def _run_writes_after_request() -> None:
    for write in g.pop("writes_after_request", ()):
        write()
        db.session.commit()


@event.listens_for(Session, "after_flush")
def _note_flushed(session: Session, flush_context: Any) -> None:
    session.info["wrote"] = True
    session.info.pop(OPTIONAL_ROWS, None)


@event.listens_for(Session, "do_orm_execute")
def _note_statement_writes(state: ORMExecuteState) -> None:
    statement = state.statement
    if isinstance(statement, TextClause):
        writes = statement.text.lstrip()[:6].upper() != "SELECT"
    else:
        writes = state.is_insert or state.is_update or state.is_delete
    if writes:
        state.session.info["wrote"] = True
        state.session.info.pop(OPTIONAL_ROWS, None)
    elif getattr(statement, "_for_update_arg", None) is not None:  # SELECT ... FOR UPDATE/SHARE
        # what is read under a lock must be as it is now, not as before the lock was held
        state.session.info.pop(OPTIONAL_ROWS, None)


@event.listens_for(Session, "after_transaction_end")
def _forget_writes(session: Session, transaction: Any) -> None:
    session.info.pop(OPTIONAL_ROWS, None)
    if transaction.parent is None:
        session.info.pop("wrote", None)


# ---- optional rows --------------------------------------------------------------------------

OPTIONAL_ROWS = "optional_rows"


def get_optional(model: type[M], key: Any) -> M | None:
    """``db.session.get(model, key)`` for a row that may not exist (a member's mentoring
    choices, kept only once they choose), looked for once however many parts of a page ask:
    the row, or that there is none, is remembered (the session's identity map forgets a row
    nothing else holds) until the session adds an object, writes, locks rows
    (``with_for_update``) or ends its transaction: a check made after taking a lock reads
    afresh. A write or a lock that bypasses the session's ORM statements
    (``db.session.connection().execute``, ``text("... FOR UPDATE")``) is not seen. Lock a
    row you will change with ``select(...).with_for_update()`` instead."""
    remembered: dict[tuple[type, Any], Any] = db.session.info.setdefault(OPTIONAL_ROWS, {})
    if (model, key) not in remembered:
        remembered[(model, key)] = db.session.get(model, key)
    found: M | None = remembered[(model, key)]
    return found


@event.listens_for(Session, "transient_to_pending")
def _forget_optional_rows(session: Session, instance: Any) -> None:
    session.info.pop(OPTIONAL_ROWS, None)


@event.listens_for(Pool, "checkout")
def _drop_connection_closed_by_server(
    dbapi_connection: Any, connection_record: Any, connection_proxy: Any
) -> None:
    """A pooled PostgreSQL connection the server has closed since (a restart, a failover,
    ``pg_terminate_backend``) is replaced before the request uses it: its socket has
    something to read although no query is under way (the server's goodbye, or the end of
    the stream). Unlike ``pool_pre_ping`` this costs no round trip; ``pool_recycle`` replaces
    connections that a silent network drop may have cut."""
    fileno = getattr(dbapi_connection, "fileno", None)
    if fileno is None:  # SQLite: nothing to lose
        return
    if dbapi_connection.closed:
        raise DisconnectionError("the connection is closed")
    poll = select.poll()
    poll.register(fileno(), select.POLLIN)
    if poll.poll(0):
        raise DisconnectionError("the server closed the connection")  # the pool takes another
