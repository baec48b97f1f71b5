"""The Python side of the template lint: what a member reads that Python writes (flash
messages, form labels and validators' messages, mail subjects, alerts, the domain errors
services raise for pages to show, the labels plugins contribute) is a translation call,
never a bare string."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
SOURCES = sorted(
    path
    for folder in ("core", "plugins", "examples/alma-kudos/alma_kudos")
    for path in (ROOT / folder).rglob("*.py")
    if "migrations" not in path.parts and "static" not in path.parts
)
LABELS = {"label", "title", "heading", "note", "empty", "legend", "badge", "unit", "count_label"}
# the calls whose arguments a member reads: positions, and keywords
SHOWN: dict[str, tuple[tuple[int, ...], set[str]]] = {
    "flash": ((0,), set()),
    "notify": ((1,), {"message", "email_subject"}),
    "send_mail": ((1,), {"subject"}),
    **dict.fromkeys(
        ("InvalidInput", "NotAllowed", "NotFound", "RateLimited", "TooManyReports", "EditConflict"),
        ((0,), set()),
    ),
    **dict.fromkeys(("NavItem", "HomeCounter", "AdminSection"), ((0,), LABELS)),
    **dict.fromkeys(
        ("ProfileArea", "ProfileSection", "Statistic", "ActivityKind", "GoalKind", "MailKind"),
        ((1,), LABELS),
    ),
    "ReportKind": ((1,), LABELS),
    "ProfileField": ((), LABELS),
    "ExportPart": ((), {"about"}),
    "run_action": ((), {"success"}),
    # what a transition's button says, what its flash says, and its refusals
    "Step": ((4, 5), {"label", "done", "not_yours", "not_now"}),
    "Transitions": ((), {"not_yours", "not_now", "unknown"}),
}
# a form field's label, a validator's message
FORMS = re.compile(
    r"^(\w+Field|Length|DataRequired|InputRequired|Email|NumberRange|Regexp|Optional|AnyOf"
    r"|NoneOf|URL)$"
)
FORM_KEYWORDS = {"label", "message", "description"}
WORD = re.compile(r"[^\W\d_]")


def bare_text(node: ast.expr) -> bool:
    """A string literal with words in it (an f-string is one), not a translation call."""
    if isinstance(node, ast.JoinedStr):
        return True
    return (
        isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and bool(WORD.search(node.value))
    )


def called_name(call: ast.Call) -> str:
    if isinstance(call.func, ast.Name):
        return call.func.id
    return call.func.attr if isinstance(call.func, ast.Attribute) else ""


def shown_arguments(call: ast.Call) -> list[ast.expr]:
    name = called_name(call)
    positions, keywords = ((0,), FORM_KEYWORDS) if FORMS.match(name) else SHOWN.get(name, ((), ()))
    arguments = [call.args[index] for index in positions if index < len(call.args)]
    return arguments + [keyword.value for keyword in call.keywords if keyword.arg in keywords]


def untranslated_strings(source: str) -> list[str]:
    found = [
        (argument.lineno, argument.col_offset, f"{called_name(node)}({ast.unparse(argument)})")
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        for argument in shown_arguments(node)
        if bare_text(argument)
    ]
    return [f"line {line}: {call}" for line, _column, call in sorted(found)]


@pytest.mark.parametrize("path", SOURCES, ids=lambda path: str(path.relative_to(ROOT)))
def test_python_shows_members_only_translated_text(path):
    assert untranslated_strings(path.read_text(encoding="utf-8")) == []


def test_the_lint_finds_bare_strings():
    source = (
        'flash("Saved.", "success")\n'
        'flash(_("Saved."), "success")\n'
        'name = StringField("Name", validators=[Length(max=3, message="Too long")])\n'
        'label = StringField(_l("Name"))\n'
        'raise InvalidInput(f"No {thing}")\n'
        'send_mail(user.email, "Welcome", "mail/welcome")\n'
        'EqualTo("password")\n'
        'NavItem("Kudos", "kudos.index")\n'
        'ActivityKind("kudos.given", label="Gave kudos")\n'
        'record_activity(GIVEN, giver, subject="kudos:1")\n'
    )
    assert untranslated_strings(source) == [
        "line 1: flash('Saved.')",
        "line 3: StringField('Name')",
        "line 3: Length('Too long')",
        "line 5: InvalidInput(f'No {thing}')",
        "line 6: send_mail('Welcome')",
        "line 8: NavItem('Kudos')",
        "line 9: ActivityKind('Gave kudos')",
    ]
