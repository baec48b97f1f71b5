"""The ceilings every page is measured against, as routes of the app itself (same server,
same workers, same middleware, same database pool), added by a throwaway plugin:

* ``GET /bench/constant``: returns a constant, no database;
* ``GET /bench/select``: one indexed SELECT (a member's name by primary key);
* ``POST /bench/insert``: one INSERT into ``bench_writes`` and a commit;
* ``GET /bench/shell``: the floor of every member page: the logged-in member loaded, the
  navigation's badges counted, and ``base.html`` rendered around an empty page.

``bench_writes`` is the benchmark's own table, made by :func:`create_write_table` with plain
SQL in the throwaway database: it is no part of alma's schema or migrations.
"""

from __future__ import annotations

from flask import Blueprint, Flask, render_template, request
from flask_login import login_required
from sqlalchemy import Connection, text

from core import hookimpl
from core.db import db

WRITE_TABLE = "bench_writes"

ceilings = Blueprint("bench", __name__, url_prefix="/bench", template_folder="templates")


@ceilings.get("/constant")
def constant() -> str:
    return "ok"


@ceilings.get("/select")
def select_one() -> str:
    user_id = request.args.get("id", 1, type=int)
    name = db.session.execute(
        text("SELECT display_name FROM users WHERE id = :id"), {"id": user_id}
    ).scalar_one()
    return name


@ceilings.post("/insert")
def insert_one() -> str:
    db.session.execute(
        text(f"INSERT INTO {WRITE_TABLE} (body, created_at) VALUES (:body, now())"),
        {"body": "a line written by the benchmark"},
    )
    db.session.commit()
    return "ok"


@ceilings.get("/shell")
@login_required
def member_shell() -> str:
    return render_template("bench/shell.html")


class CeilingPlugin:
    @hookimpl
    def register_blueprints(self):
        return [ceilings]

    @hookimpl
    def app_created(self, app: Flask):
        app.extensions["csrf"].exempt(ceilings)  # wrk posts no form


def create_write_table(connection: Connection) -> None:
    connection.execute(
        text(
            f"CREATE TABLE {WRITE_TABLE} (id serial PRIMARY KEY, body text NOT NULL,"
            " created_at timestamptz NOT NULL)"
        )
    )
