"""An erased member and the wiki (``member_erasing``): their articles, revisions and ratings
stay, shared work that others built on, attributed to the nameless row core leaves
("former member"); where an article or its history names them or gives their address, that
becomes "former member" too. A member who deactivates leaves the wiki as it is."""

from __future__ import annotations

from core.api import User, forget_mentions
from plugins.wiki.models import Article, Revision


def erase_member(user: User) -> None:
    forget_mentions(
        user,
        Article.body,
        Article.body_html,
        Article.plain_text,
        Revision.body,
        Revision.body_html,
        Revision.summary,
    )
