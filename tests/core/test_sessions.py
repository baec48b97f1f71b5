"""Sessions and login safety as a member meets them: logging out ends the session on the
server, the list of where one is logged in, private pages kept out of caches, wrong passwords
that slow down only their sender, and the login link sent by mail (through the SMTP sink)."""

import re
import time
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import pytest
from sqlalchemy import select, update

from core.db import utcnow
from core.models import LoginFailure, LoginSession
from core.testing import TEST_PASSWORD, body_of, path_of

CHROME_ON_LINUX = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/131.0.0.0 Safari/537.36"
)
FIREFOX_ON_ANDROID = "Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0"
LINK = re.compile(r"http://alma\.test/\S+")


def log_in(client, email="ada@example.org", password=TEST_PASSWORD, remember=False):
    data = {"email": email, "password": password} | ({"remember": "y"} if remember else {})
    return client.post("/login", data=data)


def text_of(response) -> str:
    return response.get_data(as_text=True)


def is_logged_in(client) -> bool:
    return client.get("/account").status_code == 200


def browser(app, user_agent=CHROME_ON_LINUX, address="203.0.113.7"):
    """A test client that sends the headers of a browser on one device and network."""
    client = app.test_client()
    client.environ_base.update(HTTP_USER_AGENT=user_agent, REMOTE_ADDR=address)
    return client


def session_rows(db, user) -> list[LoginSession]:
    db.session.commit()  # see what the requests committed
    return list(db.session.scalars(select(LoginSession).where(LoginSession.user_id == user.id)))


def end_session_form(client, session_id):
    return client.post(f"/account/sessions/{session_id}/end", follow_redirects=True)


# ---- logging out ends the session on the server -------------------------------------------


@pytest.mark.parametrize("remember", [False, True])
def test_a_copied_cookie_no_longer_works_after_logout(app, db, create_user, remember):
    member = create_user(email="ada@example.org")
    owner = browser(app)
    assert log_in(owner, remember=remember).status_code == 302
    thief = browser(app, address="198.51.100.9")
    for cookie in ("session", "remember_token"):
        if owner.get_cookie(cookie):
            thief.set_cookie(cookie, owner.get_cookie(cookie).value)
    assert is_logged_in(thief)  # a copy works while the session lasts

    owner.post("/logout")

    assert not is_logged_in(owner)
    assert not is_logged_in(thief)
    thief.delete_cookie("session")  # nor does the copied "keep me logged in" cookie
    assert not is_logged_in(thief)
    assert session_rows(db, member) == []


def test_a_cookie_naming_another_members_session_logs_nobody_in(app, db, create_user):
    # a session cookie is signed, so this takes the site's key: it must still name its member
    ada, rui = create_user(), create_user()
    rui_browser = browser(app)
    rui_browser.login(rui)
    [rui_session] = session_rows(db, rui)
    forged = browser(app)
    forged.login(ada)
    with forged.session_transaction() as cookie:
        cookie["_user_id"] = f"{ada.id}:s{rui_session.id}"

    assert not is_logged_in(forged)
    assert is_logged_in(rui_browser)


def test_keep_me_logged_in_lasts_30_days(app, db, create_user):
    member = create_user(email="ada@example.org")
    client = browser(app)
    response = log_in(client, remember=True)

    [remember] = [h for h in response.headers.getlist("Set-Cookie") if "remember_token=" in h]
    expires = parsedate_to_datetime(re.search(r"Expires=([^;]+)", remember).group(1))
    assert timedelta(days=29) < expires - datetime.now(UTC) <= timedelta(days=30)

    # and the server ends the login after 30 days, whatever the browser keeps
    db.session.execute(
        update(LoginSession)
        .where(LoginSession.user_id == member.id)
        .values(created_at=utcnow() - timedelta(days=30, minutes=1))
    )
    db.session.commit()
    assert not is_logged_in(client)
    client.delete_cookie("session")
    assert not is_logged_in(client)


# ---- where you are logged in --------------------------------------------------------------


def test_the_account_page_lists_where_the_member_is_logged_in(app, create_user):
    create_user(email="ada@example.org")
    laptop, phone = browser(app), browser(app, FIREFOX_ON_ANDROID)
    log_in(laptop)
    log_in(phone)

    page = text_of(phone.get("/account"))

    assert "Where you are logged in" in page
    assert page.count('class="list-group-item') == 2
    phone_entry, laptop_entry = page.split('class="list-group-item')[1:]
    assert "Firefox on Android" in phone_entry and "This device" in phone_entry
    assert "Chrome on Linux" in laptop_entry and "This device" not in laptop_entry
    assert "Last seen" in laptop_entry
    assert "Log out everywhere else" in page


def test_logging_out_one_other_device(app, db, create_user):
    member = create_user(email="ada@example.org")
    laptop, phone = browser(app), browser(app, FIREFOX_ON_ANDROID)
    log_in(laptop, remember=True)
    log_in(phone)
    [laptop_session] = [row for row in session_rows(db, member) if "Chrome" in row.user_agent]

    page = text_of(end_session_form(phone, laptop_session.id))

    assert "That device is logged out." in page
    assert "Chrome on Linux" not in page
    assert is_logged_in(phone)
    assert not is_logged_in(laptop)
    laptop.delete_cookie("session")  # "keep me logged in" does not bring it back
    assert not is_logged_in(laptop)


def test_logging_out_this_device_from_the_list_is_logging_out(app, db, create_user):
    member = create_user(email="ada@example.org")
    laptop = browser(app)
    log_in(laptop)
    [here] = session_rows(db, member)

    page = text_of(end_session_form(laptop, here.id))

    assert "You are logged out." in page
    assert not is_logged_in(laptop)
    assert session_rows(db, member) == []


def test_another_members_session_cannot_be_ended(app, db, create_user):
    create_user(email="ada@example.org")
    grace = create_user(email="grace@example.org")
    ada, graces_laptop = browser(app), browser(app)
    log_in(ada)
    log_in(graces_laptop, "grace@example.org")
    [graces_session] = session_rows(db, grace)

    response = ada.post(f"/account/sessions/{graces_session.id}/end")

    assert response.status_code == 404
    assert is_logged_in(graces_laptop)
    assert is_logged_in(ada)


def test_last_seen_is_written_every_few_minutes_not_on_every_request(app, db, create_user):
    member = create_user(email="ada@example.org")
    client = browser(app)
    log_in(client)
    [row] = session_rows(db, member)
    logged_in_at = row.last_seen_at

    client.get("/account")
    assert session_rows(db, member)[0].last_seen_at == logged_in_at

    long_ago = utcnow() - timedelta(minutes=6)
    db.session.execute(update(LoginSession).values(last_seen_at=long_ago))
    db.session.commit()
    client.get("/account")
    [row] = session_rows(db, member)
    assert row.last_seen_at > long_ago + timedelta(minutes=5)


# ---- caches -------------------------------------------------------------------------------


def test_member_pages_are_not_stored_public_pages_and_files_keep_their_caching(app, create_user):
    create_user(email="ada@example.org")
    visitor, member = browser(app), browser(app)
    log_in(member)

    for path in ("/", "/account", "/me/data"):
        assert member.get(path).headers["Cache-Control"] == "no-store", path
    assert "no-store" not in visitor.get("/").headers.get("Cache-Control", "")
    assert "no-store" not in visitor.get("/login").headers.get("Cache-Control", "")
    static = member.get("/static/js/alma.js")
    assert static.status_code == 200
    assert "no-store" not in static.headers.get("Cache-Control", "")


# ---- wrong passwords slow down their sender only ------------------------------------------


def test_wrong_passwords_slow_down_their_address_and_never_lock_the_member_out(
    make_app, db, create_user
):
    create_user(email="ada@example.org")
    app = make_app(LOGIN_MAX_FAILURES=3)
    stranger = browser(app, address="198.51.100.9")
    for _ in range(3):
        assert "Wrong e-mail address" in text_of(log_in(stranger, password="guess guess"))

    refused = log_in(stranger)  # even the right password waits
    assert refused.status_code == 401
    assert "please try again in 30 seconds" in text_of(refused)

    ada = browser(app, address="203.0.113.7")  # Ada at home is not slowed down
    assert log_in(ada).status_code == 302

    # 31 seconds later the stranger may try again; one more failure doubles the wait
    for failure in db.session.scalars(select(LoginFailure)):
        failure.created_at -= timedelta(seconds=31)
    db.session.commit()
    assert "Wrong e-mail address" in text_of(log_in(stranger, password="guess again"))
    assert "please try again in 60 seconds" in text_of(log_in(stranger))


# ---- the login link -----------------------------------------------------------------------


def ask_for_login_link(client, mail, email="ada@example.org") -> str:
    page = text_of(client.post("/login/link", data={"email": email}, follow_redirects=True))
    assert f"If {email} belongs to an account, we sent it a link that logs you in." in page
    [message] = mail.deliver()
    assert message["To"] == email
    [link] = LINK.findall(body_of(message))
    return path_of(link)


def test_the_login_link_logs_the_member_in_once(make_app, mail, db, create_user):
    member = create_user(email="ada@example.org")
    app = make_app(LOGIN_MAX_FAILURES=3)
    ada = browser(app, address="198.51.100.9")
    for _ in range(3):  # a stranger on Ada's network guessed: the pair waits
        log_in(ada, password="guess guess")
    login_page = text_of(ada.get("/login"))
    assert "Send me a login link" in login_page

    link = ask_for_login_link(ada, mail)
    response = ada.get(link)

    assert response.status_code == 302 and response.location == "/me"
    assert is_logged_in(ada)
    assert len(session_rows(db, member)) == 1
    ada.post("/logout")
    used = ada.get(link, follow_redirects=True)
    assert "This link is invalid or has expired." in text_of(used)
    assert not is_logged_in(ada)
    assert log_in(ada).status_code == 302  # the link also lifted the wait


def test_a_login_link_is_spent_by_any_later_login(app, mail, create_user):
    create_user(email="ada@example.org")
    link = ask_for_login_link(browser(app), mail)
    log_in(browser(app))

    response = browser(app).get(link, follow_redirects=True)

    assert "This link is invalid or has expired." in text_of(response)


def test_an_expired_or_forged_login_link_is_refused(app, mail, create_user, monkeypatch):
    create_user(email="ada@example.org")
    link = ask_for_login_link(browser(app), mail)
    client = browser(app)
    assert client.get(link[:-3] + "xyz", follow_redirects=True).status_code == 200
    assert not is_logged_in(client)

    later = time.time() + 21 * 60
    monkeypatch.setattr("itsdangerous.timed.time.time", lambda: later)
    response = client.get(link, follow_redirects=True)

    assert "This link is invalid or has expired." in text_of(response)
    assert not is_logged_in(client)


def test_a_login_link_for_an_unknown_address_sends_nothing(app, mail):
    client = browser(app)
    assert "No password needed." in text_of(client.get("/login/link"))
    page = text_of(client.post("/login/link", data={"email": "nobody@example.org"}))
    assert mail.deliver() == []
    assert "nobody@example.org" not in page  # the same redirect as for a member
