"""The pair's chat: posting without JavaScript, the history for the page's script, and links
in messages."""

from __future__ import annotations

import re

from flask import flash, jsonify, redirect, request, url_for
from flask_login import current_user, login_required
from markupsafe import Markup, escape

from core.api import InvalidInput, RateLimited, db, whole_number
from plugins.mentoring.forms import ChatForm, filled
from plugins.mentoring.services import chat as chats
from plugins.mentoring.services import lifecycle
from plugins.mentoring.views.blueprint import _require_form, bp

LINK = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]]")


@bp.app_template_filter("chat_text")
def chat_text(body: str) -> Markup:
    """Plain text, escaped, with web links made clickable (and kept from the page's rights)."""
    parts, last = [], 0
    for match in LINK.finditer(body):
        url = match.group(0)
        parts.append(escape(body[last : match.start()]))
        parts.append(
            Markup(
                '<a href="{0}" rel="nofollow noopener noreferrer" target="_blank">{0}</a>'
            ).format(url)
        )
        last = match.end()
    parts.append(escape(body[last:]))
    return Markup("").join(parts)


def _before_id() -> int | None:
    """``?before=N``, the message to page back from; anything but a usable id (an id beyond
    what the database can hold would fail the query) means the newest page."""
    return whole_number(request.args.get("before"), below=2**63) or None


@bp.post("/<int:mentorship_id>/messages")
@login_required
def post_message(mentorship_id: int):
    """The chat without JavaScript: a plain form post, then the page again."""
    form = ChatForm()
    _require_form(form)
    try:
        chats.CHAT_MESSAGES.hit()
        chats.post_message(
            mentorship_id, current_user, filled(form.body.data), form.key.data or None
        )
    except RateLimited as error:
        db.session.rollback()
        flash(str(error), "danger")
        # here, not at the top: lifecycle imports this module for its chat helpers
        from plugins.mentoring.views.lifecycle import mentorship

        return mentorship(mentorship_id)  # the page again, the text in its form (a 429)
    except InvalidInput as error:
        db.session.rollback()
        flash(str(error), "danger")
    else:
        db.session.commit()
    return redirect(url_for("mentoring.mentorship", mentorship_id=mentorship_id) + "#chat")


@bp.get("/<int:mentorship_id>/messages")
@login_required
def older_messages(mentorship_id: int):
    """Chat history for the page's script, newest last: the newest page, the one before
    ``?before=``, or the one after ``?after=`` (what a page missed while offline)."""
    found = lifecycle.mentorship_for(mentorship_id, current_user)
    # ?after=N: what followed the message N (0: from the first), else ?before= or the newest
    after = whole_number(request.args.get("after"), below=2**63)
    if after is not None:
        chat = chats.chat_page_after(found, after)
    else:
        chat = chats.chat_page(found, _before_id())
    return jsonify(
        messages=[chats.message_payload(m, m.sender) for m in chat.messages],
        has_older=chat.has_older,
        has_newer=chat.has_newer,
    )
