"""The certificates plugin's forms (each with its CSRF token)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField
from wtforms.validators import Length


class VisibilityForm(FlaskForm):
    shown_on_profile = BooleanField(_l("Show it on my profile to other members"))
    name_on_verification = BooleanField(_l("Show my name on its verification page"))


class VerifyForm(FlaskForm):
    class Meta:
        csrf = False  # a search (GET): nothing changes

    number = StringField(
        _l("Certificate number"),
        validators=[Length(max=40)],
        render_kw={"placeholder": "ALMA-XXXX-XXXX-XXXX", "autocomplete": "off"},
    )
