"""alma's own tests use the fixtures of alma's pytest plugin (core/testing.py), and these,
shared by every suite: the members ``member`` and ``outsider`` (a plugin's conftest adds the
roles only it knows, such as mentoring's ``mentee`` and ``mentor`` or groups' ``manager``),
and browser pages at a desktop's and a phone's width (``open_page``)."""

import pytest


@pytest.fixture
def create_user(create_user, db):
    """core's ``create_user``, where a member made offering mentoring (``wants_to_mentor=True``)
    is a mentor whose identity staff verified, as the directory and requests need them to be
    (mentoring's setting ``verification = "staff"``); ``verified_mentor=False`` leaves them
    to verify, as a member who just ticked the box."""
    from core.state import alma

    def create(*args, verified_mentor: bool = True, **fields):
        user = create_user(*args, **fields)
        if fields.get("wants_to_mentor") and verified_mentor and "mentoring" in alma().enabled:
            from plugins.mentoring.services.verification import mark_verified

            mark_verified(user)
            db.session.commit()
        return user

    return create


@pytest.fixture
def member(create_user):
    """A confirmed member, Mo Member (mo@example.org)."""
    return create_user(display_name="Mo Member", email="mo@example.org")


@pytest.fixture
def outsider(create_user):
    """A confirmed member who takes no part in what the test sets up, Olga Outsider
    (olga@example.org)."""
    return create_user(display_name="Olga Outsider", email="olga@example.org")


# ---- browser pages -------------------------------------------------------------------------

VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(params=list(VIEWPORTS))
def viewport(request) -> str:
    """The screen of a browser test, which runs on each: a desktop's and a phone's
    (``@pytest.mark.parametrize("viewport", ["phone"])`` for one only)."""
    return request.param


@pytest.fixture
def open_page(browser, app, live_server, viewport):
    """``open_page(user=None, **context_options)``: a page in a browser context of its own
    (its own cookies: one person) at this test's viewport (``page.viewport_name``), logged in
    as ``user`` if one is given; an error in the console of any of them fails the test
    (``page.problems`` lists them: a test removes those it expects, or adds its own)."""
    from core.testing import session_cookie

    contexts, errors = [], []

    def open_(user=None, **context_options):
        context = browser.new_context(viewport=VIEWPORTS[viewport], **context_options)
        contexts.append(context)
        if user is not None:
            cookie = {"name": "session", "value": session_cookie(app, user), "url": live_server}
            context.add_cookies([cookie])
        page = context.new_page()
        page.viewport_name = viewport
        page.problems = errors
        page.set_default_timeout(10_000)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        return page

    yield open_
    for context in contexts:
        context.close()
    assert not errors, f"errors in the browser console: {errors}"


# ---- rate limits ----------------------------------------------------------------------------


@pytest.fixture(params=["memory://", "redis://127.0.0.1:6379/0"], ids=["memory", "redis"])
def rate_limit_storage(request) -> str:
    """Where a rate limit test's app counts (``RATE_LIMIT_STORAGE_URL``): each test runs with
    each process's memory and with the shared Redis on 127.0.0.1:6379 (``make_app`` gives the
    test a key prefix of its own there)."""
    return request.param
