"""The groups plugin's part of alma's HTTP API (``/api/v1/groups``): the directory, a group
and the caller's standing in it, joining, asking to join and leaving, the managers' answer to
requests, and the forum, through the same services and checks as the pages (docs/api.md).
Each module adds its routes to the one blueprint."""

from core.api import ApiBlueprint

bp = ApiBlueprint("groups", __name__, url_prefix="/groups", description="Members' groups.")

from plugins.groups.api import forum, groups, requests  # noqa: E402, F401  their routes
