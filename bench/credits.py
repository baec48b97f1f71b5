"""Whether a member's credits stay fast however long their ledger: 100 entries against 100,000.

    .venv/bin/python bench/credits.py [--entries 100000] [--members 300]
        [--db postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

Builds, on SQLite (and, with ``--db``, in a throwaway database on that PostgreSQL server), a
community with a member whose ledger holds ``--entries`` entries spread over two years, a member
with 100, and ``--members`` others with a few hundred each. Then times, interleaved over several
rounds so that machine noise hits them alike: the credit total (the service call the profile
header, the Overview and the mentor cards make), the member's first credits page, their profile
Overview, and the top contributors (all time, last 30 days) through the WSGI app in this
process. Prints the median time per call for the small and the large ledger, their ratio and
difference, and SQL statements per call. The total and the first page must not grow with the
ledger: ratio near 1, difference within a few milliseconds.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta

from flask import Flask
from sqlalchemy import insert, text
from sqlalchemy.engine import make_url

from bench.dataset import throwaway_database
from core import hookimpl
from core.app import create_app
from core.contributions import ActivityKind
from core.db import db, utcnow
from core.models import User
from core.schema import upgrade
from core.services.accounts import hash_password, start_session
from core.testing import sql_statements
from plugins.credits import services
from plugins.credits.models import CreditBalance, CreditEntry

SMALL = 100
KIND = "bench.did"
CHUNK = 10_000


class BenchPlugin:
    @hookimpl
    def register_activity_kinds(self):
        return [ActivityKind(KIND, "Did something for the community")]


# ---- the community -------------------------------------------------------------------------


def add_members(count: int) -> list[int]:
    password = hash_password("bench-password")
    users = [
        User(
            email=f"m{number}@example.org",
            password_hash=password,
            display_name=f"Member {number}",
            email_confirmed_at=utcnow(),
        )
        for number in range(count)
    ]
    db.session.add_all(users)
    db.session.commit()
    return [user.id for user in users]


def add_ledger(user_id: int, entries: int, first_source_id: int) -> None:
    """``entries`` credits of 1 to 5 points spread over the last two years, and the balance."""
    now, rng, total = utcnow(), random.Random(user_id), 0
    rows = []
    for number in range(entries):
        points = rng.randint(1, 5)
        total += points
        rows.append(
            {
                "user_id": user_id,
                "source_type": "activity",
                "source_id": first_source_id + number,
                "entry_kind": "credit",
                "kind": KIND,
                "url": f"/somewhere/{number}",
                "points": points,
                "created_at": now - timedelta(minutes=(entries - number) * 730 * 1440 // entries),
            }
        )
        if len(rows) == CHUNK:
            db.session.execute(insert(CreditEntry), rows)
            rows = []
    if rows:
        db.session.execute(insert(CreditEntry), rows)
    db.session.execute(insert(CreditBalance).values(user_id=user_id, total=total))
    db.session.commit()


def build_community(entries: int, members: int) -> tuple[int, int]:
    """The ids of the member with a small ledger and of the one with a large ledger."""
    small, large, *others = add_members(2 + members)
    source_ids = iter(range(0, 10**9, 10**6))
    add_ledger(small, SMALL, next(source_ids))
    add_ledger(large, entries, next(source_ids))
    for number, member in enumerate(others):
        add_ledger(member, 100 + number % 400, next(source_ids))
    return small, large


# ---- measuring -------------------------------------------------------------------------------


def timed(app: Flask, call: Callable[[], object], repeat: int) -> tuple[float, int]:
    """Median milliseconds per call, and SQL statements per call."""
    times = []
    with sql_statements(app) as statements:
        for _ in range(repeat):
            started = time.perf_counter()
            call()
            times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), len(statements) // repeat


def total_timing(app: Flask, user_id: int) -> tuple[float, int]:
    """The service call alone, on a member already loaded (as the page has them)."""
    with app.app_context():
        user = db.session.get(User, user_id)
        return timed(app, lambda: services.credit_total(user), 200)


def page_timing(client, path: str, repeat: int) -> tuple[float, int]:
    """Whole requests, each in its own app context and unit of work, as in production."""

    def get() -> None:
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)

    return timed(client.application, get, repeat)


def logged_in_client(app: Flask, user_id: int):
    client = app.test_client()
    with app.app_context():
        user = db.session.get(User, user_id)
        start_session(user, "bench")
        db.session.commit()
        with client.session_transaction() as session:
            session["_user_id"] = user.get_id()
    return client


def run(database_url: str, entries: int, members: int, rounds: int) -> None:
    instance = tempfile.mkdtemp(prefix="alma-bench-credits-")
    app = create_app(
        {
            "DATABASE_URL": database_url,
            "PLUGINS": ["bench", "credits"],
            "PLUGIN_SETTINGS": {"credits": {"rules": {KIND: 3}}},
            "SECRET_KEY": "bench",
            "WTF_CSRF_ENABLED": False,
        },
        instance_path=instance,
        extra_plugins={"bench": BenchPlugin()},
    )
    upgrade(app)
    started = time.perf_counter()
    with app.app_context():
        small, large = build_community(entries, members)
        if app.config["DATABASE_URL"].startswith("postgresql"):
            with db.engine.connect() as connection:
                connection.execute(text("ANALYZE"))
                connection.commit()
    built = time.perf_counter() - started
    clients = {small: logged_in_client(app, small), large: logged_in_client(app, large)}
    measures: dict[str, Callable[[int], tuple[float, int]]] = {
        "credit total (service)": lambda user: total_timing(app, user),
        "first credits page": lambda user: page_timing(clients[user], "/credits/", 20),
        "profile Overview": lambda user: page_timing(clients[user], f"/members/{user}", 20),
        "top, all time": lambda user: page_timing(clients[user], "/credits/top", 20),
        "top, last 30 days": lambda user: page_timing(clients[user], "/credits/top?period=30d", 10),
    }
    results: dict[tuple[str, int], list[float]] = {}
    statements: dict[tuple[str, int], int] = {}
    for _ in range(rounds):
        for name, measure in measures.items():
            for user in (small, large):
                milliseconds, per_call = measure(user)
                results.setdefault((name, user), []).append(milliseconds)
                statements[(name, user)] = per_call
    with app.app_context():
        db.engine.dispose()

    backend = make_url(app.config["DATABASE_URL"]).get_backend_name()
    print(
        f"\n{backend}: a ledger of {SMALL:,} vs {entries:,} entries, {members} other members "
        f"({built:.0f} s to build), median of {rounds} rounds"
    )
    print(f"{'':<24}{'100 (ms)':>10}{f'{entries:,} (ms)':>16}{'ratio':>8}{'diff ms':>9}{'SQL':>9}")
    for name in measures:
        fast = statistics.median(results[(name, small)])
        slow = statistics.median(results[(name, large)])
        sql = f"{statements[(name, small)]}/{statements[(name, large)]}"
        print(f"{name:<24}{fast:>10.2f}{slow:>16.2f}{slow / fast:>8.2f}{slow - fast:>9.2f}{sql:>9}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--members", type=int, default=300, help="other members with credits")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--db", default="", help="a PostgreSQL server URL, to run there too")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="alma-bench-credits-") as folder:
        run(f"sqlite:///{folder}/bench.db", args.entries, args.members, args.rounds)
    if args.db:
        with throwaway_database(args.db) as url:
            run(url, args.entries, args.members, args.rounds)


if __name__ == "__main__":
    main()
