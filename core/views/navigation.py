"""Reading where to go next from a request: numbers, pages and local redirect targets."""

from flask import request

MAX_PAGE = 2**31  # beyond it, the page's offset would overflow the database's integers


def whole_number(value: str | None, below: int = 2**31) -> int | None:
    """``value`` (a field or a query argument) as a whole number under ``below``, else
    ``None``: "²" passes isdigit() but not int(), and a number beyond what a database column
    holds (2**31 for an id, by default) would fail the query that looks for it."""
    if not (value and value.isascii() and value.isdigit()) or len(value) > len(str(below)):
        return None
    number = int(value)
    return number if number < below else None


def page_number() -> int:
    """``?page=N`` as a positive whole number; anything else is page 1."""
    return max(whole_number(request.args.get("page"), MAX_PAGE + 1) or 1, 1)


def local_path(target: str | None, default: str) -> str:
    """``target`` if it is a path on this site, else ``default`` (no open redirects)."""
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
        # browsers drop tabs and line breaks from URLs ("/\t/evil" means "//evil"); a line
        # break in a Location header would also fail the response
        and not any(ord(char) < 32 or ord(char) == 127 for char in target)
    ):
        return target
    return default
