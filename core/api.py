"""The one module a plugin imports from core: ``from core.api import hookimpl, db, User, ...``.

Everything here is kept stable within an ``API_VERSION`` major version: a name is only removed
or changed incompatibly after a release in which it warns (see ``_DEPRECATED``). The rest of
core is private and may change at any time. docs/writing-plugins.md lists every name.
"""

from __future__ import annotations

import warnings
from typing import Any

# Grouped by what a plugin does with them, as docs/writing-plugins.md lists them, not sorted.
# isort: off
# ---- hooks and contributions ------------------------------------------------------------------

from core.contributions import (
    ActivityKind,
    AdminSection,
    ExportPart,
    GoalKind,
    HomeCounter,
    Job,
    MailKind,
    MemberFact,
    NavItem,
    ProfileArea,
    ProfileField,
    ProfileSection,
    ReportedItem,
    ReportKind,
    SocketHandler,
    Statistic,
    WebhookEventType,
)
from core.hookspecs import hookimpl

# ---- database and transactions ----------------------------------------------------------------

from core.db import (
    Model,  # the base class of a table (db.Model, as a type checker can follow it)
    UTCDateTime,  # column type: a time stored in UTC, read back time-zone aware
    after_commit,
    db,
    get_optional,  # db.session.get for a row that may not exist, asked once per unit of work
    insert_on_conflict,  # INSERT ... ON CONFLICT for the app's database dialect
    rows_changed,  # runs an UPDATE or DELETE, returns how many rows it changed
    like_pattern,  # a LIKE pattern matching text as typed ("50%" is not a wildcard)
    utcnow,
    work_through_due,  # a job's loop over a queue's due rows, a batch at a time
    writes_on_get,  # lets a GET view write (SQLite opens GET requests read-only)
)

# ---- members and core records -----------------------------------------------------------------

from core.models import Activity, Goal, Topic, User, UserLanguage, UserTopic
from core.services.accounts import user_by_email
from core.services.profiles import language_codes_of, member_for, topic_names_of
from core.services.lifecycle import FORMER_MEMBER, forget_mentions

# ---- staff and the audit log ------------------------------------------------------------------

from core.services.staff import has_role, record_staff_act

# ---- statistics -------------------------------------------------------------------------------

from core.services.statistics import Months, count_per_month, median_days_per_month

# ---- reports and moderation -------------------------------------------------------------------

from core.services.reports import hiding_marks
from core.views.admin import staff_required

# ---- errors -----------------------------------------------------------------------------------

from core.errors import DomainError, InvalidInput, NotAllowed, NotFound

# ---- mail, alerts and real time ---------------------------------------------------------------

from core.realtime import emit_to_user, push_badge
from core.services.mail import send_mail
from core.services.notifications import notify

# ---- webhooks (docs/api.md) --------------------------------------------------------------------

from core.services.webhooks import emit_webhook

# ---- links to the site's pages ----------------------------------------------------------------

from core.urls import absolute_url, external_url, site_path

# ---- activities and goals ---------------------------------------------------------------------

from core.services.activities import activity_label, record_activity, undo_activity
from core.services.goals import (
    consent_to_goal,
    decline_goal,
    goal_facts,
    goal_label,
    propose_goal,
)

# ---- jobs -------------------------------------------------------------------------------------

from core.jobs import wake_job, wake_job_after_commit

# ---- state machines ---------------------------------------------------------------------------

from core.transitions import Step, Transitions, allowed_actions

# ---- forms, requests and pagination -----------------------------------------------------------

from core.forms import ConfirmForm, form_errors, require_form, run_action
from core.ratelimits import RateLimit, RateLimited, rate_limit, rate_limited
from core.pagination import Page, page_of
from core.views.navigation import local_path, page_number, whole_number

# ---- the HTTP API (docs/api.md) ----------------------------------------------------------------

from core.webapi import ETAG_HEADER, ApiBlueprint, IdField, PageField
from core.webapi.auth import public
from core.webapi.pagination import (
    PageArguments,
    cursor_page,
    next_link,
    page_schema,
    time_page,
)
from core.webapi.preconditions import (
    IF_MATCH,
    changed_meanwhile,
    entity_tag,
    versions_in_if_match,
)
from core.webapi.problems import Problem

# ---- languages, time zones and dates ----------------------------------------------------------

from core.i18n import (
    format_when,
    from_local,
    language_names,
    local_clock,
    local_date,
    occurs_twice,
    reading_as,
    today_of,
    zone_of,
)

# ---- settings and app state -------------------------------------------------------------------

from core.config import ConfigError, Setting, plugin_settings_as, positive
from core.state import alma
# isort: on

# ---- version ----------------------------------------------------------------------------------

API_VERSION = (1, 9)  # (major, minor): a major bump may break plugins, a minor one only adds

__all__ = [  # noqa: RUF022 (grouped as above)
    "API_VERSION",
    # hooks and contributions
    "hookimpl",
    "ActivityKind",
    "AdminSection",
    "ExportPart",
    "GoalKind",
    "HomeCounter",
    "Job",
    "MailKind",
    "MemberFact",
    "NavItem",
    "ProfileArea",
    "ProfileField",
    "ProfileSection",
    "ReportKind",
    "ReportedItem",
    "SocketHandler",
    "Statistic",
    "WebhookEventType",
    # database and transactions
    "db",
    "Model",
    "utcnow",
    "after_commit",
    "insert_on_conflict",
    "rows_changed",
    "get_optional",
    "work_through_due",
    "like_pattern",
    "writes_on_get",
    "UTCDateTime",
    # members and core records
    "User",
    "UserLanguage",
    "UserTopic",
    "Topic",
    "Activity",
    "Goal",
    "user_by_email",
    "member_for",
    "topic_names_of",
    "language_codes_of",
    "FORMER_MEMBER",
    "forget_mentions",
    # staff and the audit log
    "has_role",
    "staff_required",
    "record_staff_act",
    # statistics
    "Months",
    "count_per_month",
    "median_days_per_month",
    # reports and moderation
    "hiding_marks",
    # errors
    "DomainError",
    "InvalidInput",
    "NotAllowed",
    "NotFound",
    # mail, alerts and real time
    "send_mail",
    "notify",
    "push_badge",
    "emit_to_user",
    # webhooks
    "emit_webhook",
    # links to the site's pages
    "site_path",
    "external_url",
    "absolute_url",
    # activities and goals
    "record_activity",
    "undo_activity",
    "activity_label",
    "propose_goal",
    "consent_to_goal",
    "decline_goal",
    "goal_label",
    "goal_facts",
    # jobs
    "wake_job",
    "wake_job_after_commit",
    # state machines
    "Transitions",
    "Step",
    "allowed_actions",
    # forms, requests and pagination
    "ConfirmForm",
    "run_action",
    "form_errors",
    "require_form",
    "rate_limit",
    "rate_limited",
    "RateLimit",
    "RateLimited",
    "Page",
    "page_of",
    "page_number",
    "whole_number",
    "local_path",
    # the HTTP API
    "ApiBlueprint",
    "IdField",
    "PageField",
    "public",
    "PageArguments",
    "cursor_page",
    "time_page",
    "next_link",
    "page_schema",
    "Problem",
    "entity_tag",
    "versions_in_if_match",
    "changed_meanwhile",
    "IF_MATCH",
    "ETAG_HEADER",
    # languages, time zones and dates
    "format_when",
    "reading_as",
    "zone_of",
    "local_clock",
    "local_date",
    "today_of",
    "from_local",
    "occurs_twice",
    "language_names",
    # settings and app state
    "Setting",
    "plugin_settings_as",
    "positive",
    "ConfigError",
    "alma",
]

# ---- deprecation ------------------------------------------------------------------------------

# A name leaving the API: "old_name": ("new_name", "removed in API 2"). The old name keeps
# working, with a DeprecationWarning, for at least one minor release and until the next major.
_DEPRECATED: dict[str, tuple[str, str]] = {}


def __getattr__(name: str) -> Any:
    if name not in _DEPRECATED:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    new_name, removal = _DEPRECATED[name]
    warnings.warn(
        f"core.api.{name} is deprecated, use core.api.{new_name} ({removal})",
        DeprecationWarning,
        stacklevel=2,
    )
    return globals()[new_name]
