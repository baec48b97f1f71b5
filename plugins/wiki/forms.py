"""The wiki's forms (each with its CSRF token)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (  # type: ignore[attr-defined]  # SelectChoice: WTForms 3.2, not in the stubs
    HiddenField,
    RadioField,
    SelectChoice,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length

from plugins.wiki.models import MAX_SUMMARY, MAX_TITLE
from plugins.wiki.services import MAX_BODY


class ArticleForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=MAX_TITLE)])
    body = TextAreaField(
        _l("Text"),
        validators=[DataRequired(), Length(max=MAX_BODY)],
        description=_l(
            "Markdown: **bold**, *italic*, # Heading, - lists, [a link](https://…), "
            "> quotes, `code`, tables."
        ),
        render_kw={"rows": 16, "spellcheck": "true"},
    )
    tags = StringField(
        _l("Tags (optional)"),
        validators=[Length(max=400)],
        description=_l("Comma-separated, e.g. first meeting, goals"),
    )


class EditForm(ArticleForm):
    # only an edit has a change to describe: a new article's history says "First version"
    summary = StringField(
        _l("What did you change? (optional)"),
        validators=[Length(max=MAX_SUMMARY)],
        description=_l("Shown in the article's history."),
    )
    # the revision the editor started from: a save on a revision that is no longer the
    # latest is refused, with the difference shown, instead of overwriting someone's work
    base_revision = HiddenField(validators=[DataRequired()])


class PreviewForm(FlaskForm):
    body = TextAreaField(validators=[Length(max=MAX_BODY)])


class RatingForm(FlaskForm):
    stars = RadioField(
        _l("Your rating"),
        choices=[SelectChoice(str(n), str(n)) for n in range(1, 6)],
        validators=[DataRequired(message=_l("Choose from 1 to 5 stars."))],
    )
