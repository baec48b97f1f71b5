"""Site alerts: created by notify(), counted in the navigation bar, listed a page at a time,
opened and marked read, optionally sent by e-mail, and only ever seen by their member."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from core.models import Notification, OutboxMail
from core.services.notifications import PAGE_SIZE, notify
from core.testing import body_of


def unread_badge(page: str) -> int | None:
    """The unread count in the navigation bar, or None when the badge is hidden."""
    match = re.search(
        r'<span id="alert-count" class="([^"]*)" data-count="(\d+)">(\d+)</span>', page
    )
    assert match, "no alert counter in the navigation bar"
    classes, count, shown = match.groups()
    assert count == shown
    return None if "d-none" in classes.split() else int(count)


def open_buttons(page: str) -> list[str]:
    return re.findall(r'action="(/alerts/\d+/open)"', page)


def alert_id_of(message: str, db) -> int:
    return db.session.scalar(select(Notification.id).where(Notification.message == message))


def reread(db) -> None:
    """End the test's own transaction, so it sees what the requests committed."""
    db.session.commit()


def test_no_alerts_shows_an_empty_state(client, create_user):
    client.login(create_user())

    page = client.get("/alerts/").text

    assert "No alerts yet." in page
    assert "When something needs your attention" in page
    assert unread_badge(page) is None
    assert "Mark all as read" not in page
    assert open_buttons(page) == []


def test_an_alert_shows_on_the_alerts_page_and_in_the_navigation_bar(client, db, create_user):
    member = create_user()
    notify(member, "Grace sent you a mentorship request.", url="/members/1")
    notify(member, "Your agreement was approved.")
    db.session.commit()
    client.login(member)

    page = client.get("/alerts/").text

    assert "Grace sent you a mentorship request." in page
    assert "Your agreement was approved." in page
    assert page.index("Your agreement was approved.") < page.index("Grace sent you")  # newest first
    assert unread_badge(page) == 2
    assert "Mark all as read" in page
    assert len(open_buttons(page)) == 2
    # the count shows on every page, and the latest alerts on my overview
    assert unread_badge(client.get("/").text) == 2
    overview = client.get("/me", follow_redirects=True).text
    assert "Grace sent you a mentorship request." in overview
    assert "No alerts yet." not in overview


def test_alert_messages_are_shown_as_text_not_html(client, db, create_user):
    member = create_user()
    notify(member, '<script>alert("x")</script> replied')
    db.session.commit()
    client.login(member)

    page = client.get("/alerts/").text

    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; replied" in page
    assert '<script>alert("x")' not in page


def test_alerts_are_private_to_their_member(client, db, create_user):
    owner, other = create_user(display_name="Ada"), create_user(display_name="Grace")
    notify(owner, "Only for Ada.")
    db.session.commit()
    client.login(other)

    page = client.get("/alerts/").text
    overview = client.get(f"/members/{owner.id}").text

    assert "Only for Ada." not in page
    assert "No alerts yet." in page
    assert unread_badge(page) is None
    assert "Only for Ada." not in overview


def test_an_alert_with_a_subject_is_also_sent_by_email(client, db, mail, create_user):
    member = create_user(email="ada@example.org", display_name="Ada")
    notify(
        member,
        "Grace sent you a mentorship request.",
        url="/members/7",
        email_subject="New mentorship request",
    )
    db.session.commit()

    [message] = mail.deliver()

    assert message["To"] == "ada@example.org"
    assert message["Subject"] == "New mentorship request"
    body = body_of(message)
    assert "Hello Ada," in body
    assert "Grace sent you a mentorship request." in body
    assert "http://alma.test/members/7" in body
    client.login(member)
    assert "Grace sent you a mentorship request." in client.get("/alerts/").text
    assert mail.deliver() == []  # sent once


def test_an_alert_without_a_subject_sends_no_email(db, mail, create_user):
    notify(create_user(), "Just on the site.")
    db.session.commit()

    assert mail.deliver() == []


def test_a_rollback_after_notify_leaves_no_alert_and_no_mail(client, db, mail, create_user):
    member = create_user()
    notify(member, "This never happened.", email_subject="Never")
    db.session.rollback()
    db.session.commit()  # the next unit of work commits nothing left from the first

    assert db.session.scalar(select(func.count()).select_from(Notification)) == 0
    assert db.session.scalar(select(func.count()).select_from(OutboxMail)) == 0
    assert mail.deliver() == []
    client.login(member)
    page = client.get("/alerts/").text
    assert "This never happened." not in page
    assert "No alerts yet." in page
    assert unread_badge(page) is None


def test_mark_all_as_read_clears_the_count(client, db, create_user):
    member, other = create_user(), create_user()
    for n in range(3):
        notify(member, f"Alert {n}")
    notify(other, "Not mine.")
    db.session.commit()
    client.login(member)
    assert 'action="/alerts/read"' in client.get("/alerts/").text

    page = client.post("/alerts/read", follow_redirects=True)

    assert page.request.path == "/alerts/"
    assert unread_badge(page.text) is None
    assert "Mark all as read" not in page.text
    assert "Alert 2" in page.text  # read alerts stay listed
    assert "alert-unread" not in page.text
    reread(db)
    unread = db.session.scalars(
        select(Notification.message).where(Notification.read_at.is_(None))
    ).all()
    assert unread == ["Not mine."]


def test_opening_an_alert_marks_it_read_and_follows_its_link(client, db, create_user):
    member = create_user()
    notify(member, "Grace accepted your request.", url="/members/42?tab=1")
    notify(member, "Something else.")
    db.session.commit()
    client.login(member)
    alert_id = alert_id_of("Grace accepted your request.", db)
    page = client.get("/alerts/").text
    assert f"/alerts/{alert_id}/open" in open_buttons(page)

    response = client.post(f"/alerts/{alert_id}/open")

    assert response.status_code == 302
    assert response.headers["Location"] == "/members/42?tab=1"
    assert unread_badge(client.get("/alerts/").text) == 1
    reread(db)
    assert db.session.get(Notification, alert_id).read_at is not None
    assert db.session.get(Notification, alert_id_of("Something else.", db)).read_at is None


def test_an_alert_without_a_link_is_marked_read_in_place(client, db, create_user):
    member = create_user()
    notify(member, "Welcome to alma.")
    db.session.commit()
    client.login(member)
    page = client.get("/alerts/").text
    assert "Mark read" in page

    response = client.post(open_buttons(page)[0], follow_redirects=True)

    assert response.request.path == "/alerts/"
    assert unread_badge(response.text) is None
    assert open_buttons(response.text) == []  # nothing left to open or mark


def test_an_alert_never_redirects_off_site(client, db, create_user):
    member = create_user()
    urls = [
        "//evil.example",
        "//evil.example/members/1",
        "https://evil.example/",
        "/\\evil.example",
        "/\t/evil.example",  # browsers drop the tab: "//evil.example"
        "javascript:alert(1)",
    ]
    for url in urls:
        notify(member, f"Go to {url}", url=url)
    db.session.commit()
    client.login(member)

    for url in urls:
        response = client.post(f"/alerts/{alert_id_of(f'Go to {url}', db)}/open")
        assert response.status_code == 302
        assert response.headers["Location"] == "/alerts/", url

    assert unread_badge(client.get("/alerts/").text) is None


def test_another_member_cannot_open_my_alert(client, db, create_user):
    owner, other = create_user(), create_user()
    notify(owner, "Private.", url="/members/1")
    db.session.commit()
    alert_id = alert_id_of("Private.", db)
    client.login(other)

    response = client.post(f"/alerts/{alert_id}/open")

    assert response.status_code == 403
    assert "/members/1" not in response.headers.get("Location", "")
    reread(db)
    assert db.session.get(Notification, alert_id).read_at is None
    assert client.post("/alerts/99999/open").status_code == 404


def test_alert_pages_need_a_login(client, db, create_user):
    member = create_user()
    notify(member, "Hidden.")
    db.session.commit()
    alert_id = alert_id_of("Hidden.", db)

    for method, path in (
        ("get", "/alerts/"),
        ("post", "/alerts/read"),
        ("post", f"/alerts/{alert_id}/open"),
    ):
        response = getattr(client, method)(path)
        assert response.status_code == 302, path
        assert "/login" in response.headers["Location"]
    reread(db)
    assert db.session.get(Notification, alert_id).read_at is None


def test_alerts_come_a_page_at_a_time(client, db, create_user):
    member = create_user()
    total = 2 * PAGE_SIZE + 5
    for n in range(1, total + 1):
        notify(member, f"Alert number {n:03d}.")
    db.session.commit()
    client.login(member)

    def numbers_on(page: str) -> list[int]:
        return [int(n) for n in re.findall(r"Alert number (\d{3})\.", page)]

    first = client.get("/alerts/").text
    second = client.get("/alerts/?page=2").text
    last = client.get("/alerts/?page=3").text

    assert numbers_on(first) == list(range(total, total - PAGE_SIZE, -1))
    assert numbers_on(second) == list(range(total - PAGE_SIZE, 5, -1))
    assert numbers_on(last) == [5, 4, 3, 2, 1]
    assert 'href="/alerts/?page=2">Older' in first
    assert ">Newer<" not in first
    assert 'href="/alerts/?page=1">Newer' in second
    assert 'href="/alerts/?page=3">Older' in second
    assert 'href="/alerts/?page=2">Newer' in last
    assert ">Older<" not in last
    assert unread_badge(first) == total
    # a nonsense page number is the first page
    for bad in ("0", "-1", "abc"):
        assert numbers_on(client.get(f"/alerts/?page={bad}").text) == numbers_on(first)


def test_exactly_one_page_has_no_older_link(client, db, create_user):
    member = create_user()
    for n in range(PAGE_SIZE):
        notify(member, f"Alert {n}.")
    db.session.commit()
    client.login(member)

    page = client.get("/alerts/").text

    assert len(open_buttons(page)) == PAGE_SIZE
    assert ">Older<" not in page
    assert ">Newer<" not in page


def test_a_long_alert_is_cut_to_a_line_while_its_mail_keeps_it_all(app, db, create_user, mail):
    member = create_user()
    long_text = "A very long message. " * 50

    notify(member, long_text, email_subject="Long")
    db.session.commit()

    stored_message = db.session.scalar(select(Notification.message))
    assert len(stored_message) == 500 and stored_message.endswith("…")
    [received] = mail.deliver()
    assert long_text.strip() in " ".join(body_of(received).split())
