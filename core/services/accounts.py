"""Accounts: registration, e-mail confirmation, login with throttling, login sessions,
password and e-mail changes. Links sent by e-mail carry signed, expiring tokens; a reset or
login link works once."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import bindparam, delete, func, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from core.db import after_commit, db, utcnow
from core.errors import InvalidInput, NotFound
from core.i18n import reading_as
from core.models import LoginFailure, LoginSession, User
from core.realtime import disconnect_user
from core.services.mail import count_mails, send_mail
from core.services.webhooks import emit_webhook
from core.state import hooks
from core.urls import external_url

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


def _member_at(typed_email: str) -> User | None:
    """The member whose address a visitor typed, if it is an address and has an account."""
    try:
        return user_by_email(normalize_email(typed_email))
    except InvalidInput:
        return None


# ---- tokens -----------------------------------------------------------------------------


def make_token(purpose: str, payload: dict[str, Any]) -> str:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=purpose).dumps(payload)


def read_token(purpose: str, token: str, max_age: timedelta | None = None) -> dict[str, Any]:
    """The token's payload; ``max_age`` defaults to ``EMAIL_TOKEN_MAX_AGE_HOURS``."""
    max_age = max_age or timedelta(hours=current_app.config["EMAIL_TOKEN_MAX_AGE_HOURS"])
    serializer = URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=purpose)
    try:
        payload: dict[str, Any] = serializer.loads(token, max_age=int(max_age.total_seconds()))
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


def _send_link_to(user: User, subject: Any, template: str, **context: Any) -> bool:
    """A link mailed to a member (see ``_send_link``), its subject (a lazy string) and body in
    their language, whoever asks for it: a visitor's form, another browser, a logged-out
    page."""
    with reading_as(user):
        return _send_link(user.email, str(subject), template, user=user, **context)


def register(
    email: str, password: str, display_name: str, locale: str | None = None
) -> User | None:
    """Create an unconfirmed account and mail a confirmation link. ``locale`` is the
    language the visitor registered in: the member's until they choose another, so that
    the mails they get before their next visit (the link first) are in it too.

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
        _send_link_to(  # a visitor's form, a member's mail
            existing,
            _l("Someone tried to register with your address"),
            "mail/already_registered",
            link=external_url("auth.reset_request"),
        )
        return None
    user = User(
        email=email,
        password_hash=password_hash,
        display_name=display_name,
        timezone=current_app.config["DEFAULT_TIMEZONE"],
        locale=locale if locale in current_app.config["LANGUAGES"] else None,
    )
    db.session.add(user)
    db.session.flush()
    send_confirmation(user)
    emit_webhook("member.registered", {"member_id": user.id})
    hooks().user_registered(user)
    return user


def send_confirmation(user: User) -> None:
    token = make_token("confirm", {"uid": user.id, "email": user.email})
    _send_link_to(
        user,
        _l("Confirm your e-mail address"),
        "mail/confirm",
        link=external_url("auth.confirm", token=token),
    )


def resend_confirmation(email: str) -> None:
    """Mail a new confirmation link if the address has an unconfirmed account; say nothing
    either way."""
    user = _member_at(email)
    if user is not None and not user.email_confirmed:
        send_confirmation(user)


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
    commits them); after too many from one IP address for one account, each further try
    from there waits longer. Nobody else is slowed down: a stranger's guesses never lock a
    member out, who can also log in by a mailed link (``send_login_link``)."""
    try:
        email = normalize_email(email)
    except InvalidInput:
        email = email.strip().lower()[:254]
    ip = ip[:45]
    _refuse_if_throttled(email, ip)
    user = user_by_email(email)
    method = current_app.config["PASSWORD_HASH_METHOD"]
    # an unknown address takes as long to refuse as a wrong password
    known = check_password_hash(
        user.password_hash if user else _unknown_user_hash(method), password
    )
    if user is None or not known:
        db.session.add(LoginFailure(email=email, ip=ip))
        db.session.flush()
        raise InvalidInput(_("Wrong e-mail address or password."))
    if user.is_suspended:  # said to whoever knows the password, so it does not say why
        raise InvalidInput(_("This account cannot log in at the moment."))
    if not user.email_confirmed:
        raise InvalidInput(_("Please confirm your e-mail address first: we sent you a link."))
    _forget_failures(email, ip)
    return user


FIRST_LOGIN_DELAY = timedelta(seconds=30)


def _refuse_if_throttled(email: str, ip: str) -> None:
    """After ``LOGIN_MAX_FAILURES`` recent failures of this pair, the next try waits 30
    seconds after the last one, then 60, 120... (at most the window)."""
    window = timedelta(minutes=current_app.config["LOGIN_FAILURE_WINDOW_MINUTES"])
    count, last = db.session.execute(
        select(func.count(), func.max(LoginFailure.created_at)).where(
            LoginFailure.email == email,
            LoginFailure.ip == ip,
            LoginFailure.created_at >= utcnow() - window,
        )
    ).one()
    beyond = count - current_app.config["LOGIN_MAX_FAILURES"]
    if beyond < 0:
        return
    wait = min(FIRST_LOGIN_DELAY * 2**beyond, window)
    seconds = math.ceil((last + wait - utcnow()).total_seconds())
    if seconds > 0:
        raise InvalidInput(
            _(
                "Too many failed attempts: please try again in %(seconds)d seconds, or ask"
                " for a login link by e-mail.",
                seconds=seconds,
            )
        )


def _forget_failures(email: str, ip: str | None = None) -> None:
    """Forget the failures of ``email`` (from ``ip`` only, if given)."""
    condition = LoginFailure.email == email
    if ip is not None:
        condition &= LoginFailure.ip == ip
    db.session.execute(delete(LoginFailure).where(condition))


def prune_login_failures() -> None:
    """Job: forget failures older than the window."""
    window = timedelta(minutes=current_app.config["LOGIN_FAILURE_WINDOW_MINUTES"])
    db.session.execute(delete(LoginFailure).where(LoginFailure.created_at < utcnow() - window))


# ---- login sessions ------------------------------------------------------------------

SEEN_EVERY = timedelta(minutes=5)  # how stale a session's "last seen" may get


def session_lifetime() -> timedelta:
    """How long a login lasts at most ("keep me logged in" included)."""
    return timedelta(days=current_app.config["SESSION_DAYS"])


def start_session(user: User, user_agent: str) -> LoginSession:
    """Record a login on a device; the caller logs the browser in with it (``user.get_id``
    names it). Also forgets the member's logins that lasted their time, and spends any login
    link mailed before."""
    now = utcnow()
    db.session.execute(
        delete(LoginSession).where(
            LoginSession.user_id == user.id, LoginSession.created_at < now - session_lifetime()
        )
    )
    login = LoginSession(user=user, user_agent=user_agent[:300], created_at=now, last_seen_at=now)
    db.session.add(login)
    user.last_login_at = now
    db.session.flush()
    user.login_session_id = login.id
    return login


@dataclass(frozen=True)
class LiveSession:
    """A login session that still lasts, with its member."""

    id: int
    user: User
    last_seen_at: datetime


# every request and every Socket.IO event reads it: built once, one row of columns and a User
_MEMBER_OF_SESSION = (
    select(User, LoginSession.created_at, LoginSession.last_seen_at)
    .join(LoginSession, LoginSession.user_id == User.id)
    .where(LoginSession.id == bindparam("session_id"), LoginSession.user_id == bindparam("user_id"))
)


def live_session(user_id: int, session_id: int) -> LiveSession | None:
    """The member's login ``session_id`` if it still lasts, for the cookie that names it."""
    row = db.session.execute(
        _MEMBER_OF_SESSION, {"session_id": session_id, "user_id": user_id}
    ).one_or_none()
    if row is None:
        return None
    user, created_at, last_seen_at = row
    if created_at < utcnow() - session_lifetime():
        return None
    user.login_session_id = session_id
    return LiveSession(session_id, user, last_seen_at)


def seen_long_ago(login: LiveSession) -> bool:
    """Whether the session's "last seen" is due to move (see ``note_seen``)."""
    return login.last_seen_at < utcnow() - SEEN_EVERY


def note_seen(session_id: int) -> None:
    """Move a session's "last seen" to now."""
    db.session.execute(
        update(LoginSession).where(LoginSession.id == session_id).values(last_seen_at=utcnow())
    )


def sessions_of(user: User) -> list[LoginSession]:
    """Where the member is logged in, the most recently seen first."""
    return list(
        db.session.scalars(
            select(LoginSession)
            .where(LoginSession.user_id == user.id)
            .order_by(LoginSession.last_seen_at.desc(), LoginSession.id.desc())
        )
    )


def end_session(user: User, session_id: int) -> None:
    """Log the member out of one of their sessions (this one too: logging out)."""
    ended = db.session.execute(
        delete(LoginSession).where(LoginSession.id == session_id, LoginSession.user_id == user.id)
    )
    if not ended.rowcount:  # type: ignore[attr-defined]
        raise NotFound(_("This session has ended already."))
    _close_live_connections(user)


def end_all_sessions(user: User) -> None:
    """Log the member out everywhere (a reset password, a suspension)."""
    db.session.execute(delete(LoginSession).where(LoginSession.user_id == user.id))
    _close_live_connections(user)


def end_other_sessions(user: User) -> None:
    """Log the member out of every session but this request's (a device lost, a cookie
    copied, a new password)."""
    db.session.execute(
        delete(LoginSession).where(
            LoginSession.user_id == user.id, LoginSession.id != user.login_session_id
        )
    )
    _close_live_connections(user)


def _close_live_connections(user: User) -> None:
    """Once the ended sessions are committed, close the member's live connections: a
    browser whose session still lasts reconnects at once, one logged out cannot."""
    user_id = user.id
    after_commit(lambda: disconnect_user(user_id))


# ---- login links ------------------------------------------------------------------------

LOGIN_LINK_LIFETIME = timedelta(minutes=20)
LOGIN_LINK_MINUTES = LOGIN_LINK_LIFETIME // timedelta(minutes=1)  # as the mail and page say it


def send_login_link(email: str) -> None:
    """Mail a link that logs the member in once, within ``LOGIN_LINK_LIFETIME``, if the
    address has an account; say nothing either way. No wrong password slows it down."""
    user = _member_at(email)
    if user is None:
        return
    token = make_token("login-link", {"uid": user.id, "last": _last_login_stamp(user)})
    _send_link_to(
        user,
        _l("Your login link"),
        "mail/login_link",
        minutes=LOGIN_LINK_MINUTES,
        link=external_url("auth.login_by_link", token=token),
    )


def _last_login_stamp(user: User) -> str:
    return user.last_login_at.isoformat() if user.last_login_at else ""


def user_for_login_link(token: str) -> User:
    """The member a login link was sent to, if it is fresh and unused: any login since it
    was sent (its own included) spends it. Following it proves the address."""
    data = read_token("login-link", token, max_age=LOGIN_LINK_LIFETIME)
    user = db.session.get(User, data["uid"])
    if user is None or _last_login_stamp(user) != data["last"]:
        raise InvalidInput(_("This link is invalid or has expired."))
    user.email_confirmed_at = user.email_confirmed_at or utcnow()
    _forget_failures(user.email)
    return user


# ---- passwords ----------------------------------------------------------------------------


def request_password_reset(email: str) -> None:
    """Mail a reset link if the address has an account; say nothing either way."""
    user = _member_at(email)
    if user is None:
        return
    # The token holds a piece of the current hash and the address it was sent to: once the
    # password or the address changes, it is spent (a mailbox left behind cannot use it).
    token = make_token(
        "reset", {"uid": user.id, "pw": user.password_hash[-12:], "email": user.email}
    )
    _send_link_to(
        user, _l("Reset your password"), "mail/reset", link=external_url("auth.reset", token=token)
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
    # and ends the slowing down that someone's wrong guesses put on it
    _forget_failures(user.email)
    end_all_sessions(user)  # whoever knew the old password is logged out everywhere
    return user


def change_password(user: User, current_password: str, new_password: str) -> None:
    if not check_password_hash(user.password_hash, current_password):
        raise InvalidInput(_("Your current password is not correct."))
    check_password_strength(new_password, user.email)
    user.password_hash = hash_password(new_password)
    end_other_sessions(user)
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
        link=external_url("auth.confirm_email_change", token=token),
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
