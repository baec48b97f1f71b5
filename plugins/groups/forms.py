"""The groups plugin's forms (each with its CSRF token)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from plugins.groups.models import (
    JOIN_POLICIES,
    MAX_DESCRIPTION,
    MAX_MESSAGE,
    MAX_NAME,
    MAX_POST,
    MAX_TITLE,
    MAX_TOPIC,
    VISIBILITIES,
)
from plugins.groups.services import directory


class GroupForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=MAX_NAME)])
    topic = StringField(
        _l("Topic"),
        validators=[Length(max=MAX_TOPIC)],
        description=_l("What the group is about, in a few words, e.g. Python or Career change."),
    )
    description = TextAreaField(
        _l("Description"),
        validators=[Length(max=MAX_DESCRIPTION)],
        description=_l("Who the group is for and what its members do together."),
        render_kw={"rows": 5},
    )
    join_policy = SelectField(_l("How members join"))
    visibility = SelectField(
        _l("Who sees the group"),
        description=_l(
            "A members-only group is hidden from everyone else: people join it by invitation."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.join_policy.choices = [(p, directory.join_policy_label(p)) for p in JOIN_POLICIES]
        self.visibility.choices = [(v, directory.visibility_label(v)) for v in VISIBILITIES]


class JoinRequestForm(FlaskForm):
    message = TextAreaField(
        _l("Your message to the managers"),
        validators=[
            DataRequired(
                message=_l("Tell the managers in a few words why you would like to join.")
            ),
            Length(max=MAX_MESSAGE),
        ],
        render_kw={"rows": 3},
    )


class AnnouncementForm(FlaskForm):
    body = TextAreaField(
        _l("Announcement"),
        validators=[
            DataRequired(message=_l("Write the announcement first.")),
            Length(max=MAX_MESSAGE),
        ],
        description=_l("Shown on the group's page; every member gets an alert."),
        render_kw={"rows": 3},
    )


class TopicForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=MAX_TITLE)])
    body = TextAreaField(
        _l("Message"), validators=[DataRequired(), Length(max=MAX_POST)], render_kw={"rows": 6}
    )


class ReplyForm(FlaskForm):
    body = TextAreaField(
        _l("Your reply"), validators=[DataRequired(), Length(max=MAX_POST)], render_kw={"rows": 4}
    )


class FollowForm(FlaskForm):
    by_email = BooleanField(_l("Also by e-mail"))
