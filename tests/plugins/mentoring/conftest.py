"""The mentoring plugin's tests run with it enabled (and nothing else), unless a test says."""

import pytest


@pytest.fixture
def alma_plugins(request):
    marker = request.node.get_closest_marker("plugins")
    return list(marker.args) if marker else ["mentoring"]


class Pairs:
    """Mentorships made through the real services, committed: ``pairs.request(mentee,
    mentor)`` leaves the request pending, ``pairs.accept(mentee, mentor)`` has it accepted."""

    def __init__(self, db):
        self.db = db

    def request(self, mentee, mentor) -> int:
        from plugins.mentoring import services

        mentorship = services.send_request(mentee, mentor, "Would you mentor me in Python?")
        self.db.session.commit()
        return mentorship.id

    def accept(self, mentee, mentor) -> int:
        from plugins.mentoring import services

        mentorship_id = self.request(mentee, mentor)
        services.accept_request(mentorship_id, mentor)
        self.db.session.commit()
        return mentorship_id


@pytest.fixture
def pairs(db):
    return Pairs(db)
