"""alma's core: accounts, profiles, activities, goals, notifications, mail and the plugin system.

Plugin authors import from one module, the plugin API (see docs/writing-plugins.md)::

    from core.api import hookimpl

``from core import hookimpl`` still works, for plugins written before ``core.api``.
"""

from core.hookspecs import hookimpl

__all__ = ["hookimpl"]
