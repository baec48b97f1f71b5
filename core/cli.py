"""The ``alma`` command line."""

from __future__ import annotations

import contextlib
import logging
import signal
import socket
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import click
from flask import Flask

from core.config import ConfigError, unset_base_url_warning
from core.models import ROLES
from core.plugins import PluginError, implemented_hooks
from core.schema import StaleSchema

if TYPE_CHECKING:
    from core.models import User, WebhookEndpoint

APP_KEY = "alma.app"


def _app(ctx: click.Context) -> Flask:
    """The app, built once per command line (and only when a command needs it)."""
    from core.app import create_app

    meta = ctx.find_root().meta
    if APP_KEY not in meta:
        try:
            meta[APP_KEY] = create_app()
        except (ConfigError, PluginError) as error:
            raise click.ClickException(str(error)) from None
    app: Flask = meta[APP_KEY]
    return app


class AlmaGroup(click.Group):
    """Core's commands plus those of enabled plugins."""

    def _plugin_commands(self, ctx: click.Context) -> dict[str, click.Command]:
        try:
            app = _app(ctx)
        except click.ClickException:
            return {}
        return {command.name: command for command in app.extensions["alma"].hooks.cli_commands()}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self._plugin_commands(ctx)))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        return super().get_command(ctx, name) or self._plugin_commands(ctx).get(name)


@click.group(cls=AlmaGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.pass_context
def cli(ctx: click.Context) -> None:
    """alma, the open-source mentoring platform.

    Settings come from alma.toml in the instance folder (./instance, or ALMA_INSTANCE_PATH),
    or the file named by ALMA_CONFIG, and ALMA_<KEY> environment variables.
    """
    _configure_logging()
    # Runs only when a command follows (help exits earlier): the command runs in the app.
    ctx.with_resource(_app(ctx).app_context())


# Libraries that narrate their routine work at INFO: each step of each PDF (WeasyPrint), each
# migration context (Alembic), each job run (APScheduler), each HTTP request of the development
# server and each long poll of every open tab (Werkzeug). alma's own INFO lines stay.
QUIET_LOGGERS = (
    "alembic",
    "apscheduler",
    "engineio",
    "fontTools",
    "socketio",
    "weasyprint",
    "werkzeug",
)


def _configure_logging() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def _ensure_schema(app: Flask) -> None:
    from core.schema import ensure_schema

    try:
        ensure_schema(app)
    except StaleSchema as error:
        raise click.ClickException(str(error)) from None


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--debug", is_flag=True, help="Reload on code changes and show tracebacks.")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, debug: bool) -> None:
    """Run the development server, with Socket.IO and (by default) the scheduler."""
    from core.realtime import WebSocketsEndTheirConnection
    from core.scheduler import start_in_background

    app = _app(ctx)
    _ensure_schema(app)
    served = _served_url(host, port)
    if app.config["BASE_URL_DERIVED"]:
        app.config["BASE_URL"] = served  # before the scheduler's first mail
    if app.config["SCHEDULER_IN_PROCESS"]:
        start_in_background(app)
    click.echo(f"alma is running: open {served}/ (Ctrl+C stops it)")
    origin = "from --host and --port" if app.config["BASE_URL_DERIVED"] else "BASE_URL"
    click.echo(f"Links in mails use {app.config['BASE_URL']} ({origin})")
    app.extensions["socketio"].run(
        app,
        host=host,
        port=port,
        debug=debug,
        use_reloader=False,
        allow_unsafe_werkzeug=True,
        log_output=debug,
        request_handler=WebSocketsEndTheirConnection,
    )


def _served_url(host: str, port: int) -> str:
    """The address a browser reaches ``alma serve`` at: for all interfaces, this machine's
    name; an IPv6 address in brackets."""
    if host in ("", "0.0.0.0", "::"):
        host = socket.gethostname()
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def _warn_unless_base_url_set(app: Flask) -> None:
    warning = unset_base_url_warning(app.config)
    if warning:
        click.echo(f"Warning: {warning}", err=True)


@cli.command()
@click.pass_context
def scheduler(ctx: click.Context) -> None:
    """Run the scheduled jobs alone (one such process per deployment)."""
    from core.scheduler import run_forever

    app = _app(ctx)
    _ensure_schema(app)
    _warn_unless_base_url_set(app)
    # A service manager stops it with SIGTERM: as with Ctrl+C, the running job finishes first
    # (by default Python would die at once, perhaps between sending a mail and noting it).
    signal.signal(signal.SIGTERM, _exit_gracefully)
    run_forever(app, say=click.echo)


def _exit_gracefully(signum: int, frame: object) -> None:
    raise SystemExit(0)


@cli.group()
def jobs() -> None:
    """Scheduled jobs: list them, run one now."""


@jobs.command("list")
@click.pass_context
def list_jobs(ctx: click.Context) -> None:
    """List the jobs: name, when it runs, when it last ran and where, its last error."""
    from core.scheduler import job_statuses

    app = _app(ctx)
    _ensure_schema(app)
    for status in job_statuses(app):
        last = status.last_run
        last_run = f"last run {last[0]:%Y-%m-%d %H:%M:%S} UTC by {last[1]}" if last else "never run"
        failure = status.last_failure
        failed = (
            f"  last failed {failure.failed_at:%Y-%m-%d %H:%M:%S} UTC: {failure.error}"
            if failure
            else ""
        )
        click.echo(f"{status.job.id}  {status.schedule}  {last_run}{failed}")


@jobs.command("run")
@click.argument("name")
@click.option(
    "--now",
    "moment",
    metavar="WHEN",
    help="Run as if it were this moment (ISO 8601, UTC unless it says otherwise), for tests.",
)
@click.pass_context
def run_job_now(ctx: click.Context, name: str, moment: str | None) -> None:
    """Run the job NAME once, now, whether or not a scheduler runs (jobs are safe to run
    twice at once)."""
    from core.db import clock_set_to
    from core.scheduler import all_jobs, job_named, run_job

    app = _app(ctx)
    _ensure_schema(app)
    job = job_named(app, name)
    if job is None:
        names = ", ".join(job.id for job in all_jobs(app))
        raise click.ClickException(f"there is no job {name!r}; the jobs are: {names}")
    with clock_set_to(_moment(moment)) if moment else contextlib.nullcontext():
        succeeded = run_job(app, job)
    if not succeeded:
        raise click.ClickException(f"job {name} failed (the error is logged above)")
    click.echo(f"job {name} done")


def _moment(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a moment such as 2026-03-01T09:00", param_hint="--now"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@cli.group()
def db() -> None:
    """Database schema migrations."""


@db.command()
@click.pass_context
def upgrade(ctx: click.Context) -> None:
    """Apply the migrations of core and every enabled plugin."""
    from core.schema import upgrade as upgrade_schema

    if not upgrade_schema(_app(ctx), say=click.echo):
        click.echo("No migration to apply.")
    click.echo("The database schema is up to date.")


@db.command()
@click.option("-m", "--message", required=True, help="What the migration does.")
@click.option("--part", required=True, help="core, or the enabled plugin it belongs to.")
@click.pass_context
def revision(ctx: click.Context, message: str, part: str) -> None:
    """Write a new migration for core or a plugin, comparing its models with the database
    (which must be up to date). A plugin's first one goes into the first folder its
    register_migrations hook names."""
    from alembic import command
    from alembic.script import ScriptDirectory

    from core.schema import alembic_config, schema_parts

    parts = {candidate.name: candidate for candidate in schema_parts(_app(ctx))}
    if part not in parts:
        known = ", ".join(parts)
        raise click.UsageError(f"{part!r} is not a part with migrations (known: {known})")
    chosen = parts[part]
    config = alembic_config(_app(ctx), chosen)
    if ScriptDirectory.from_config(config).get_heads():
        command.revision(config, message=message, autogenerate=True)
    else:
        folder = chosen.folders[0]
        folder.mkdir(parents=True, exist_ok=True)
        command.revision(
            config, message=message, autogenerate=True, branch_label=part, version_path=str(folder)
        )


@cli.command("plugins")
@click.pass_context
def list_plugins(ctx: click.Context) -> None:
    """List installed plugins: version, whether enabled, and the hooks they implement."""
    state = _app(ctx).extensions["alma"]
    if not state.installed:
        click.echo("No plugins are installed.")
    for name, plugin in sorted(state.installed.items()):
        enabled = name in state.enabled
        click.echo(f"{name} {plugin.version} {'enabled' if enabled else 'installed, not enabled'}")
        if enabled:
            for hook in implemented_hooks(state.hooks.manager, name):
                click.echo(f"    {hook}")


@cli.command("create-admin")
@click.option("--email", prompt=True)
@click.option("--name", default="", help="Display name of a new account.")
@click.password_option(help="Password of a new account (asked for when not given).")
@click.pass_context
def create_admin(ctx: click.Context, email: str, name: str, password: str) -> None:
    """Create an administrator, or make an existing member one."""
    from core.db import db
    from core.errors import InvalidInput
    from core.services.staff import create_admin as make_admin

    _ensure_schema(_app(ctx))
    try:
        user = make_admin(email, password, name)
    except InvalidInput as error:
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(f"{user.email} is an administrator.")


@cli.group()
def roles() -> None:
    """The staff's roles: coordinator (people and programme) and admin (everything)."""


@roles.command("grant")
@click.argument("email")
@click.argument("role", type=click.Choice(ROLES))
@click.option("--reason", required=True, help="Why, for the audit log.")
@click.pass_context
def grant(ctx: click.Context, email: str, role: str, reason: str) -> None:
    """Give the member with EMAIL the role ROLE."""
    from core.services.staff import grant_role

    member = _change_role(ctx, lambda: grant_role(email, role, reason))
    click.echo(f"{member.email} is {role} now.")


@roles.command("revoke")
@click.argument("email")
@click.option("--reason", required=True, help="Why, for the audit log.")
@click.pass_context
def revoke(ctx: click.Context, email: str, reason: str) -> None:
    """Make the staff member with EMAIL a member again."""
    from core.services.staff import revoke_role

    member = _change_role(ctx, lambda: revoke_role(email, reason))
    click.echo(f"{member.email} has no role now.")


def _change_role(ctx: click.Context, change: Callable[[], User]) -> User:
    """Run a change of role, recorded in the audit log, and commit both."""
    from core.db import db
    from core.errors import DomainError

    _ensure_schema(_app(ctx))
    try:
        member = change()
    except DomainError as error:
        raise click.ClickException(str(error)) from None
    db.session.commit()
    return member


@cli.group()
def webhooks() -> None:
    """Webhook endpoints: list, add, remove them; read their delivery logs."""


@webhooks.command("list")
@click.pass_context
def list_webhooks(ctx: click.Context) -> None:
    """List the endpoints: id, state, failures in a row, address, event types."""
    from core.services.webhooks import endpoints

    _ensure_schema(_app(ctx))
    shown = endpoints()
    if not shown:
        click.echo("No webhook endpoint.")
    for endpoint in shown:
        state = "enabled" if endpoint.enabled else f"disabled ({endpoint.disabled_reason})"
        failing = f"  {endpoint.failures} failed in a row" if endpoint.failures else ""
        click.echo(
            f"{endpoint.id}  {state}{failing}  {endpoint.url}  {','.join(endpoint.event_types)}"
        )


@webhooks.command("add")
@click.argument("url")
@click.option("--event", "events", multiple=True, required=True, help="An event type; repeat.")
@click.option("--description", default="", help="What receives them.")
@click.option("--reason", required=True, help="Why, for the audit log.")
@click.pass_context
def add_webhook(
    ctx: click.Context, url: str, events: tuple[str, ...], description: str, reason: str
) -> None:
    """Register an endpoint at URL for the --event types; prints its id and secret."""
    from core.services.webhooks import add_endpoint

    endpoint = _change_webhooks(
        ctx, lambda: add_endpoint(url, events, description), "webhook.added", reason
    )
    click.echo(f"Endpoint {endpoint.id} added: {endpoint.url}")
    click.echo(f"Its signing secret: {endpoint.secret}")


@webhooks.command("remove")
@click.argument("endpoint_id", type=int)
@click.option("--reason", required=True, help="Why, for the audit log.")
@click.pass_context
def remove_webhook(ctx: click.Context, endpoint_id: int, reason: str) -> None:
    """Remove the endpoint ENDPOINT_ID and its deliveries."""
    from core.services.webhooks import endpoint_by_id, remove_endpoint

    def remove() -> WebhookEndpoint:
        endpoint = endpoint_by_id(endpoint_id)
        remove_endpoint(endpoint)
        return endpoint

    endpoint = _change_webhooks(ctx, remove, "webhook.removed", reason)
    click.echo(f"Endpoint {endpoint_id} removed: {endpoint.url}")


@webhooks.command("deliveries")
@click.argument("endpoint_id", type=int)
@click.option("--limit", default=20, show_default=True, help="How many, newest first.")
@click.pass_context
def webhook_deliveries(ctx: click.Context, endpoint_id: int, limit: int) -> None:
    """The delivery log of the endpoint ENDPOINT_ID, newest first."""
    from core.db import db
    from core.errors import NotFound
    from core.services.webhooks import deliveries_query, endpoint_by_id

    _ensure_schema(_app(ctx))
    try:
        endpoint = endpoint_by_id(endpoint_id)
    except NotFound as error:
        raise click.ClickException(str(error)) from None
    deliveries = list(db.session.scalars(deliveries_query(endpoint).limit(limit)))
    if not deliveries:
        click.echo("Nothing sent yet.")
    for delivery in deliveries:
        if delivery.delivered_at:
            state = f"delivered {delivery.delivered_at:%Y-%m-%d %H:%M:%S} UTC"
        else:
            state = f"next attempt {delivery.next_attempt_at:%Y-%m-%d %H:%M:%S} UTC"
        status = f"  last status {delivery.last_status}" if delivery.last_status else ""
        failed = f"  last error: {delivery.last_error}" if delivery.last_error else ""
        click.echo(
            f"{delivery.id}  {delivery.event.type}  {delivery.event.message_id}"
            f"  {delivery.attempts} attempts{status}  {state}{failed}"
        )


def _change_webhooks(
    ctx: click.Context, change: Callable[[], WebhookEndpoint], act: str, reason: str
) -> WebhookEndpoint:
    """Run a change of the endpoints, recorded in the audit log, and commit both."""
    from core.db import db
    from core.errors import DomainError
    from core.services.staff import record_staff_act
    from core.services.webhooks import audit_target

    _ensure_schema(_app(ctx))
    try:
        endpoint = change()
        record_staff_act(None, act, audit_target(endpoint), reason)
    except DomainError as error:
        raise click.ClickException(str(error)) from None
    db.session.commit()
    return endpoint


@cli.command()
@click.pass_context
def demo(ctx: click.Context) -> None:
    """Add demo members (and plugins' demo data) to try alma with."""
    from core.db import db
    from core.demo import DEMO_MEMBERS, DEMO_PASSWORD, DEMO_STAFF, create_demo_members

    _ensure_schema(_app(ctx))
    created = create_demo_members()
    db.session.commit()
    click.echo(f"{len(created)} demo members added." if created else "Demo members exist already.")
    click.echo(f"Log in as any of them with the password {DEMO_PASSWORD!r}:")
    for member in DEMO_MEMBERS:
        click.echo(f"    {member.email}  ({member.name})")
    click.echo(f"    {DEMO_STAFF.email}  ({DEMO_STAFF.name}, coordinator: the console at /admin/)")


def main() -> None:
    cli(prog_name="alma")


if __name__ == "__main__":
    main()
