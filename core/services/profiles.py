"""My data: the profile a member edits, and the photo they upload."""

from __future__ import annotations

import io
import secrets
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import format_decimal
from flask_babel import gettext as _
from PIL import Image, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.interfaces import ORMOption
from werkzeug.datastructures import FileStorage

from core.db import after_commit, db
from core.errors import InvalidInput, NotFound
from core.i18n import is_time_zone, language_names
from core.models import Topic, User, UserLanguage, UserTopic
from core.state import alma

MAX_NAME_LENGTH = 80
MAX_TOPICS = 12
MAX_TOPIC_LENGTH = 60
MAX_BIO_LENGTH = 2000
PHOTO_SIZE = 320
PHOTO_FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}
MAX_PHOTO_PIXELS = 25_000_000


def member_for(viewer: User, member_id: int, *options: ORMOption) -> User:
    """The member ``member_id`` as ``viewer`` may see them, or ``NotFound``: an unconfirmed
    account is nobody yet, and a suspended or deactivated member is gone for others (staff
    see them in the console)."""
    member = db.session.scalar(select(User).where(User.id == member_id).options(*options))
    if member is None or not member.email_confirmed:
        raise NotFound(_("There is no such member."))
    if not member.is_listed and member.id != viewer.id:
        raise NotFound(_("There is no such member."))
    return member


def member_facts(members: Sequence[User]) -> dict[int, list[str]]:
    """The public lines plugins show under each member's name (``register_member_facts``),
    by member id: one call per plugin for the whole page."""
    facts: dict[int, list[str]] = {member.id: [] for member in members}
    if not members:
        return facts
    for fact in alma().member_facts:
        for member_id, text in fact.values(members).items():
            if member_id in facts and text:
                facts[member_id].append(str(text))
    return facts


def topic_names_of(member_ids: Sequence[int], kind: str) -> dict[int, list[str]]:
    """Each member's topics of ``kind`` ("expertise", "interest"), in their order, by member
    id: one statement for a page of members (a member without any is left out)."""
    names: dict[int, list[str]] = {}
    for member_id, name in db.session.execute(
        select(UserTopic.user_id, Topic.name)
        .join(Topic, Topic.id == UserTopic.topic_id)
        .where(UserTopic.user_id.in_(member_ids), UserTopic.kind == kind)
        .order_by(UserTopic.user_id, UserTopic.position)
    ):
        names.setdefault(member_id, []).append(name)
    return names


def language_codes_of(member_ids: Sequence[int]) -> dict[int, list[str]]:
    """The codes of the languages each member speaks, by member id: one statement for a
    page of members (a member without any is left out)."""
    codes: dict[int, list[str]] = {}
    for member_id, code in db.session.execute(
        select(UserLanguage.user_id, UserLanguage.code)
        .where(UserLanguage.user_id.in_(member_ids))
        .order_by(UserLanguage.user_id, UserLanguage.code)
    ):
        codes.setdefault(member_id, []).append(code)
    return codes


def member_badges(member: User) -> list[tuple[str, str]]:
    """The badges beside a member's name on their profile, as ``(label, style)``: those of
    the fields plugins add to the profile form that are on for this member."""
    return [
        (str(field.badge), field.badge_style)
        for field in alma().profile_fields
        if field.badge and (field.badge_when or field.load)(member)
    ]


def save_profile_fields(user: User, values: Mapping[str, Any]) -> None:
    """Store, through the plugins that add them, the values of the profile form's fields
    named in ``values`` (``register_profile_fields``); other names are left alone."""
    for field in alma().profile_fields:
        if field.name in values:
            field.save(user, values[field.name])


def split_topics(raw: str) -> list[str]:
    """``"Python, data science,python"`` → ``["Python", "data science"]``."""
    names: dict[str, str] = {}
    for part in raw.split(","):
        name = " ".join(part.split())
        if not name:
            continue
        # the lower-cased key can be longer than the name ("İ" → "i̇"): both must fit
        if len(name) > MAX_TOPIC_LENGTH or len(name.lower()) > MAX_TOPIC_LENGTH:
            raise InvalidInput(_("A topic may have at most %(n)d characters.", n=MAX_TOPIC_LENGTH))
        names.setdefault(name.lower(), name)
    if len(names) > MAX_TOPICS:
        raise InvalidInput(_("Name at most %(n)d topics.", n=MAX_TOPICS))
    return list(names.values())


def update_profile(
    user: User,
    *,
    display_name: str,
    bio: str,
    timezone: str,
    locale: str | None,
    expertise: list[str],
    interests: list[str],
    languages: list[str],
) -> None:
    display_name = display_name.strip()
    if not display_name:
        raise InvalidInput(_("Please tell us your name."))
    if len(bio) > MAX_BIO_LENGTH:
        raise InvalidInput(_("Your bio may have at most %(n)d characters.", n=MAX_BIO_LENGTH))
    if len(display_name) > MAX_NAME_LENGTH:
        raise InvalidInput(_("Your name may have at most %(n)d characters.", n=MAX_NAME_LENGTH))
    if not set(languages) <= language_names().keys():
        raise InvalidInput(_("Choose your languages from the list."))
    if not is_time_zone(timezone):
        raise InvalidInput(_("Choose a time zone from the list."))
    choose_language(user, locale)  # the last check: it changes nothing if it refuses
    user.display_name = display_name
    user.bio = bio.strip()
    user.timezone = timezone
    user.topics = [
        UserTopic(topic=topic_named(name), kind=kind, position=position)
        for kind, names in (("expertise", expertise), ("interest", interests))
        for position, name in enumerate(names)
    ]
    user.languages = [UserLanguage(code=code) for code in sorted(set(languages))]
    db.session.flush()


def choose_language(user: User, locale: str | None) -> None:
    """The language the site speaks to ``user`` (``None``: their browser's), one of
    ``LANGUAGES``; their mails and alerts follow it too."""
    if locale and locale not in current_app.config["LANGUAGES"]:
        raise InvalidInput(_("Choose a site language from the list."))
    user.locale = locale or None


def topic_named(name: str) -> Topic:
    """The shared topic with this name (case-insensitive), created on first use."""
    key = name.lower()
    topic = db.session.scalar(select(Topic).where(Topic.key == key))
    if topic:
        return topic
    topic = Topic(name=name, key=key)
    try:
        with db.session.begin_nested():
            db.session.add(topic)
    except IntegrityError:  # created by a concurrent request
        topic = db.session.execute(select(Topic).where(Topic.key == key)).scalar_one()
    return topic


def photo_folder() -> Path:
    return Path(current_app.instance_path) / "uploads" / "photos"


def max_photo_size() -> str:
    """``PHOTO_MAX_BYTES`` for people: "2 MB", "500 kB"."""
    limit = current_app.config["PHOTO_MAX_BYTES"]
    if limit >= 1_000_000:
        return format_decimal(round(limit / 1_000_000, 1)) + " MB"
    return format_decimal(max(round(limit / 1000), 1)) + " kB"


def set_photo(user: User, upload: FileStorage) -> None:
    """Check the upload is a real image of an allowed size and type, then store a square,
    re-encoded copy (which drops metadata such as GPS position)."""
    data = upload.read(current_app.config["PHOTO_MAX_BYTES"] + 1)
    if len(data) > current_app.config["PHOTO_MAX_BYTES"]:
        raise InvalidInput(_("The photo may be at most %(size)s.", size=max_photo_size()))
    image = _open_image(data)
    side = min(image.size)
    left, top = (image.width - side) // 2, (image.height - side) // 2
    image = image.crop((left, top, left + side, top + side)).resize((PHOTO_SIZE, PHOTO_SIZE))
    folder = photo_folder()
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_hex(16)}.jpg"
    image.convert("RGB").save(folder / name, "JPEG", quality=85)
    _replace_photo(user, name)


def remove_photo(user: User) -> None:
    _replace_photo(user, None)


def _open_image(data: bytes) -> Image.Image:
    try:
        image = Image.open(io.BytesIO(data))
        if image.format not in PHOTO_FORMATS:
            raise InvalidInput(_("Upload a JPEG, PNG, WebP or GIF image."))
        # A small file can unpack into a huge image: refuse it before decoding it.
        if image.width * image.height > MAX_PHOTO_PIXELS:
            raise InvalidInput(
                _("This image is too large: use one of at most 25 million pixels (5000 by 5000).")
            )
        image.load()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise InvalidInput(_("This file is not an image we can read.")) from None
    return image


def _replace_photo(user: User, name: str | None) -> None:
    old = user.photo
    user.photo = name
    if old:
        folder = photo_folder()
        after_commit(lambda: (folder / old).unlink(missing_ok=True))
