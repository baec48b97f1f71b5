"""Credits in the HTTP API: the member's own ledger, newest first a page at a time with the
labels the ledger page shows, and their total."""

from __future__ import annotations

from core.testing import assert_api_routes_refuse_visitors, token_headers


def test_the_ledger_lists_the_members_entries_newest_first_with_labels(
    client, db, credits, create_user
):
    ada, bo = create_user(), create_user()
    first = credits.do(ada, "probe.wrote")
    credits.goal([ada, bo], "probe.finished", title="Six months of Python")
    credits.do(ada, "probe.rated")
    credits.undo(first)
    headers = token_headers(ada, "read")

    ledger = client.get("/api/v1/credits/ledger", headers=headers).json
    assert [(e["entry_kind"], e["label"], e["points"]) for e in ledger["items"]] == [
        ("reversal", "Wrote an article", -10),
        ("credit", "Rated an article", 2),
        ("credit", "Finished a mentorship", 50),
        ("credit", "Wrote an article", 10),
    ]
    assert ledger["items"][2]["detail"] == "Six months of Python"
    assert ledger["items"][0]["url"] is None  # the withdrawal links nowhere, as on the page
    assert ledger["items"][1]["url"].endswith("/probe/articles/3")
    assert client.get("/api/v1/credits/balance", headers=headers).json == {"total": 52}


def test_the_ledger_comes_a_page_at_a_time(client, db, credits, create_user):
    ada = create_user()
    for _ in range(3):
        credits.do(ada, "probe.rated")
    headers = token_headers(ada, "read")

    first = client.get("/api/v1/credits/ledger?limit=2", headers=headers)
    assert len(first.json["items"]) == 2 and 'rel="next"' in first.headers["Link"]
    after = client.get(
        f"/api/v1/credits/ledger?limit=2&after={first.json['next']}", headers=headers
    ).json
    assert len(after["items"]) == 1 and after["next"] is None
    assert after["items"][0]["id"] < first.json["items"][-1]["id"]
    wrong = client.get("/api/v1/credits/ledger?after=nonsense", headers=headers)
    assert wrong.status_code == 400 and wrong.json["type"] == "/api/problems/invalid-cursor"
    assert client.get("/api/v1/credits/ledger?limit=0", headers=headers).status_code == 422


def test_a_member_only_ever_reads_their_own_ledger(app, client, db, credits, create_user):
    ada, bo = create_user(), create_user()
    credits.do(ada, "probe.wrote")
    headers = token_headers(bo, "read")
    assert client.get("/api/v1/credits/ledger", headers=headers).json["items"] == []
    assert client.get("/api/v1/credits/balance", headers=headers).json == {"total": 0}
    assert_api_routes_refuse_visitors(app, client, headers)
