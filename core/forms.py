"""Forms of core's pages, and what a view does with a form's post. Every form carries a
CSRF token (Flask-WTF)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from flask import abort, flash, redirect
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField
from werkzeug.wrappers import Response
from wtforms import (  # type: ignore[attr-defined]  # SelectChoice: WTForms 3.2, not in the stubs
    BooleanField,
    DateField,
    EmailField,
    PasswordField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.core import UnboundField
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from core.db import db
from core.errors import InvalidInput
from core.i18n import time_zones
from core.plugins import PluginError
from core.services.accounts import MIN_PASSWORD_LENGTH

if TYPE_CHECKING:
    from core.contributions import ProfileField

PASSWORD_HINT = _l("At least %(n)d characters.", n=MIN_PASSWORD_LENGTH)


class RegisterForm(FlaskForm):
    display_name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=80)])
    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired()], description=PASSWORD_HINT)


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail address"), validators=[DataRequired()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    remember = BooleanField(_l("Keep me logged in on this device"))


class EmailOnlyForm(FlaskForm):
    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Length(max=254)])


class NewPasswordForm(FlaskForm):
    password = PasswordField(
        _l("New password"), validators=[DataRequired()], description=PASSWORD_HINT
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The two passwords differ."))],
    )


class ChangePasswordForm(NewPasswordForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])


class ChangeEmailForm(FlaskForm):
    new_email = EmailField(_l("New e-mail address"), validators=[DataRequired(), Length(max=254)])
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])


class ProfileForm(FlaskForm):
    display_name = StringField(_l("Display name"), validators=[DataRequired(), Length(max=80)])
    bio = TextAreaField(
        _l("Short bio"),
        validators=[Length(max=2000)],
        description=_l("A few sentences about you, shown to other members."),
    )
    photo = FileField(
        _l("Photo"),
        validators=[
            FileAllowed(
                ["jpg", "jpeg", "png", "webp", "gif"], _l("Upload a JPEG, PNG, WebP or GIF image.")
            )
        ],
    )
    remove_photo = BooleanField(_l("Remove my photo"))
    expertise = StringField(
        _l("Topics of expertise"),
        validators=[Length(max=800)],
        description=_l("Comma-separated, e.g. Python, career change"),
    )
    interests = StringField(
        _l("Topics of interest"), validators=[Length(max=800)], description=_l("Comma-separated")
    )
    languages = SelectMultipleField(
        _l("Languages I speak"),
        validators=[Optional()],
        description=_l("On a computer, hold Ctrl (or ⌘) to choose several."),
        render_kw={
            "size": 8,
            "data-picker": "",
            "data-picker-hint": _l(
                "Type to find a language, Enter to add it, Backspace to remove the last one."
            ),
            "data-picker-remove": _l("Remove"),
        },
    )
    # some 600 zones: the picker finds one from a city typed
    timezone = SelectField(_l("Time zone"), render_kw={"data-picker": ""})
    locale = SelectField(_l("Site language"), validators=[Optional()])

    def fill_choices(self, language_names: dict[str, str], site_languages: list[str]) -> None:
        self.languages.choices = [SelectChoice(code, name) for code, name in language_names.items()]
        self.timezone.choices = [SelectChoice(zone, zone) for zone in time_zones()]
        self.locale.choices = [SelectChoice("", _l("Follow my browser"))] + [
            SelectChoice(code, language_names.get(code, code)) for code in site_languages
        ]


def profile_form_with(fields: Sequence[ProfileField]) -> type[ProfileForm]:
    """``ProfileForm`` with the fields plugins add to it (``register_profile_fields``), built
    once per app; a name that would replace another field stops alma at startup."""
    taken = {"csrf_token"} | {
        name for name in dir(ProfileForm) if isinstance(getattr(ProfileForm, name), UnboundField)
    }
    for field in fields:
        if field.name in taken:
            raise PluginError(
                f"profile field {field.name!r} is already a field of My data: "
                "prefix a plugin's field with the plugin's name"
            )
        taken.add(field.name)
    if not fields:
        return ProfileForm
    return type("ProfileForm", (ProfileForm,), {field.name: field.field for field in fields})


def _reason_field(description: str) -> TextAreaField:
    """Why staff acts, as the audit log keeps it; ``description`` says who reads it."""
    return TextAreaField(
        _l("Reason"),
        validators=[
            DataRequired(_l("Give a reason: it is kept in the audit log.")),
            Length(max=2000),
        ],
        description=description,
        render_kw={"rows": 2},
    )


class StaffActForm(FlaskForm):
    """An act of staff on a member: its reason goes into the audit log."""

    reason = _reason_field(_l("Kept in the audit log; the member does not see it."))


class WebhookActForm(FlaskForm):
    """An admin's act on a webhook endpoint: its reason goes into the audit log."""

    reason = _reason_field(_l("Kept in the audit log, for the other admins."))


class SuspendForm(StaffActForm):
    until = DateField(
        _l("Suspended until"),
        validators=[Optional()],
        description=_l("Lifted at the start of that day, in your time zone. Empty: until lifted."),
    )


class WebhookEndpointForm(WebhookActForm):
    """The console's Webhooks: an endpoint to add or change (its reason: the audit log)."""

    url = StringField(
        _l("Address"),
        validators=[DataRequired(_l("Give the endpoint's address.")), Length(max=500)],
        description=_l("Where alma posts the events: https://…"),
        render_kw={"inputmode": "url", "placeholder": "https://"},
    )
    description = StringField(
        _l("Description"),
        validators=[Optional(), Length(max=200)],
        description=_l("What receives them, for the next admin (optional)."),
    )
    events = SelectMultipleField(
        _l("Events"),
        choices=[],  # the view fills them with the declared event types
        validators=[DataRequired(_l("Choose the events the endpoint gets."))],
    )


class ReportForm(FlaskForm):
    """A member reports an item to the moderators (core.services.reports)."""

    reason = SelectField(
        _l("Why are you reporting it?"),
        choices=[],  # the view fills them from REASON_LABELS
        validators=[DataRequired(_l("Choose a reason."))],
    )
    text = TextAreaField(
        _l("Anything the moderators should know (optional)"),
        validators=[Optional(), Length(max=2000)],
        render_kw={"rows": 3, "maxlength": 2000},
    )


class TokenForm(FlaskForm):
    """My data → Apps and API: a new personal access token."""

    name = StringField(
        _l("Name"),
        validators=[DataRequired(_l("Name the token.")), Length(max=80)],
        description=_l("The app or script that will use it, to recognise it later."),
    )
    scope = SelectField(
        _l("It may"),
        choices=[
            SelectChoice("read", _l("Read only")),
            SelectChoice("write", _l("Read and act for me")),
        ],
        default="read",
    )


class ConfirmForm(FlaskForm):
    """A button-only form (mark read, log out…): just the CSRF token."""


class DeactivateForm(FlaskForm):
    """My data → Deactivate: the password confirms it."""

    password = PasswordField(_l("Your password"), validators=[DataRequired()])


class DeleteAccountForm(FlaskForm):
    """My data → Delete: the password and a typed word confirm it."""

    password = PasswordField(_l("Your password"), validators=[DataRequired()])
    word = StringField(_l("Type the word shown above"), validators=[DataRequired()])


# ---- acting on a form's post ------------------------------------------------------------------


def run_action(action: Callable[[], Any], *, success: str, back: str) -> Response:
    """Run a change a form posted (a service call): commit it and flash ``success``, or,
    when the service refuses with ``InvalidInput``, roll back and flash why. Either way
    redirect to ``back`` (post/redirect/get)."""
    try:
        action()
    except InvalidInput as error:
        db.session.rollback()
        flash(str(error), "danger")
    else:
        db.session.commit()
        flash(success, "success")
    return redirect(back)


def form_errors(form: FlaskForm) -> str:
    """Every error of a posted form in one line, to flash on the page the form came from."""
    return " ".join(str(error) for errors in form.errors.values() for error in errors)


def require_form(form: FlaskForm, back: str) -> None:
    """Stop the request unless the posted ``form`` is valid: its errors are flashed and the
    member goes back to the page ``back`` (post/redirect/get)."""
    if not form.validate_on_submit():
        flash(form_errors(form), "danger")
        abort(redirect(back))
