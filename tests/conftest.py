"""alma's own tests use the fixtures of alma's pytest plugin (core/testing.py), and these
members, shared by every suite (a plugin's conftest adds the roles only it knows, such as
mentoring's ``mentee`` and ``mentor`` or groups' ``manager``)."""

import pytest


@pytest.fixture
def member(create_user):
    """A confirmed member, Mo Member (mo@example.org)."""
    return create_user(display_name="Mo Member", email="mo@example.org")


@pytest.fixture
def outsider(create_user):
    """A confirmed member who takes no part in what the test sets up, Olga Outsider
    (olga@example.org)."""
    return create_user(display_name="Olga Outsider", email="olga@example.org")
