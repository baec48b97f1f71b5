"""Kinds of e-mail and each member's choice of how to get them.

Core and every plugin declare the kinds of mail they send (``MailKind``, hook
``register_mail_kinds``). A member chooses per kind: at once, in one daily digest, or off; no
row in ``core_mail_preferences`` means the kind's default. Kinds that cannot be turned off
(account security) are always sent at once. A mail that can be turned off carries a signed
unsubscribe link that works without logging in (``unsubscribe_url``); it names the member and
the kinds it turns off, and does not expire (an old mail's link must keep working).
"""

from __future__ import annotations

import dataclasses
import logging
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import delete, select

from core.contributions import MAIL_CHOICES, MAIL_DIGEST, MAIL_NOW, MAIL_OFF, MailKind
from core.db import db, insert_on_conflict, utcnow
from core.errors import InvalidInput
from core.i18n import from_local, local_date
from core.models import HeldMail, MailPreference, User
from core.plugins import PluginError
from core.state import alma
from core.urls import external_url

logger = logging.getLogger(__name__)

ACCOUNT_SECURITY = "core.account_security"
DATA_EXPORT = "core.data_export"
ALERTS = "core.alerts"
DIGEST = "core.digest"  # the daily digest itself, in the outbox: not a kind one chooses
UNSUBSCRIBE_SALT = "unsubscribe"


class UnknownMailKind(ValueError):
    """``send_mail`` was given a kind nobody declared, or a template of no declared kind."""


def core_mail_kinds() -> list[MailKind]:
    return [
        MailKind(
            ACCOUNT_SECURITY,
            _l(
                "Account security: confirmation and sign-in links, password resets, changes"
                " of your e-mail address or password, the deletion of your account"
            ),
            can_turn_off=False,
            templates=(
                "mail/confirm",
                "mail/already_registered",
                "mail/reset",
                "mail/login_link",
                "mail/change_email",
                "mail/email_changed",
                "mail/password_changed",
                "mail/deletion_requested",
            ),
            heading=_l("Your account"),
            order=0,
        ),
        MailKind(
            DATA_EXPORT,
            _l("The copy of your data you asked for is ready"),
            can_turn_off=False,
            heading=_l("Your account"),
            order=1,
        ),
        # alerts that go by mail (notify with email_subject) and name no kind of their own
        MailKind(ALERTS, _l("Other alerts"), templates=("mail/notification",), heading=_l("Other")),
    ]


@dataclass(frozen=True)
class MailCatalog:
    """Every declared kind (by name, core's account kinds first, then each plugin's in the
    order of ``PLUGINS``, core's other alerts last) and the kind of each template."""

    kinds: dict[str, MailKind]
    by_template: dict[str, MailKind]

    def by_heading(self) -> list[tuple[str, list[MailKind]]]:
        """The kinds under their headings, in order."""
        by_heading: dict[str, list[MailKind]] = {}
        for kind in self.kinds.values():
            by_heading.setdefault(str(kind.heading), []).append(kind)
        return [
            (title, sorted(kinds, key=lambda k: k.order)) for title, kinds in by_heading.items()
        ]


def build_catalog(by_plugin: Mapping[str, list[MailKind]]) -> MailCatalog:
    """Check what the plugins declare (at startup: a mistake stops alma, naming the plugin)."""
    core = core_mail_kinds()
    declared = [("core", kind) for kind in core[:-1]]
    for plugin, contributed in by_plugin.items():
        for kind in contributed:
            declared.append(
                (plugin, dataclasses.replace(kind, heading=kind.heading or plugin.title()))
            )
    declared.append(("core", core[-1]))
    kinds: dict[str, MailKind] = {}
    by_template: dict[str, MailKind] = {}
    for plugin, kind in declared:
        problem = _problem_with(plugin, kind, kinds, by_template)
        if problem:
            raise PluginError(f"plugin {plugin!r}: mail kind {kind.name!r} {problem}")
        kinds[kind.name] = kind
        by_template.update(dict.fromkeys(kind.templates, kind))
    return MailCatalog(kinds, by_template)


def _problem_with(
    plugin: str, kind: MailKind, kinds: dict[str, MailKind], by_template: dict[str, MailKind]
) -> str | None:
    if not kind.name.startswith(f"{plugin}."):
        return f"must start with {plugin + '.'!r}"
    if kind.name in kinds:
        return "is declared twice"
    if kind.default not in MAIL_CHOICES:
        return f"has the default {kind.default!r}, not one of {', '.join(MAIL_CHOICES)}"
    if not kind.can_turn_off and kind.default != MAIL_NOW:
        return "cannot be turned off, so its default must be 'now'"
    taken = next((t for t in kind.templates if t in by_template), None)
    if taken:
        return f"claims the template {taken!r} of {by_template[taken].name!r}"
    return None


def catalog() -> MailCatalog:
    return alma().mail_catalog


def mail_kind_of(kind: str | None, template: str) -> MailKind | None:
    """The declared kind of a mail: ``kind`` if given, else the one whose ``templates`` name
    ``template``. An unknown ``kind`` raises :class:`UnknownMailKind`. A template of no
    kind, without ``kind``, raises in tests (``TESTING``); in production the mail goes out
    as before mail kinds (at once, no unsubscribe link) with a ``DeprecationWarning``, as a
    plugin written for an older API version 1 would send it."""
    known = catalog()
    if kind is not None:
        found = known.kinds.get(kind)
        if found is None:
            raise UnknownMailKind(
                f"send_mail(..., {template!r}, kind={kind!r}): no plugin declares the mail kind"
                f" {kind!r}. Declare it in the sending plugin's register_mail_kinds() hook:"
                f" MailKind({kind!r}, label, templates=({template!r},)) (docs/writing-plugins.md,"
                " 'Mail kinds')."
            )
        return found
    found = known.by_template.get(template)
    if found is None:
        message = (
            f"send_mail(..., {template!r}): the template belongs to no declared mail kind."
            " Declare one in the sending plugin's register_mail_kinds() hook:"
            f" MailKind('<plugin>.<kind>', label, templates=({template!r},)), or pass"
            " send_mail(..., kind='<plugin>.<kind>') (docs/writing-plugins.md, 'Mail kinds')."
        )
        if current_app.testing:
            raise UnknownMailKind(message)
        warnings.warn(message, DeprecationWarning, stacklevel=3)
        logger.warning("%s", message)
    return found


# ---- each member's choice -------------------------------------------------------------------


def choices_of(user: User) -> dict[str, str]:
    """The member's choice for every kind (the default where they chose nothing)."""
    rows = db.session.execute(
        select(MailPreference.kind, MailPreference.choice).where(MailPreference.user_id == user.id)
    )
    chosen = {kind: choice for kind, choice in rows}
    return {
        name: chosen.get(name, kind.default) if kind.can_turn_off else MAIL_NOW
        for name, kind in catalog().kinds.items()
    }


def choice_of(user: User, kind: MailKind) -> str:
    if not kind.can_turn_off:
        return MAIL_NOW
    row = db.session.get(MailPreference, (user.id, kind.name))
    return row.choice if row else kind.default


def choose(user: User, chosen: Mapping[str, str]) -> None:
    """Save the member's choices (kind name → ``"now"``, ``"digest"`` or ``"off"``); a kind
    that cannot be turned off, an unknown kind or choice refuses them all."""
    kinds = catalog().kinds
    for name, choice in chosen.items():
        kind = kinds.get(name)
        if kind is None or not kind.can_turn_off:
            raise InvalidInput(_("These e-mails cannot be turned off."))
        if choice not in MAIL_CHOICES:
            raise InvalidInput(
                _("Choose at once, daily digest or off for “%(kind)s”.", kind=kind.label)
            )
    for name, choice in chosen.items():
        _save_choice(user.id, kinds[name], choice)


def turn_off(user: User, kinds: list[MailKind]) -> None:
    for kind in kinds:
        _save_choice(user.id, kind, MAIL_OFF)


def _save_choice(user_id: int, kind: MailKind, choice: str) -> None:
    """A row only where the choice differs from the default: the default may change later."""
    if choice == kind.default:
        db.session.execute(
            delete(MailPreference).where(
                MailPreference.user_id == user_id, MailPreference.kind == kind.name
            )
        )
        return
    statement = insert_on_conflict(MailPreference).values(
        user_id=user_id, kind=kind.name, choice=choice
    )
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=["user_id", "kind"], set_={"choice": statement.excluded.choice}
        )
    )


# ---- unsubscribing without logging in -------------------------------------------------------


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=UNSUBSCRIBE_SALT)


def unsubscribe_url(user: User, kinds: list[str]) -> str:
    """The signed link that turns ``kinds`` off for ``user``, without login."""
    token = _serializer().dumps({"uid": user.id, "kinds": sorted(kinds)})
    return external_url("mail.unsubscribe", token=token)


def read_unsubscribe_token(token: str) -> tuple[User, list[MailKind]]:
    """The member and the kinds (those that still exist and can be turned off) a link
    names; :class:`InvalidInput` for a link that was not signed here."""
    invalid = InvalidInput(_("This unsubscribe link is not valid. Please copy it whole."))
    try:
        payload = _serializer().loads(token)
        user = db.session.get(User, int(payload["uid"]))
        names = [str(name) for name in payload["kinds"]]
    except (BadSignature, KeyError, TypeError, ValueError):
        raise invalid from None
    kinds = catalog().kinds
    found = [kinds[name] for name in names if name in kinds and kinds[name].can_turn_off]
    if user is None or not found:
        raise invalid
    return user, found


# ---- the daily digest --------------------------------------------------------------------


def next_digest_at(user: User, now: datetime) -> datetime:
    """The member's next digest hour (``MAIL_DIGEST_HOUR`` on their clock) after ``now``."""
    hour = time(current_app.config["MAIL_DIGEST_HOUR"])
    today = local_date(now, user)
    due = from_local(today, hour, user)
    return due if due > now else from_local(today + timedelta(days=1), hour, user)


def hold_for_digest(user: User, kind: MailKind, subject: str, text: str) -> HeldMail:
    now = utcnow()
    held = HeldMail(
        user_id=user.id,
        kind=kind.name,
        subject=subject,
        text_body=text,
        created_at=now,
        due_at=next_digest_at(user, now),
    )
    db.session.add(held)
    return held


def wanted_in_digest(user: User, kind_names: set[str]) -> set[str]:
    """Of the kinds of a member's held mails, those they have not turned off since."""
    choices = choices_of(user)
    return {name for name in kind_names if choices.get(name, MAIL_DIGEST) != MAIL_OFF}
