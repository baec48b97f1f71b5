"""Rendering: after commit, the certificates.render job turns each pending certificate into a
one-page PDF, once, even when runs overlap; failures are retried, then reported."""

from __future__ import annotations

import logging
import subprocess
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from core.db import db, utcnow
from core.models import Notification
from core.testing import count_rows, stored
from plugins.certificates import services
from plugins.certificates.models import Certificate

from .conftest import pdf_pages, pdf_text


def rendered_pdfs(app) -> dict[str, bytes]:
    from core.db import db

    with app.app_context():
        rows = db.session.execute(select(Certificate.holder_name, Certificate.pdf)).all()
        db.session.remove()
    return dict(rows)


def test_the_job_renders_a_one_page_pdf_with_names_number_facts_and_link(
    app, pair, complete_goal, run_render_job
):
    complete_goal(*pair, title="Mentorship of Bob by Ada")

    run_render_job()

    assert count_rows(app, Certificate, Certificate.status == "rendered") == 2
    number = stored(app, select(Certificate.number).where(Certificate.holder_name == "Bob Smith"))
    pdf = rendered_pdfs(app)["Bob Smith"]
    assert pdf.startswith(b"%PDF") and pdf_pages(pdf) == 1
    text = " ".join(pdf_text(pdf).split())
    for expected in (
        "Bob Smith",
        "Finished the probe course",
        "“Mentorship of Bob by Ada”",
        "Mentor",
        "Ada Lovelace",
        "3 March \N{EN DASH} 30 June 2026",
        "Meetings held",
        "6",
        number,
        f"http://alma.test/certificates/verify/{number}",
        "alma",
    ):
        assert expected.casefold() in text.casefold(), expected
    # each holder is told their certificate is ready
    assert count_rows(app, Notification, Notification.message.contains("is ready")) == 2


@pytest.mark.app_config(SITE_NAME="Mentoring Guild")
def test_the_pdf_names_the_platform(app, pair, complete_goal, run_render_job):
    complete_goal(*pair)

    run_render_job()

    assert "Mentoring Guild" in pdf_text(rendered_pdfs(app)["Ada Lovelace"])


def test_running_the_job_again_renders_nothing_again(
    app, pair, complete_goal, run_render_job, monkeypatch
):
    renders = count_renders(monkeypatch)
    complete_goal(*pair)
    run_render_job()
    first = rendered_pdfs(app)

    run_render_job()

    assert len(renders) == 2
    assert rendered_pdfs(app) == first


def count_renders(monkeypatch, delay: float = 0.0) -> list[str]:
    """Wrap the renderer: record each certificate rendered (and take ``delay`` seconds)."""
    renders: list[str] = []
    real = services.render_pdf

    def counting(certificate):
        renders.append(certificate.number)
        time.sleep(delay)
        return real(certificate)

    monkeypatch.setattr(services, "render_pdf", counting)
    return renders


def test_two_job_runs_at_once_render_each_certificate_once(
    app, create_user, complete_goal, run_render_job, monkeypatch
):
    members = [create_user() for _ in range(6)]
    for mentor, mentee in zip(members[::2], members[1::2], strict=True):
        complete_goal(mentor, mentee)
    renders = count_renders(monkeypatch, delay=0.05)
    start = threading.Barrier(2)

    def run():
        start.wait()
        run_render_job()

    runs = [threading.Thread(target=run) for _ in range(2)]
    for thread in runs:
        thread.start()
    for thread in runs:
        thread.join(timeout=60)

    assert sorted(renders) == sorted(set(renders)) and len(renders) == 6
    assert count_rows(app, Certificate, Certificate.status == "rendered") == 6


def test_a_certificate_whose_lease_ran_out_is_not_stored_twice(
    app, db, pair, complete_goal, monkeypatch
):
    """A run so slow that its claim expired and another run took over: the first one's PDF
    is thrown away rather than written over the second one's."""
    complete_goal(*pair)
    [first_id, second_id] = db.session.scalars(select(Certificate.id).order_by(Certificate.id))
    db.session.commit()

    lease = services._claim(first_id)
    db.session.execute(
        update(Certificate).where(Certificate.id == first_id).values(next_attempt_at=utcnow())
    )
    db.session.commit()
    assert services._render(first_id)  # the second run, after the lease ran out
    db.session.execute(
        update(Certificate).where(Certificate.id == first_id).values(next_attempt_at=lease)
    )
    db.session.commit()

    assert services._claim(first_id) is None  # rendered: nobody claims it again
    assert count_rows(app, Certificate, Certificate.status == "pending") == 1  # second_id
    assert second_id


def break_the_template(app) -> Path:
    """An operator's template that fails at every render."""
    folder = Path(app.instance_path) / "certificates"
    folder.mkdir(parents=True, exist_ok=True)
    template = folder / "certificate.html"
    template.write_text("<p>{{ holder_name }} {{ no_such_thing.attribute }}</p>")
    return template


def make_due_now(app) -> None:
    from core.db import db

    with app.app_context():
        db.session.execute(update(Certificate).values(next_attempt_at=utcnow()))
        db.session.commit()
        db.session.remove()


@pytest.mark.certificate_settings({"render_attempts": 2})
def test_a_failing_render_is_retried_later_then_reported_and_retried_by_the_operator(
    app, pair, complete_goal, run_render_job, operator, caplog
):
    template = break_the_template(app)
    complete_goal(*pair)

    run_render_job()  # first attempt fails: kept, with its error, for later

    waiting = stored(app, select(Certificate).where(Certificate.holder_name == "Bob Smith"))
    assert (waiting.status, waiting.attempts) == ("pending", 1)
    assert "UndefinedError" in waiting.last_error and "no_such_thing" in waiting.last_error
    assert waiting.next_attempt_at > utcnow() + timedelta(seconds=20)
    assert [r.levelno for r in caplog.records if r.name == services.__name__] == [
        logging.WARNING,
        logging.WARNING,
    ]

    run_render_job()  # not due yet: nothing happens
    assert count_rows(app, Certificate, Certificate.attempts == 1) == 2

    caplog.clear()
    make_due_now(app)
    run_render_job()  # the last attempt: failed, and logged as an error

    assert count_rows(app, Certificate, Certificate.status == "failed") == 2
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 2 and waiting.number in " ".join(r.getMessage() for r in errors)
    make_due_now(app)
    run_render_job()
    assert count_rows(app, Certificate, Certificate.status == "failed") == 2  # left alone

    listing = operator("list", "--failed")
    assert listing.exit_code == 0
    assert waiting.number in listing.output and "UndefinedError" in listing.output

    template.unlink()  # the operator fixes the template …
    for number in stored_numbers(app):  # … and asks for another go
        retried = operator("retry", number.lower())
        assert retried.exit_code == 0, retried.output
        assert "will be rendered" in retried.output
    run_render_job()

    assert stored(app, select(Certificate.status).where(Certificate.id == waiting.id)) == (
        "rendered"
    )
    assert "Bob Smith" in pdf_text(rendered_pdfs(app)["Bob Smith"])
    assert "No failed certificates." in operator("list", "--failed").output


def stored_numbers(app) -> list[str]:
    from core.db import db

    with app.app_context():
        numbers = list(db.session.scalars(select(Certificate.number)))
        db.session.remove()
    return numbers


def test_retrying_a_rendered_or_unknown_certificate_is_refused(
    app, pair, complete_goal, run_render_job, operator
):
    complete_goal(*pair)
    run_render_job()
    number = stored(app, select(Certificate.number).limit(1))

    assert operator("retry", number).exit_code == 1
    assert "rendered already" in operator("retry", number).output
    assert "no certificate" in operator("retry", "ALMA-XXXX-XXXX-XXXX").output


def test_the_operators_template_and_stylesheet_take_precedence(
    app, pair, complete_goal, run_render_job
):
    folder = Path(app.instance_path) / "certificates"
    folder.mkdir()
    (folder / "certificate.html").write_text(
        "<html><body><h1>Awarded with pride by {{ site_name }}</h1>"
        "<p>{{ holder_name }} · {{ achievement }} · {{ completed_on }} · {{ number }}</p>"
        "{% for label, value in facts %}<p>{{ label }}: {{ value }}</p>{% endfor %}"
        "<div class='qr'>{{ qr_code }}</div><p>{{ verify_url }}</p></body></html>"
    )
    (folder / "certificate.css").write_text("@page { size: A5 portrait; }")
    complete_goal(*pair)

    run_render_job()

    pdf = rendered_pdfs(app)["Bob Smith"]
    text = " ".join(pdf_text(pdf).split())
    assert "Awarded with pride by alma" in text
    assert "Meetings held: 6" in text
    assert "Bob Smith · Finished the probe course" in text
    assert "CERTIFICATE" not in text.upper().split("AWARDED")[0]  # not the built-in one

    # a later change of template leaves the certificates already made as they are
    (folder / "certificate.html").write_text("<p>A new design</p>")
    run_render_job()
    assert rendered_pdfs(app)["Bob Smith"] == pdf


def test_a_stylesheet_changed_between_two_renders_takes_effect_at_the_next(
    app, pair, complete_goal, run_render_job
):
    def page_sizes() -> set[str]:
        with app.app_context():
            pdfs = db.session.scalars(select(Certificate.pdf)).all()
            db.session.remove()
        return {page_size(pdf) for pdf in pdfs}

    complete_goal(*pair)
    run_render_job()
    assert page_sizes() == {"841.89 x 595.276 pts (A4)"}  # the built-in one: A4 landscape

    folder = Path(app.instance_path) / "certificates"
    folder.mkdir()
    (folder / "certificate.css").write_text("@page { size: A5 portrait; }")
    complete_goal(*pair, title="A second course")
    run_render_job()

    assert page_sizes() == {"841.89 x 595.276 pts (A4)", "419.528 x 595.276 pts"}  # A5


def page_size(pdf: bytes) -> str:
    result = subprocess.run(["pdfinfo", "-"], input=pdf, capture_output=True, check=True)
    [line] = [x for x in result.stdout.decode().splitlines() if x.startswith("Page size:")]
    return line.partition(":")[2].strip()


def test_the_pdf_escapes_what_members_wrote(app, create_user, complete_goal, run_render_job):
    mentor = create_user(display_name="<b>Ada</b> & co")
    mentee = create_user(display_name="Bob")
    complete_goal(mentor, mentee, title="<script>x</script>")

    run_render_job()

    text = " ".join(pdf_text(rendered_pdfs(app)["<b>Ada</b> & co"]).split())
    assert "<b>Ada</b> & co" in text and "<script>x</script>" in text
