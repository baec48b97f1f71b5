"""Writing and reading articles: create with a preview, edit, rendered HTML stored on save,
unique titles, double submits, clear refusals, and members only."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select, update

from core.testing import count_rows, run_job, stored, verified
from plugins.wiki.models import Article, Revision, Tag


def publish(client, **fields):
    data = {"title": "Your first meeting", "body": "Say **hello**.", "tags": "", "summary": ""}
    return client.post("/wiki/new", data=data | fields, follow_redirects=True)


def test_a_member_publishes_an_article_and_reads_it_rendered(client, app, ada):
    client.login(ada)

    page = publish(
        client,
        title="Your first meeting",
        body="# Agenda\n\n- Introductions\n- **Expectations**\n\n[Guide](https://example.org/guide)",
        tags="first meeting, Getting started",
    )

    assert page.status_code == 200
    assert "Your article is published" in page.text
    assert "<h1>Agenda</h1>" in page.text
    assert "<li><strong>Expectations</strong></li>" in page.text
    assert (
        '<a href="https://example.org/guide" rel="nofollow noopener noreferrer ugc">Guide</a>'
        in page.text
    )
    assert "Started by" in page.text and "Ada Lovelace" in page.text
    assert ">first meeting</a>" in page.text and ">Getting started</a>" in page.text
    article_id = stored(app, select(Article.id))
    assert page.request.path == f"/wiki/{article_id}-your-first-meeting"
    assert stored(app, select(Article.body_html).where(Article.id == article_id)).startswith(
        "<h1>Agenda</h1>"
    )
    assert count_rows(app, Revision, Revision.article_id == article_id) == 1


def test_pages_show_the_html_stored_at_save_without_rendering_again(client, app, db, ada, articles):
    article = articles.create(ada, body="Original *text*")
    db.session.execute(
        update(Article).where(Article.id == article.id).values(body_html="<p>Stored HTML</p>")
    )
    db.session.commit()
    client.login(ada)

    page = client.get(f"/wiki/{article.id}-your-first-meeting")

    assert "<p>Stored HTML</p>" in page.text
    assert "<em>text</em>" not in page.text


def test_the_preview_button_renders_without_saving(client, app, ada):
    client.login(ada)

    page = client.post(
        "/wiki/new",
        data={"title": "Draft", "body": "Some *emphasis* <script>x</script>", "preview": "1"},
    )

    assert page.status_code == 200
    assert "<em>emphasis</em>" in page.text
    assert "&lt;script&gt;x&lt;/script&gt;" in page.text  # raw HTML stays text
    kept = re.search(r">\s*Some \*emphasis\* &lt;script&gt;x&lt;/script&gt;</textarea>", page.text)
    assert kept  # the text stays in the form
    assert count_rows(app, Article) == 0


def test_the_live_preview_endpoint_returns_sanitized_html(client, ada):
    client.login(ada)

    answer = client.post("/wiki/preview", data={"body": "**bold** [x](javascript:alert(1))"})

    assert answer.status_code == 200
    assert answer.json["html"] == "<p><strong>bold</strong> [x](javascript:alert(1))</p>\n"


def test_the_preview_endpoint_refuses_a_text_too_long(client, ada):
    client.login(ada)

    answer = client.post("/wiki/preview", data={"body": "x" * 100_001})

    assert answer.status_code == 400
    assert "too long" in answer.json["error"]


def test_a_published_article_is_sent_to_webhook_endpoints_once(
    make_app, create_user, webhook_receiver
):
    app = make_app(WEBHOOK_ALLOW_LOCAL_HTTP=True)
    client = app.test_client()
    _, secret = webhook_receiver.subscribe(app, "article.published")
    author = create_user(display_name="Ada Lovelace")
    client.login(author)

    publish(client, title="Your first meeting")
    publish(client, title="Your first meeting")  # the same form twice: published once
    run_job(app, "core.deliver_webhooks")

    [delivery] = webhook_receiver.received
    assert verified(delivery, secret)
    assert delivery.payload["type"] == "article.published"
    assert delivery.payload["data"] == {
        "article_id": stored(app, select(Article.id)),
        "author_id": author.id,
        "title": "Your first meeting",
    }


def test_the_preview_endpoint_needs_the_csrf_token(make_app, create_user):
    app = make_app(WTF_CSRF_ENABLED=True)
    member = create_user()
    client = app.test_client()
    client.login(member)

    assert client.post("/wiki/preview", data={"body": "hi"}).status_code == 400


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"title": "   "}, "This field is required."),
        ({"body": "  \n "}, "This field is required."),
        ({"title": "x" * 121}, "Field cannot be longer than 120 characters."),
        ({"tags": ", ".join(f"tag{n}" for n in range(9))}, "Give at most 8 tags."),
        ({"tags": "y" * 41}, "Keep each tag under 40 characters."),
        # within the limits, but twice as long once case-folded for their unique keys
        ({"title": "ß" * 120}, "Keep the title under 120 characters."),
        ({"tags": "ß" * 40}, "Keep each tag under 40 characters."),
    ],
)
def test_bad_input_is_refused_with_a_message_and_saves_nothing(client, app, ada, fields, message):
    client.login(ada)

    page = publish(client, **fields)

    assert page.status_code == 400
    assert message in page.text
    assert count_rows(app, Article) == 0


def test_titles_are_unique_whatever_their_case(client, app, ada, rui, articles):
    articles.create(ada, title="Your first meeting")
    client.login(rui)

    page = publish(client, title="YOUR FIRST   meeting", body="Another text")

    assert page.status_code == 400
    assert "An article titled “YOUR FIRST meeting” exists already." in page.text
    assert count_rows(app, Article) == 1


def test_publishing_the_same_form_twice_publishes_once(client, app, ada):
    client.login(ada)

    first = publish(client, title="Goals", body="Set one goal.")
    second = publish(client, title="Goals", body="Set one goal.")

    assert first.request.path == second.request.path
    assert count_rows(app, Article) == 1
    assert count_rows(app, Revision) == 1


def test_only_an_edit_asks_what_changed(client, app, ada, articles):
    client.login(ada)

    new_page = client.get("/wiki/new").text
    publish(client, title="Goals", summary="sneaked in")
    article = stored(app, select(Article))
    edit_page = client.get(f"/wiki/{article.id}/edit").text

    assert "What did you change?" not in new_page
    assert "What did you change?" in edit_page
    assert stored(app, select(Revision.summary)) == "First version"


def test_a_member_edits_an_article_and_tags_follow(client, app, ada, rui, articles, edit_form):
    article = articles.create(ada, tags="goals")
    client.login(rui)
    form = edit_form(client.get(f"/wiki/{article.id}/edit").text)
    assert form["base_revision"] == "1" and form["tags"] == "goals"

    page = client.post(
        f"/wiki/{article.id}/edit",
        data=form | {"body": "New text", "tags": "goals, feedback", "summary": "Shorter"},
        follow_redirects=True,
    )

    assert "Your changes are saved." in page.text
    assert "<p>New text</p>" in page.text
    assert ">feedback</a>" in page.text
    assert stored(app, select(Article.revision_number)) == 2
    summary = stored(app, select(Revision.summary).where(Revision.number == 2))
    assert summary == "Shorter"
    assert count_rows(app, Tag) == 2


def test_renaming_changes_the_address_and_old_links_follow(client, ada, articles, edit_form):
    article = articles.create(ada, title="Old name")
    client.login(ada)
    form = edit_form(client.get(f"/wiki/{article.id}/edit").text)
    client.post(f"/wiki/{article.id}/edit", data=form | {"title": "New name"})

    old_link = client.get(f"/wiki/{article.id}-old-name")
    short_link = client.get(f"/wiki/{article.id}")

    assert old_link.status_code == 301
    assert old_link.location.endswith(f"/wiki/{article.id}-new-name")
    assert short_link.location.endswith(f"/wiki/{article.id}-new-name")


def test_saving_without_a_change_is_refused(client, app, ada, articles, edit_form):
    article = articles.create(ada)
    client.login(ada)
    form = edit_form(client.get(f"/wiki/{article.id}/edit").text)

    page = client.post(f"/wiki/{article.id}/edit", data=form)

    assert page.status_code == 400
    assert "You changed nothing" in page.text
    assert count_rows(app, Revision) == 1


def test_a_missing_article_is_a_404(client, ada):
    client.login(ada)

    assert client.get("/wiki/999-nothing").status_code == 404
    assert client.get("/wiki/999/edit").status_code == 404
    assert client.get("/wiki/999/history").status_code == 404


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/wiki/"),
        ("get", "/wiki/articles"),
        ("get", "/wiki/search?q=x"),
        ("get", "/wiki/new"),
        ("post", "/wiki/new"),
        ("post", "/wiki/preview"),
        ("get", "/wiki/{id}-your-first-meeting"),
        ("get", "/wiki/{id}/edit"),
        ("post", "/wiki/{id}/edit"),
        ("get", "/wiki/{id}/history"),
        ("get", "/wiki/{id}/compare"),
        ("get", "/wiki/{id}/revisions/1"),
        ("post", "/wiki/{id}/revisions/1/restore"),
        ("post", "/wiki/{id}/rating"),
        ("get", "/wiki/{id}/delete"),
        ("post", "/wiki/{id}/delete"),
        ("get", "/wiki/tags/goals"),
    ],
)
def test_every_page_is_for_members_only(client, app, ada, articles, method, path):
    article = articles.create(ada, tags="goals")

    answer = getattr(client, method)(path.format(id=article.id), data={"stars": "5"})

    assert answer.status_code == 302
    assert "/login" in answer.location
    assert count_rows(app, Article) == 1


def publish_as(user_id: int, title: str, body: str) -> int:
    from core.db import db
    from core.models import User
    from plugins.wiki import services

    return services.create_article(db.session.get(User, user_id), title, body).id


def test_the_same_article_published_twice_at_once_is_published_once(app, db, ada, race):
    ada_id = ada.id

    outcomes = race(
        lambda: publish_as(ada_id, "Goals", "Set one goal."),
        lambda: publish_as(ada_id, "Goals", "Set one goal."),
    )

    assert [kind for kind, _ in outcomes] == ["ok", "ok"], outcomes
    assert outcomes[0][1] == outcomes[1][1]
    assert count_rows(app, Article) == 1 and count_rows(app, Revision) == 1


def test_two_members_taking_one_title_at_once_get_one_article(app, db, ada, rui, race):
    ada_id, rui_id = ada.id, rui.id

    outcomes = race(
        lambda: publish_as(ada_id, "Goals", "Ada's goals."),
        lambda: publish_as(rui_id, "Goals", "Rui's goals."),
    )

    assert sorted(kind for kind, _ in outcomes) == ["error", "ok"], outcomes
    error = next(value for kind, value in outcomes if kind == "error")
    assert "exists already" in str(error)
    assert count_rows(app, Article) == 1
