"""Mentoring's forms (each with its CSRF token)."""

import secrets
from typing import TypeVar

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (  # type: ignore[attr-defined]  # SelectChoice: WTForms 3.2, not in the stubs
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from plugins.mentoring.models import DECLINE_REASONS

Data = TypeVar("Data")


def filled(data: Data | None) -> Data:
    """The data of a required field (DataRequired, InputRequired), read once the form has
    validated: WTForms types every field's data as possibly None, which it no longer is."""
    if data is None:
        raise ValueError("a required field read before its form validated")
    return data


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
        # plain values, which WTForms takes (its stubs want pairs): the template labels them
        choices=list(DECLINE_REASONS),  # type: ignore[arg-type]
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
    # A new key with each page: the form posted twice (a double tap, a resend after a lost
    # answer) stores the message once. The page's script sends the same key over Socket.IO.
    key = HiddenField(default=lambda: secrets.token_urlsafe(16))


class MentorSettingsForm(FlaskForm):
    capacity = IntegerField(
        _l("How many mentees at a time"),
        validators=[NumberRange(min=1, max=20)],
        description=_l("Most programmes expect one mentee per mentor."),
    )
    accepting = BooleanField(_l("I accept new mentorship requests"))


CONTACT_CHOICES = [
    SelectChoice(7, _l("Every week")),
    SelectChoice(14, _l("Every two weeks")),
    SelectChoice(30, _l("Every month")),
    SelectChoice(60, _l("Every two months")),
]
DURATION_CHOICES = [
    SelectChoice(30, _l("30 minutes")),
    SelectChoice(45, _l("45 minutes")),
    SelectChoice(60, _l("1 hour")),
    SelectChoice(90, _l("1 hour 30")),
    SelectChoice(120, _l("2 hours")),
]


class AgreementForm(FlaskForm):
    starts_on = DateField(_l("Start"), validators=[InputRequired()])
    ends_on = DateField(_l("End"), validators=[InputRequired()])
    meetings_planned = IntegerField(
        _l("Number of meetings"),
        validators=[InputRequired(), NumberRange(min=1, max=100)],
        description=_l("Including the final meeting that closes the mentorship."),
    )
    channels = StringField(
        _l("How you keep in touch"),
        validators=[DataRequired(), Length(max=200)],
        description=_l("Video calls, the chat here, e-mail, meeting in person…"),
    )
    contact_every_days = SelectField(
        _l("How often"), choices=CONTACT_CHOICES, coerce=int, validators=[InputRequired()]
    )
    agenda = TextAreaField(
        _l("Agenda for the meetings to come"),
        validators=[Length(max=4000)],
        description=_l("What you want to work on, meeting by meeting or as a list of goals."),
        render_kw={"rows": 5},
    )
    notes = TextAreaField(_l("Notes"), validators=[Length(max=4000)], render_kw={"rows": 3})
    reason = StringField(
        _l("Why this change?"),
        validators=[Length(max=300)],
        description=_l("For an amendment: the other party reads it before deciding."),
    )


class CommentForm(FlaskForm):
    comment = TextAreaField(
        _l("What should change?"),
        validators=[
            DataRequired(message=_l("Say what should change: the other party will read it.")),
            Length(max=4000),
        ],
        render_kw={"rows": 3},
    )


class MeetingForm(FlaskForm):
    day = DateField(_l("Date"), validators=[InputRequired()])
    time = TimeField(_l("Time"), validators=[InputRequired()])
    duration_minutes = SelectField(_l("Duration"), choices=DURATION_CHOICES, coerce=int, default=60)
    place = StringField(
        _l("Place or video link"),
        validators=[DataRequired(), Length(max=300)],
        description=_l("An address, or the link of your video call."),
    )
    agenda = TextAreaField(_l("Agenda"), validators=[Length(max=4000)], render_kw={"rows": 4})
    is_final = BooleanField(
        _l("This is our final meeting"),
        description=_l(
            "Once both of you confirm it took place, the mentorship is completed and each of "
            "you receives a certificate."
        ),
    )


class MeetingChangeForm(FlaskForm):
    kind = SelectField(
        _l("Change"),
        choices=[
            SelectChoice("reschedule", _l("Move the meeting")),
            SelectChoice("cancel", _l("Cancel the meeting")),
        ],
    )
    day = DateField(_l("New date"), validators=[Optional()])
    time = TimeField(_l("New time"), validators=[Optional()])
    duration_minutes = SelectField(_l("Duration"), choices=DURATION_CHOICES, coerce=int, default=60)
    place = StringField(_l("Place or video link"), validators=[Length(max=300)])
    message = TextAreaField(_l("Message"), validators=[Length(max=2000)], render_kw={"rows": 2})


class MeetingDeclineForm(FlaskForm):
    message = TextAreaField(
        _l("Why, and which time would suit you better?"),
        validators=[
            DataRequired(message=_l("Say why, and which time would suit you better.")),
            Length(max=2000),
        ],
        render_kw={"rows": 2},
    )


class FeedbackForm(FlaskForm):
    rating = RadioField(
        _l("How useful was the meeting?"),
        choices=[SelectChoice(n, str(n)) for n in range(1, 6)],
        coerce=int,
        validators=[InputRequired(message=_l("Choose a rating from 1 to 5."))],
    )
    comment = TextAreaField(
        _l("Comment (optional)"),
        validators=[Length(max=2000)],
        description=_l("Only you and the platform's operators read it."),
        render_kw={"rows": 4},
    )


# ---- the staff's console -------------------------------------------------------------------


class NudgeForm(FlaskForm):
    note = TextAreaField(
        _l("Note (optional)"),
        validators=[Optional(), Length(max=1000)],
        description=_l("Added to the mail; the mail already says what the pair waits for."),
        render_kw={"rows": 2},
    )


class StaffEndForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason"),
        validators=[
            DataRequired(_l("Give a reason: it is kept in the audit log.")),
            Length(max=2000),
        ],
        description=_l("Kept in the audit log; the pair does not see it."),
        render_kw={"rows": 2},
    )
    note = TextAreaField(
        _l("Message to both (optional)"),
        validators=[Optional(), Length(max=2000)],
        description=_l("Both receive it in their alert and e-mail."),
        render_kw={"rows": 2},
    )


class ExtendForm(FlaskForm):
    ends_on = DateField(
        _l("New end date"),
        validators=[InputRequired(_l("Choose the new end date."))],
    )
    reason = StringField(
        _l("Reason"),
        validators=[
            DataRequired(_l("Give a reason: it is kept in the audit log.")),
            Length(max=300),
        ],
        description=_l("Kept in the audit log, and shown to both in the agreement's history."),
    )


class VerificationForm(FlaskForm):
    """A mentor's identity document, or their word that they will send it by e-mail. The
    file's type is checked from its content by the service, not from its name here."""

    document = FileField(
        _l("Identity document"),
        description=_l(
            "A passport, identity card or driving licence: PDF, JPEG or PNG, at most 5 MB."
        ),
        render_kw={"accept": ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"},
    )
    by_mail = BooleanField(_l("I will send it by e-mail instead"))


class ApproveMentorForm(FlaskForm):
    reason = TextAreaField(
        _l("What you checked"),
        validators=[
            DataRequired(_l("Say what you checked: it is kept in the audit log.")),
            Length(max=2000),
        ],
        description=_l("Kept in the audit log; the member does not see it."),
        render_kw={"rows": 3},
    )


class RejectMentorForm(FlaskForm):
    message = TextAreaField(
        _l("Message to the member"),
        validators=[
            DataRequired(_l("Tell the member why: they read your message.")),
            Length(max=2000),
        ],
        description=_l("Sent to the member by e-mail, and kept in the audit log."),
        render_kw={"rows": 3},
    )
