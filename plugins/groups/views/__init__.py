"""The groups plugin's pages: thin views that parse, authorize through the services, and
render. Every route goes through ``access.group_for`` (directly or through a service), so a
members-only group is a 404 to anyone outside it on every page and action.

One blueprint (``blueprint.bp``) for all pages; its routes are in one module per concern, cut
as the services are: ``directory``, ``membership``, ``invitations``, ``moderation``,
``announcements``, ``forum``."""

from plugins.groups.views import (  # noqa: F401 (each module adds its routes to the blueprint)
    announcements,
    directory,
    forum,
    invitations,
    membership,
    moderation,
)
from plugins.groups.views.blueprint import bp

__all__ = ["bp"]
