"""Mentoring's rules, as plain functions of the acting member, one module per concern. They
flush, never commit: the caller (a view, a socket handler, a job) owns the unit of work.
Import the module of the concern (``from plugins.mentoring.services import lifecycle``):

- ``settings``: ``[plugins.mentoring]`` and its defaults.
- ``directory``: finding a mentor; a mentor's capacity and whether they accept mentees.
- ``verification``: a mentor's identity check by staff before they can be found.
- ``lifecycle``: requests (send, accept, decline, withdraw, expire) and the mentorship's states.
- ``agreements``: the pair's agreement and its amendments.
- ``meetings``: meetings and the changes proposed to them; attendance goals.
- ``followups``: reminders, feedback requests and nudges to silent pairs (jobs).
- ``ending``: ending before the agreement, early end by agreement, completion.
- ``chat``: the pair's messages, read marks and digests.
- ``oversight``: the staff's view of every mentorship, the stuck pairs and their nudges.

Each stateful thing has one transition table (``core.api.Transitions``) beside its rules:
``lifecycle.MENTORSHIP`` (a request is a mentorship in "requested"), ``ending.EARLY_END``,
``agreements.AGREEMENT`` (a version), ``meetings.MEETING`` and ``meetings.MEETING_CHANGE``.
The services check them; pages ask ``allowed_actions(thing, member)`` what to offer.

The views follow the same cut in ``plugins.mentoring.views``.
"""
