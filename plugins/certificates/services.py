"""Certificates: issued in the unit of work that completes a goal, rendered after commit.

``issue_certificates`` (the ``goal_completed`` listener) only writes one row per party, with
a snapshot of what it certifies; the ``certificates.render`` job turns pending rows into PDFs.
Like core's mail outbox, each certificate is first *claimed* (its next attempt moved a lease
ahead, committed) so that two job runs never render the same one and no lock is held while
WeasyPrint works; a failure is recorded and retried with growing pauses, and after
``render_attempts`` the certificate is marked failed and logged at ERROR for the operator
(``alma certificates list --failed``, ``alma certificates retry``).

The functions flush, never commit, except the job, which owns its units of work.
"""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask
from flask_babel import gettext as _
from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import undefer

from core.api import (
    ConfigError,
    Goal,
    InvalidInput,
    Months,
    NotAllowed,
    NotFound,
    Setting,
    User,
    alma,
    count_per_month,
    db,
    emit_webhook,
    goal_facts,
    goal_label,
    like_pattern,
    local_date,
    notify,
    plugin_settings_as,
    positive,
    reading_as,
    record_staff_act,
    rows_changed,
    site_path,
    utcnow,
    wake_job_after_commit,
    work_through_due,
)
from plugins.certificates.models import FAILED, PENDING, RENDERED, Certificate
from plugins.certificates.pdf import render_pdf

logger = logging.getLogger(__name__)

RENDER_JOB_ID = "certificates.render"
CATCH_UP_SECONDS = 60
CLAIM_LEASE = timedelta(minutes=5)
MAX_BACKOFF = timedelta(hours=1)
BATCH_SIZE = 20
MAX_BATCHES = 10  # per run
NUMBER_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read aloud, typed by hand
NUMBER_PREFIX = "ALMA"
MAX_REASON = 500


# ---- settings ----------------------------------------------------------------------------


def _kinds_listed(value: list[str]) -> str | None:
    return None if value else "must name at least one goal kind"


SETTINGS = {
    "goal_kinds": Setting(
        list, ["mentoring.finished"], _kinds_listed, "goal kinds that earn a certificate"
    ),
    "render_attempts": Setting(
        int, 5, positive, "rendering attempts before a certificate is marked failed"
    ),
}


@dataclass(frozen=True)
class CertificateSettings:
    goal_kinds: list[str]
    render_attempts: int


def settings(app: Flask | None = None) -> CertificateSettings:
    """``[plugins.certificates]``, checked against SETTINGS by core at startup."""
    return plugin_settings_as(CertificateSettings, "certificates", app)


def check_goal_kinds(app: Flask) -> None:
    """Refuse to start when a configured goal kind is declared by no enabled plugin: no goal
    of that kind would ever complete, and no certificate would ever be issued."""
    unknown = sorted(set(settings(app).goal_kinds) - set(alma(app).goal_kinds))
    if unknown:
        declared = ", ".join(sorted(alma(app).goal_kinds)) or "none"
        raise ConfigError(
            "plugins.certificates.goal_kinds",
            f"no enabled plugin declares the goal kind(s) {', '.join(unknown)} "
            f"(declared: {declared}); enable the plugin that declares them or change the setting",
        )


def holder_page(user_id: int) -> str:
    """Where a holder finds their certificates: the mentoring area of their profile."""
    return site_path("profile.area", user_id=user_id, area="mentoring")


# ---- issuing -----------------------------------------------------------------------------


def issue_certificates(goal: Goal) -> list[Certificate]:
    """One pending certificate per party of a completed goal of a configured kind. Issuing
    again (the event delivered twice) adds nothing: (goal, holder) is unique."""
    if goal.kind not in settings().goal_kinds or goal.completed_at is None:
        return []
    issued = [
        certificate
        for party in goal.parties
        if (certificate := _issue(goal, party.user)) is not None
    ]
    if issued:
        wake_job_after_commit(RENDER_JOB_ID)
    return issued


def _issue(goal: Goal, holder: User) -> Certificate | None:
    """The holder's certificate, its facts written as they read: in their language, each date
    on their clock, as the date it was completed on."""
    assert goal.completed_at is not None  # issue_certificates issues for completed goals only
    exists = select(Certificate.id).where(
        Certificate.goal_id == goal.id, Certificate.user_id == holder.id
    )
    if db.session.scalar(exists) is not None:
        return None
    with reading_as(holder):
        achievement = goal_label(goal.kind)
        facts = [[label, value] for label, value in goal_facts(goal)]
    certificate = Certificate(
        number=new_certificate_number(),
        goal_id=goal.id,
        user_id=holder.id,
        holder_name=holder.display_name,
        goal_kind=goal.kind,
        achievement=achievement,
        goal_title=goal.title,
        completed_on=local_date(goal.completed_at, holder),
        facts=facts,
        status=PENDING,
        attempts=0,
        next_attempt_at=utcnow(),
    )
    try:
        with db.session.begin_nested():
            db.session.add(certificate)
    except IntegrityError:  # issued meanwhile by a concurrent delivery of the same event
        if db.session.scalar(exists) is not None:
            return None
        raise
    emit_webhook(
        "certificate.issued",
        {
            "certificate_id": certificate.id,
            "number": certificate.number,
            "holder_id": holder.id,
            "goal_id": goal.id,
            "goal_kind": goal.kind,
        },
    )
    return certificate


def new_certificate_number() -> str:
    """``ALMA-XXXX-XXXX-XXXX``: 12 random symbols of 31, some 59 bits: not guessable."""
    symbols = "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(12))
    return "-".join([NUMBER_PREFIX, symbols[:4], symbols[4:8], symbols[8:]])


def normalized_number(number: str) -> str:
    """A number as typed ("alma-abcd efgh…") as it is stored: upper case, and nothing but
    the letters, digits and dashes a number is made of."""
    return re.sub(r"[^0-9A-Z-]", "", number.upper())


# ---- rendering (the job) -----------------------------------------------------------------


def render_pending_certificates() -> int:
    """Render the certificates that are due; returns how many were rendered. Batches follow
    each other until nothing is due, so one issued while the job runs is not left waiting."""
    return work_through_due(_due_certificates, _render, batch=BATCH_SIZE, batches=MAX_BATCHES)


def _due_certificates() -> Select[int]:
    return (
        select(Certificate.id)
        .where(Certificate.status == PENDING, Certificate.next_attempt_at <= utcnow())
        .order_by(Certificate.id)
    )


def _render(certificate_id: int) -> bool:
    """Claim, render and store one certificate; whether it was rendered."""
    lease = _claim(certificate_id)
    if lease is None:  # rendered, or claimed by another run, meanwhile
        return False
    certificate = db.session.get(Certificate, certificate_id)
    if certificate is None:  # its holder's account was deleted meanwhile
        return False
    try:
        pdf = render_pdf(certificate)
    except Exception as error:  # a broken template, a font, WeasyPrint itself: kept, retried
        db.session.rollback()
        _record_failure(certificate_id, error)
        db.session.commit()
        return False
    stored = rows_changed(
        update(Certificate)
        .where(
            Certificate.id == certificate_id,
            Certificate.status == PENDING,
            Certificate.next_attempt_at == lease,  # still ours: the lease did not run out
        )
        .values(status=RENDERED, pdf=pdf, rendered_at=utcnow(), last_error=None)
        .execution_options(synchronize_session=False)
    )
    if stored:
        with reading_as(certificate.holder):
            notify(
                certificate.holder,
                _(
                    "Your certificate “%(achievement)s” is ready.",
                    achievement=certificate.achievement,
                ),
                url=holder_page(certificate.user_id),
            )
    db.session.commit()
    return bool(stored)


def _claim(certificate_id: int) -> datetime | None:
    """Move the certificate's next attempt a lease ahead, if it is still due; the lease is
    the claim's token."""
    now = utcnow()
    lease = now + CLAIM_LEASE
    claimed = rows_changed(
        update(Certificate)
        .where(
            Certificate.id == certificate_id,
            Certificate.status == PENDING,
            Certificate.next_attempt_at <= now,
        )
        .values(next_attempt_at=lease)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return lease if claimed else None


def _record_failure(certificate_id: int, error: Exception) -> None:
    certificate = db.session.get_one(Certificate, certificate_id)
    certificate.attempts += 1
    certificate.last_error = f"{type(error).__name__}: {error}"[:4000]
    if certificate.attempts >= settings().render_attempts:
        certificate.status = FAILED
        logger.error(
            "certificate %s could not be rendered after %s attempts, giving up "
            "(alma certificates retry %s once fixed): %s",
            certificate.number,
            certificate.attempts,
            certificate.number,
            certificate.last_error,
            exc_info=error,
        )
        return
    # a bounded exponent, as for mail: 30 s, 1 min, 2 min … up to an hour
    backoff = min(timedelta(seconds=30 * 2 ** min(certificate.attempts - 1, 20)), MAX_BACKOFF)
    certificate.next_attempt_at = utcnow() + backoff
    logger.warning(
        "certificate %s not rendered (attempt %s, next in %s): %s",
        certificate.number,
        certificate.attempts,
        backoff,
        certificate.last_error,
    )


# ---- members -----------------------------------------------------------------------------


def certificates_of(holder: User) -> list[Certificate]:
    """All the member's certificates, newest first (what they see on their own profile)."""
    return list(
        db.session.scalars(
            select(Certificate)
            .where(Certificate.user_id == holder.id)
            .order_by(Certificate.issued_at.desc(), Certificate.id.desc())
        )
    )


def shown_certificates_of(holder: User) -> list[Certificate]:
    """What other members see: the certificates the holder chose to show, unless revoked."""
    return list(
        db.session.scalars(
            select(Certificate)
            .where(
                Certificate.user_id == holder.id,
                Certificate.shown_on_profile.is_(True),
                Certificate.revoked_at.is_(None),
            )
            .order_by(Certificate.issued_at.desc(), Certificate.id.desc())
        )
    )


def certificate_by_number(number: str) -> Certificate:
    certificate = db.session.scalar(
        select(Certificate).where(Certificate.number == normalized_number(number))
    )
    if certificate is None:
        raise NotFound(_("There is no certificate with this number."))
    return certificate


def owned_certificate(number: str, user: User, *, with_pdf: bool = False) -> Certificate:
    """The holder's own certificate; anyone else is told it does not exist (NotFound), so
    numbers cannot be probed through the download."""
    query = select(Certificate).where(
        Certificate.number == normalized_number(number), Certificate.user_id == user.id
    )
    if with_pdf:
        query = query.options(undefer(Certificate.pdf))
    certificate = db.session.scalar(query)
    if certificate is None:
        raise NotFound(_("There is no certificate with this number."))
    return certificate


def choose_visibility(
    number: str,
    user: User,
    *,
    shown_on_profile: bool | None = None,
    name_on_verification: bool | None = None,
) -> Certificate:
    """The holder chooses who sees their certificate; a choice left out (``None``, as an API
    client may) stays as it was. Anyone else is told it does not exist."""
    certificate = owned_certificate(number, user)
    if shown_on_profile is not None:
        certificate.shown_on_profile = shown_on_profile
    if name_on_verification is not None:
        certificate.name_on_verification = name_on_verification
    db.session.flush()
    return certificate


# ---- statistics --------------------------------------------------------------------------


def count_valid_certificates() -> int:
    """Certificates issued and not revoked."""
    return db.session.execute(
        select(func.count()).select_from(Certificate).where(Certificate.revoked_at.is_(None))
    ).scalar_one()


def certificates_issued(months: Months) -> list[int]:
    return count_per_month(months, Certificate.issued_at)


# ---- the operator ------------------------------------------------------------------------


def all_certificates(*, failed_only: bool = False, limit: int = 200) -> list[Certificate]:
    query = select(Certificate).order_by(Certificate.id.desc()).limit(limit)
    if failed_only:
        query = query.where(Certificate.status == FAILED)
    return list(db.session.scalars(query))


def retry_certificate(number: str) -> Certificate:
    """Render a failed (or waiting) certificate again, now, with a fresh count of attempts."""
    certificate = certificate_by_number(number)
    if certificate.status == RENDERED:
        raise InvalidInput(_("This certificate is rendered already."))
    certificate.status = PENDING
    certificate.attempts = 0
    certificate.next_attempt_at = utcnow()
    db.session.flush()
    wake_job_after_commit(RENDER_JOB_ID)
    return certificate


def revoke_certificate(number: str, reason: str, actor: User | None = None) -> Certificate:
    """Withdraw a certificate: the verification page says so from now on, the holder's
    profile no longer shows it to others and its PDF is no longer offered; the holder is told
    why. ``actor`` is the admin (``None``: the command line); one row of the audit log."""
    reason = _checked_reason(reason)
    certificate = certificate_by_number(number)
    if actor is not None and actor.id == certificate.user_id:
        raise NotAllowed(_("Staff cannot revoke their own certificate."))
    if certificate.is_revoked:
        raise InvalidInput(_("This certificate is revoked already."))
    record_staff_act(actor, "certificates.revoked", _target(certificate), reason)
    certificate.revoked_at = utcnow()
    certificate.revoke_reason = reason
    db.session.flush()
    with reading_as(certificate.holder):
        notify(
            certificate.holder,
            _(
                "Your certificate %(number)s was revoked: %(reason)s",
                number=certificate.number,
                reason=reason,
            ),
            url=holder_page(certificate.user_id),
        )
    return certificate


def reissue_certificate(number: str, reason: str, actor: User | None = None) -> Certificate:
    """Issue a revoked certificate again, as a new one: a new number and a new PDF, under the
    holder's name as it is now (the reason to reissue is often a corrected name), with what it
    certifies as it was. The revoked one stays revoked; each is reissued once."""
    reason = _checked_reason(reason)
    original = certificate_by_number(number)
    if actor is not None and actor.id == original.user_id:
        raise NotAllowed(_("Staff cannot reissue their own certificate."))
    if not original.is_revoked:
        raise InvalidInput(_("Only a revoked certificate is reissued: revoke it first."))
    if reissue_of(original) is not None:
        raise InvalidInput(_("This certificate was reissued already."))
    record_staff_act(actor, "certificates.reissued", _target(original), reason)
    certificate = Certificate(
        number=new_certificate_number(),
        goal_id=original.goal_id,
        user_id=original.user_id,
        holder_name=original.holder.display_name,
        goal_kind=original.goal_kind,
        achievement=original.achievement,
        goal_title=original.goal_title,
        completed_on=original.completed_on,
        facts=original.facts,
        status=PENDING,
        attempts=0,
        next_attempt_at=utcnow(),
        shown_on_profile=original.shown_on_profile,
        name_on_verification=original.name_on_verification,
        reissued_from_id=original.id,
    )
    try:
        with db.session.begin_nested():
            db.session.add(certificate)
    except IntegrityError:  # reissued meanwhile, by a second click or another admin
        raise InvalidInput(_("This certificate was reissued already.")) from None
    wake_job_after_commit(RENDER_JOB_ID)
    with reading_as(original.holder):
        notify(
            original.holder,
            _(
                "Your certificate %(old)s was reissued as %(new)s.",
                old=original.number,
                new=certificate.number,
            ),
            url=holder_page(original.user_id),
        )
    return certificate


def certificate_by_id(certificate_id: int | None) -> Certificate | None:
    return None if certificate_id is None else db.session.get(Certificate, certificate_id)


def reissue_of(certificate: Certificate) -> Certificate | None:
    """The certificate that replaced ``certificate``, if it was reissued."""
    return db.session.scalar(
        select(Certificate).where(Certificate.reissued_from_id == certificate.id)
    )


def _checked_reason(reason: str) -> str:
    reason = " ".join(reason.split())
    if not reason:
        raise InvalidInput(_("Say why: the reason is kept in the audit log."))
    if len(reason) > MAX_REASON:
        raise InvalidInput(_("Keep the reason under 500 characters."))
    return reason


def _target(certificate: Certificate) -> tuple[str, int, str]:
    return ("certificate", certificate.id, f"{certificate.number} ({certificate.holder.email})")


def certificates_query(text: str = "") -> Select[Certificate]:
    """Every certificate, newest first; with ``text``, those whose number, or holder's name or
    e-mail, contains it (any case)."""
    query = (
        select(Certificate)
        .join(User, User.id == Certificate.user_id)
        .order_by(Certificate.issued_at.desc(), Certificate.id.desc())
    )
    if text.strip():
        pattern = like_pattern(text.strip().lower())
        query = query.where(
            or_(
                *(
                    func.lower(column).like(pattern, escape="\\")
                    for column in (Certificate.number, Certificate.holder_name, User.email)
                )
            )
        )
    return query
