"""The WSGI entry point for production servers: ``gunicorn 'core.wsgi:app'``.

Web processes serve pages and Socket.IO; they never run scheduled jobs (run one
``alma scheduler`` for that). On a stale schema they refuse to start.
"""

import logging

from flask import Flask

from core.app import create_app
from core.config import unset_base_url_warning
from core.schema import ensure_schema

logger = logging.getLogger(__name__)


def create_web_app() -> Flask:
    """The app of one web process (each gunicorn worker imports this module once)."""
    app = create_app()
    ensure_schema(app)
    # A web process answers requests from any address; its mails cannot know the site's.
    warning = unset_base_url_warning(app.config)
    if warning:
        logger.warning(warning)
    return app


app = create_web_app()
