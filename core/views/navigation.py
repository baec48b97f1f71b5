"""Reading where to go next from a request: page numbers and local redirect targets."""

from flask import request

MAX_PAGE = 2**31  # beyond it, the page's offset would overflow the database's integers


def page_number() -> int:
    """``?page=N`` as a positive whole number; anything else is page 1."""
    page = request.args.get("page", "1")
    # isascii: "²" passes isdigit() but not int()
    if not (page.isascii() and page.isdigit()) or int(page) > MAX_PAGE:
        return 1
    return max(int(page), 1)


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
