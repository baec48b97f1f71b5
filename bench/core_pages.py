"""How fast core's pages are, as ratios to a route that returns a constant, in one run.

    .venv/bin/python bench/core_pages.py [--members 2000] [--database-url URL]

Builds a community (members with topics, languages and alerts; goals completed), then times
each page through the WSGI app in this process (no network), interleaving the routes over
several rounds so that machine noise hits them alike. Prints requests per second, the ratio to
the constant route, and SQL statements per request. Nothing here should grow with the data.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

from flask import Blueprint

from core import hookimpl
from core.app import create_app
from core.contributions import GoalKind
from core.db import db, utcnow
from core.models import Goal, GoalParty, Notification, User
from core.schema import upgrade
from core.services.accounts import hash_password, start_session
from core.services.profiles import update_profile
from core.testing import sql_statements

ceiling = Blueprint("bench", __name__)


@ceiling.get("/bench/constant")
def constant() -> str:
    return "ok"


class BenchPlugin:
    @hookimpl
    def register_blueprints(self):
        return [ceiling]

    @hookimpl
    def register_goal_kinds(self):
        return [GoalKind("bench.goal", "A benchmark goal")]


def build_community(members: int) -> int:
    password = hash_password("bench-password")
    users = []
    for number in range(members):
        user = User(
            email=f"m{number}@example.org",
            password_hash=password,
            display_name=f"Member {number}",
            email_confirmed_at=utcnow(),
        )
        db.session.add(user)
        update_profile(
            user,
            display_name=user.display_name,
            bio="Bio " * 40,
            timezone="UTC",
            locale=None,
            expertise=[f"Topic {number % 50}", f"Topic {(number + 7) % 50}"],
            interests=[f"Topic {(number + 3) % 50}"],
            languages=["en", "de"],
        )
        users.append(user)
        if number % 500 == 499:
            db.session.commit()
    db.session.commit()
    for user in users:
        db.session.add_all(
            Notification(user_id=user.id, message=f"Alert {n}", url="/me") for n in range(30)
        )
        for n in range(5):
            goal = Goal(kind="bench.goal", title=f"Goal {n}", completed_at=utcnow())
            goal.parties = [GoalParty(user_id=user.id, decision="consented")]
            db.session.add(goal)
    db.session.commit()
    return users[members // 2].id


def measure(client, path: str, seconds: float) -> tuple[float, int]:
    with sql_statements(client.application) as statements:
        done, started = 0, time.perf_counter()
        while time.perf_counter() - started < seconds:
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
            done += 1
        elapsed = time.perf_counter() - started
    return done / elapsed, len(statements) // done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=1.0, help="per route and round")
    args = parser.parse_args()

    instance = tempfile.mkdtemp(prefix="alma-bench-")
    app = create_app(
        {
            "DATABASE_URL": args.database_url,
            "PLUGINS": ["bench"],
            "SECRET_KEY": "bench",
            "WTF_CSRF_ENABLED": False,
        },
        instance_path=instance,
        extra_plugins={"bench": BenchPlugin()},
    )
    upgrade(app)
    with app.app_context():
        member_id = build_community(args.members)
        viewer = db.session.get(User, member_id + 1)
        routes: dict[str, str] = {
            "constant (ceiling)": "/bench/constant",
            "home": "/",
            "own overview": f"/members/{viewer.id}",
            "other's overview": f"/members/{member_id}",
            "my data": "/me/data",
            "alerts": "/alerts/",
        }
        start_session(viewer, "bench")
        db.session.commit()
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = viewer.get_id()

    rates: dict[str, list[float]] = {name: [] for name in routes}
    statements: dict[str, int] = {}
    with app.app_context():
        for _ in range(args.rounds):
            for name, path in routes.items():
                rate, per_request = measure(client, path, args.seconds)
                rates[name].append(rate)
                statements[name] = per_request

    ceiling_rate = statistics.median(rates["constant (ceiling)"])
    print(
        f"{args.members} members, {app.config['DATABASE_URL'].split(':')[0]}, "
        f"{args.rounds} rounds x {args.seconds}s per route"
    )
    print(f"{'page':<22}{'req/s':>10}{'x ceiling':>11}{'SQL/req':>9}")
    for name in routes:
        rate = statistics.median(rates[name])
        print(f"{name:<22}{rate:>10.0f}{rate / ceiling_rate:>11.2f}{statements[name]:>9}")


if __name__ == "__main__":
    main()
