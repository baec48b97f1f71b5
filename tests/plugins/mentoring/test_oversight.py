"""The console's section "Mentorships" (/admin/mentorships): every mentorship and the stuck
pairs, by rules with thresholds in days, a nudge by e-mail once a day, ending a mentorship and
extending its agreement by staff. Time moves with time-machine; mails go through the real SMTP
server of ``mail``."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select, update

from core.models import AuditEntry, Notification, User
from core.testing import body_of, count_rows, run_job, stored
from plugins.mentoring.models import (
    TERMINATED,
    AgreementVersion,
    MentoringMember,
    Mentorship,
    StaffNudge,
)
from plugins.mentoring.services import agreements, chat, ending, lifecycle

from .conftest import agreement_terms, statements_of_get, text

START = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    """The clock, frozen on 1 March 2027 (``clock.move_to(...)`` moves it)."""
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def coordinator(create_user):
    return create_user(
        display_name="Cora Coordinator", email="cora@example.org", role="coordinator"
    )


def later(days: float) -> datetime:
    return START + timedelta(days=days)


def stuck_on(client, **filters) -> dict[int, list[str]]:
    """The stuck view as a coordinator reads it: each pair listed, with the rules it hits."""
    page = client.get("/admin/mentorships", query_string={"stuck": "1", **filters})
    assert page.status_code == 200
    listed: dict[int, list[str]] = {}
    for item in page.text.split('data-mentorship="')[1:]:
        mentorship_id = int(item.split('"', 1)[0])
        listed[mentorship_id] = re.findall(r'data-stuck-rule="(\w+)"', item)
    return listed


# ---- who may open the section -----------------------------------------------------------


def test_every_page_and_act_is_refused_to_visitors_members_and_the_pair(
    app, client, db, pairs, mentee, mentor, member, coordinator, create_user
):
    mentorship_id = pairs.active(mentee, mentor)
    rules = sorted(
        {
            rule.rule
            for rule in app.url_map.iter_rules()
            if rule.rule.startswith("/admin/mentorships")
        }
    )
    assert rules == [
        "/admin/mentorships",
        "/admin/mentorships/<int:mentorship_id>",
        "/admin/mentorships/<int:mentorship_id>/end",
        "/admin/mentorships/<int:mentorship_id>/extend",
        "/admin/mentorships/<int:mentorship_id>/nudge/<any(request, agreement, meeting, end):rule>",
    ]
    pages = ["/admin/mentorships", f"/admin/mentorships/{mentorship_id}"]
    pages.append(f"/admin/mentorships/{mentorship_id}/end")
    acts = [
        f"/admin/mentorships/{mentorship_id}/end",
        f"/admin/mentorships/{mentorship_id}/extend",
        f"/admin/mentorships/{mentorship_id}/nudge/meeting",
    ]
    form = {"reason": "Asked for it", "ends_on": "2030-01-01"}

    for url in pages:
        assert client.get(url).location.startswith("/login"), url
    for url in acts:
        assert client.post(url, data=form).location.startswith("/login"), url

    for who in (member, mentee, mentor):  # the pair is no staff either
        client.login(who)
        assert {url: client.get(url).status_code for url in pages} == dict.fromkeys(pages, 403)
        assert {url: client.post(url, data=form).status_code for url in acts} == dict.fromkeys(
            acts, 403
        )
    assert stored(app, select(Mentorship.state)) == "active"
    assert count_rows(app, AuditEntry) == 0

    for staff in (coordinator, create_user(role="admin")):
        client.login(staff)
        assert {url: client.get(url).status_code for url in pages} == dict.fromkeys(pages, 200)


def test_the_console_lists_the_section_with_the_count_of_stuck_pairs(
    app, client, db, clock, pairs, mentee, mentor, coordinator
):
    pairs.request(mentee, mentor)
    client.login(coordinator)
    assert 'data-section-count="mentoring_admin.mentorships"' not in client.get("/admin/").text

    clock.move_to(later(7))
    index = client.get("/admin/").text
    assert 'href="/admin/mentorships"' in index
    assert 'data-section-count="mentoring_admin.mentorships">1<' in index


# ---- the list ---------------------------------------------------------------------------


def test_the_list_shows_every_mentorship_newest_first_with_filters(
    app, client, db, clock, pairs, make_mentor, create_user, coordinator
):
    ada = create_user(display_name="Ada Lovelace")
    bob = create_user(display_name="Bob Builder")
    grace = make_mentor("Grace Hopper")
    linus = make_mentor("Linus Torvalds")
    first = pairs.active(ada, grace)
    clock.move_to(later(1))
    second = pairs.request(bob, linus)
    client.login(coordinator)

    page = client.get("/admin/mentorships").text
    assert page.index(f'data-mentorship="{second}"') < page.index(f'data-mentorship="{first}"')
    assert "Ada Lovelace with Grace Hopper" in page and "Bob Builder with Linus Torvalds" in page

    def listed(**filters) -> list[int]:
        text = client.get("/admin/mentorships", query_string=filters).text
        return [int(found) for found in re.findall(r'data-mentorship="(\d+)"', text)]

    assert listed(state="active") == [first]
    assert listed(state="requested") == [second]
    assert listed(q="hopper") == [first]  # the mentor's name
    assert listed(q="BOB") == [second]  # the mentee's, any case
    assert listed(q="nobody") == []
    assert "No mentorship matches." in client.get("/admin/mentorships?q=nobody").text
    assert listed(state="no-such-state") == [second, first]  # an unknown state is ignored


def test_staff_never_see_the_pairs_chat(app, client, db, clock, accepted, mentee, coordinator):
    chat.post_message(accepted, mentee, "A private word about my manager")
    db.session.commit()
    client.login(coordinator)
    clock.move_to(later(20))  # stuck: no agreement
    for url in (
        "/admin/mentorships",
        f"/admin/mentorships/{accepted}",
        "/admin/mentorships?stuck=1",
    ):
        page = client.get(url).text
        assert "private word" not in page, url
        assert "Would you mentor me" not in page, url  # nor the request's message


# ---- the rules by which a pair is stuck ---------------------------------------------------


def test_a_request_unanswered_for_seven_days_is_stuck_waiting_for_the_mentor(
    client, db, clock, pairs, mentee, mentor, coordinator
):
    mentorship_id = pairs.request(mentee, mentor)
    client.login(coordinator)

    clock.move_to(later(6.9))
    assert stuck_on(client) == {}
    assert "No pair is stuck" in client.get("/admin/mentorships?stuck=1").text

    clock.move_to(later(7))
    assert stuck_on(client) == {mentorship_id: ["request"]}
    page = client.get(f"/admin/mentorships/{mentorship_id}").text
    assert "Request unanswered" in page and "Waiting for: Max Mentor" in page


def test_an_acceptance_without_agreement_for_fourteen_days_is_stuck(
    client, db, clock, pairs, mentee, mentor, coordinator
):
    mentorship_id = pairs.accept(mentee, mentor)
    client.login(coordinator)

    clock.move_to(later(13))
    assert stuck_on(client) == {}
    clock.move_to(later(14))
    assert stuck_on(client) == {mentorship_id: ["agreement"]}
    assert "Waiting for: Mia Mentee" in client.get(f"/admin/mentorships/{mentorship_id}").text

    # once the mentee sent it, the pair waits for the mentor's approval
    agreements.propose_agreement(mentorship_id, mentee, agreement_terms())
    db.session.commit()
    assert "Waiting for: Max Mentor" in client.get(f"/admin/mentorships/{mentorship_id}").text


def test_an_active_pair_without_a_meeting_for_thirty_days_is_stuck(
    client, db, clock, pairs, planner, mentee, mentor, coordinator
):
    mentorship_id = pairs.active(mentee, mentor, starts_on=START.date())
    client.login(coordinator)

    clock.move_to(later(29))
    assert stuck_on(client) == {}
    clock.move_to(later(30))
    client.login(coordinator)  # a login lasts 30 days
    assert stuck_on(client) == {mentorship_id: ["meeting"]}
    assert (
        "Waiting for: Mia Mentee, Max Mentor"
        in client.get(f"/admin/mentorships/{mentorship_id}").text
    )

    # a meeting held on day 31 counts from then on
    meeting_id = planner.schedule(mentorship_id, mentee, mentor, later(31))
    clock.move_to(later(31.5))
    planner.hold(meeting_id, mentee, mentor)
    assert stuck_on(client) == {}
    clock.move_to(later(61.3))  # held two hours before day 31.5: thirty days from then
    client.login(coordinator)  # the session ran out in a month
    assert stuck_on(client) == {}
    clock.move_to(later(61.5))
    assert stuck_on(client) == {mentorship_id: ["meeting"]}


def test_a_proposal_to_end_unanswered_for_seven_days_is_stuck_waiting_for_the_other(
    client, db, clock, pairs, mentee, mentor, coordinator
):
    mentorship_id = pairs.active(mentee, mentor)
    ending.propose_early_end(mentorship_id, mentee, "We learnt what we could.")
    db.session.commit()
    client.login(coordinator)

    clock.move_to(later(6))
    assert stuck_on(client) == {}
    clock.move_to(later(7))
    assert stuck_on(client) == {mentorship_id: ["end"]}
    assert "Waiting for: Max Mentor" in client.get(f"/admin/mentorships/{mentorship_id}").text


def test_the_thresholds_are_settings(app, client, db, clock, pairs, mentee, mentor, coordinator):
    """``[plugins.mentoring] stuck_request_days = 2``: a request is stuck after two days."""
    app.config["PLUGIN_SETTINGS"]["mentoring"]["stuck_request_days"] = 2
    mentorship_id = pairs.request(mentee, mentor)
    client.login(coordinator)
    clock.move_to(later(1.9))
    assert stuck_on(client) == {}
    clock.move_to(later(2))
    assert stuck_on(client) == {mentorship_id: ["request"]}
    assert "unanswered for 2 days" in client.get("/admin/mentorships?stuck=1").text


# ---- the nudge ----------------------------------------------------------------------------


def test_a_nudge_mails_who_must_act_once_a_day_and_is_logged(
    app, client, db, mail, clock, pairs, mentee, mentor, coordinator
):
    mentorship_id = pairs.request(mentee, mentor)
    mail.deliver()
    clock.move_to(later(8))
    client.login(coordinator)
    url = f"/admin/mentorships/{mentorship_id}/nudge/request"

    sent = client.post(url, data={"note": "Max, a short answer is enough."}, follow_redirects=True)
    assert "The nudge is sent to Max Mentor." in sent.text
    received = mail.deliver()
    assert [m["To"] for m in received] == ["max@example.org"]  # the mentee is not the one
    assert received[0]["Subject"] == "About your mentorship with Mia Mentee"
    body = body_of(received[0])
    assert "Mia Mentee asked you to be their mentor" in body
    assert "still waiting for your answer" in body
    assert "Max, a short answer is enough." in body
    assert f"http://alma.test/mentoring/{mentorship_id}" in body
    (entry,) = db.session.scalars(select(AuditEntry)).all()
    assert (entry.act, entry.actor_label, entry.target_kind, entry.target_id) == (
        "mentoring.pair_nudged",
        "cora@example.org",
        "mentorship",
        mentorship_id,
    )
    assert entry.reason == "Nudged: Request unanswered for 8 days. Max, a short answer is enough."
    assert "Nudged " in client.get(f"/admin/mentorships/{mentorship_id}").text

    # a second click the same day (or a double submit) sends nothing more, and says so
    again = client.post(url, data={}, follow_redirects=True)
    assert "nudged about this less than a day ago" in again.text
    assert mail.deliver() == []
    assert count_rows(app, AuditEntry) == 1

    clock.move_to(later(9) + timedelta(minutes=1))  # a day later: again, without a note
    assert "The nudge is sent to Max Mentor." in client.post(url, follow_redirects=True).text
    (second,) = mail.deliver()
    assert "A note from" not in body_of(second)
    assert count_rows(app, AuditEntry) == 2
    assert count_rows(app, StaffNudge) == 1


def test_a_nudge_mails_no_suspended_or_deactivated_party_and_says_who_got_it(
    app, client, db, mail, clock, pairs, mentee, mentor, coordinator
):
    mentorship_id = pairs.active(mentee, mentor, starts_on=START.date())
    db.session.execute(update(User).where(User.id == mentor.id).values(suspended_at=START))
    db.session.commit()
    mail.deliver()
    clock.move_to(later(30))
    client.login(coordinator)
    url = f"/admin/mentorships/{mentorship_id}/nudge/meeting"  # both must act

    sent = client.post(url, follow_redirects=True)
    assert "The nudge is sent to Mia Mentee." in sent.text
    assert [m["To"] for m in mail.deliver()] == ["mia@example.org"]
    assert count_rows(app, AuditEntry) == 1


def test_a_nudge_no_one_can_receive_is_refused_and_changes_nothing(
    app, client, db, mail, clock, pairs, mentee, mentor, coordinator
):
    mentorship_id = pairs.request(mentee, mentor)
    db.session.execute(update(User).where(User.id == mentor.id).values(deactivated_at=START))
    db.session.commit()
    mail.deliver()
    clock.move_to(later(8))
    client.login(coordinator)

    refused = client.post(
        f"/admin/mentorships/{mentorship_id}/nudge/request", follow_redirects=True
    )
    assert "No one was nudged: Max Mentor cannot be mailed now" in text(refused)
    assert "The nudge is sent" not in refused.text
    assert mail.deliver() == []
    assert count_rows(app, AuditEntry) == 0
    assert count_rows(app, StaffNudge) == 0


def test_a_nudge_to_a_member_who_turned_such_mails_off_says_no_mail_went_out(
    app, client, db, mail, clock, pairs, mentee, mentor, coordinator
):
    from core.services import mail_kinds

    mentorship_id = pairs.request(mentee, mentor)
    mail_kinds.turn_off(mentor, [mail_kinds.mail_kind_of("mentoring.programme", "")])
    db.session.commit()
    mail.deliver()
    clock.move_to(later(8))
    client.login(coordinator)

    sent = client.post(f"/admin/mentorships/{mentorship_id}/nudge/request", follow_redirects=True)
    assert "No mail went out now" in text(sent)
    assert "The nudge is sent" not in sent.text
    assert mail.deliver() == []


def test_a_nudge_for_a_rule_the_pair_is_not_stuck_by_is_refused(
    app, client, db, mail, clock, pairs, mentee, mentor, coordinator
):
    mentorship_id = pairs.request(mentee, mentor)
    mail.deliver()
    client.login(coordinator)
    clock.move_to(later(3))  # not stuck yet
    response = client.post(
        f"/admin/mentorships/{mentorship_id}/nudge/request", follow_redirects=True
    )
    assert "not stuck by that rule now" in response.text
    response = client.post(
        f"/admin/mentorships/{mentorship_id}/nudge/meeting", follow_redirects=True
    )
    assert "not stuck by that rule now" in response.text
    assert client.post(f"/admin/mentorships/{mentorship_id}/nudge/other").status_code == 404
    assert mail.deliver() == []
    assert count_rows(app, AuditEntry) == 0


def test_a_nudge_about_the_agreement_goes_to_the_mentee_with_the_agreements_link(
    client, db, mail, clock, accepted, coordinator
):
    mail.deliver()
    clock.move_to(later(15))
    client.login(coordinator)
    client.post(f"/admin/mentorships/{accepted}/nudge/agreement")
    (received,) = mail.deliver()
    assert received["To"] == "mia@example.org"
    assert "your mentorship agreement is not filled in yet" in body_of(received)
    assert f"/mentoring/{accepted}/agreement" in body_of(received)


# ---- ending by staff --------------------------------------------------------------------


@pytest.mark.plugins("mentoring", "certificates")
def test_staff_end_a_mentorship_both_are_told_and_no_certificate_follows(
    app, client, db, mail, active, mentee, mentor, coordinator
):
    from plugins.certificates.models import Certificate
    from plugins.certificates.services import RENDER_JOB_ID

    mail.deliver()
    client.login(coordinator)
    confirm = client.get(f"/admin/mentorships/{active}/end").text
    assert "no certificate follows" in confirm

    ended = client.post(
        f"/admin/mentorships/{active}/end",
        data={"reason": "The mentor asked us to", "note": "Thank you both."},
        follow_redirects=True,
    )
    assert "The mentorship has ended; both were told." in ended.text

    assert stored(app, select(Mentorship.state)) == TERMINATED
    assert (
        stored(
            app, select(MentoringMember.mentee_count).where(MentoringMember.user_id == mentor.id)
        )
        == 0
    )
    assert lifecycle.count_mentorships("accepted", "active") == 0  # no longer under way
    received = {m["To"]: m for m in mail.deliver()}
    assert set(received) == {"mia@example.org", "max@example.org"}
    assert "ended your mentorship with Max Mentor" in body_of(received["mia@example.org"])
    assert "Thank you both." in body_of(received["max@example.org"])
    assert count_rows(app, Notification, Notification.user_id.in_([mentee.id, mentor.id])) >= 2
    (entry,) = db.session.scalars(select(AuditEntry)).all()
    assert (entry.act, entry.reason, entry.target_id) == (
        "mentoring.mentorship_ended",
        "The mentor asked us to",
        active,
    )
    # on the pair's own page it reads as ended by the coordinators
    client.login(mentee)
    assert "Ended by the programme's coordinators" in text(client.get(f"/mentoring/{active}"))

    run_job(app, RENDER_JOB_ID)
    assert count_rows(app, Certificate) == 0


def test_ending_needs_a_reason_and_a_mentorship_under_way(
    app, client, db, mail, pairs, mentee, mentor, coordinator
):
    mentorship_id = pairs.active(mentee, mentor)
    client.login(coordinator)
    refused = client.post(f"/admin/mentorships/{mentorship_id}/end", data={"reason": " "})
    assert refused.location == f"/admin/mentorships/{mentorship_id}/end"
    assert stored(app, select(Mentorship.state)) == "active"

    client.post(f"/admin/mentorships/{mentorship_id}/end", data={"reason": "Asked by both"})
    mail.deliver()
    again = client.post(
        f"/admin/mentorships/{mentorship_id}/end",
        data={"reason": "Once more"},
        follow_redirects=True,
    )
    assert "Only a mentorship under way can be ended: this one is ended early." in again.text
    assert mail.deliver() == []
    assert count_rows(app, AuditEntry) == 1
    # the confirmation page says so too, instead of asking
    page = client.get(f"/admin/mentorships/{mentorship_id}/end", follow_redirects=True).text
    assert "Only a mentorship under way can be ended" in page


def test_a_coordinator_cannot_end_their_own_mentorship_as_staff(
    app, client, db, pairs, mentor, create_user
):
    coordinating_mentee = create_user(display_name="Cid", role="coordinator")
    mentorship_id = pairs.active(coordinating_mentee, mentor)
    client.login(coordinating_mentee)
    assert "your own mentorship" in client.get(f"/admin/mentorships/{mentorship_id}").text
    response = client.post(f"/admin/mentorships/{mentorship_id}/end", data={"reason": "Mine"})
    assert response.status_code == 403
    assert stored(app, select(Mentorship.state)) == "active"


# ---- extending the agreement by staff ----------------------------------------------------


def test_staff_extend_the_agreed_end_and_both_see_it_in_the_history(
    app, client, db, mail, clock, active, mentee, mentor, coordinator
):
    mail.deliver()
    agreed_end = START.date() + timedelta(days=90)
    client.login(coordinator)
    url = f"/admin/mentorships/{active}/extend"

    extended = client.post(
        url,
        data={"ends_on": "2027-07-15", "reason": "The pair asked for a month more"},
        follow_redirects=True,
    )
    assert "The agreement is extended; both were told." in extended.text
    assert 'data-agreed-end="2027-07-15"' in extended.text

    newest = db.session.scalars(select(AgreementVersion).order_by(AgreementVersion.number)).all()
    assert [(v.number, v.status, v.by_staff) for v in newest] == [
        (1, "approved", False),
        (2, "approved", True),
    ]
    assert newest[1].ends_on == date(2027, 7, 15) and newest[0].ends_on == agreed_end
    assert agreements.agreement_in_force(lifecycle.mentorship_for(active, mentee)).number == 2
    received = {m["To"]: body_of(m) for m in mail.deliver()}
    assert set(received) == {"mia@example.org", "max@example.org"}
    assert "extended your agreement with Max Mentor" in received["mia@example.org"]
    (entry,) = db.session.scalars(select(AuditEntry)).all()
    assert (entry.act, entry.reason) == (
        "mentoring.agreement_extended",
        "The pair asked for a month more",
    )

    for party in (mentee, mentor):
        client.login(party)
        page = text(client.get(f"/mentoring/{active}/agreement"))
        assert "data-staff-change" in page
        assert "Changed by the programme's staff (Cora Coordinator)" in page
        assert "The pair asked for a month more" in page
        assert "In force (version 2)" in page


def test_an_extension_must_end_later_than_agreed_and_not_in_the_past(
    app, client, db, clock, active, coordinator
):
    client.login(coordinator)
    url = f"/admin/mentorships/{active}/extend"
    agreed_end = START.date() + timedelta(days=90)

    before = client.post(
        url, data={"ends_on": agreed_end.isoformat(), "reason": "r"}, follow_redirects=True
    )
    assert "Choose a date after the agreed end" in before.text
    assert (
        "Give a reason"
        in client.post(url, data={"ends_on": "2027-12-01"}, follow_redirects=True).text
    )

    clock.move_to(later(120))  # the agreed end is past: a date between it and today is too
    client.login(coordinator)  # the session ran out meanwhile
    past = client.post(
        url,
        data={"ends_on": (agreed_end + timedelta(days=5)).isoformat(), "reason": "r"},
        follow_redirects=True,
    )
    assert "The new end date is in the past" in past.text
    assert count_rows(app, AgreementVersion) == 1
    assert count_rows(app, AuditEntry) == 0


def test_no_extension_without_an_agreement_or_while_an_amendment_awaits(
    app, client, db, pairs, mentee, mentor, coordinator, make_mentor, create_user
):
    accepted_id = pairs.accept(mentee, mentor)
    client.login(coordinator)
    response = client.post(
        f"/admin/mentorships/{accepted_id}/extend",
        data={"ends_on": "2099-01-01", "reason": "r"},
        follow_redirects=True,
    )
    assert "Only the agreement of an active mentorship can be extended." in response.text

    other_id = pairs.active(create_user(display_name="Ana"), make_mentor("Ben"))
    mentorship = db.session.get(Mentorship, other_id)
    agreements.propose_amendment(
        other_id, mentorship.mentee, agreement_terms(meetings_planned=8), "More"
    )
    db.session.commit()
    response = client.post(
        f"/admin/mentorships/{other_id}/extend",
        data={"ends_on": "2099-01-01", "reason": "r"},
        follow_redirects=True,
    )
    assert "awaits an answer" in response.text
    assert count_rows(app, AuditEntry) == 0


# ---- the member's page, and the cost of the list -------------------------------------------


def test_the_members_console_page_shows_their_mentorships(
    client, db, pairs, mentee, mentor, make_mentor, coordinator
):
    pairs.active(mentee, mentor)
    pairs.request(mentee, make_mentor("Other Mentor"))
    client.login(coordinator)
    page = client.get(f"/admin/members/{mentee.id}").text
    assert "1 request pending · 1 mentorship under way" in page
    # not public: the mentor's profile does not say whom they mentor
    client.login(mentee)
    assert "mentorship under way" not in client.get(f"/members/{mentor.id}").text


def test_the_list_runs_the_same_statements_for_a_page_of_many(
    app, client, db, pairs, make_mentor, create_user, coordinator
):
    client.login(coordinator)

    def statements_of_list() -> int:
        return statements_of_get(app, client, "/admin/mentorships")

    pairs.active(create_user(), make_mentor("First"))
    few = statements_of_list()
    for number in range(60):
        pairs.request(create_user(display_name=f"Mentee {number}"), make_mentor(f"Mentor {number}"))
    many = statements_of_list()
    assert many == few
    assert many <= 8
