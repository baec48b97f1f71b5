"""Accounts as a visitor meets them: register, confirm, log in and out, reset, change the
password and the e-mail address. Mails are read from the real SMTP sink; links in them are
followed like a member would."""

import re
import time
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import func, select
from werkzeug.security import check_password_hash

from core.models import LoginFailure, OutboxMail, User
from core.services.accounts import sessions_of
from core.testing import TEST_PASSWORD, body_of, path_of

NEW_PASSWORD = "a brand new passphrase"
LINK = re.compile(r"http://alma\.test/\S+")


# ---- helpers --------------------------------------------------------------------------------


def text_of(response) -> str:
    return response.get_data(as_text=True)


def still_clock():
    """A clock that does not move, for pages compared whole: each carries a CSRF token signed
    with the second it was made, which differs between pages made across a second's end."""
    return time_machine.travel(datetime.now(UTC), tick=False)


def link_in(message) -> str:
    """The site path of the one link in a received mail."""
    [link] = LINK.findall(body_of(message))
    return path_of(link)


def register(client, email="ada@example.org", password=TEST_PASSWORD, name="Ada Lovelace"):
    return client.post(
        "/register",
        data={"display_name": name, "email": email, "password": password},
        follow_redirects=True,
    )


def log_in(client, email, password=TEST_PASSWORD, remember=False, **query):
    data = {"email": email, "password": password} | ({"remember": "y"} if remember else {})
    return client.post("/login", data=data, query_string=query)


def is_logged_in(client) -> bool:
    response = client.get("/account")
    if response.status_code == 302:
        assert response.location.startswith("/login")
        return False
    assert response.status_code == 200
    return True


def users_with(db, email: str) -> list[User]:
    return list(db.session.scalars(select(User).where(User.email == email)))


def user_named(db, email: str) -> User:
    [user] = users_with(db, email)
    return user


def expired_copy(app, token: str, purpose: str) -> str:
    """The same link as if it had been mailed just over the allowed age ago."""
    max_age = app.config["EMAIL_TOKEN_MAX_AGE_HOURS"] * 3600

    class SignedLongAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - max_age - 60

    secret = app.config["SECRET_KEY"]
    payload = URLSafeTimedSerializer(secret, salt=purpose).loads(token)
    return URLSafeTimedSerializer(secret, salt=purpose, signer=SignedLongAgo).dumps(payload)


# ---- registration and confirmation ----------------------------------------------------------


def test_register_creates_an_unconfirmed_account_and_mails_a_link(client, mail, db):
    response = register(client, email="  Ada.Lovelace@Example.ORG ")
    assert response.status_code == 200
    assert "Check your inbox" in text_of(response)

    user = user_named(db, "ada.lovelace@example.org")  # normalised to lower case
    assert user.display_name == "Ada Lovelace"
    assert not user.email_confirmed
    assert check_password_hash(user.password_hash, TEST_PASSWORD)
    assert TEST_PASSWORD not in user.password_hash

    [message] = mail.deliver()
    assert message["To"] == "ada.lovelace@example.org"
    assert message["Subject"] == "Confirm your e-mail address"
    assert "Ada Lovelace" in body_of(message)
    assert link_in(message).startswith("/confirm/")

    # not confirmed yet: cannot log in, even with the right password
    elsewhere = client.application.test_client()
    response = log_in(elsewhere, "ada.lovelace@example.org")
    assert response.status_code == 401
    assert "Please confirm your e-mail address first" in text_of(response)
    assert not is_logged_in(elsewhere)


def test_following_the_confirmation_link_confirms_and_logs_in(client, mail, db):
    register(client)
    [message] = mail.deliver()

    response = client.get(link_in(message), follow_redirects=True)
    assert response.status_code == 200
    assert "Thank you, your e-mail address is confirmed." in text_of(response)
    assert is_logged_in(client)
    assert user_named(db, "ada@example.org").email_confirmed

    # and from now on the password works on any device
    other = client.application.test_client()
    assert log_in(other, "ADA@example.org").status_code == 302
    assert is_logged_in(other)


def test_a_confirmation_link_followed_in_another_browser_confirms_without_logging_in(
    client, mail, db
):
    # A stranger registers Ada's address with a password of their own choosing...
    register(client, password="the stranger's password")
    [message] = mail.deliver()

    # ...Ada follows the link she received: her address is confirmed, but the account's
    # password is not hers, so she is not let in with it
    ada = client.application.test_client()
    response = ada.get(link_in(message), follow_redirects=True)
    assert "Thank you, your e-mail address is confirmed." in text_of(response)
    assert "Log in" in text_of(response)
    assert not is_logged_in(ada)
    assert user_named(db, "ada@example.org").email_confirmed

    # she takes the account with a reset, which ends what the stranger knew
    ada.post("/reset", data={"email": "ada@example.org"}, follow_redirects=True)
    [reset] = mail.deliver()
    ada.post(link_in(reset), data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert is_logged_in(ada)
    stranger = client.application.test_client()
    assert log_in(stranger, "ada@example.org", "the stranger's password").status_code == 401


def test_a_bad_confirmation_link_is_refused_and_changes_nothing(client, mail, db, app):
    register(client)
    [message] = mail.deliver()
    token = link_in(message).removeprefix("/confirm/")
    payload, rest = token.split(".", 1)
    tampered = payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB") + "." + rest
    expired = expired_copy(app, token, "confirm")

    for bad in ("not-a-token", tampered, expired):
        response = client.get(f"/confirm/{bad}", follow_redirects=True)
        assert response.status_code == 200
        page = text_of(response)
        assert "This link is invalid or has expired." in page, bad
        assert "Confirm your e-mail address" in page  # offered a new link
        assert not is_logged_in(client)
        assert not user_named(db, "ada@example.org").email_confirmed

    # the genuine link still works
    assert "is confirmed" in text_of(client.get(f"/confirm/{token}", follow_redirects=True))


def test_registering_a_taken_address_mails_its_owner_instead(client, mail, db, create_user):
    owner = create_user(email="ada@example.org", display_name="The Real Ada")
    old_hash = owner.password_hash

    with still_clock():
        taken = register(client, email="ADA@Example.org", password="another password", name="Eve")
        fresh = register(client, email="grace@example.org", name="Grace")
    assert taken.status_code == fresh.status_code == 200
    # the same page either way: nobody learns which addresses have accounts
    assert text_of(taken).replace("ADA@Example.org", "@") == text_of(fresh).replace(
        "grace@example.org", "@"
    )

    [existing] = users_with(db, "ada@example.org")
    assert existing.display_name == "The Real Ada"
    assert existing.password_hash == old_hash
    assert db.session.scalar(select(func.count()).select_from(User)) == 2

    messages = mail.deliver()
    [warning] = [m for m in messages if m["To"] == "ada@example.org"]
    assert warning["Subject"] == "Someone tried to register with your address"
    assert "The Real Ada" in body_of(warning)
    reset_link = link_in(warning)
    assert reset_link == "/reset"
    assert "Forgot your password?" in text_of(client.get(reset_link))
    # the owner still logs in with their own password, the intruder's does not work
    assert log_in(client.application.test_client(), "ada@example.org").status_code == 302
    assert log_in(client, "ada@example.org", "another password").status_code == 401


BAD_REGISTRATIONS = [
    ("Ada", "ada@example.org", "short", "Choose a password of at least 10 characters."),
    ("Ada", "ada@example.org", "ada@example.org", "must not be your e-mail address"),
    ("Ada", "adalovelace@example.org", "AdaLovelace", "must not be your e-mail address"),
    ("Ada", "not-an-address", TEST_PASSWORD, "This is not a valid e-mail address"),
    ("Ada", "ada@", TEST_PASSWORD, "This is not a valid e-mail address"),
    ("", "ada@example.org", TEST_PASSWORD, "This field is required."),
    ("   ", "ada@example.org", TEST_PASSWORD, "This field is required."),
    ("Ada", "", TEST_PASSWORD, "This field is required."),
    ("Ada", "ada@example.org", "", "This field is required."),
]


def test_registration_refuses_bad_input_with_a_message(client, mail, db):
    for name, email, password, message in BAD_REGISTRATIONS:
        response = register(client, email=email, password=password, name=name)
        assert response.status_code == 200
        page = text_of(response)
        assert message in page, (name, email, password)
        assert "Check your inbox" not in page
    assert db.session.scalar(select(func.count()).select_from(User)) == 0
    assert mail.deliver() == []


def test_resend_confirmation_mails_a_new_working_link(client, mail, db, create_user):
    register(client)
    assert len(mail.deliver()) == 1

    response = client.post("/confirm", data={"email": "Ada@Example.org"}, follow_redirects=True)
    assert response.status_code == 200
    assert "Check your inbox" in text_of(response)
    [second] = mail.deliver()
    assert second["To"] == "ada@example.org"
    assert second["Subject"] == "Confirm your e-mail address"

    client.get(link_in(second))
    assert user_named(db, "ada@example.org").email_confirmed
    assert is_logged_in(client)


def test_resend_confirmation_sends_nothing_to_confirmed_or_unknown_addresses(
    client, mail, create_user
):
    create_user(email="confirmed@example.org")
    for address in ("confirmed@example.org", "nobody@example.org", "not an address"):
        response = client.post("/confirm", data={"email": address}, follow_redirects=True)
        assert response.status_code == 200
        assert "Check your inbox" in text_of(response)
    assert mail.deliver() == []


# ---- logging in and out ----------------------------------------------------------------------


def test_wrong_password_and_unknown_address_get_the_same_refusal(client, create_user):
    create_user(email="ada@example.org")
    with still_clock():
        wrong = log_in(client, "ada@example.org", "not my password")
        unknown = log_in(client, "nobody@example.org", "not my password")
    assert wrong.status_code == unknown.status_code == 401
    for response in (wrong, unknown):
        assert "Wrong e-mail address or password." in text_of(response)
    assert text_of(wrong).replace("ada@example.org", "@") == text_of(unknown).replace(
        "nobody@example.org", "@"
    )
    assert not is_logged_in(client)


def test_login_with_the_right_password_in_any_case_of_the_address(client, create_user):
    create_user(email="ada@example.org")
    response = log_in(client, "  ADA@example.ORG ")
    assert response.status_code == 302
    assert response.location == "/me"
    assert is_logged_in(client)


def test_unconfirmed_account_cannot_log_in(client, create_user):
    create_user(email="ada@example.org", confirmed=False)
    response = log_in(client, "ada@example.org")
    assert response.status_code == 401
    assert "Please confirm your e-mail address first" in text_of(response)
    assert not is_logged_in(client)


def test_too_many_failures_refuse_even_the_right_password(make_app, create_user, db):
    create_user(email="ada@example.org")
    create_user(email="grace@example.org")
    app = make_app(LOGIN_MAX_FAILURES=3)
    client = app.test_client()
    for _ in range(3):
        response = log_in(client, "ada@example.org", "guess guess guess")
        assert response.status_code == 401
        assert "Wrong e-mail address or password." in text_of(response)

    response = log_in(client, "Ada@example.org")
    assert response.status_code == 401
    assert "Too many failed attempts: please try again in 30 seconds" in text_of(response)
    assert not is_logged_in(client)

    # another member on the same network is not locked out
    other = app.test_client()
    assert log_in(other, "grace@example.org").status_code == 302
    assert is_logged_in(other)


def test_successful_login_clears_the_failures(make_app, create_user, db):
    create_user(email="ada@example.org")
    app = make_app(LOGIN_MAX_FAILURES=3)
    client = app.test_client()
    for _ in range(2):
        assert log_in(client, "ada@example.org", "guess guess guess").status_code == 401
    assert log_in(client, "ada@example.org").status_code == 302
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(LoginFailure)) == 0

    client.post("/logout")
    for _ in range(2):
        assert log_in(client, "ada@example.org", "guess guess guess").status_code == 401
    # four failures in the window, but only two since the last success
    assert log_in(client, "ada@example.org").status_code == 302
    assert is_logged_in(client)


def test_a_password_reset_lifts_the_lock_of_failed_logins(make_app, mail, create_user):
    create_user(email="ada@example.org")
    app = make_app(LOGIN_MAX_FAILURES=3)
    someone = app.test_client()
    for _ in range(3):  # somebody else's guesses lock Ada out
        log_in(someone, "ada@example.org", "guess guess guess")
    ada = app.test_client()
    assert "Too many failed attempts" in text_of(log_in(ada, "ada@example.org"))

    ada.post("/reset", data={"email": "ada@example.org"}, follow_redirects=True)
    [reset] = mail.deliver()
    ada.post(link_in(reset), data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})

    laptop = app.test_client()  # her other devices can log in again
    assert log_in(laptop, "ada@example.org", NEW_PASSWORD).status_code == 302


def test_login_follows_next_to_a_page_of_this_site(app, create_user):
    create_user(email="ada@example.org")
    for target in ("/account", "/me/data?tab=1"):
        response = log_in(app.test_client(), "ada@example.org", next=target)
        assert response.status_code == 302
        assert response.location == target


def test_login_does_not_follow_next_to_another_site(app, create_user):
    create_user(email="ada@example.org")
    foreign = [
        "//evil.example",
        "//evil.example/account",
        "http://evil.example",
        "https://evil.example/account",
        "/\\evil.example",
        "\\\\evil.example",
        "https:evil.example",
        "javascript:alert(1)",
        # browsers drop tabs and line breaks from a URL: these would become //evil.example
        "/\t/evil.example",
        "/\n/evil.example",
        "/\r\n/evil.example",
    ]
    for target in foreign:
        response = log_in(app.test_client(), "ada@example.org", next=target)
        assert response.status_code == 302
        assert response.location == "/me", target


def test_login_required_page_brings_the_member_back_after_login(client, create_user):
    create_user(email="ada@example.org")
    response = client.get("/account")
    assert response.status_code == 302
    login_page = response.location
    assert login_page.startswith("/login?next=")
    response = client.post(login_page, data={"email": "ada@example.org", "password": TEST_PASSWORD})
    assert response.location == "/account"
    assert "Password and e-mail" in text_of(client.get("/account"))


def test_logout_is_post_only_and_logs_out(client, create_user):
    create_user(email="ada@example.org")
    log_in(client, "ada@example.org")
    response = client.get("/logout")
    assert response.status_code == 405
    assert is_logged_in(client)

    response = client.post("/logout", follow_redirects=True)
    assert response.status_code == 200
    assert "You are logged out." in text_of(response)
    assert not is_logged_in(client)


# ---- password reset -------------------------------------------------------------------------


def test_password_reset_link_sets_a_new_password_once(client, mail, db, create_user):
    create_user(email="ada@example.org", display_name="Ada")
    response = client.post("/reset", data={"email": "Ada@example.org"}, follow_redirects=True)
    assert response.status_code == 200
    assert "we sent it a link to choose a new password" in text_of(response)
    [message] = mail.deliver()
    assert message["To"] == "ada@example.org"
    assert message["Subject"] == "Reset your password"
    link = link_in(message)

    assert "Choose a new password" in text_of(client.get(link))
    response = client.post(
        link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}, follow_redirects=True
    )
    assert "Your new password is set." in text_of(response)
    assert is_logged_in(client)

    fresh = client.application.test_client()
    assert log_in(fresh, "ada@example.org", TEST_PASSWORD).status_code == 401
    assert log_in(fresh, "ada@example.org", NEW_PASSWORD).status_code == 302

    # the link is spent: neither showing nor posting it works again
    again = client.application.test_client()
    response = again.get(link, follow_redirects=True)
    assert "This link is invalid or has expired." in text_of(response)
    assert "Forgot your password?" in text_of(response)
    response = again.post(
        link, data={"password": "a third passphrase", "confirm": "a third passphrase"}
    )
    assert response.status_code == 302
    assert not is_logged_in(again)
    assert check_password_hash(user_named(db, "ada@example.org").password_hash, NEW_PASSWORD)


def test_password_reset_for_an_unknown_address_shows_the_same_page_and_sends_nothing(
    client, mail, create_user
):
    create_user(email="ada@example.org")
    with still_clock():
        known = client.post("/reset", data={"email": "ada@example.org"}, follow_redirects=True)
        mail.deliver()
        unknown = client.post("/reset", data={"email": "nobody@example.org"}, follow_redirects=True)
    assert unknown.status_code == known.status_code == 200
    assert text_of(unknown).replace("nobody@example.org", "@") == text_of(known).replace(
        "ada@example.org", "@"
    )
    assert mail.deliver() == []


def test_password_reset_refuses_a_bad_new_password(client, mail, db, create_user):
    create_user(email="ada@example.org")
    client.post("/reset", data={"email": "ada@example.org"}, follow_redirects=True)
    [mailed] = mail.deliver()
    link = link_in(mailed)

    for password, confirm, message in [
        (NEW_PASSWORD, NEW_PASSWORD + "!", "The two passwords differ."),
        ("short", "short", "Choose a password of at least 10 characters."),
        ("ada@example.org", "ada@example.org", "must not be your e-mail address"),
    ]:
        response = client.post(link, data={"password": password, "confirm": confirm})
        assert response.status_code == 200
        assert message in text_of(response)
        assert not is_logged_in(client)
        password_hash = user_named(db, "ada@example.org").password_hash
        assert check_password_hash(password_hash, TEST_PASSWORD)

    # nothing changed, so the link still works
    response = client.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert is_logged_in(client)


def test_an_expired_reset_link_is_refused(client, mail, db, app, create_user):
    create_user(email="ada@example.org")
    client.post("/reset", data={"email": "ada@example.org"}, follow_redirects=True)
    [mailed] = mail.deliver()
    token = link_in(mailed).removeprefix("/reset/")
    link = f"/reset/{expired_copy(app, token, 'reset')}"
    response = client.post(
        link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}, follow_redirects=True
    )
    assert "This link is invalid or has expired." in text_of(response)
    assert check_password_hash(user_named(db, "ada@example.org").password_hash, TEST_PASSWORD)


# ---- links mailed on request are limited -----------------------------------------------------


def an_hour_passes(db) -> None:
    for mail in db.session.scalars(select(OutboxMail)):
        mail.created_at -= timedelta(hours=1)
    db.session.commit()


def test_reset_links_to_one_address_stop_after_three_an_hour(client, mail, db, create_user):
    create_user(email="ada@example.org")
    create_user(email="grace@example.org")
    with still_clock():
        pages = [
            text_of(client.post("/reset", data={"email": "ada@example.org"}, follow_redirects=True))
            for _ in range(5)
        ]
    # the page says the same every time: it tells nobody that the mails stopped
    assert all("we sent it a link to choose a new password" in page for page in pages)
    assert len(set(pages)) == 1
    assert [message["To"] for message in mail.deliver()] == ["ada@example.org"] * 3

    client.post("/reset", data={"email": "grace@example.org"}, follow_redirects=True)
    assert [message["To"] for message in mail.deliver()] == ["grace@example.org"]

    an_hour_passes(db)
    client.post("/reset", data={"email": "ada@example.org"}, follow_redirects=True)
    [message] = mail.deliver()
    assert message["Subject"] == "Reset your password"
    client.post(link_in(message), data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert is_logged_in(client)


def test_confirmation_and_already_registered_mails_are_limited_each(
    make_app, mail, db, create_user
):
    client = make_app(LINK_MAILS_PER_HOUR=2).test_client()
    register(client)
    for _ in range(3):
        response = client.post("/confirm", data={"email": "ada@example.org"}, follow_redirects=True)
        assert "Check your inbox" in text_of(response)
    assert [message["Subject"] for message in mail.deliver()] == ["Confirm your e-mail address"] * 2

    create_user(email="grace@example.org")
    for _ in range(3):
        response = register(client, email="grace@example.org", name="Not Grace")
        assert "Check your inbox" in text_of(response)
    assert [message["Subject"] for message in mail.deliver()] == [
        "Someone tried to register with your address"
    ] * 2


def test_change_email_links_to_one_address_stop_with_a_reason(client, mail, db, create_user):
    client.login(create_user(email="ada@example.org"))
    for _ in range(3):
        assert change_email(client, "ada.new@example.org").status_code == 302
    response = change_email(client, "ada.new@example.org")
    assert response.status_code == 400
    assert "We sent links to ada.new@example.org several times in the last hour" in text_of(
        response
    )
    assert len(mail.deliver()) == 3


# ---- changing the password -------------------------------------------------------------------


def change_password(client, current, new, confirm=None):
    return client.post(
        "/account/password",
        data={"pw-current_password": current, "pw-password": new, "pw-confirm": confirm or new},
    )


def test_change_password_refuses_bad_input(client, mail, db, create_user):
    user = create_user(email="ada@example.org")
    client.login(user)
    for current, new, confirm, message in [
        ("not my password", NEW_PASSWORD, None, "Your current password is not correct."),
        (TEST_PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "?", "The two passwords differ."),
        (TEST_PASSWORD, "short", None, "Choose a password of at least 10 characters."),
        ("", NEW_PASSWORD, None, "This field is required."),
    ]:
        response = change_password(client, current, new, confirm)
        assert response.status_code == 400
        assert message in text_of(response)
        password_hash = user_named(db, "ada@example.org").password_hash
        assert check_password_hash(password_hash, TEST_PASSWORD)
        assert is_logged_in(client)
    assert mail.deliver() == []


def test_change_password_logs_out_other_sessions_and_mails_the_member(app, mail, db, create_user):
    create_user(email="ada@example.org", display_name="Ada")
    here, elsewhere = app.test_client(), app.test_client()
    assert log_in(here, "ada@example.org").status_code == 302
    assert log_in(elsewhere, "ada@example.org").status_code == 302
    assert is_logged_in(elsewhere)

    response = change_password(here, TEST_PASSWORD, NEW_PASSWORD)
    assert response.status_code == 302
    assert response.location == "/account"
    assert "Your password was changed." in text_of(here.get("/account"))

    assert is_logged_in(here)
    assert not is_logged_in(elsewhere)

    fresh = app.test_client()
    assert log_in(fresh, "ada@example.org", TEST_PASSWORD).status_code == 401
    assert log_in(fresh, "ada@example.org", NEW_PASSWORD).status_code == 302

    [message] = mail.deliver()
    assert message["To"] == "ada@example.org"
    assert message["Subject"] == "Your password was changed"
    assert "was just changed" in body_of(message)


def test_keep_me_logged_in_survives_a_password_change_only_on_that_device(app, create_user):
    create_user(email="ada@example.org")
    here, elsewhere = app.test_client(), app.test_client()
    for client in (here, elsewhere):
        assert log_in(client, "ada@example.org", remember=True).status_code == 302
    assert change_password(here, TEST_PASSWORD, NEW_PASSWORD).status_code == 302

    for client in (here, elsewhere):
        client.delete_cookie("session")  # the browser was closed; "keep me logged in" remains
    assert is_logged_in(here)
    assert not is_logged_in(elsewhere)


def test_account_page_requires_login(client):
    for method, path in [
        ("get", "/account"),
        ("post", "/account/password"),
        ("post", "/account/email"),
    ]:
        response = getattr(client, method)(path)
        assert response.status_code == 302
        assert response.location.startswith("/login")


# ---- logging out everywhere else ---------------------------------------------------------------


def test_logging_out_everywhere_else_ends_the_other_sessions_only(app, client, db, create_user):
    member = create_user(email="ada@example.org")
    laptop, phone = app.test_client(), app.test_client()
    assert log_in(laptop, "ada@example.org", remember=True).status_code == 302
    assert log_in(phone, "ada@example.org").status_code == 302
    assert "Log out everywhere else" in text_of(phone.get("/account"))

    response = phone.post("/account/sessions/end", follow_redirects=True)

    assert "You are logged out on every other device." in text_of(response)
    assert is_logged_in(phone)
    assert not is_logged_in(laptop)
    laptop.delete_cookie("session")  # nor does "keep me logged in" let the laptop back in
    assert not is_logged_in(laptop)
    assert log_in(app.test_client(), "ada@example.org").status_code == 302  # same password
    assert len(sessions_of(user_named(db, "ada@example.org"))) == 2  # the phone and the new one
    assert member.id == user_named(db, "ada@example.org").id


# ---- changing the e-mail address --------------------------------------------------------------


def change_email(client, new, current=TEST_PASSWORD):
    return client.post("/account/email", data={"em-new_email": new, "em-current_password": current})


def test_change_email_refuses_bad_input(client, mail, db, create_user):
    user = create_user(email="ada@example.org")
    create_user(email="taken@example.org")
    client.login(user)
    for new, current, message in [
        ("new@example.org", "not my password", "Your current password is not correct."),
        ("taken@example.org", TEST_PASSWORD, "Another account uses this address."),
        ("TAKEN@example.org", TEST_PASSWORD, "Another account uses this address."),
        ("Ada@Example.org", TEST_PASSWORD, "This is already your e-mail address."),
        ("not an address", TEST_PASSWORD, "This is not a valid e-mail address"),
        ("new@example.org", "", "This field is required."),
    ]:
        response = change_email(client, new, current)
        assert response.status_code == 400
        assert message in text_of(response), new
        assert user_named(db, "ada@example.org").id == user.id
    assert mail.deliver() == []


def test_change_email_by_a_link_sent_to_the_new_address(client, mail, db, create_user):
    user = create_user(email="ada@example.org", display_name="Ada")
    client.login(user)
    response = change_email(client, " Ada.New@Example.org")
    assert response.status_code == 302
    page = text_of(client.get(response.location))
    assert "We sent a link to ada.new@example.org" in page

    [message] = mail.deliver()
    assert message["To"] == "ada.new@example.org"  # the new address, not the old one
    assert message["Subject"] == "Confirm your new e-mail address"
    # nothing changes before the link is followed
    assert users_with(db, "ada@example.org")

    response = client.get(link_in(message), follow_redirects=True)
    assert "Your e-mail address was changed." in text_of(response)
    assert user_named(db, "ada.new@example.org").id == user.id
    assert users_with(db, "ada@example.org") == []

    [notice] = mail.deliver()
    assert notice["To"] == "ada@example.org"
    assert notice["Subject"] == "Your e-mail address was changed"
    assert "ada.new@example.org" in body_of(notice)

    fresh = client.application.test_client()
    assert log_in(fresh, "ada@example.org").status_code == 401
    assert log_in(fresh, "ada.new@example.org").status_code == 302


def test_change_email_link_works_from_a_logged_out_browser(client, mail, db, create_user):
    user = create_user(email="ada@example.org")
    client.login(user)
    change_email(client, "ada.new@example.org")
    [message] = mail.deliver()

    phone = client.application.test_client()
    response = phone.get(link_in(message), follow_redirects=True)
    assert "Your e-mail address was changed." in text_of(response)
    assert "Log in" in text_of(response)
    assert user_named(db, "ada.new@example.org").id == user.id


def test_change_email_link_fails_if_another_account_took_the_address(client, mail, db, create_user):
    user = create_user(email="ada@example.org")
    client.login(user)
    change_email(client, "wanted@example.org")
    [message] = mail.deliver()

    # meanwhile somebody registers with that address and confirms it
    other = client.application.test_client()
    register(other, email="wanted@example.org", name="Eve")
    [confirmation] = mail.deliver()
    other.get(link_in(confirmation))

    response = client.get(link_in(message), follow_redirects=True)
    assert "Another account uses this address." in text_of(response)
    assert user_named(db, "ada@example.org").id == user.id
    assert user_named(db, "wanted@example.org").display_name == "Eve"
    assert mail.deliver() == []  # the old address got no "changed" notice


def test_a_tampered_or_expired_change_email_link_is_refused(app, client, mail, db, create_user):
    user = create_user(email="ada@example.org")
    client.login(user)
    change_email(client, "ada.new@example.org")
    [message] = mail.deliver()
    token = link_in(message).removeprefix("/account/email/")
    for bad in (token[:-3] + "xyz", expired_copy(app, token, "change-email")):
        response = client.get(f"/account/email/{bad}", follow_redirects=True)
        assert "This link is invalid or has expired." in text_of(response)
    assert user_named(db, "ada@example.org").id == user.id
    assert mail.deliver() == []


def test_a_reset_link_sent_to_the_old_address_is_spent_by_a_change_of_address(
    client, mail, db, create_user
):
    user = create_user(email="ada@old-job.example.org")
    client.post("/reset", data={"email": "ada@old-job.example.org"}, follow_redirects=True)
    [old_reset] = mail.deliver()
    client.login(user)
    change_email(client, "ada@example.org")
    [confirm] = mail.deliver()
    client.get(link_in(confirm))
    mail.deliver()  # the notice to the old address
    assert user_named(db, "ada@example.org").id == user.id

    # whoever reads the old mailbox now cannot take the account with the old link
    old_mailbox = client.application.test_client()
    response = old_mailbox.post(
        link_in(old_reset),
        data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        follow_redirects=True,
    )
    assert "This link is invalid or has expired." in text_of(response)
    assert not is_logged_in(old_mailbox)
    assert check_password_hash(user_named(db, "ada@example.org").password_hash, TEST_PASSWORD)


def test_a_change_email_link_works_once(client, mail, db, create_user):
    user = create_user(email="ada@example.org")
    client.login(user)
    change_email(client, "ada.new@example.org")
    [first_link] = mail.deliver()
    client.get(link_in(first_link))
    mail.deliver()  # the notice to the old address
    change_email(client, "ada@example.org")  # moving back…
    [back] = mail.deliver()
    client.get(link_in(back))

    response = client.get(link_in(first_link), follow_redirects=True)  # …cannot be undone later

    assert "This link is invalid or has expired." in text_of(response)
    assert user_named(db, "ada@example.org").id == user.id


def test_a_confirmation_link_logs_in_once_only(client, mail, db):
    register(client)
    [message] = mail.deliver()
    client.get(link_in(message))  # confirms and logs in
    client.post("/logout")
    stranger = client.application.test_client()

    response = stranger.get(link_in(message), follow_redirects=True)  # the same link again

    assert "Your e-mail address is confirmed already." in text_of(response)
    assert not is_logged_in(stranger)


# ---- a form posted once: the page after it is a page of its own -------------------------------


@pytest.mark.parametrize(
    ("path", "sent"),
    [
        ("/register", "We sent a message to nia@example.org."),
        ("/confirm", "We sent a message to nia@example.org."),
        ("/reset", "If nia@example.org belongs to an account, we sent it a link"),
    ],
    ids=["register", "resend-confirmation", "reset"],
)
def test_a_form_that_mails_a_link_redirects_and_a_reload_sends_nothing(
    client, mail, create_user, path, sent
):
    if path != "/register":  # an account waiting for its link, or for a new password
        create_user(email="nia@example.org", confirmed=path == "/reset")
    fields = {"display_name": "Nia", "email": "nia@example.org", "password": TEST_PASSWORD}

    posted = client.post(path, data=fields)
    page = client.get(posted.location)
    mails = len(mail.deliver())
    reloaded = client.get(posted.location)

    assert posted.status_code == 302 and posted.location == "/check-inbox"
    assert page.status_code == 200 and sent in text_of(page)
    assert mails == 1
    assert sent in text_of(reloaded) and mail.deliver() == []


def test_the_check_inbox_page_without_a_form_before_it_leads_home(client):
    response = client.get("/check-inbox")

    assert response.status_code == 302 and response.location == "/"
