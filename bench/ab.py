"""Did a change make pages faster? The app's CPU per request of some routes, measured by
turns in this checkout and in another commit of it, on a machine too noisy for two runs an
hour apart to compare.

    .venv/bin/python -m bench.ab --base main~3 [--route "wiki article" ...] [--pairs 4]
        [--seconds 5] [--scale 0.1]

The other commit is checked out in a temporary ``git worktree``. Each of ``--pairs`` pairs
runs one process in each tree (the base first in every other pair), and each process builds
``bench/dataset.py``'s community in a PostgreSQL database of its own, then requests each
route (the names of ``bench.profile_pages``) in batches of 40 for ``--seconds``, through
Flask's test client. It prints, per route, the minimum and median CPU per request of the
batches of either tree, and the change. Both trees run this checkout's Python environment
and this script, with the other's code first on the path: the base needs the
``bench.profile_pages.routes`` of 4 December 2026 or later. The routes are the pages and the
chat message (a request or an accept needs pairs of members made for each).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

HERE = Path(__file__).resolve()
REPOSITORY = HERE.parent.parent
BATCH = 40  # requests per measured batch
ROUTES = ["shell", "mentor search", "wiki article"]
MEASURABLE = [
    "shell",
    "profile Overview",
    "mentor search",
    "mentorship + chat",
    "wiki article",
    "group page",
    "chat message",
]

Batches = dict[str, list[float]]  # CPU ms per request of each batch, by route


def measure(routes: list[str], seconds: float, scale: float) -> Batches:
    """In this process: each route's batches (run with the tree to measure on the path)."""
    from bench.dataset import DEFAULT_SERVER, throwaway_database
    from bench.profile_pages import routes as all_routes

    measured: Batches = {}
    with throwaway_database(DEFAULT_SERVER) as url, tempfile.TemporaryDirectory() as folder:
        app = profiled_app(url, folder)
        for name, action in all_routes(app, scale, pairs_count=4):
            if name in routes:
                measured[name] = batches_of(action, seconds)
    return measured


def profiled_app(url: str, folder: str) -> Flask:
    """The app the routes are requested from, on the database ``url`` (``bench.profile_pages``
    uses it too). Defined here, since this script also runs another commit's code."""
    from bench.ceilings import CeilingPlugin
    from bench.dataset import PLUGINS
    from core.app import create_app
    from core.ratelimits import DECLARED

    settings = {
        "DATABASE_URL": url,
        "PLUGINS": [*PLUGINS, "bench"],
        "SECRET_KEY": secrets.token_urlsafe(32),
        # the data set's mentors have no identity check: let members find them; the
        # requests are all measured before their accepts
        "PLUGIN_SETTINGS": {"mentoring": {"verification": "none", "max_pending_requests": 1000}},
    }
    app = create_app(settings, instance_path=folder, extra_plugins={"bench": CeilingPlugin()})
    # the benches repeat writes a member would space out
    app.config["RATE_LIMITS"] = dict.fromkeys(DECLARED, "1000000/minute")
    return app


def batches_of(action: Callable[[], None], seconds: float) -> list[float]:
    for _ in range(BATCH):  # warm: caches filled, connections open
        action()
    batches = []
    deadline = time.monotonic() + seconds
    while not batches or time.monotonic() < deadline:
        started = time.process_time()
        for _ in range(BATCH):
            action()
        batches.append((time.process_time() - started) * 1000 / BATCH)
    return batches


def run_in(tree: Path, routes: list[str], seconds: float, scale: float) -> Batches:
    """One measuring process with ``tree``'s code."""
    # -P: this script's folder stays off the path, whose ``bench`` is the tree's
    command = [sys.executable, "-P", str(HERE), "--measure", "--seconds", str(seconds)]
    command += ["--scale", str(scale), *(f"--route={route}" for route in routes)]
    environment = os.environ | {"PYTHONPATH": str(tree)}
    done = subprocess.run(command, cwd=tree, env=environment, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"measuring in {tree} failed:\n{done.stderr}")
    measured: Batches = json.loads(done.stdout.splitlines()[-1])
    return measured


def compare(base: str, routes: list[str], pairs: int, seconds: float, scale: float) -> str:
    """Run the pairs and return the table."""
    with tempfile.TemporaryDirectory() as folder:
        tree = Path(folder) / "base"
        git = ["git", "-C", str(REPOSITORY)]
        subprocess.run([*git, "worktree", "add", "--detach", str(tree), base], check=True)
        try:
            runs: dict[str, Batches] = {"base": {}, "this": {}}
            for pair in range(pairs):
                order = [("base", tree), ("this", REPOSITORY)]
                for side, where in order if pair % 2 == 0 else reversed(order):
                    for route, batches in run_in(where, routes, seconds, scale).items():
                        runs[side].setdefault(route, []).extend(batches)
        finally:
            subprocess.run([*git, "worktree", "remove", "--force", str(tree)], check=False)
            subprocess.run([*git, "worktree", "prune"], check=False)
    return table(base, runs)


def table(base: str, runs: dict[str, Batches]) -> str:
    lines = [f"{'route':22}{base + ' min':>14}{'median':>9}{'this min':>10}{'median':>9}  change"]
    for route, before in runs["base"].items():
        after = runs["this"][route]
        change = statistics.median(after) / statistics.median(before) - 1
        lines.append(
            f"{route:22}{min(before):14.2f}{statistics.median(before):9.2f}"
            f"{min(after):10.2f}{statistics.median(after):9.2f}  {change:+.0%} (median)"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="HEAD", help="the commit to compare with")
    parser.add_argument("--route", action="append", help="a route's name (repeatable)")
    parser.add_argument("--pairs", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=5.0, help="per route and process")
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    routes = options.route or ROUTES
    unknown = set(routes) - set(MEASURABLE)
    if unknown:
        parser.error(f"not a route this bench measures: {', '.join(sorted(unknown))}")
    if options.measure:
        print(json.dumps(measure(routes, options.seconds, options.scale)))
        return
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()}, {time.ctime()}")
    print(compare(options.base, routes, options.pairs, options.seconds, options.scale))


if __name__ == "__main__":
    main()
