"""Mentoring's forms (each with its CSRF token)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange

from plugins.mentoring.models import DECLINE_REASONS


class RequestForm(FlaskForm):
    message = TextAreaField(
        _l("Your message"),
        validators=[DataRequired(), Length(max=2000)],
        description=_l("What do you hope for from this mentorship? What would you like to learn?"),
        render_kw={"rows": 6},
    )
    topics = StringField(
        _l("Topics (optional)"),
        validators=[Length(max=300)],
        description=_l("Comma-separated, e.g. Python, job interviews"),
    )


class DeclineForm(FlaskForm):
    reason = SelectField(
        _l("Reason"),
        choices=list(DECLINE_REASONS),  # labels: decline_reason_label, in the template
        validators=[DataRequired(message=_l("Choose a reason from the list."))],
    )
    message = TextAreaField(
        _l("Message to the mentee"),
        validators=[
            DataRequired(message=_l("Write a few words to the mentee: they will read them.")),
            Length(max=2000),
        ],
        description=_l("They will receive it by e-mail. A kind word and a pointer help."),
        render_kw={"rows": 4},
    )


class TerminateForm(FlaskForm):
    message = TextAreaField(
        _l("Why are you ending the mentorship?"),
        validators=[
            DataRequired(message=_l("Tell the other party why, in a few words.")),
            Length(max=2000),
        ],
        description=_l("The other party receives it by e-mail."),
        render_kw={"rows": 3},
    )


class ChatForm(FlaskForm):
    body = TextAreaField(
        _l("Message"),
        validators=[DataRequired(), Length(max=4000)],
        render_kw={"rows": 2, "autocomplete": "off"},
    )


class MentorSettingsForm(FlaskForm):
    capacity = IntegerField(
        _l("How many mentees at a time"),
        validators=[NumberRange(min=1, max=20)],
        description=_l("Most programmes expect one mentee per mentor."),
    )
    accepting = BooleanField(_l("I accept new mentorship requests"))
