"""The app gunicorn serves in the benchmarks: alma with the plugins named by ``ALMA_PLUGINS``
and the ceiling routes of ``bench/ceilings.py``; every other setting from ``ALMA_*`` variables,
as in production::

    ALMA_DATABASE_URL=... ALMA_PLUGINS=mentoring,credits,... ALMA_SECRET_KEY=... \\
        gunicorn -w 2 -k sync --no-control-socket -b 127.0.0.1:8000 bench.wsgi:app
"""

import os

from bench.ceilings import CeilingPlugin
from core.app import create_app

plugins = [name for name in os.environ.get("ALMA_PLUGINS", "").split(",") if name.strip()]
app = create_app({"PLUGINS": [*plugins, "bench"]}, extra_plugins={"bench": CeilingPlugin()})
