"""The mentoring plugin's hook implementations (its entry point)."""

from __future__ import annotations

from pathlib import Path

from flask import has_request_context, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from core.api import (
    ActivityKind,
    GoalKind,
    HomeCounter,
    Job,
    MailKind,
    MemberFact,
    NavItem,
    ProfileArea,
    ProfileSection,
    WebhookEventType,
    has_role,
    hookimpl,
)
from plugins.mentoring import account_end, api, views
from plugins.mentoring.choices import PROFILE_FIELDS, offers_mentoring
from plugins.mentoring.cli import mentoring_command
from plugins.mentoring.demo import create_demo_mentorships
from plugins.mentoring.export import mentoring_part
from plugins.mentoring.forms import MentorSettingsForm, VerificationForm
from plugins.mentoring.models import COMPLETED, PAIRED_STATES
from plugins.mentoring.services import (
    chat,
    directory,
    ending,
    fields,
    followups,
    lifecycle,
    meetings,
    oversight,
    reports,
    settings,
    statistics,
    verification,
)
from plugins.mentoring.sockets import HANDLERS
from plugins.mentoring.views.verification import SECTION as VERIFICATION_SECTION


@hookimpl
def register_blueprints():
    return views.BLUEPRINTS


@hookimpl
def register_api_blueprints():
    return [api.bp]


@hookimpl
def register_nav_items():
    return [
        NavItem(_l("Find a mentor"), "mentoring.directory", members_only=True, order=10),
        NavItem(
            _l("My mentorships"),
            chat.NAV_ENDPOINT,
            members_only=True,
            order=20,
            badge=chat.unread_count,
        ),
    ]


def _offer_section(member, viewer):
    """On a mentor's profile: their availability and a way to ask them."""
    if not offers_mentoring(member):
        return None
    return render_template(
        "mentoring/_offer.html",
        member=member,
        viewer=viewer,
        available=directory.is_available_mentor(member),
        field_labels=fields.labels_of_members([member.id]).get(member.id),
    )


def _mentorships_section(member, viewer):
    if member.id != viewer.id:
        return None  # who mentors whom is the pair's business
    return render_template(
        "mentoring/_mentorships.html",
        mentorships=lifecycle.mentorships_of(member),
        unread=chat.unread_by_mentorship(member),
        viewer=viewer,
    )


def _settings_section(member, viewer):
    settings = directory.mentor_settings_of(member)
    # formdata=None: on a refused post of the profile form on the same page, the settings
    # would otherwise be read from that post (which has no capacity, and no "accepting" box)
    form = MentorSettingsForm(formdata=None, obj=settings)
    return render_template(
        "mentoring/_settings.html",
        form=form,
        member=member,
        settings=settings,
        mentorships=lifecycle.mentorships_of(member),
        to_verify=offers_mentoring(member) and not verification.is_verified(member),
    )


def _verification_section(member, viewer):
    """In a mentor's own Mentoring area, until their identity is verified: what to send, or
    that it is being checked, and what happens next."""
    if member.id != viewer.id or not verification.required() or not offers_mentoring(member):
        return None
    check = verification.verification_of(member)
    if check is not None and check.state == "verified":
        return None
    return render_template(
        "mentoring/_verification.html",
        member=member,
        check=check,
        form=VerificationForm(formdata=None),
        address=verification.mail_address(),
    )


def _calendar_section(member, viewer):
    if member.id != viewer.id:
        return None
    return render_template("mentoring/_upcoming.html", upcoming=meetings.upcoming_of(member, 5))


@hookimpl
def register_admin_sections():
    return [VERIFICATION_SECTION, views.oversight.SECTION]


def _mentorship_facts(members):
    """On the console's page of a member: their mentorships by state. There only: who
    mentors whom is the pair's business, not the public's (nor shown on a staff member's
    view of the directory)."""
    in_console = has_request_context() and request.blueprint == "admin"
    if not (in_console and has_role(current_user, "coordinator")):
        return {}
    return oversight.facts_for_staff(members)


@hookimpl
def register_member_facts():
    return [
        MemberFact(_verification_facts, order=30),
        MemberFact(_mentorship_facts, order=50),
    ]


@hookimpl
def register_profile_areas():
    return [ProfileArea("mentoring", _l("Mentoring"), _l("Nothing about mentoring here yet."), 10)]


@hookimpl
def register_profile_fields():
    return PROFILE_FIELDS


@hookimpl
def register_profile_sections():
    return [
        ProfileSection("overview", _l("Mentoring"), _offer_section, order=20),
        ProfileSection("mentoring", _l("Mentor verification"), _verification_section, order=5),
        ProfileSection("mentoring", _l("Mentorships"), _mentorships_section, order=10),
        ProfileSection("mentoring", _l("Meetings to come"), _calendar_section, order=20),
        ProfileSection("data", _l("My mentoring"), _settings_section, order=10),
    ]


@hookimpl
def register_home_counters():
    return [
        HomeCounter(_l("mentors available"), directory.count_available_mentors, order=10),
        HomeCounter(
            _l("active mentorships"), lambda: lifecycle.count_mentorships(*PAIRED_STATES), order=20
        ),
        HomeCounter(
            _l("finished mentorships"), lambda: lifecycle.count_mentorships(COMPLETED), order=30
        ),
    ]


def _verification_facts(members):
    """On the console (and wherever staff look): how far each mentor's identity check is.
    Other members see nothing: a check under way is between the mentor and the staff."""
    if not verification.required() or not has_role(current_user, "coordinator"):
        return {}
    ids = [member.id for member in members]
    facts = {
        user_id: str(verification.STATE_LABELS[state])
        for user_id, state in verification.states_of(ids).items()
    }
    for user_id in verification.offering_without_check(ids):
        facts[user_id] = str(verification.NOT_SENT_LABEL)
    return facts


@hookimpl
def register_jobs():
    return [
        Job("mentoring.expire_requests", lifecycle.expire_requests, "interval", {"minutes": 10}),
        Job("mentoring.chat_digests", chat.send_chat_digests, "interval", {"minutes": 5}),
        Job("mentoring.meeting_reminders", followups.send_reminders, "interval", {"minutes": 5}),
        Job(meetings.FEEDBACK_JOB_ID, followups.request_feedback, "interval", {"minutes": 15}),
        Job("mentoring.silence_nudges", followups.nudge_silent_pairs, "interval", {"hours": 1}),
    ]


@hookimpl
def register_socket_handlers():
    return HANDLERS


@hookimpl
def register_report_kinds():
    return reports.report_kinds()


@hookimpl
def register_activity_kinds():
    return [
        ActivityKind(lifecycle.REQUEST_SENT, _l("Sent a mentorship request")),
        ActivityKind(lifecycle.REQUEST_ACCEPTED, _l("Accepted a mentee")),
        ActivityKind(lifecycle.REQUEST_DECLINED, _l("Answered a mentorship request")),
        ActivityKind(ending.MENTORSHIP_TERMINATED, _l("Ended a mentorship early")),
    ]


@hookimpl
def register_goal_kinds():
    return [
        GoalKind(meetings.MEETING_ATTENDED, _l("Attended a mentoring meeting")),
        GoalKind(
            meetings.MENTORSHIP_FINISHED,
            _l("Finished a mentorship"),
            describe=meetings.describe_finished,
        ),
    ]


@hookimpl
def register_mail_kinds():
    return [
        MailKind("mentoring.requests", _l("Mentorship requests, and the answers to yours")),
        MailKind("mentoring.agreements", _l("Your mentorship agreement and its amendments")),
        MailKind("mentoring.meetings", _l("Meetings proposed, approved, declined or changed")),
        MailKind(
            "mentoring.meeting_reminders",
            _l("A reminder before a meeting"),
            templates=("mentoring/mail/meeting_reminder",),
        ),
        MailKind(
            "mentoring.chat",
            _l("Chat messages you have not read"),
            templates=("mentoring/mail/chat_digest",),
        ),
        MailKind(
            "mentoring.feedback",
            _l("A request for feedback after a meeting"),
            templates=("mentoring/mail/feedback_request",),
        ),
        MailKind(
            "mentoring.nudges",
            _l("A question when your mentorship has been quiet for long"),
            templates=("mentoring/mail/silence_nudge",),
        ),
        MailKind("mentoring.endings", _l("A mentorship ending, early or completed")),
        MailKind(
            "mentoring.verification",
            _l("The answer to your identity check as a mentor"),
            can_turn_off=False,  # it says whether members can find them: about the account
            templates=("mentoring/mail/mentor_verified", "mentoring/mail/mentor_rejected"),
        ),
        MailKind(
            "mentoring.programme",
            _l("A word from the programme's coordinators when a mentorship waits for you"),
            templates=("mentoring/mail/staff_nudge",),
        ),
    ]


@hookimpl
def register_webhook_events():
    return [
        WebhookEventType("mentorship.requested", _l("A mentee asked a mentor for a mentorship")),
        WebhookEventType(
            "mentorship.started", _l("A mentorship started: both approved the agreement")
        ),
        WebhookEventType("mentorship.completed", _l("A mentorship was completed")),
        WebhookEventType("mentorship.ended", _l("A mentorship was ended early")),
        WebhookEventType("meeting.held", _l("Both parties confirmed a meeting took place")),
    ]


@hookimpl
def goal_completed(goal):
    meetings.goal_completed(goal)


@hookimpl
def goal_declined(goal):
    meetings.goal_declined(goal)


@hookimpl
def member_suspended(user):
    lifecycle.decline_requests_to(user)


@hookimpl
def register_settings():
    return settings.SETTINGS


@hookimpl
def register_cli_commands():
    return [mentoring_command]


@hookimpl
def app_created(app):
    fields.load_fields(app)
    fields.report_unlisted_codes()


@hookimpl
def register_migrations():
    return [Path(__file__).parent / "migrations"]


@hookimpl
def demo_users_created(users):
    create_demo_mentorships(users)


@hookimpl
def export_member_data(user):
    return mentoring_part(user)


@hookimpl
def register_statistics():
    return statistics.STATISTICS


@hookimpl
def member_deactivating(user):
    account_end.member_leaving(user)


@hookimpl
def member_erasing(user):
    account_end.erase_member(user)
