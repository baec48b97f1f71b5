"""The mentoring plugin: the mentor directory, mentorship requests and their state machine,
and the pair's private chat. Its rules are in ``services/`` and its pages in ``views/``, one
module per concern in each (see ``services/__init__.py``); ``plugin.py`` holds the hooks."""
