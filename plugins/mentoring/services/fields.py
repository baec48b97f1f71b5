"""Fields of study: the operator's two-level list (broad fields, each with its narrow fields),
read from a CSV file at startup, and the fields each member chose as mentor and as mentee.

The file (setting ``fields_file``; by default ``fields_of_study.csv`` beside the plugin, the
ISCED-F 2013 broad and narrow fields) has the columns ``code,name,parent``: a broad field has
no parent, a narrow field names its broad field. Lines starting with ``#`` are comments.

Names are written in English in the file and translated when shown, through the plugin's
catalog (``field_label``): ``pybabel extract`` reads the shipped file with
``extract_field_names`` (babel.cfg), so its names are in the catalog; a name the catalog does
not have (an operator's own file) shows as written.

A member's choices are rows of ``mentoring_member_fields``. When the file changes, a choice
whose code the file no longer has stays in the table, shown nowhere and offered nowhere (the
operator may bring the code back, and the choice with it); startup logs such codes with how
many members hold them (``codes_no_longer_listed``), and so does ``alma mentoring fields``.
"""

from __future__ import annotations

import csv
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from flask import Flask, current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, select
from sqlalchemy.exc import SQLAlchemyError
from wtforms import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.2, not in the stubs

from core.api import ConfigError, InvalidInput, User, db, insert_on_conflict
from plugins.mentoring.models import FIELD_ROLES, MemberField

logger = logging.getLogger(__name__)

MENTOR, MENTEE = FIELD_ROLES
SHIPPED_FILE = Path(__file__).parent.parent / "fields_of_study.csv"
SETTING = "plugins.mentoring.fields_file"
HEADER = ["code", "name", "parent"]
HEADER_LINE = ",".join(HEADER)
CODE = re.compile(r"[0-9A-Za-z][0-9A-Za-z._-]{0,7}")  # fits mentoring_member_fields.code
MAX_NAME_LENGTH = 200
EXTENSION_KEY = "mentoring.fields"


# ---- the list of fields --------------------------------------------------------------------


@dataclass(frozen=True)
class FieldOfStudy:
    code: str
    name: str  # as the file writes it: the message id of its translation
    parent: str  # the broad field's code; empty for a broad field


@dataclass(frozen=True)
class FieldsOfStudy:
    """The broad fields in the file's order, each with its narrow fields in order."""

    broad: list[FieldOfStudy]
    narrow: dict[str, list[FieldOfStudy]]  # by broad code
    by_code: dict[str, FieldOfStudy] = field(init=False)  # each broad field, then its narrow
    position: dict[str, int] = field(init=False)  # of each code, in that order

    def __post_init__(self) -> None:
        every = [one for broad in self.broad for one in [broad, *self.narrow[broad.code]]]
        object.__setattr__(self, "by_code", {one.code: one for one in every})
        object.__setattr__(self, "position", {one.code: n for n, one in enumerate(every)})

    def codes_under(self, code: str) -> list[str]:
        """The codes a filter by ``code`` matches: a broad field and its narrow fields, or a
        narrow field alone."""
        return [code] + [one.code for one in self.narrow.get(code, [])]


class FieldsFileError(ValueError):
    """The file of fields has problems: each names its line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def read_fields(path: Path) -> FieldsOfStudy:
    """The fields in the CSV file at ``path``, checked; ``FieldsFileError`` if it has errors."""
    try:
        text = path.read_text(encoding="utf-8-sig")  # a spreadsheet may write a BOM
    except OSError as error:
        raise FieldsFileError([f"cannot be read: {error.strerror or error}"]) from None
    except UnicodeDecodeError:
        raise FieldsFileError(["is not UTF-8 text"]) from None
    return parse_fields(text)


def parse_fields(text: str) -> FieldsOfStudy:
    rows = list(_rows(text.splitlines()))
    problems: list[tuple[int, str]] = []  # (line, what is wrong there)
    if not rows or [column.strip() for column in rows[0][1]] != HEADER:
        problems.append(
            (
                rows[0][0] if rows else 1,
                f"the first line that is not a comment must be the header {HEADER_LINE}",
            )
        )
    seen: dict[str, int] = {}
    fields: list[tuple[int, FieldOfStudy]] = []
    for number, columns in rows[1:]:
        problem = _problem_of_row(columns, seen)
        if problem:
            problems.append((number, problem))
            continue
        code, name, parent = (column.strip() for column in columns)
        seen[code] = number
        fields.append((number, FieldOfStudy(code, name, parent)))
    broad = [one for _, one in fields if not one.parent]
    broad_codes = {one.code for one in broad}
    narrow: dict[str, list[FieldOfStudy]] = {one.code: [] for one in broad}
    for number, one in fields:
        if not one.parent:
            continue
        if one.parent in broad_codes:
            narrow[one.parent].append(one)
        elif one.parent in seen:
            problems.append(
                (
                    number,
                    f"parent {one.parent!r} is a narrow field: the parent must be a broad "
                    "field (one with no parent)",
                )
            )
        else:
            problems.append((number, f"unknown parent {one.parent!r}"))
    if problems:
        raise FieldsFileError([f"line {number}: {what}" for number, what in sorted(problems)])
    if not broad:
        raise FieldsFileError(["has no field"])
    return FieldsOfStudy(broad, narrow)


def _rows(lines: Iterable[str]) -> Iterator[tuple[int, list[str]]]:
    """Each line that is not blank nor a comment, with its number, split as CSV."""
    for number, line in enumerate(lines, start=1):
        if line.strip() and not line.lstrip().startswith("#"):
            yield number, next(csv.reader([line]))


def _problem_of_row(columns: list[str], seen: dict[str, int]) -> str | None:
    if len(columns) != len(HEADER):
        return f"has {len(columns)} columns, not 3 ({HEADER_LINE})"
    code, name, parent = (column.strip() for column in columns)
    if not code:
        return "has no code"
    for label, value in (("code", code), ("parent", parent)):
        if value and not CODE.fullmatch(value):
            return (
                f"bad {label} {value!r}: 1 to 8 letters, digits, dots, dashes or underscores, "
                "starting with a letter or digit"
            )
    if code in seen:
        return f"duplicate code {code!r} (first on line {seen[code]})"
    if not name:
        return f"code {code!r} has no name"
    if len(name) > MAX_NAME_LENGTH:
        return f"the name of {code!r} is longer than {MAX_NAME_LENGTH} characters"
    if parent == code:
        return f"code {code!r} is its own parent"
    return None


def fields_file(app: Flask) -> Path:
    """The file named by the setting (relative to the instance folder), or the shipped one."""
    named = app.config["PLUGIN_SETTINGS"]["mentoring"]["fields_file"]
    return Path(app.instance_path, named) if named else SHIPPED_FILE


def load_fields(app: Flask) -> None:
    """At startup: read the operator's file once for this app; stop alma on a bad file."""
    path = fields_file(app)
    try:
        app.extensions[EXTENSION_KEY] = read_fields(path)
    except FieldsFileError as error:
        raise ConfigError(SETTING, f"{path}: " + "; ".join(error.problems)) from None


def fields_of_study() -> FieldsOfStudy:
    fields: FieldsOfStudy = current_app.extensions[EXTENSION_KEY]
    return fields


def field_label(one: FieldOfStudy) -> str:
    """The field's name in the reader's language (as written, if the catalog lacks it)."""
    return _(one.name)


def broad_label(one: FieldOfStudy) -> str:
    """How a broad field reads among its narrow fields, where it can be chosen as a whole."""
    return _("%(field)s, in general", field=field_label(one))


def grouped_choices() -> list[SelectChoice]:
    """The profile form's options: each broad field's group, the broad field first."""
    fields = fields_of_study()
    choices = []
    for broad in fields.broad:
        group = field_label(broad)
        choices.append(SelectChoice(broad.code, broad_label(broad), optgroup=group))
        choices += [
            SelectChoice(narrow.code, field_label(narrow), optgroup=group)
            for narrow in fields.narrow[broad.code]
        ]
    return choices


# ---- a member's fields ---------------------------------------------------------------------


def chosen_codes(user: User, role: str) -> list[str]:
    """The codes ``user`` chose as ``role`` that the list has, in the list's order."""
    return [one.code for one in fields_of_members([user.id], role).get(user.id, [])]


def choose_fields(user: User, role: str, codes: Iterable[str]) -> None:
    """Make ``codes`` the fields ``user`` holds as ``role`` (``"mentor"`` or ``"mentee"``).
    Choices of codes the list no longer has are kept: the member was not offered them."""
    known = fields_of_study().by_code
    wanted = set(codes)
    unknown = sorted(wanted - known.keys())
    if unknown:
        raise InvalidInput(_("%(code)s is not a field of study here.", code=unknown[0]))
    db.session.execute(
        delete(MemberField).where(
            MemberField.user_id == user.id,
            MemberField.role == role,
            MemberField.code.in_(known.keys() - wanted),
        )
    )
    if wanted:
        db.session.execute(  # a double submit may insert them first: then they are there
            insert_on_conflict(MemberField)
            .values([{"user_id": user.id, "role": role, "code": code} for code in wanted])
            .on_conflict_do_nothing()
        )


def fields_of_members(user_ids: Iterable[int], role: str) -> dict[int, list[FieldOfStudy]]:
    """The listed fields each member holds as ``role``, in the list's order: one query."""
    ids = list(user_ids)
    if not ids:
        return {}
    fields = fields_of_study()
    rows = db.session.execute(
        select(MemberField.user_id, MemberField.code).where(
            MemberField.user_id.in_(ids), MemberField.role == role
        )
    )
    listed = [row for row in rows if row.code in fields.by_code]
    listed.sort(key=lambda row: fields.position[row.code])
    held: dict[int, list[FieldOfStudy]] = {}
    for user_id, code in listed:
        held.setdefault(user_id, []).append(fields.by_code[code])
    return held


def codes_of_members(user_ids: Iterable[int]) -> dict[int, dict[str, frozenset[tuple[str, str]]]]:
    """The listed fields each member holds, by role ("mentor", "mentee"), each as
    ``(broad field, field)`` (a broad field is its own): one query, for scoring
    (suggestions), whatever shape the operator's codes have."""
    ids = list(user_ids)
    if not ids:
        return {}
    listed = fields_of_study().by_code
    rows = db.session.execute(
        select(MemberField.user_id, MemberField.role, MemberField.code).where(
            MemberField.user_id.in_(ids)
        )
    )
    held: dict[int, dict[str, set[tuple[str, str]]]] = {}
    for user_id, role, code in rows:
        field = listed.get(code)
        if field is not None:
            pair = (field.parent or field.code, field.code)
            held.setdefault(user_id, {}).setdefault(role, set()).add(pair)
    return {
        user_id: {role: frozenset(pairs) for role, pairs in roles.items()}
        for user_id, roles in held.items()
    }


def labels_of_members(user_ids: Iterable[int], role: str = MENTOR) -> dict[int, list[str]]:
    """What badges show: the names of the fields each member holds as ``role``."""
    held = fields_of_members(user_ids, role)
    return {user_id: [field_label(one) for one in chosen] for user_id, chosen in held.items()}


def all_rows_of(user: User) -> list[MemberField]:
    """Every field row of ``user``, listed or not (for their data export)."""
    return list(
        db.session.scalars(
            select(MemberField)
            .where(MemberField.user_id == user.id)
            .order_by(MemberField.role, MemberField.code)
        )
    )


def holds_field_under(code: str, role: str = MENTOR) -> Any:
    """A condition on ``User``: they hold ``code`` as ``role``, or (a broad field's code) one
    of its narrow fields."""
    return (
        select(MemberField.user_id)
        .where(
            MemberField.user_id == User.id,
            MemberField.role == role,
            MemberField.code.in_(fields_of_study().codes_under(code)),
        )
        .exists()
    )


# ---- a changed file ------------------------------------------------------------------------


@dataclass(frozen=True)
class UnlistedCode:
    code: str
    members: int  # how many members hold it, as mentor or mentee

    def __str__(self) -> str:
        return f"{self.code}: {self.members} member{'' if self.members == 1 else 's'}"


def codes_no_longer_listed() -> list[UnlistedCode]:
    """The codes members hold that the file does not have (it changed since they chose)."""
    known = fields_of_study().by_code
    rows = db.session.execute(
        select(MemberField.code, func.count(func.distinct(MemberField.user_id)))
        .group_by(MemberField.code)
        .order_by(MemberField.code)
    )
    return [UnlistedCode(code, count) for code, count in rows if code not in known]


def report_unlisted_codes() -> list[UnlistedCode]:
    """At startup: log the codes members hold that the file no longer has. Before ``alma db
    upgrade`` made the table, there is nothing to report."""
    try:
        unlisted = codes_no_longer_listed()
    except SQLAlchemyError:
        db.session.rollback()
        return []
    finally:
        db.session.remove()
    if unlisted:
        logger.warning(
            "fields of study: members hold codes the file %s no longer has (kept, not shown): %s",
            fields_file(current_app),
            ", ".join(map(str, unlisted)),
        )
    return unlisted


# ---- translation -----------------------------------------------------------------------------


def extract_field_names(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: Any
) -> Iterator[tuple[int, str, str, list[str]]]:
    """A Babel extractor (babel.cfg): the names of a file of fields, as messages."""
    text = fileobj.read().decode("utf-8-sig")
    for number, columns in list(_rows(text.splitlines()))[1:]:
        if len(columns) == len(HEADER) and columns[1].strip():
            yield number, "gettext", columns[1].strip(), [f"field of study {columns[0].strip()}"]
