"""The credits plugin's forms (each with its CSRF token)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, IntegerField, TextAreaField
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange

from plugins.credits.services import MAX_ADJUSTMENT, MAX_ADJUSTMENT_REASON


class UndoAdjustmentForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason"),
        validators=[
            DataRequired(_l("Give a reason: the member reads it in their credits.")),
            Length(max=MAX_ADJUSTMENT_REASON),
        ],
        description=_l("The member reads it in their credits; the audit log keeps it."),
        render_kw={"rows": 2, "maxlength": MAX_ADJUSTMENT_REASON},
    )


class AdjustmentForm(UndoAdjustmentForm):
    email = EmailField(
        _l("Member's e-mail"),
        validators=[
            DataRequired(_l("Whose credits? Give their e-mail.")),
            Email(),
            Length(max=254),
        ],
    )
    points = IntegerField(
        _l("Credits (negative to take)"),
        validators=[
            InputRequired(_l("How many credits? Negative to take them.")),
            NumberRange(-MAX_ADJUSTMENT, MAX_ADJUSTMENT),
        ],
    )
