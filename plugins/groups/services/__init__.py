"""The groups plugin's rules, as plain functions of the acting member. They flush, never
commit: the caller (a view, the demo, a test) owns the unit of work.

Who sees what: a public group is seen by every logged-in member; a members-only group only by
its active members, and by a member invited to it, who sees the invitation. To everyone else
a members-only group does not exist (``NotFound``), on every page and action.

Where to find what (import the module you need: ``from plugins.groups.services import forum``):

- ``access``: who a member is to a group (``group_for``, ``member_group``, ``managed_group``)
  and the record of a manager's acts.
- ``directory``: creating and editing groups, the directory search, a member's groups.
- ``membership``: joining, asking to join and the managers' answer, leaving, stepping down,
  the lists of members and managers.
- ``moderation``: removing, banning, lifting a ban, appointing a manager; the group's history.
- ``invitations``: inviting, revoking, accepting and declining invitations.
- ``announcements``: a manager's announcements to the members.
- ``forum``: topics, replies, following, deleting posts and topics.
- ``states``: the transition tables of memberships, join requests and invitations (who may
  do what, from which state, to which); services check them, templates ask
  ``allowed_actions(thing, access)`` which buttons to show.
- ``shared``: settings, activity names, paging and the paths of the plugin's pages.
"""
