"""Lists shown a page at a time: ``?page=N`` read with ``page_number()``, a query cut into
a :class:`Page` with :func:`page_of`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select

from core.db import db

ItemT = TypeVar("ItemT")
OtherT = TypeVar("OtherT")


@dataclass(frozen=True)
class Page(Generic[ItemT]):
    """One page of a list: its items, its number (from 1) and whether a next page exists."""

    items: list[ItemT]
    page: int
    has_more: bool

    def map(self, convert: Callable[[ItemT], OtherT]) -> Page[OtherT]:
        """The same page with each item converted (e.g. a row into a card)."""
        return Page([convert(item) for item in self.items], self.page, self.has_more)


def page_of(
    query: Select[*tuple[Any, ...]], page: int, size: int, *, rows: bool = False
) -> Page[Any]:
    """Page ``page`` (from 1) of ``query``, ``size`` items to a page. Its items are the
    query's first column (``select(Article)`` gives articles), or whole rows with
    ``rows=True`` (``select(Article, average)`` gives ``(article, average)`` rows). One more
    item than a page holds is read, so ``has_more`` costs no count."""
    query = query.offset((page - 1) * size).limit(size + 1)
    found = list(db.session.execute(query).all() if rows else db.session.scalars(query))
    return Page(found[:size], page, len(found) > size)
