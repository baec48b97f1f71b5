"""Every save is a revision: history, comparing any two, restoring an old one as a new
revision, and concurrent edits that never silently overwrite each other (the form's base
revision, and a unique revision number per article in the database)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.db import utcnow
from core.models import User
from core.testing import count_rows, stored
from plugins.wiki import services
from plugins.wiki.models import Article, Revision

ONE = "Meet for an hour.\nAgree on a channel.\nSet one goal."
TWO = "Meet for an hour.\nAgree on a channel: chat or mail.\nSet one goal.\nWrite it down."


@pytest.fixture
def article(articles, ada, rui):
    """An article by Ada (revision 1) that Rui edited (revision 2)."""
    created = articles.create(ada, title="First meeting", body=ONE)
    articles.edit(created, rui, TWO, summary="More on channels")
    return created


def diff_rows(page: str) -> list[tuple[str, str]]:
    """(kind, text) of each line of the page's diff table, as a reader sees it."""
    rows = re.findall(
        r'<tr class="wiki-diff-(added|removed|same)">.*?<td class="wiki-diff-text">(.*?)</td>',
        page,
        re.S,
    )
    return [(kind, re.sub(r"<span[^>]*>.*?</span>", "", text)) for kind, text in rows]


def test_the_history_lists_every_revision_with_author_time_and_summary(client, ada, article):
    client.login(ada)

    page = client.get(f"/wiki/{article.id}/history").text

    assert page.index("Revision 2") < page.index("Revision 1")
    assert "Rui Mentor" in page and "Ada Lovelace" in page
    assert "More on channels" in page and "First version" in page
    assert re.search(r"<time [^>]*datetime=\"\d{4}-\d\d-\d\dT", page)


def test_comparing_two_revisions_shows_removed_and_added_lines(client, ada, article):
    client.login(ada)

    page = client.get(f"/wiki/{article.id}/compare?old=1&new=2").text

    assert diff_rows(page) == [
        ("same", "Meet for an hour."),
        ("removed", "Agree on a channel."),
        ("added", "Agree on a channel: chat or mail."),
        ("same", "Set one goal."),
        ("added", "Write it down."),
    ]


def test_comparing_any_two_revisions_either_way(client, ada, rui, articles, article):
    articles.edit(article, ada, TWO + "\nBring a question.")
    client.login(rui)

    backwards = client.get(f"/wiki/{article.id}/compare?old=3&new=1").text

    assert ("removed", "Bring a question.") in diff_rows(backwards)
    assert ("added", "Agree on a channel.") in diff_rows(backwards)


def test_compare_defaults_to_the_latest_change_and_refuses_unknown_revisions(client, ada, article):
    client.login(ada)

    latest = client.get(f"/wiki/{article.id}/compare?old=abc")
    missing = client.get(f"/wiki/{article.id}/compare?old=1&new=9")

    assert "Revision 1 → revision 2" in latest.text
    assert missing.status_code == 404


def test_a_long_article_of_repeated_lines_compares_at_once(client, ada, rui, articles):
    # One line repeated costs difflib the square of the article's length: minutes for the
    # longest article, a worker and the article's lock held all along. Here it is matched
    # from both ends, and what lies between is shown as replaced whole.
    lines = ["Repeat after me."] * 5_000
    article = articles.create(ada, title="Practice", body="\n".join(lines))
    articles.edit(article, rui, "\n".join(["Listen first.", *lines[1:-1], "Then repeat."]))
    client.login(ada)

    rows = diff_rows(client.get(f"/wiki/{article.id}/compare?old=1&new=2").text)

    assert [text for kind, text in rows if kind != "added"] == lines
    assert [text for kind, text in rows if kind != "removed"] == [
        "Listen first.",
        *lines[1:-1],
        "Then repeat.",
    ]


def test_a_diff_beyond_its_budget_shows_the_changed_stretch_replaced_whole(monkeypatch):
    monkeypatch.setattr(services, "DIFF_BUDGET", 4)
    old = "Title\none\ntwo\nthree\nEnd"
    new = "Title\nONE\ntwo\nTHREE\nEnd"

    shown = [(line.kind, line.text) for line in services.line_diff(old, new)]

    assert shown == [
        ("same", "Title"),
        *[("removed", text) for text in ("one", "two", "three")],
        *[("added", text) for text in ("ONE", "two", "THREE")],
        ("same", "End"),
    ]
    # and an edit counts every character of that stretch as changed (but the line break
    # both end with)
    assert services.changed_characters(old, new) == 2 * len("one\ntwo\nthree")


def test_restoring_an_old_revision_makes_a_new_one(client, app, ada, rui, article):
    client.login(rui)

    page = client.post(f"/wiki/{article.id}/revisions/1/restore", follow_redirects=True)

    assert "Revision 1 is the current text again." in page.text
    assert "Agree on a channel.</p>" in page.text or "Agree on a channel." in page.text
    assert stored(app, select(Article.body)) == ONE
    restored = stored(app, select(Revision).where(Revision.number == 3))
    assert (restored.body, restored.restored_from, restored.author_id) == (ONE, 1, rui.id)
    assert restored.summary == "Restored revision 1"
    assert count_rows(app, Revision) == 3  # nothing is lost: revision 2 stays


def test_restoring_the_current_text_is_refused(client, app, ada, article):
    client.login(ada)

    page = client.post(f"/wiki/{article.id}/revisions/2/restore", follow_redirects=True)

    assert "reads like the current text already" in page.text
    assert count_rows(app, Revision) == 2


def test_an_old_revision_reads_as_it_was(client, ada, article):
    client.login(ada)

    page = client.get(f"/wiki/{article.id}/revisions/1").text

    assert "You are reading an old revision (1 of 2)." in page
    assert "Agree on a channel.\nSet one goal." in page
    assert "Restore this revision" in page


# ---- concurrent edits ----------------------------------------------------------------------


def test_a_stale_save_is_refused_with_the_difference_and_the_text_kept(
    client, app, ada, rui, articles, edit_form
):
    article = articles.create(ada, title="First meeting", body=ONE)
    client.login(ada)
    adas_form = edit_form(client.get(f"/wiki/{article.id}/edit").text)
    articles.edit(article, rui, TWO)  # Rui saves while Ada is still editing

    page = client.post(
        f"/wiki/{article.id}/edit", data=adas_form | {"body": ONE + "\nAda's own line."}
    )

    assert page.status_code == 409
    assert "Someone saved this article while you were editing it" in page.text
    assert "Ada&#39;s own line." in page.text.split("<textarea")[1]  # her text is kept
    assert ("added", "Ada&#39;s own line.") in diff_rows(page.text)
    assert ("removed", "Write it down.") in diff_rows(page.text)
    assert stored(app, select(Article.body)) == TWO  # Rui's save stands
    assert edit_form(page.text)["base_revision"] == "2"

    merged = client.post(
        f"/wiki/{article.id}/edit",
        data=edit_form(page.text) | {"body": TWO + "\nAda's own line."},
        follow_redirects=True,
    )

    assert "Your changes are saved." in merged.text
    assert stored(app, select(Article.body)) == TWO + "\nAda's own line."
    assert stored(app, select(Article.revision_number)) == 3


def test_posting_the_same_edit_twice_saves_it_once(client, app, ada, articles, edit_form):
    article = articles.create(ada, body=ONE)
    client.login(ada)
    form = edit_form(client.get(f"/wiki/{article.id}/edit").text) | {"body": TWO}

    first = client.post(f"/wiki/{article.id}/edit", data=form)
    second = client.post(f"/wiki/{article.id}/edit", data=form)

    assert first.status_code == second.status_code == 302
    assert count_rows(app, Revision) == 2


def test_a_tampered_base_revision_is_refused(client, app, ada, articles, edit_form):
    article = articles.create(ada, body=ONE)
    client.login(ada)
    form = edit_form(client.get(f"/wiki/{article.id}/edit").text)

    page = client.post(
        f"/wiki/{article.id}/edit", data=form | {"body": TWO, "base_revision": "1e3"}
    )

    assert page.status_code == 400
    assert "reload the page" in page.text
    assert count_rows(app, Revision) == 1


def save_from_base_1(article_id: int, user_id: int, body: str) -> int:
    from core.db import db

    editor = db.session.get(User, user_id)
    return services.save_article(
        article_id, editor, base_number=1, title="First meeting", body=body
    ).number


@pytest.mark.parametrize("attempt", range(3))
def test_two_saves_at_the_same_instant_cannot_both_become_the_next_revision(
    app, db, articles, ada, rui, race, attempt
):
    article_id = articles.create(ada, title="First meeting", body=ONE).id
    ada_id, rui_id = ada.id, rui.id  # the racers read no object of the test's session

    outcomes = race(
        lambda: save_from_base_1(article_id, ada_id, ONE + "\nFrom Ada."),
        lambda: save_from_base_1(article_id, rui_id, ONE + "\nFrom Rui."),
    )

    results = sorted(outcomes, key=lambda outcome: outcome[0])
    assert [kind for kind, _ in results] == ["error", "ok"], outcomes
    assert isinstance(results[0][1], services.EditConflict)
    assert results[1][1] == 2
    assert stored(app, select(Article.revision_number)) == 2
    assert count_rows(app, Revision, Revision.article_id == article_id) == 2


def test_the_database_refuses_a_second_revision_with_the_same_number(db, articles, ada):
    article = articles.create(ada, body=ONE)

    db.session.add(
        Revision(
            article_id=article.id,
            number=1,
            title="x",
            body="x",
            body_html="x",
            summary="",
            created_at=utcnow(),
        )
    )

    with pytest.raises(IntegrityError):
        db.session.flush()
