"""``alma mentoring …``: the operator's commands of mentoring (``fields``: the check after
changing the file of fields of study)."""

from __future__ import annotations

import click
from flask import current_app

from plugins.mentoring.services import fields


@click.group("mentoring")
def mentoring_command() -> None:
    """Mentoring: what the operator checks."""


@mentoring_command.command("fields")
def fields_command() -> None:
    """Fields of study: the file in use, and the codes members chose that it no longer has."""
    listed = fields.fields_of_study()
    narrow = sum(len(group) for group in listed.narrow.values())
    click.echo(
        f"{fields.fields_file(current_app)}: {len(listed.broad)} broad fields, "
        f"{narrow} narrow fields"
    )
    unlisted = fields.codes_no_longer_listed()
    if not unlisted:
        click.echo("Every field members chose is in the file.")
        return
    click.echo("Codes members chose that the file no longer has (kept, not shown):")
    for one in unlisted:
        click.echo(f"  {one}")
