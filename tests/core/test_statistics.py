"""The programme's statistics at /admin/statistics: core's figures (members, registrations),
months of the programme's calendar, and the CSV (the hook that lets each plugin add its own
is tested in test_hooks.py)."""

from __future__ import annotations

import csv
import html
import io
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from core.contributions import Statistic
from core.services.statistics import months_until

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 3, 15, 12, tzinfo=UTC)


def table(response) -> list[dict[str, str]]:
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def by_month(rows: list[dict[str, str]], column: str) -> dict[str, str]:
    return {row["month"]: row[column] for row in rows}


def test_months_start_at_midnight_of_the_programme_zone():
    months = months_until(date(2026, 3, 15), 3, BERLIN)
    assert months.firsts == (date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1))
    # Berlin is UTC+1 in winter; the summer time starting on 29 March ends the last month
    # an hour earlier in UTC than midnight of a winter night
    assert months.bounds == (
        datetime(2025, 12, 31, 23, tzinfo=UTC),
        datetime(2026, 1, 31, 23, tzinfo=UTC),
        datetime(2026, 2, 28, 23, tzinfo=UTC),
        datetime(2026, 3, 31, 22, tzinfo=UTC),
    )
    assert months.index_of(datetime(2026, 1, 31, 22, 30, tzinfo=UTC)) == 0
    assert months.index_of(datetime(2026, 1, 31, 23, 30, tzinfo=UTC)) == 1
    assert months.index_of(datetime(2025, 12, 31, 22, 59, tzinfo=UTC)) is None
    assert months.index_of(datetime(2026, 3, 31, 22, tzinfo=UTC)) is None
    assert months_until(date(2026, 1, 5), 13, BERLIN).firsts[0] == date(2025, 1, 1)


@pytest.fixture
def app(make_app):
    return make_app(DEFAULT_TIMEZONE="Europe/Berlin")


def test_registrations_count_in_the_month_of_the_programme_calendar(app, client, create_user):
    # 23:30 on 31 January in Berlin is already February in UTC... the other way round:
    # 22:30 UTC on 31 January is 23:30 in Berlin, still January; 23:30 UTC is 1 February.
    create_user(created_at=datetime(2026, 1, 31, 22, 30, tzinfo=UTC))
    create_user(created_at=datetime(2026, 1, 31, 23, 30, tzinfo=UTC))
    create_user(created_at=datetime(2026, 2, 10, tzinfo=UTC))
    create_user(created_at=datetime(2025, 3, 31, 21, 59, tzinfo=UTC))  # before the 12 months
    create_user(created_at=datetime(2025, 3, 31, 22, 0, tzinfo=UTC), confirmed=False)
    coordinator = create_user(role="coordinator", created_at=datetime(2026, 3, 2, tzinfo=UTC))
    gone = datetime(2026, 3, 1, tzinfo=UTC)
    before = datetime(2025, 1, 1, tzinfo=UTC)  # registered before the months shown
    # no longer current members: not counted now
    create_user(created_at=before, deactivated_at=gone)
    create_user(created_at=before, deactivated_at=gone, deletion_due_at=NOW)
    create_user(created_at=before, deactivated_at=gone, erased_at=gone)
    create_user(created_at=before, suspended_at=gone)
    create_user(created_at=before, suspended_at=before, suspended_until=gone)  # ended: counted
    with time_machine.travel(NOW, tick=False):
        client.login(coordinator)
        rows = table(client.get("/admin/statistics.csv"))
        page = html.unescape(client.get("/admin/statistics").text)

    assert [row["month"] for row in rows] == [
        *(f"2025-{month:02}" for month in range(4, 13)),
        "2026-01",
        "2026-02",
        "2026-03",
    ]
    assert by_month(rows, "registrations") == {
        **{f"2025-{month:02}": "0" for month in range(4, 13)},
        "2025-04": "1",  # midnight of 1 April in Berlin, unconfirmed or not
        "2026-01": "1",
        "2026-02": "2",
        "2026-03": "1",
    }
    # now: current members only (confirmed, neither suspended, deactivated nor erased)
    assert 'data-statistic="members"' in page
    assert 'data-value="6"' in page
    assert "Current members" in page
    assert "Jan 2026" in page
    assert "Europe/Berlin" in page

    with time_machine.travel(NOW, tick=False):
        client.login(coordinator)
        six = table(client.get("/admin/statistics.csv?months=6"))
        odd = table(client.get("/admin/statistics.csv?months=7"))  # not offered: the default
    assert six[0]["month"] == "2025-10"
    assert len(odd) == 12


def test_statistics_are_for_staff_only(app, client, create_user):
    for url in ("/admin/statistics", "/admin/statistics.csv"):
        response = client.get(url)
        assert response.status_code == 302
        assert response.location.startswith("/login")
    client.login(create_user())
    assert client.get("/admin/statistics").status_code == 403
    assert client.get("/admin/statistics.csv").status_code == 403
    client.login(create_user(role="admin"))
    assert client.get("/admin/statistics").status_code == 200
    console = client.get("/admin/").text
    assert 'href="/admin/statistics"' in console


def test_a_statistic_is_a_count_or_a_series():
    with pytest.raises(ValueError, match="now, per_month or both"):
        Statistic("probes.nothing", "Nothing")
