"""The certificates plugin's forms (each with its CSRF token)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length


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


class CertificateActForm(FlaskForm):
    """An admin's act on a certificate (revoke, reissue): its reason goes into the audit log."""

    reason = TextAreaField(
        _l("Reason"),
        validators=[
            DataRequired(_l("Give a reason: it is kept in the audit log.")),
            Length(max=500),
        ],
        render_kw={"rows": 2, "maxlength": 500},
    )
