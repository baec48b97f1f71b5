"""The mentoring plugin's part of alma's HTTP API (``/api/v1/mentoring``): the mentor
directory, the caller's suggestions, their mentorships from the request to the answer, the
pair's chat, their agreement, meetings and its ending, through the same services and checks
as the pages (docs/api.md). Each module adds its routes to the one blueprint."""

from core.api import ApiBlueprint

bp = ApiBlueprint(
    "mentoring",
    __name__,
    url_prefix="/mentoring",
    description="Finding a mentor, and the member's mentorships.",
)

from plugins.mentoring.api import (  # noqa: E402, F401  their routes
    agreement,
    chat,
    choices,
    directory,
    ending,
    meetings,
    mentorships,
)
