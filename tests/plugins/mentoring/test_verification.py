"""A mentor's identity check (``[plugins.mentoring] verification = "staff"``, the default): a
member who offers mentoring sends a document, or says they will e-mail it; until a
coordinator approves them in the console (/admin/verification) they are not in the directory
and can neither receive nor accept requests. Each decision mails the member, deletes the
document and writes one audit row."""

from __future__ import annotations

import html
import io
import re
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select, update

from core.db import utcnow
from core.models import AuditEntry, OutboxMail, User
from core.services.mail import DELIVER_JOB_ID
from core.testing import body_of, count_rows, race, run_job, stored
from plugins.mentoring.models import REQUESTED, Mentorship, MentorVerification
from plugins.mentoring.services import verification

QUEUE = "/admin/verification"


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def jpeg_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (30, 30, 200)).save(out, "JPEG")
    return out.getvalue()


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture
def newcomer(create_user):
    """A member who just ticked "I would like to mentor others": not verified yet."""
    return create_user(
        display_name="Vera Newcomer",
        email="vera@example.org",
        wants_to_mentor=True,
        verified_mentor=False,
    )


@pytest.fixture
def coordinator(create_user):
    return create_user(display_name="Coco Ordinator", email="coco@example.org", role="coordinator")


def send(client, user, data: bytes | None = None, name: str = "passport.png", **fields):
    """``user`` sends ``data`` as their document from their Mentoring area; the page after."""
    client.login(user)
    form = dict(fields)
    if data is not None:
        form["document"] = (io.BytesIO(data), name)
    return client.post(
        "/mentoring/verification",
        data=form,
        content_type="multipart/form-data",
        follow_redirects=True,
    )


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def check_of(app, user) -> MentorVerification | None:
    return stored(app, select(MentorVerification).where(MentorVerification.user_id == user.id))


def stored_files(app) -> list[Path]:
    folder = Path(app.instance_path) / "mentoring" / "verification"
    return sorted(folder.iterdir()) if folder.is_dir() else []


def listed(app, viewer) -> list[str]:
    browsing = app.test_client()
    browsing.login(viewer)
    page = browsing.get("/mentoring/mentors").text
    return [html.unescape(name) for name in re.findall(r'class="stretched-link">([^<]*)</a>', page)]


def decide(app, staff, member, act: str, **form):
    client = app.test_client()
    client.login(staff)
    return client.post(f"{QUEUE}/{member.id}/{act}", data=form, follow_redirects=True)


# ---- the member's side ----------------------------------------------------------------------


def test_a_new_mentor_is_neither_listed_nor_asked_and_their_area_says_why(
    app, client, db, newcomer, mentor, mentee
):
    assert listed(app, mentee) == ["Max Mentor"]  # a verified mentor (the fixtures' kind)

    asking = app.test_client()
    asking.login(mentee)
    refused = asking.post(
        f"/mentoring/request/{newcomer.id}", data={"message": "Please mentor me."}
    )
    assert refused.status_code == 400
    assert "Vera Newcomer is not taking new mentees now." in text(refused)
    assert stored(app, select(Mentorship.id).where(Mentorship.mentor_id == newcomer.id)) is None

    client.login(newcomer)
    # My data, where they ticked the box, sends them to it
    my_data = text(client.get("/me/data"))
    assert "Members find you once a coordinator has verified your identity." in my_data
    assert f'href="/members/{newcomer.id}/mentoring#mentor-verification"' in my_data
    area = text(client.get(f"/members/{newcomer.id}/mentoring"))
    assert "Verify your identity to mentor" in area
    assert 'name="document"' in area and 'enctype="multipart/form-data"' in area
    # the programme takes no document by e-mail unless it names an address for them
    assert 'name="by_mail"' not in area
    # others see nothing of it, not even the mentor's "take a request" button
    assert "Verify your identity" not in text(asking.get(f"/members/{newcomer.id}/mentoring"))
    # nor a "Mentor" badge beside their name before the check
    assert ">Mentor</span>" not in asking.get(f"/members/{newcomer.id}").text


def test_a_document_is_stored_outside_static_and_the_area_says_what_comes_next(
    app, client, db, newcomer
):
    page = text(send(client, newcomer, png_bytes()))

    assert "a coordinator checks your document" in page
    assert "Your identity is being checked" in page
    assert "members cannot find you in the directory nor send you requests" in page
    check = check_of(app, newcomer)
    assert (check.state, check.document_type, check.by_mail) == ("pending", "image/png", False)
    [file] = stored_files(app)
    assert file.name == check.document_name and file.read_bytes() == png_bytes()
    assert file.stat().st_mode & 0o777 == 0o600  # for alma's own user only
    assert Path(app.instance_path) in file.parents
    assert Path(app.static_folder) not in file.parents
    # the document's own name (which the member chose) is not kept
    assert "passport" not in check.document_name


@pytest.mark.parametrize(
    ("data", "name", "mime"),
    [(PDF, "id.pdf", "application/pdf"), (jpeg_bytes(), "id.jpeg", "image/jpeg")],
)
def test_pdf_and_jpeg_documents_are_taken(app, client, db, newcomer, data, name, mime):
    send(client, newcomer, data, name)

    assert check_of(app, newcomer).document_type == mime


def test_the_type_is_read_from_the_content_not_the_name(app, client, db, newcomer):
    refused = text(send(client, newcomer, b"just some text, not an image at all", "id.png"))

    assert "Upload a PDF, a JPEG or a PNG file: this file is none of them." in refused
    assert check_of(app, newcomer) is None and stored_files(app) == []
    # a real PNG under a misleading name is a PNG
    send(client, newcomer, png_bytes(), "scan.txt")
    assert check_of(app, newcomer).document_type == "image/png"


def test_a_document_over_5_mb_is_refused_with_a_clear_message(app, client, db, newcomer):
    too_big = PDF + b"0" * (verification.MAX_DOCUMENT_BYTES + 1 - len(PDF))

    response = send(client, newcomer, too_big, "id.pdf")

    assert response.status_code == 200
    assert "The document may be at most 5 MB" in text(response)
    assert check_of(app, newcomer) is None and stored_files(app) == []
    # exactly 5 MB is fine (the site's smaller limit for photos does not apply here)
    send(client, newcomer, too_big[:-1], "id.pdf")
    assert check_of(app, newcomer).document_type == "application/pdf"


def test_sending_nothing_or_as_a_non_mentor_changes_nothing(
    app, client, db, newcomer, mentee, mentor
):
    assert "Choose your document" in text(send(client, newcomer))
    assert check_of(app, newcomer) is None

    refused = text(send(app.test_client(), mentee, png_bytes()))
    assert "Tick “I would like to mentor others”" in refused
    assert check_of(app, mentee) is None and stored_files(app) == []

    refused = text(send(app.test_client(), mentor, png_bytes()))
    assert "Your identity is verified already." in refused
    assert check_of(app, mentor).state == "verified" and stored_files(app) == []

    anonymous = app.test_client().post("/mentoring/verification", data={})
    assert anonymous.status_code == 302 and anonymous.location.startswith("/login")


def test_sending_again_replaces_the_first_document(app, client, db, newcomer):
    send(client, newcomer, png_bytes())
    [first] = stored_files(app)

    send(client, newcomer, PDF, "id.pdf")

    [second] = stored_files(app)
    assert first != second and not first.exists()
    assert check_of(app, newcomer).document_type == "application/pdf"


@pytest.fixture
def by_mail_app(make_app):
    return make_app(PLUGIN_SETTINGS={"mentoring": {"verification_address": "checks@example.org"}})


def test_a_mentor_may_say_they_will_send_it_by_email(by_mail_app, db, create_user):
    app = by_mail_app  # on the same database as the test's own app (db, create_user)
    client = app.test_client()
    vera = create_user(email="vera@example.org", wants_to_mentor=True, verified_mentor=False)
    coordinator = create_user(role="coordinator")
    client.login(vera)
    assert "send the document to checks@example.org" in text(
        client.get(f"/members/{vera.id}/mentoring")
    )

    page = text(send(client, vera, None, by_mail="y"))

    assert "send it to checks@example.org" in page
    check = check_of(app, vera)
    assert (check.state, check.by_mail, check.document_name) == ("pending", True, None)
    staff = app.test_client()
    staff.login(coordinator)
    assert "They will send their document by e-mail to checks@example.org" in text(staff.get(QUEUE))


def test_without_an_address_no_promise_by_email_is_taken(app, client, db, newcomer):
    assert "takes none by e-mail" in text(send(client, newcomer, None, by_mail="y"))
    assert check_of(app, newcomer) is None


# ---- who may read a document ----------------------------------------------------------------


def test_only_staff_read_a_document_and_it_is_shown_inline_never_cached(
    app, client, db, newcomer, coordinator, create_user
):
    send(client, newcomer, png_bytes())
    url = f"{QUEUE}/{newcomer.id}/document"

    anonymous = app.test_client().get(url)
    assert anonymous.status_code == 302 and anonymous.location.startswith("/login")
    member = app.test_client()
    member.login(create_user())
    assert member.get(url).status_code == 403
    owner = app.test_client()
    owner.login(newcomer)  # their own document, but this is the staff's door
    assert owner.get(url).status_code == 403

    staff = app.test_client()
    staff.login(coordinator)
    response = staff.get(url)
    assert response.status_code == 200
    assert response.data == png_bytes()
    assert response.mimetype == "image/png"
    assert response.headers["Content-Disposition"] == "inline"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'self'" in response.headers["Content-Security-Policy"]
    # the queue shows it inline
    assert '<img class="verification-document' in staff.get(QUEUE).text
    assert f'src="{url}"' in staff.get(QUEUE).text


def test_a_pdf_is_shown_in_a_frame_of_the_queue(app, client, db, newcomer, coordinator):
    send(client, newcomer, PDF, "id.pdf")
    staff = app.test_client()
    staff.login(coordinator)

    page = staff.get(QUEUE).text

    assert re.search(rf'<iframe[^>]*src="{QUEUE}/{newcomer.id}/document"', page)
    assert staff.get(f"{QUEUE}/{newcomer.id}/document").mimetype == "application/pdf"


def test_every_page_and_act_of_the_section_is_refused_to_visitors_and_members(
    app, client, db, newcomer, coordinator, create_user
):
    send(client, newcomer, png_bytes())
    rules = sorted(rule.rule for rule in app.url_map.iter_rules() if rule.rule.startswith(QUEUE))
    assert rules == [
        QUEUE,
        f"{QUEUE}/<int:user_id>/approve",
        f"{QUEUE}/<int:user_id>/document",
        f"{QUEUE}/<int:user_id>/reject",
    ]
    pages = [QUEUE, f"{QUEUE}/{newcomer.id}/document"]
    acts = [f"{QUEUE}/{newcomer.id}/approve", f"{QUEUE}/{newcomer.id}/reject"]
    form = {"reason": "looks fine", "message": "blurred"}

    visitor = app.test_client()
    for url in pages:
        assert visitor.get(url).location.startswith("/login"), url
    for url in acts:
        assert visitor.post(url, data=form).location.startswith("/login"), url
    member = app.test_client()
    member.login(create_user())
    assert {url: member.get(url).status_code for url in pages} == dict.fromkeys(pages, 403)
    assert {url: member.post(url, data=form).status_code for url in acts} == dict.fromkeys(
        acts, 403
    )
    assert check_of(app, newcomer).state == "pending"  # no refused act changed anything
    assert count_rows(app, AuditEntry) == 0

    for role in ("coordinator", "admin"):
        staff = app.test_client()
        staff.login(create_user(role=role))
        assert {url: staff.get(url).status_code for url in pages} == dict.fromkeys(pages, 200)


# ---- the staff's side -----------------------------------------------------------------------


def test_the_console_counts_and_lists_the_queue_oldest_first(
    app, db, coordinator, create_user, time_machine
):
    time_machine.move_to("2027-01-10 09:00Z", tick=False)
    names = ["Zoe Later", "Abe Earlier"]
    members = [
        create_user(display_name=name, wants_to_mentor=True, verified_mentor=False)
        for name in names
    ]
    send(app.test_client(), members[1], png_bytes())
    time_machine.move_to("2027-01-11 09:00Z", tick=False)
    send(app.test_client(), members[0], PDF, "id.pdf")
    staff = app.test_client()
    staff.login(coordinator)

    console = staff.get("/admin/").text
    assert 'href="/admin/verification"' in console
    assert re.search(r'data-section-count="mentoring_verification.queue">2<', console)
    queue = text(staff.get(QUEUE))
    assert queue.index("Abe Earlier") < queue.index("Zoe Later")
    figures = staff.get("/admin/statistics").text
    waiting = figures[figures.index('data-statistic="mentoring.mentors_to_verify"') :]
    assert waiting[waiting.index('data-value="') :].startswith('data-value="2"')


def test_a_deactivated_member_leaves_the_queue_until_they_come_back(
    app, db, coordinator, create_user
):
    staying = create_user(display_name="Stay Here", wants_to_mentor=True, verified_mentor=False)
    leaving = create_user(display_name="Gone Away", wants_to_mentor=True, verified_mentor=False)
    for member in (staying, leaving):
        send(app.test_client(), member, png_bytes())
    db.session.execute(update(User).where(User.id == leaving.id).values(deactivated_at=utcnow()))
    db.session.commit()
    staff = app.test_client()
    staff.login(coordinator)

    queue = text(staff.get(QUEUE))
    assert "Stay Here" in queue and "Gone Away" not in queue
    console = staff.get("/admin/").text
    assert re.search(r'data-section-count="mentoring_verification.queue">1<', console)
    figures = staff.get("/admin/statistics").text
    waiting = figures[figures.index('data-statistic="mentoring.mentors_to_verify"') :]
    assert waiting[waiting.index('data-value="') :].startswith('data-value="1"')

    db.session.execute(update(User).where(User.id == leaving.id).values(deactivated_at=None))
    db.session.commit()
    assert "Gone Away" in text(staff.get(QUEUE))
    console = staff.get("/admin/").text
    assert re.search(r'data-section-count="mentoring_verification.queue">2<', console)


def test_an_empty_queue_says_so(app, client, db, coordinator):
    client.login(coordinator)
    page = client.get(QUEUE).text
    assert "No mentor waits for a check." in page
    assert 'data-section-count="mentoring_verification.queue"' not in client.get("/admin/").text


def test_approving_lists_the_mentor_mails_them_deletes_the_document_and_logs_it(
    app, client, db, newcomer, coordinator, mentee, smtp_server
):
    send(client, newcomer, png_bytes())
    [document] = stored_files(app)
    run_job(app, DELIVER_JOB_ID)
    smtp_server.clear()

    page = text(decide(app, coordinator, newcomer, "approve", reason="Passport matches"))

    assert "The mentor is verified" in page
    assert "No mentor waits for a check." in page
    assert not document.exists()
    check = check_of(app, newcomer)
    assert (check.state, check.decided_by_id, check.document_name) == (
        "verified",
        coordinator.id,
        None,
    )
    assert listed(app, mentee) == ["Vera Newcomer"]
    client.login(mentee)
    assert (
        '<span class="badge text-bg-success">Mentor</span>'
        in client.get(f"/members/{newcomer.id}").text
    )
    client.login(newcomer)
    assert 'id="verify-first"' not in client.get("/me/data").text
    entries = stored(app, select(AuditEntry.act + "|" + AuditEntry.reason))
    assert entries == "mentoring.mentor_verified|Passport matches"
    assert count_rows(app, AuditEntry, AuditEntry.target_id == newcomer.id) == 1
    assert list(smtp_server.messages) == []  # queued, sent by the job
    run_job(app, DELIVER_JOB_ID)
    [message] = smtp_server.messages
    assert message["To"] == "vera@example.org"
    assert message["Subject"] == "You are a verified mentor"
    assert "listed in the mentor directory now" in body_of(message)
    assert "http://alma.test/mentoring/mentors" in body_of(message)
    # and their area no longer asks for anything
    client.login(newcomer)
    assert 'id="mentor-verification"' not in client.get(f"/members/{newcomer.id}/mentoring").text


def test_a_verified_mentor_can_be_asked_and_accepts(
    app, client, db, newcomer, coordinator, mentee, pairs
):
    send(client, newcomer, PDF, "id.pdf")
    decide(app, coordinator, newcomer, "approve", reason="ID card checked")

    mentorship_id = pairs.accept(mentee, newcomer)

    assert stored(app, select(Mentorship.state).where(Mentorship.id == mentorship_id)) == (
        "accepted"
    )


def test_rejecting_needs_a_message_which_the_member_reads(
    app, client, db, newcomer, coordinator, mentee, smtp_server
):
    send(client, newcomer, jpeg_bytes(), "id.jpg")
    [document] = stored_files(app)

    refused = text(decide(app, coordinator, newcomer, "reject", message="  "))
    assert "Tell the member why" in refused
    assert check_of(app, newcomer).state == "pending" and document.exists()

    decide(app, coordinator, newcomer, "reject", message="The photo is too blurred to read.")

    check = check_of(app, newcomer)
    assert (check.state, check.message) == ("rejected", "The photo is too blurred to read.")
    assert not document.exists()
    assert listed(app, mentee) == []
    assert stored(app, select(AuditEntry.act)) == "mentoring.mentor_rejected"
    run_job(app, DELIVER_JOB_ID)
    [message] = smtp_server.messages
    assert message["To"] == "vera@example.org"
    assert "The photo is too blurred to read." in body_of(message)
    assert f"http://alma.test/members/{newcomer.id}/mentoring" in body_of(message)
    # their area says why, and they may send another document
    client.login(newcomer)
    area = text(client.get(f"/members/{newcomer.id}/mentoring"))
    assert "could not verify the document you sent" in area
    assert "The photo is too blurred to read." in area
    send(client, newcomer, png_bytes())
    assert check_of(app, newcomer).state == "pending"
    assert check_of(app, newcomer).message == ""


def test_a_decision_on_a_decided_check_changes_nothing(app, client, db, newcomer, coordinator):
    send(client, newcomer, png_bytes())
    decide(app, coordinator, newcomer, "approve", reason="fine")

    page = text(decide(app, coordinator, newcomer, "reject", message="wait, no"))

    assert "Another coordinator decided on this member already." in page
    assert check_of(app, newcomer).state == "verified"
    assert count_rows(app, AuditEntry) == 1
    assert count_rows(app, OutboxMail, OutboxMail.to_address == "vera@example.org") == 1


def test_a_coordinator_cannot_decide_on_their_own_check(app, client, db, create_user):
    coco = create_user(role="coordinator", wants_to_mentor=True, verified_mentor=False)
    send(client, coco, png_bytes())
    queue = text(client.get(QUEUE))  # their check is listed, with no buttons to decide
    assert "This is your own check: another coordinator decides on it." in queue
    assert f'action="{QUEUE}/{coco.id}/approve"' not in queue

    for act, form in (("approve", {"reason": "It is me"}), ("reject", {"message": "No"})):
        refused = client.post(f"{QUEUE}/{coco.id}/{act}", data=form)
        assert refused.status_code == 403
        assert "Staff cannot decide on their own identity check." in text(refused)
    assert check_of(app, coco).state == "pending"
    assert count_rows(app, AuditEntry) == 0
    assert len(stored_files(app)) == 1


def test_two_coordinators_deciding_at_once_send_one_mail(app, db, newcomer, create_user):
    send(app.test_client(), newcomer, png_bytes())
    coco, dora = create_user(role="coordinator"), create_user(role="coordinator")
    ids = (coco.id, dora.id, newcomer.id)

    def approve_as(staff_id):
        from core.db import db as database
        from core.models import User

        return lambda: verification.approve(
            database.session.get(User, staff_id), ids[2], "both looked"
        )

    outcomes = race(app, approve_as(ids[0]), approve_as(ids[1]))

    assert sorted(kind for kind, _ in outcomes) == ["error", "ok"]
    [error] = [value for kind, value in outcomes if kind == "error"]
    assert "decided on this member already" in str(error)
    assert count_rows(app, OutboxMail, OutboxMail.to_address == "vera@example.org") == 1
    assert count_rows(app, AuditEntry) == 1
    assert stored_files(app) == []


def test_an_unverified_mentor_cannot_accept_a_request_waiting_for_them(
    app, client, db, pairs, mentee, mentor
):
    waiting = pairs.request(mentee, mentor)
    db.session.execute(  # a coordinator took the verification back (as the console may)
        update(MentorVerification)
        .where(MentorVerification.user_id == mentor.id)
        .values(state="rejected", message="expired passport")
    )
    db.session.commit()
    client.login(mentor)

    page = text(client.post(f"/mentoring/{waiting}/accept", follow_redirects=True))

    assert "Your identity is not verified yet" in page
    assert stored(app, select(Mentorship.state).where(Mentorship.id == waiting)) == REQUESTED
    assert listed(app, mentee) == []


def test_the_check_is_a_fact_on_the_members_console_page_for_staff_only(
    app, client, db, newcomer, coordinator, mentor, mentee
):
    staff = app.test_client()
    staff.login(coordinator)
    assert "Mentor: no identity document sent" in text(staff.get(f"/admin/members/{newcomer.id}"))
    send(client, newcomer, png_bytes())
    assert "Mentor: identity to verify" in text(staff.get(f"/admin/members/{newcomer.id}"))
    assert "Mentor: identity verified" in text(staff.get(f"/admin/members/{mentor.id}"))
    assert "Mentor:" not in text(staff.get(f"/admin/members/{mentee.id}"))
    # members see none of it on the profile
    client.login(mentee)
    assert "identity" not in text(client.get(f"/members/{newcomer.id}")).lower()


# ---- verification = "none" ------------------------------------------------------------------


@pytest.fixture
def unchecked_app(make_app):
    return make_app(PLUGIN_SETTINGS={"mentoring": {"verification": "none"}})


def test_without_checks_a_new_mentor_is_listed_at_once_as_before(unchecked_app, db, create_user):
    app = unchecked_app  # on the same database as the test's own app (db, create_user)
    vera = create_user(display_name="Vera Newcomer", wants_to_mentor=True, verified_mentor=False)
    mia = create_user(display_name="Mia Mentee")
    coordinator = create_user(role="coordinator")

    assert listed(app, mia) == ["Vera Newcomer"]
    client = app.test_client()
    client.login(vera)
    assert 'id="mentor-verification"' not in client.get(f"/members/{vera.id}/mentoring").text
    assert "need no identity check" in text(send(client, vera, png_bytes()))
    assert stored_files(app) == []
    staff = app.test_client()
    staff.login(coordinator)
    assert "does not check mentors' identity" in text(staff.get(QUEUE))
    assert "Mentor:" not in text(staff.get(f"/admin/members/{vera.id}"))
    # and she takes requests
    asking = app.test_client()
    asking.login(mia)
    asking.post(f"/mentoring/request/{vera.id}", data={"message": "Please mentor me."})
    client.post(f"/mentoring/{stored(app, select(Mentorship.id))}/accept", follow_redirects=True)
    assert stored(app, select(Mentorship.state)) == "accepted"


def test_the_setting_takes_none_or_staff_only(make_app):
    from core.api import ConfigError

    with pytest.raises(ConfigError, match="must be one of none, staff"):
        make_app(PLUGIN_SETTINGS={"mentoring": {"verification": "maybe"}})


def test_the_upload_form_carries_its_csrf_token_and_takes_5_mb_with_it(make_app, db, newcomer):
    """The CSRF check reads the posted form before the view runs: a 5 MB document must get
    past it (the site's general limit is a photo's size), and a post without the token not."""
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    client.login(newcomer)
    area = client.get(f"/members/{newcomer.id}/mentoring").get_data(as_text=True)
    form = area.split('id="mentor-verification"', 1)[1].split("</form>", 1)[0]
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form).group(1)
    document = PDF + b"0" * (verification.MAX_DOCUMENT_BYTES - len(PDF))

    def post(**fields):
        fields["document"] = (io.BytesIO(document), "id.pdf")
        return client.post(
            "/mentoring/verification", data=fields, content_type="multipart/form-data"
        )

    assert post().status_code == 400
    assert check_of(app, newcomer) is None and stored_files(app) == []
    assert post(csrf_token=token).status_code == 302
    assert check_of(app, newcomer).document_type == "application/pdf"


def test_the_members_data_export_says_where_their_check_stands(
    app, client, db, newcomer, coordinator, mentee
):
    from plugins.mentoring.export import mentoring_part

    assert mentoring_part(mentee) is None  # nothing of mentoring to tell
    send(client, newcomer, png_bytes())
    decide(app, coordinator, newcomer, "reject", message="Please send the back side too.")
    db.session.expire_all()

    part = mentoring_part(newcomer)

    assert part.data["mentorships"] == []
    check = part.data["identity_check"]
    assert (check["state"], check["document_kept"], check["message"]) == (
        "rejected",
        False,
        "Please send the back side too.",
    )
