"""The certificates plugin's tests: a throwaway plugin ("probe") declares the goal kind that
earns a certificate, as mentoring does in production, so these tests need no other plugin."""

from __future__ import annotations

import subprocess
from collections.abc import Callable

import pytest
from click.testing import CliRunner, Result

from core import hookimpl
from core.contributions import GoalKind
from core.models import Goal

FINISHED = "probe.finished"
MET = "probe.met"


class CertificateProbe:
    """Declares a goal kind that earns a certificate (with facts) and one that does not."""

    @hookimpl
    def register_goal_kinds(self) -> list[GoalKind]:
        return [
            GoalKind(FINISHED, "Finished the probe course", describe=self.describe),
            GoalKind(MET, "Met for a probe"),
        ]

    @staticmethod
    def describe(goal: Goal) -> list[tuple[str, str]]:
        mentor, mentee = (party.user.display_name for party in goal.parties)
        return [
            ("Mentor", mentor),
            ("Mentee", mentee),
            ("Period", "3 March \N{EN DASH} 30 June 2026"),
            ("Meetings held", "6"),
        ]


@pytest.fixture
def app(make_app, request):
    """With the probe and certificates enabled; ``@pytest.mark.certificate_settings({...})``
    sets ``[plugins.certificates]``, ``@pytest.mark.app_config(KEY=value)`` core settings."""
    plugin_marker = request.node.get_closest_marker("certificate_settings")
    config_marker = request.node.get_closest_marker("app_config")
    return make_app(
        extra_plugins={"probe": CertificateProbe()},
        PLUGINS=["probe", "certificates"],
        PLUGIN_SETTINGS={
            "certificates": {"goal_kinds": [FINISHED]}
            | (plugin_marker.args[0] if plugin_marker else {})
        },
        **(config_marker.kwargs if config_marker else {}),
    )


def pytest_configure(config):
    config.addinivalue_line("markers", "certificate_settings(dict): [plugins.certificates]")
    config.addinivalue_line("markers", "app_config(**settings): core settings of the app")


@pytest.fixture
def pair(create_user):
    """A mentor and a mentee (ids in that order, as the probe's facts read the parties)."""
    mentor = create_user(display_name="Ada Lovelace")
    mentee = create_user(display_name="Bob Smith")
    return mentor, mentee


@pytest.fixture
def complete_goal(db) -> Callable[..., int]:
    """``complete_goal(*parties, kind=FINISHED, title=...)``: a goal every party consented to,
    through core's services, committed; returns its id."""
    from core.services.goals import consent_to_goal, propose_goal

    def complete(*parties, kind: str = FINISHED, title: str = "Mentorship of Bob by Ada") -> int:
        goal_id = propose_goal(kind, title, list(parties)).id
        db.session.commit()
        for party in parties:
            consent_to_goal(goal_id, party)
            db.session.commit()
        # no read after the last commit: on SQLite, a read transaction left open here would
        # keep an old snapshot that the test's next write could not build on
        return goal_id

    return complete


@pytest.fixture
def issued(app, pair, complete_goal) -> dict[str, str]:
    """Ada and Bob finished; their certificates are issued (not rendered yet): numbers by
    holder name."""
    from sqlalchemy import select

    from core.testing import stored
    from plugins.certificates.models import Certificate

    complete_goal(*pair)
    return {
        name: stored(app, select(Certificate.number).where(Certificate.holder_name == name))
        for name in ("Ada Lovelace", "Bob Smith")
    }


@pytest.fixture
def run_render_job(app) -> Callable[[], None]:
    """Run the ``certificates.render`` job as the scheduler does (own context, commit)."""
    from core.scheduler import run_job
    from core.state import alma

    [job] = [job for job in alma(app).hooks.jobs() if job.id == "certificates.render"]
    return lambda: run_job(app, job)


@pytest.fixture
def operator(app) -> Callable[..., Result]:
    """``operator("list", "--failed")``: ``alma certificates …`` in the app, as the CLI runs it."""
    from core.db import db
    from plugins.certificates.cli import certificates_command

    def run(*args: str) -> Result:
        with app.app_context():
            try:
                return CliRunner().invoke(certificates_command, list(args))
            finally:
                db.session.remove()

    return run


def pdf_text(pdf: bytes) -> str:
    """The text of a PDF, as poppler's pdftotext reads it (one line per line)."""
    result = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True
    )
    return result.stdout.decode()


def pdf_pages(pdf: bytes) -> int:
    result = subprocess.run(["pdfinfo", "-"], input=pdf, capture_output=True, check=True)
    [line] = [x for x in result.stdout.decode().splitlines() if x.startswith("Pages:")]
    return int(line.split()[1])
