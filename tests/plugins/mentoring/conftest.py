"""The mentoring plugin's tests run with it enabled (and nothing else), unless a test says."""

import pytest


@pytest.fixture
def alma_plugins(request):
    marker = request.node.get_closest_marker("plugins")
    return list(marker.args) if marker else ["mentoring"]
