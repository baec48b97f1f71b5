"""Mentoring's pages: thin views that parse, authorize through the services, and render. One
module per concern, as in ``plugins.mentoring.services``:

- ``blueprint``: the ``mentoring`` blueprint, its template globals, and ``act``/``require_form``
  (run a change from a form post, then go back).
- ``directory``: the mentor directory and a mentor's settings.
- ``lifecycle``: asking a mentor, my mentorships, the mentorship's page, answering a request.
- ``agreement``: the agreement's pages (blueprint ``mentoring_agreement``).
- ``meetings``: meetings and the calendar (blueprint ``mentoring_meetings``).
- ``ending``: ending a mentorship, early or not.
- ``chat``: the chat's posts and history.
- ``suggestions``: "Suggested for you", and a mentee's "Not for me" on a suggestion.
- ``oversight``: the staff's console section "Mentorships" (blueprint ``mentoring_admin``).
- ``verification``: a mentor sends their identity document; coordinators decide (blueprint
  ``mentoring_verification``, a section of the console under ``/admin/verification``).
"""

from plugins.mentoring.views import (  # noqa: F401 (their pages join blueprint.bp)
    agreement,
    blueprint,
    chat,
    directory,
    ending,
    lifecycle,
    meetings,
    oversight,
    suggestions,
    verification,
)

BLUEPRINTS = [blueprint.bp, agreement.bp, meetings.bp, oversight.bp, verification.bp]
