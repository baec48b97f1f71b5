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
    from core.services.statistics import Months

# core's own areas of a profile: the first tab and, for the member alone, the last
OVERVIEW, MY_DATA = "overview", "data"


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
class ProfileArea:
    """A tab of a member's profile, between core's Overview and My data.

    ``name`` is the plugin's name (or starts with it): the tab's address is
    ``/members/<id>/<name>``, and a :class:`ProfileSection` names it as its ``area``. ``empty``
    is what the tab says when no section shows anything to the viewer. Lower ``order`` comes
    first. Plugins whose sections share an area may each contribute it: it shows once, as the
    one of lowest ``order`` describes it.
    """

    name: str
    title: str
    empty: str = ""
    order: int = 100


@dataclass(frozen=True)
class ProfileSection:
    """A block on one area of a member's profile.

    ``area`` is ``"overview"``, ``"data"`` (My data, seen by the member alone) or the name of
    a :class:`ProfileArea` a plugin contributes; a section of an area no enabled plugin
    contributes shows nowhere. ``render(member, viewer)`` returns HTML (a ``Markup``, usually
    from ``render_template``) or ``None`` to show nothing to this viewer: the section decides
    what is public. ``viewer`` is the logged-in member looking at ``member``'s profile
    (possibly the same person).
    """

    area: str
    title: str
    render: Callable[[User, User], Markup | str | None]
    order: int = 100


@dataclass(frozen=True)
class ProfileField:
    """A field a plugin adds to the member's own profile form, under My data.

    ``field`` is an unbound WTForms field (``BooleanField(_l("..."))``) and ``name`` its name
    in the form, prefixed with the plugin's name unless it keeps an older form's name.
    ``load(member)`` gives its value when the form is shown; ``save(member, value)`` stores
    it, in the same unit of work as the rest of the form (flush, never commit; raise
    :class:`core.api.InvalidInput` to refuse the whole form). Fields with the same ``legend``
    show together, under it; ``note`` (the first of a legend's) joins the form's line on what
    other members see, to say who sees what the fields tell.
    ``badge``, if given, is shown beside the member's name on their profile while
    ``load(member)`` is true (or, if given, ``badge_when(member)``: a mentor's badge waits
    for their identity check), in Bootstrap's ``badge_style`` colour (``"success"``…).
    ``create_user(**fields)`` of the pytest plugin saves a field named in ``fields`` too.
    """

    name: str
    field: Any
    load: Callable[[User], Any]
    save: Callable[[User, Any], None]
    legend: str = ""
    note: str = ""
    badge: str = ""
    badge_style: str = "secondary"
    order: int = 100
    badge_when: Callable[[User], bool] | None = None


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
class Statistic:
    """A figure of the programme's statistics at ``/admin/statistics``: a count ``now()``
    ("mentors available"), a series ``per_month(months)`` ("requests"), or both.

    ``name`` is prefixed with the plugin's name (``"mentoring.requests"``) and heads the
    series' column in the CSV download. ``per_month`` receives :class:`core.api.Months` (the
    months shown, in the programme's time zone) and returns one value per month, ``None``
    where there is none (a median of no rows): build it with ``core.api.count_per_month`` or
    ``median_days_per_month``, one query for all the months. ``unit`` says what a value is
    ("days"), empty for counts. Both run on each view of the page, inside the request.
    Lower ``order`` comes first.
    """

    name: str
    label: str
    now: Callable[[], int] | None = None
    per_month: Callable[[Months], Sequence[float | None]] | None = None
    unit: str = ""
    order: int = 100

    def __post_init__(self) -> None:
        if self.now is None and self.per_month is None:
            raise ValueError(f"Statistic {self.name!r}: give now, per_month or both")


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


@dataclass(frozen=True)
class WebhookEventType:
    """A type of event webhook receivers may subscribe to, e.g.
    ``WebhookEventType("article.published", _l("A wiki article was published"))``: the
    ``type`` of its payloads, which ``core.api.emit_webhook`` sends; ``label`` tells an admin
    choosing an endpoint's events what it is."""

    name: str
    label: str


# how a member gets the mails of a kind (``MailKind``): at once, in a daily digest, or not
MAIL_NOW, MAIL_DIGEST, MAIL_OFF = "now", "digest", "off"
MAIL_CHOICES = (MAIL_NOW, MAIL_DIGEST, MAIL_OFF)


@dataclass(frozen=True)
class MailKind:
    """A kind of e-mail a plugin sends, e.g. ``MailKind("wiki.article_rated", _l("Someone
    rated your article"), templates=("wiki/mail/article_rated",))``.

    ``name`` starts with the plugin's name. Each member chooses, per kind, to get its mails at
    once (``"now"``), gathered in one daily digest (``"digest"``) or not at all (``"off"``);
    ``default`` is the choice of a member who has not chosen. A kind that cannot be turned
    off (``can_turn_off=False``: account security, a copy the member asked for) is always sent
    at once and carries no unsubscribe link. ``templates`` are the mail templates
    (``send_mail``'s third argument) of this kind, so that ``send_mail`` without ``kind=``
    knows it. ``heading`` heads the kinds on the member's Notifications page (default: the
    plugin's name); lower ``order`` comes first.
    """

    name: str
    label: str
    default: str = MAIL_NOW  # or MAIL_DIGEST, MAIL_OFF
    can_turn_off: bool = True
    templates: tuple[str, ...] = ()
    heading: str = ""
    order: int = 100


@dataclass(frozen=True)
class AdminSection:
    """A section of the staff's console at ``/admin/``: "Verification", say.

    ``endpoint`` is the section's page (``"mentoring_verification.queue"``); the console lists the
    section to staff holding ``role`` (``"coordinator"``: coordinators and admins; ``"admin"``:
    admins alone), and the page itself must refuse everyone else, with
    ``@core.api.staff_required(role)``. ``count()``, if given, is shown as a badge beside the
    title, followed by ``count_label`` if given ("3 to verify": 0 shows nothing); it runs on
    each view of the console, inside the request: keep it to one indexed ``COUNT``. ``note``
    says in a line what the section is for.
    Lower ``order`` comes first.
    """

    title: str
    endpoint: str
    role: str
    count: Callable[[], int] | None = None
    note: str = ""
    order: int = 100
    count_label: str = ""  # the words after the badge's number: "to verify"

    def __post_init__(self) -> None:
        from core.models import ROLES

        if self.role not in ROLES:
            raise ValueError(f"AdminSection {self.endpoint!r}: role must be one of {ROLES}")


@dataclass(frozen=True)
class ExportPart:
    """A plugin's part of a member's data export (hook ``export_member_data``).

    ``name`` is the plugin's name: the part becomes ``<name>.json`` in the ZIP, holding
    ``data`` (JSON-ready: strings, numbers, lists, dicts; dates and times may stay ``date``
    and ``datetime``, written as ISO 8601), and its ``files`` go in the folder ``<name>/``
    under their keys (``{"certificate-A1B2.pdf": b"%PDF..."}``). ``about`` is the line
    README.txt gives the part. Only the member's own data and what they wrote: other members
    appear by display name, never by e-mail.
    """

    name: str
    data: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)
    about: str = ""


@dataclass(frozen=True)
class ReportedItem:
    """What a :class:`ReportKind` says of one item as it is now: kept as the report's snapshot,
    which is all staff see of it.

    ``title`` names the item ("Post in “Welcome”"), ``text`` is its content as plain text,
    ``author_id`` its author (``None``: unknown or gone), ``url`` the site path where it is
    shown (the reporter goes back there).
    """

    title: str
    text: str
    author_id: int | None
    url: str


@dataclass(frozen=True)
class ReportKind:
    """A kind of member content that members may report to the moderators (hook
    ``register_report_kinds``): "groups.post", say.

    ``name`` is prefixed with the plugin's name; ``label`` says what it is ("Forum post").
    ``find(item_id, viewer)`` returns the item as a :class:`ReportedItem`, or ``None`` if it
    does not exist or ``viewer`` may not see it (a chat message of another pair): the report
    form then answers 404. ``hide(item_id)`` and ``restore(item_id)`` set and clear the
    plugin's own "hidden by the moderators" mark, in the caller's unit of work (flush, never
    commit); every page of the plugin that shows the item shows the mark instead while it is
    set, to everyone, its author included. They do nothing for an item that is gone.
    """

    name: str
    label: str
    find: Callable[[int, User], ReportedItem | None]
    hide: Callable[[int], None]
    restore: Callable[[int], None]
