"""Domain errors raised by services. Views turn them into a message or an error page; the
socket handlers and the CLI do the same, so the rule lives in one place: the service."""


class DomainError(Exception):
    """A rule of the domain refused the action; the message is shown to the user."""


class InvalidInput(DomainError):
    """The input is wrong (bad token, weak password, address taken…). Nothing changed."""


class NotAllowed(DomainError):
    """The acting member may not do this (a 403)."""


class NotFound(DomainError):
    """The thing does not exist (a 404)."""
