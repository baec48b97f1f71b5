"""``alma certificates …``: what the operator sees of certificates and does with them."""

from __future__ import annotations

import click

from core.api import DomainError, db
from plugins.certificates import services
from plugins.certificates.models import Certificate


@click.group("certificates")
def certificates_command() -> None:
    """Certificates: list them, render a failed one again, revoke one."""


@certificates_command.command("list")
@click.option("--failed", is_flag=True, help="Only those that could not be rendered.")
@click.option("--limit", default=200, show_default=True, type=click.IntRange(1, 10_000))
def list_certificates(failed: bool, limit: int) -> None:
    """The latest certificates, newest first, with their state."""
    found = services.all_certificates(failed_only=failed, limit=limit)
    if not found:
        click.echo("No failed certificates." if failed else "No certificates yet.")
        return
    for certificate in found:
        click.echo(_line(certificate))
        if certificate.last_error and certificate.status != "rendered":
            click.echo(f"    last error: {certificate.last_error}")


def _line(certificate: Certificate) -> str:
    state = certificate.status
    if certificate.status != "rendered":
        state += f" ({certificate.attempts} attempts)"
    if certificate.is_revoked:
        state += f", revoked {certificate.revoked_at:%Y-%m-%d}: {certificate.revoke_reason}"
    return (
        f"{certificate.number}  {certificate.issued_at:%Y-%m-%d}  {state}  "
        f"{certificate.holder_name} <{certificate.holder.email}>  {certificate.achievement}"
    )


@certificates_command.command("retry")
@click.argument("number")
def retry(number: str) -> None:
    """Render a failed certificate again (with a fresh count of attempts)."""
    try:
        certificate = services.retry_certificate(number)
    except DomainError as error:
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(
        f"Certificate {certificate.number} will be rendered at the scheduler's next run "
        f"(within {services.CATCH_UP_SECONDS} seconds)."
    )


@certificates_command.command("revoke")
@click.argument("number")
@click.option("--reason", required=True, help="Why; the holder is told, the audit log keeps it.")
def revoke(number: str, reason: str) -> None:
    """Revoke a certificate: its verification page says so from now on."""
    try:
        certificate = services.revoke_certificate(number, reason, actor=None)
    except DomainError as error:
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(f"Certificate {certificate.number} of {certificate.holder_name} is revoked.")
