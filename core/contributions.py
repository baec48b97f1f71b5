"""What plugins contribute through the ``register_*`` hooks.

Plain frozen dataclasses, so a plugin builds them with keywords and core reads them without
guessing. Arguments are only ever added, with defaults, so older plugins keep working.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from markupsafe import Markup
    from sqlalchemy import ColumnElement

    from core.models import Goal, User

ProfileArea = Literal["overview", "mentoring", "groups", "data"]
PROFILE_AREAS: tuple[ProfileArea, ...] = ("overview", "mentoring", "groups", "data")


@dataclass(frozen=True)
class NavItem:
    """A link in the navigation bar.

    ``endpoint`` is a Flask endpoint such as ``"wiki.index"``. ``members_only`` hides the link
    from visitors who are not logged in. Lower ``order`` comes first. ``badge``, if given,
    counts something for the logged-in member, shown beside the link (unread messages, say;
    0 shows nothing); the badge carries ``data-nav-badge="<endpoint>"`` so a script can update
    it live. ``badge(member_id)`` returns a SQL expression of the count, not the count: a
    scalar subquery comparing with ``member_id``, a bound parameter. Core puts every badge in
    one statement, built once, and runs it once per page.
    """

    label: str
    endpoint: str
    members_only: bool = False
    order: int = 100
    badge: Callable[[ColumnElement[int]], ColumnElement[int]] | None = None


@dataclass(frozen=True)
class ProfileSection:
    """A block on one area of a member's profile.

    ``render(member, viewer)`` returns HTML (a ``Markup``, usually from ``render_template``) or
    ``None`` to show nothing to this viewer: the section decides what is public. ``viewer`` is
    the logged-in member looking at ``member``'s profile (possibly the same person).
    """

    area: ProfileArea
    title: str
    render: Callable[[User, User], Markup | str | None]
    order: int = 100


@dataclass(frozen=True)
class HomeCounter:
    """A live figure on the public home page, such as "mentors available".

    ``value()`` is called on every view of the home page, inside the app context: keep it to
    one indexed ``COUNT``.
    """

    label: str
    value: Callable[[], int]
    order: int = 100


@dataclass(frozen=True)
class Job:
    """A scheduled job. ``id`` is prefixed with the plugin's name (``"wiki.reindex"``).

    ``func()`` runs inside an app context; core commits the session when it returns and rolls
    back if it raises. ``trigger`` and ``trigger_args`` are APScheduler's (``"interval"`` with
    ``{"minutes": 5}``, ``"cron"`` with ``{"hour": 3}``…). Jobs must be idempotent: after
    downtime a job runs once to catch up, never once per missed run; and safe to run twice at
    the same moment (``alma jobs run`` beside the scheduler): claim what they send with a
    conditional UPDATE or a row lock. "Now" is ``core.api.utcnow()``, which ``--now`` moves.
    """

    id: str
    func: Callable[[], Any]
    trigger: Literal["interval", "cron", "date"] = "interval"
    trigger_args: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SocketHandler:
    """A Socket.IO event handler. ``handler(data)`` runs with ``current_user`` set.

    Core refuses connections from visitors who are not logged in; the handler still decides
    whether *this* member may do *this* (for example, join *this* chat room).
    """

    event: str
    handler: Callable[..., Any]
    namespace: str = "/"


@dataclass(frozen=True)
class MemberFact:
    """A short public line about a member, shown under their name on their profile and on
    every card that lists members (the mentor directory): "120 credits", say.

    ``values(members)`` gets the members shown on one page and returns, by member id, the text
    to show (members left out show nothing). It is called once per page, not once per member:
    answer with one query for all of them.
    """

    values: Callable[[Sequence[User]], Mapping[int, str]]
    order: int = 100


@dataclass(frozen=True)
class ActivityKind:
    """A kind of activity a plugin records, e.g. ``ActivityKind("wiki.article_created",
    "Created a wiki article")``. Other plugins react to kinds they know by name.

    What an activity is worth is not the recording plugin's business: a credits plugin keeps
    its own rules, keyed by ``name``.
    """

    name: str
    label: str


@dataclass(frozen=True)
class GoalKind:
    """A kind of goal a plugin proposes, e.g. ``GoalKind("mentoring.finished",
    "Finished a mentorship")``; as for :class:`ActivityKind`, what it is worth is a credits
    plugin's rule, keyed by ``name``.

    ``describe(goal)``, if given, returns the facts of one completed goal as ``(label,
    value)`` pairs of text, in reading order (who took part, from when to when, how many
    meetings): what a certificate or a summary shows without knowing the owning plugin. It is
    called as its reader reads (their language and time zone, see ``core.api.reading_as``):
    write dates with ``core.api.format_when``.
    """

    name: str
    label: str
    describe: Callable[[Goal], Sequence[tuple[str, str]]] | None = None
