"""Ending a mentorship: before the agreement, or early by agreement of both."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_login import current_user, login_required

from core.api import ConfirmForm
from plugins.mentoring.forms import TerminateForm, filled
from plugins.mentoring.services import ending
from plugins.mentoring.views.blueprint import _act, _require_form, bp


@bp.post("/<int:mentorship_id>/terminate")
@login_required
def terminate(mentorship_id: int):
    form = TerminateForm()
    _require_form(form)
    return _act(
        mentorship_id,
        lambda: ending.terminate(mentorship_id, current_user, filled(form.message.data)),
        _("The mentorship has ended."),
    )


@bp.post("/<int:mentorship_id>/end/propose")
@login_required
def propose_early_end(mentorship_id: int):
    form = TerminateForm()
    _require_form(form)
    return _act(
        mentorship_id,
        lambda: ending.propose_early_end(mentorship_id, current_user, filled(form.message.data)),
        _("You proposed to end the mentorship early; it ends once the other party agrees."),
    )


@bp.post("/<int:mentorship_id>/end/<any(agree, refuse, withdraw):answer>")
@login_required
def answer_early_end(mentorship_id: int, answer: str):
    _require_form(ConfirmForm())
    return _act(
        mentorship_id,
        lambda: ending.answer_early_end(mentorship_id, current_user, answer),
        {
            "agree": _("The mentorship has ended early, by mutual consent."),
            "refuse": _("The mentorship goes on."),
            "withdraw": _("You took back your proposal to end early."),
        }[answer],
    )
