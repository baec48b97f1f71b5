"""``[plugins.mentoring]``: the settings an operator may set, and their defaults."""

from __future__ import annotations

from dataclasses import dataclass

from core.api import Setting, plugin_settings_as, positive

# ---- settings ----------------------------------------------------------------------------


VERIFICATION_MODES = ("none", "staff")


def _verification_mode(value: str) -> str | None:
    return None if value in VERIFICATION_MODES else "must be one of none, staff"


def _weight(value: int) -> str | None:
    return None if 0 <= value <= 100 else "must be a whole number from 0 (ignored) to 100"


def _address_or_blank(value: str) -> str | None:
    return None if not value or "@" in value else "must be an e-mail address, or empty"


SETTINGS = {
    "verification": Setting(
        str,
        "staff",
        _verification_mode,
        "who checks a mentor's identity before members can find them: staff (a coordinator, "
        "from a document the mentor sends) or none",
    ),
    "verification_address": Setting(
        str,
        "",
        _address_or_blank,
        "where a mentor may e-mail their identity document instead of uploading it (empty: "
        "uploads only)",
    ),
    "request_expiry_days": Setting(int, 14, positive, "days before an unanswered request expires"),
    "max_pending_requests": Setting(int, 3, positive, "requests a mentee may have pending at once"),
    "chat_digest_after_minutes": Setting(
        int, 60, positive, "how long chat messages stay unread before an e-mail digest"
    ),
    "reminder_hours_before": Setting(
        int, 24, positive, "how many hours before an approved meeting both get a reminder"
    ),
    "inactivity_fallback_days": Setting(
        int,
        21,
        positive,
        "days of silence (no held meeting, no chat message) before both get a nudge, when the "
        "pair has not agreed how often to keep in touch",
    ),
    "fields_file": Setting(
        str,
        "",
        None,
        "the CSV file of fields of study members choose from (code,name,parent), relative to "
        "the instance folder; empty: the ISCED-F 2013 broad and narrow fields shipped with alma",
    ),
    # the staff's console lists a pair as stuck after so many days (services/oversight.py)
    "stuck_request_days": Setting(
        int, 7, positive, "days a request stays unanswered before the pair is listed as stuck"
    ),
    "stuck_agreement_days": Setting(
        int, 14, positive, "days after acceptance without an agreement before the pair is stuck"
    ),
    "stuck_meeting_days": Setting(
        int, 30, positive, "days an active pair holds no meeting before it is listed as stuck"
    ),
    "stuck_end_days": Setting(
        int, 7, positive, "days a proposal to end early stays unanswered before the pair is stuck"
    ),
    # the weights of "Suggested for you" (services/suggestions.py); each part scores 0 to 1
    "suggest_topics_weight": Setting(
        int, 40, _weight, "weight of the topics in common in a suggestion (rarer count more)"
    ),
    "suggest_fields_weight": Setting(
        int, 20, _weight, "weight of the fields of study in common in a suggestion"
    ),
    "suggest_language_weight": Setting(
        int, 15, _weight, "weight of a language both speak in a suggestion"
    ),
    "suggest_daytime_weight": Setting(
        int, 10, _weight, "weight of the daytime hours the two time zones share in a suggestion"
    ),
    "suggest_answers_weight": Setting(
        int, 15, _weight, "weight of how often and how fast the mentor answers requests"
    ),
}


@dataclass(frozen=True)
class MentoringSettings:
    verification: str
    verification_address: str
    request_expiry_days: int
    max_pending_requests: int
    chat_digest_after_minutes: int
    reminder_hours_before: int
    inactivity_fallback_days: int
    stuck_request_days: int
    stuck_agreement_days: int
    stuck_meeting_days: int
    stuck_end_days: int
    suggest_topics_weight: int
    suggest_fields_weight: int
    suggest_language_weight: int
    suggest_daytime_weight: int
    suggest_answers_weight: int
    fields_file: str


def settings() -> MentoringSettings:
    """``[plugins.mentoring]``, checked against SETTINGS by core at startup."""
    return plugin_settings_as(MentoringSettings, "mentoring")
