"""Personal access tokens: a member makes one for an app or script, which then acts as them
through the HTTP API (``core.webapi``), reading only or writing too. The token is shown once;
alma keeps its SHA-256 (a token is 256 random bits, so a fast hash is enough: nothing to
guess), and the first characters, for the member to tell their tokens apart."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import delete, select, update

from core.db import db, utcnow
from core.errors import InvalidInput, NotFound
from core.models import TOKEN_SCOPES, ApiToken, User

PREFIX = "alma_pat_"  # says what it is to a secret scanner and to the member who finds one
HINT_LENGTH = len(PREFIX) + 4
MAX_TOKENS = 20  # per member: more is a sign of tokens made and forgotten
USED_EVERY = timedelta(minutes=5)  # how stale a token's "last used" may get


def create_token(user: User, name: str, scope: str) -> str:
    """Make a token for ``user`` and return it: the only time it can be read."""
    name = name.strip()
    if not name:
        raise InvalidInput(_("Name the token after the app that will use it."))
    if scope not in TOKEN_SCOPES:
        raise InvalidInput(_("Choose what the token may do."))
    if len(tokens_of(user)) >= MAX_TOKENS:
        raise InvalidInput(
            _("You have %(n)d tokens already: revoke one you no longer use.", n=MAX_TOKENS)
        )
    secret = PREFIX + secrets.token_urlsafe(32)
    db.session.add(
        ApiToken(
            user_id=user.id,
            name=name[:80],
            scope=scope,
            secret_hash=_digest(secret),
            hint=secret[:HINT_LENGTH],
        )
    )
    db.session.flush()
    return secret


def tokens_of(user: User) -> list[ApiToken]:
    """The member's tokens, the newest first."""
    query = select(ApiToken).where(ApiToken.user_id == user.id)
    return list(db.session.scalars(query.order_by(ApiToken.id.desc())))


def revoke_token(user: User, token_id: int) -> None:
    """Delete one of the member's tokens: the app using it is refused from its next call."""
    revoked = db.session.execute(
        delete(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user.id)
    )
    if not revoked.rowcount:  # type: ignore[attr-defined]
        raise NotFound(_("This token is revoked already."))


def token_for(secret: str) -> ApiToken | None:
    """The live token ``secret`` names, if its member may act now (not suspended, not
    deactivated, address confirmed)."""
    if not secret.startswith(PREFIX) or len(secret) > 200:
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.secret_hash == _digest(secret)))
    if token is None or not (token.user.is_listed and token.user.email_confirmed):
        return None
    return token


def seen_long_ago(token: ApiToken) -> bool:
    """Whether the token's "last used" is due to move (see ``note_used``)."""
    return token.last_used_at is None or token.last_used_at < utcnow() - USED_EVERY


def note_used(token_id: int) -> None:
    """Move a token's "last used" to now."""
    db.session.execute(
        update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=utcnow())
    )


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
