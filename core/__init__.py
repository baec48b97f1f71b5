"""alma's core: accounts, profiles, activities, goals, notifications, mail and the plugin system.

Plugin authors need one import to implement hooks::

    from core import hookimpl
"""

from core.hookspecs import hookimpl

__all__ = ["hookimpl"]
