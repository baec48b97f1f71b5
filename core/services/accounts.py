"""Accounts: registration, e-mail confirmation, login with throttling, password and e-mail
changes. Links sent by e-mail carry signed, expiring tokens; a reset link works once."""

from __future__ import annotations

from datetime import timedelta
from functools import cache
from typing import Any

from email_validator import EmailNotValidError, validate_email
from flask import current_app, url_for
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import delete, func, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from core.db import db, utcnow
from core.errors import InvalidInput
from core.i18n import reading_as
from core.models import LoginFailure, User
from core.services.mail import count_mails, send_mail
from core.state import hooks
from core.urls import absolute_url

MIN_PASSWORD_LENGTH = 10


def normalize_email(raw: str) -> str:
    try:
        return validate_email(raw.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as error:
        raise InvalidInput(
            _("This is not a valid e-mail address: %(reason)s", reason=error)
        ) from None


def check_password_strength(password: str, email: str = "") -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            _("Choose a password of at least %(n)d characters.", n=MIN_PASSWORD_LENGTH)
        )
    if email and password.strip().lower() in (email, email.split("@")[0]):
        raise InvalidInput(_("Your password must not be your e-mail address."))


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


@cache
def _unknown_user_hash(method: str) -> str:
    """Compared against when the address is unknown, so a login takes as long either way:
    made with the configured method, since checking a scrypt hash is far slower than a fast one."""
    return generate_password_hash("not a password", method=method)


def user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email))


# ---- tokens -----------------------------------------------------------------------------


def make_token(purpose: str, payload: dict[str, Any]) -> str:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=purpose).dumps(payload)


def read_token(purpose: str, token: str) -> dict[str, Any]:
    max_age = current_app.config["EMAIL_TOKEN_MAX_AGE_HOURS"] * 3600
    serializer = URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=purpose)
    try:
        payload: dict[str, Any] = serializer.loads(token, max_age=max_age)
        return payload
    except BadSignature:  # also raised for an expired token
        raise InvalidInput(_("This link is invalid or has expired.")) from None


# ---- mails anyone can ask for ------------------------------------------------------------

LINK_MAIL_WINDOW = timedelta(hours=1)


def _send_link(to: str, subject: str, template: str, **context: Any) -> bool:
    """Mail one of the messages a visitor can have sent to any address (a confirmation or
    reset link, a "someone tried to register"), unless that address already got
    ``LINK_MAILS_PER_HOUR`` of its kind in the last hour: alma's forms must not become a
    way to flood somebody's inbox. Returns whether it was sent."""
    since = utcnow() - LINK_MAIL_WINDOW
    if count_mails(to, template, since) >= current_app.config["LINK_MAILS_PER_HOUR"]:
        return False
    send_mail(to, subject, template, **context)
    return True


# ---- registration and confirmation ------------------------------------------------------


def register(email: str, password: str, display_name: str) -> User | None:
    """Create an unconfirmed account and mail a confirmation link.

    If the address is taken, mail its owner instead and return ``None``: the page says the
    same either way, so nobody can probe which addresses have accounts.
    """
    email = normalize_email(email)
    check_password_strength(password, email)
    display_name = display_name.strip()
    if not display_name:
        raise InvalidInput(_("Please tell us your name."))
    # hashed even when the address is taken, so both answers take as long
    password_hash = hash_password(password)
    existing = user_by_email(email)
    if existing:
        with reading_as(existing):  # a visitor's form, a member's mail
            _send_link(
                email,
                _("Someone tried to register with your address"),
                "mail/already_registered",
                user=existing,
                link=absolute_url(url_for("auth.reset_request")),
            )
        return None
    user = User(
        email=email,
        password_hash=password_hash,
        display_name=display_name,
        timezone=current_app.config["DEFAULT_TIMEZONE"],
    )
    db.session.add(user)
    db.session.flush()
    send_confirmation(user)
    hooks().user_registered(user)
    return user


def send_confirmation(user: User) -> None:
    token = make_token("confirm", {"uid": user.id, "email": user.email})
    _send_link(
        user.email,
        _("Confirm your e-mail address"),
        "mail/confirm",
        user=user,
        link=absolute_url(url_for("auth.confirm", token=token)),
    )


def confirm_email(token: str) -> User | None:
    """Confirm the address the link was sent to; returns the member it confirmed, or ``None``
    when it was confirmed already (the link works once: it must not become a way in)."""
    data = read_token("confirm", token)
    user = db.session.get(User, data["uid"])
    if user is None or user.email != data["email"]:
        raise InvalidInput(_("This link is invalid or has expired."))
    if user.email_confirmed_at is not None:
        return None
    user.email_confirmed_at = utcnow()
    return user


# ---- login ----------------------------------------------------------------------------


def authenticate(email: str, password: str, ip: str) -> User:
    """Return the member with these credentials, or raise. Failures are recorded (the caller
    commits them) and too many recent ones, per address or per IP, refuse further tries."""
    try:
        email = normalize_email(email)
    except InvalidInput:
        email = email.strip().lower()[:254]
    _refuse_if_throttled(email, ip)
    user = user_by_email(email)
    method = current_app.config["PASSWORD_HASH_METHOD"]
    # an unknown address takes as long to refuse as a wrong password
    known = check_password_hash(
        user.password_hash if user else _unknown_user_hash(method), password
    )
    if user is None or not known:
        db.session.add(LoginFailure(email=email, ip=ip[:45]))
        db.session.flush()
        raise InvalidInput(_("Wrong e-mail address or password."))
    if user.is_suspended:  # said to whoever knows the password, so it does not say why
        raise InvalidInput(_("This account cannot log in at the moment."))
    if not user.email_confirmed:
        raise InvalidInput(_("Please confirm your e-mail address first: we sent you a link."))
    db.session.execute(delete(LoginFailure).where(LoginFailure.email == email))
    return user


def _refuse_if_throttled(email: str, ip: str) -> None:
    config = current_app.config
    since = utcnow() - timedelta(minutes=config["LOGIN_FAILURE_WINDOW_MINUTES"])
    by_email = _failures(LoginFailure.email == email, since)
    by_ip = _failures(LoginFailure.ip == ip, since)
    limit = config["LOGIN_MAX_FAILURES"]
    if by_email >= limit or by_ip >= 4 * limit:
        raise InvalidInput(
            _(
                "Too many failed attempts. Please wait %(minutes)d minutes or reset your password.",
                minutes=config["LOGIN_FAILURE_WINDOW_MINUTES"],
            )
        )


def _failures(condition: Any, since: Any) -> int:
    return db.session.execute(
        select(func.count())
        .select_from(LoginFailure)
        .where(condition, LoginFailure.created_at >= since)
    ).scalar_one()


def prune_login_failures() -> None:
    """Job: forget failures older than the window."""
    window = timedelta(minutes=current_app.config["LOGIN_FAILURE_WINDOW_MINUTES"])
    db.session.execute(delete(LoginFailure).where(LoginFailure.created_at < utcnow() - window))


# ---- passwords ----------------------------------------------------------------------------


def request_password_reset(email: str) -> None:
    """Mail a reset link if the address has an account; say nothing either way."""
    try:
        user = user_by_email(normalize_email(email))
    except InvalidInput:
        return
    if user is None:
        return
    # The token holds a piece of the current hash and the address it was sent to: once the
    # password or the address changes, it is spent (a mailbox left behind cannot use it).
    token = make_token(
        "reset", {"uid": user.id, "pw": user.password_hash[-12:], "email": user.email}
    )
    with reading_as(user):  # asked for while logged out: the page's language may be another
        _send_link(
            user.email,
            _("Reset your password"),
            "mail/reset",
            user=user,
            link=absolute_url(url_for("auth.reset", token=token)),
        )


def user_for_reset(token: str) -> User:
    data = read_token("reset", token)
    user = db.session.get(User, data["uid"])
    if user is None or user.password_hash[-12:] != data["pw"] or user.email != data.get("email"):
        raise InvalidInput(_("This link is invalid or has expired."))
    return user


def reset_password(token: str, new_password: str) -> User:
    user = user_for_reset(token)
    check_password_strength(new_password, user.email)
    user.password_hash = hash_password(new_password)
    # Following a link sent to the address proves it, too.
    user.email_confirmed_at = user.email_confirmed_at or utcnow()
    # and ends a lock that someone's wrong guesses put on it
    db.session.execute(delete(LoginFailure).where(LoginFailure.email == user.email))
    return user


def end_other_sessions(user: User) -> None:
    """Log the member out of every session but the one the caller renews (a device lost, a
    cookie copied): their sessions name the epoch they were made in."""
    db.session.execute(
        update(User).where(User.id == user.id).values(session_epoch=User.session_epoch + 1)
    )
    db.session.refresh(user)


def change_password(user: User, current_password: str, new_password: str) -> None:
    if not check_password_hash(user.password_hash, current_password):
        raise InvalidInput(_("Your current password is not correct."))
    check_password_strength(new_password, user.email)
    user.password_hash = hash_password(new_password)
    send_mail(user.email, _("Your password was changed"), "mail/password_changed", user=user)


# ---- e-mail address change ---------------------------------------------------------------


def request_email_change(user: User, current_password: str, new_email: str) -> str:
    """Mail a confirmation link to the new address; the change happens when it is followed."""
    if not check_password_hash(user.password_hash, current_password):
        raise InvalidInput(_("Your current password is not correct."))
    new_email = normalize_email(new_email)
    if new_email == user.email:
        raise InvalidInput(_("This is already your e-mail address."))
    if user_by_email(new_email):
        raise InvalidInput(_("Another account uses this address."))
    # The token names the address it replaces and when that was confirmed: any change of
    # address spends it, even a later move back to the same address.
    token = make_token(
        "change-email", {"uid": user.id, "old": _address_stamp(user), "new": new_email}
    )
    sent = _send_link(
        new_email,
        _("Confirm your new e-mail address"),
        "mail/change_email",
        user=user,
        link=absolute_url(url_for("auth.confirm_email_change", token=token)),
    )
    if not sent:
        raise InvalidInput(
            _(
                "We sent links to %(email)s several times in the last hour: please look for"
                " them there, or try again later.",
                email=new_email,
            )
        )
    return new_email


def _address_stamp(user: User) -> str:
    confirmed = user.email_confirmed_at.isoformat() if user.email_confirmed_at else ""
    return f"{user.email} {confirmed}"


def confirm_email_change(token: str) -> User:
    data = read_token("change-email", token)
    user = db.session.get(User, data["uid"])
    if user is None or _address_stamp(user) != data["old"]:
        raise InvalidInput(_("This link is invalid or has expired."))
    if user_by_email(data["new"]) not in (None, user):
        raise InvalidInput(_("Another account uses this address."))
    old_email = user.email
    user.email = data["new"]
    user.email_confirmed_at = utcnow()
    if old_email != user.email:
        with reading_as(user):  # the link may be followed logged out, in another browser
            send_mail(
                old_email,
                _("Your e-mail address was changed"),
                "mail/email_changed",
                user=user,
                new_email=user.email,
            )
    return user


def confirmed_member(email: str, password: str, display_name: str) -> User:
    """The member with ``email``, created (confirmed, with ``password``) if there is none."""
    email = normalize_email(email)
    user = user_by_email(email)
    if user is None:
        check_password_strength(password, email)
        user = User(
            email=email,
            password_hash=hash_password(password),
            display_name=display_name.strip() or email.split("@")[0],
            timezone=current_app.config["DEFAULT_TIMEZONE"],
            email_confirmed_at=utcnow(),
        )
        db.session.add(user)
        db.session.flush()
    return user
