"""alma's first-party plugins.

Each subpackage is installed through the ``alma.plugins`` entry-point group exactly as a
third-party plugin would be, and enabled by name in the ``PLUGINS`` setting.
"""
