"""The WSGI entry point for production servers: ``gunicorn 'core.wsgi:app'``.

Web processes serve pages and Socket.IO; they never run scheduled jobs (run one
``alma scheduler`` for that). On a stale schema they refuse to start.
"""

from core.app import create_app
from core.schema import ensure_schema

app = create_app()
ensure_schema(app)
