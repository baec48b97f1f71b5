"""A copy of a member's data (My data → "Download my data"): a job builds a ZIP of core's part
and each plugin's (hook ``export_member_data``) in the instance folder; the member downloads
it, logged in, for ``EXPORT_DAYS`` days, and asks at most once a day."""

from __future__ import annotations

import io
import json
import logging
import secrets
import zipfile
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, select

from core.contributions import ExportPart
from core.db import db, utcnow
from core.errors import InvalidInput, NotFound
from core.i18n import reading_as
from core.jobs import wake_job_after_commit
from core.models import (
    Activity,
    DataExport,
    Goal,
    GoalParty,
    HeldMail,
    Notification,
    User,
)
from core.services.goals import goal_label
from core.services.mail_kinds import DATA_EXPORT, choices_of
from core.services.notifications import notify
from core.services.profiles import photo_folder
from core.services.tokens import tokens_of
from core.state import alma
from core.urls import site_path

logger = logging.getLogger(__name__)

EXPORT_JOB_ID = "core.build_data_exports"
EXPORT_DAYS = 7  # how long the download link works
EXPORT_EVERY = timedelta(days=1)  # at most one export per member in this time


def export_folder() -> Path:
    return Path(current_app.instance_path) / "exports"


def export_file(export: DataExport) -> Path:
    return export_folder() / f"{export.token}.zip"


def expires_at(export: DataExport) -> datetime | None:
    return export.built_at + timedelta(days=EXPORT_DAYS) if export.built_at else None


def latest_export(user: User) -> DataExport | None:
    return db.session.scalar(
        select(DataExport)
        .where(DataExport.user_id == user.id)
        .order_by(DataExport.requested_at.desc())
        .limit(1)
    )


def next_request_at(latest: DataExport | None) -> datetime | None:
    """When the member whose latest export is ``latest`` may ask again; ``None``: now."""
    if latest is None or latest.requested_at + EXPORT_EVERY <= utcnow():
        return None
    return latest.requested_at + EXPORT_EVERY


def request_export(user: User) -> DataExport:
    """Queue an export of ``user``'s data; refused if they asked less than a day ago."""
    if next_request_at(latest_export(user)) is not None:
        raise InvalidInput(
            _("You asked for a copy of your data less than a day ago. Please try again tomorrow.")
        )
    export = DataExport(user_id=user.id, token=secrets.token_urlsafe(32))
    db.session.add(export)
    db.session.flush()
    wake_job_after_commit(EXPORT_JOB_ID)
    return export


def downloadable_export(token: str, user: User) -> Path:
    """The ZIP behind a download link, for its member alone while it has not expired;
    :class:`NotFound` for anyone else, as if there were none."""
    export = db.session.scalar(select(DataExport).where(DataExport.token == token))
    expiry = expires_at(export) if export else None
    if export is None or export.user_id != user.id or expiry is None or expiry <= utcnow():
        raise NotFound(_("This download is not available."))
    path = export_file(export)
    if not path.exists():
        raise NotFound(_("This download is not available."))
    return path


# ---- the job ----------------------------------------------------------------------------


def build_data_exports() -> None:
    """Job: delete the exports whose link expired, then build the ones asked for. One that
    fails (a plugin's listener raised) is logged and left for the next run; the others are
    built all the same."""
    _delete_expired_exports()
    pending = db.session.scalars(
        select(DataExport)
        .where(DataExport.built_at.is_(None))
        .order_by(DataExport.id)
        .with_for_update(skip_locked=True)
    ).all()
    for export in pending:
        try:
            with db.session.begin_nested():
                _build(export)
        except Exception:
            logger.exception("the data export %s of member %s failed", export.id, export.user_id)


def _delete_expired_exports() -> None:
    cutoff = utcnow() - timedelta(days=EXPORT_DAYS)
    expired = db.session.scalars(select(DataExport).where(DataExport.built_at <= cutoff)).all()
    for export in expired:
        export_file(export).unlink(missing_ok=True)
    db.session.execute(delete(DataExport).where(DataExport.built_at <= cutoff))


def _build(export: DataExport) -> None:
    user = db.session.get(User, export.user_id)
    assert user is not None  # the row goes with its member (ON DELETE CASCADE)
    parts = [core_part(user), *alma().hooks.export_member_data(user)]
    path = export_file(export)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_bytes(export_zip(parts))
    partial.replace(path)
    export.built_at = utcnow()
    with reading_as(user):
        notify(
            user,
            _("A copy of your data is ready to download for %(days)d days.", days=EXPORT_DAYS),
            url=site_path("profile.download_export", token=export.token),
            email_subject=_("Your data is ready to download"),
            mail_kind=DATA_EXPORT,
        )


def export_zip(parts: list[ExportPart]) -> bytes:
    """The ZIP of every part: README.txt, ``<name>.json`` each, and their files."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", _readme(parts))
        for part in parts:
            archive.writestr(f"{part.name}.json", json.dumps(part.data, indent=2, default=_iso))
            for filename, content in part.files.items():
                archive.writestr(f"{part.name}/{filename}", content)
    return buffer.getvalue()


def _iso(value: Any) -> str:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON-ready")


def _readme(parts: list[ExportPart]) -> str:
    site = current_app.config["SITE_NAME"]
    lines = [
        _(
            "Your data from %(site)s, as of %(moment)s UTC.",
            site=site,
            moment=utcnow().strftime("%Y-%m-%d %H:%M"),
        ),
        "",
        _(
            "Each part is a JSON file (UTF-8; times in ISO 8601, UTC) named after the part of"
            " the site it comes from; files that belong to a part are in the folder of its name."
        ),
        "",
    ]
    for part in parts:
        lines.append(f"{part.name}.json: {part.about}".rstrip())
        lines.extend(f"  {part.name}/{filename}" for filename in part.files)
    return "\n".join(lines) + "\n"


# ---- core's own part --------------------------------------------------------------------


def core_part(user: User) -> ExportPart:
    files = {}
    photo = photo_folder() / user.photo if user.photo else None
    if photo and photo.exists():
        files[photo.name] = photo.read_bytes()
    return ExportPart(
        "core",
        {
            "profile": _profile(user),
            "topics": {
                "expertise": user.topic_names("expertise"),
                "interests": user.topic_names("interest"),
            },
            "languages": user.language_codes,
            "alerts": _alerts(user),
            "activities": _activities(user),
            "goals": _goals(user),
            "mail_choices": choices_of(user),
            "mails_held_for_digest": _held_mails(user),
            "api_tokens": _tokens(user),
        },
        files,
        about=_(
            "Your profile, topics, languages, alerts, activities and goals (and your photo),"
            " how you get each kind of e-mail, the e-mails waiting for your daily digest, and"
            " your API tokens (their names, not the tokens: alma never kept those)."
        ),
    )


def _profile(user: User) -> dict[str, Any]:
    return {
        "display_name": user.display_name,
        "email": user.email,
        "bio": user.bio,
        "photo": user.photo,
        "timezone": user.timezone,
        "locale": user.locale,
        "registered_at": user.created_at,
        "email_confirmed_at": user.email_confirmed_at,
        "last_login_at": user.last_login_at,
    }


def _held_mails(user: User) -> list[dict[str, Any]]:
    held = db.session.scalars(
        select(HeldMail).where(HeldMail.user_id == user.id).order_by(HeldMail.id)
    )
    return [
        {"kind": h.kind, "subject": h.subject, "written_at": h.created_at, "due_at": h.due_at}
        for h in held
    ]


def _tokens(user: User) -> list[dict[str, Any]]:
    return [
        {
            "name": token.name,
            "scope": token.scope,
            "starts_with": token.hint,
            "created_at": token.created_at,
            "last_used_at": token.last_used_at,
        }
        for token in tokens_of(user)
    ]


def _alerts(user: User) -> list[dict[str, Any]]:
    alerts = db.session.scalars(
        select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)
    )
    return [
        {"message": a.message, "url": a.url, "created_at": a.created_at, "read_at": a.read_at}
        for a in alerts
    ]


def _activities(user: User) -> list[dict[str, Any]]:
    activities = db.session.scalars(
        select(Activity).where(Activity.user_id == user.id).order_by(Activity.id)
    )
    return [
        {
            "kind": a.kind,
            "subject": a.subject,
            "url": a.url,
            "created_at": a.created_at,
            "undone_at": a.undone_at,
        }
        for a in activities
    ]


def _goals(user: User) -> list[dict[str, Any]]:
    parties = db.session.scalars(
        select(GoalParty).join(Goal).where(GoalParty.user_id == user.id).order_by(Goal.id)
    )
    return [
        {
            "kind": goal_label(party.goal.kind),
            "title": party.goal.title,
            "your_decision": party.decision,
            "created_at": party.goal.created_at,
            "completed_at": party.goal.completed_at,
            "declined_at": party.goal.declined_at,
        }
        for party in parties
    ]
