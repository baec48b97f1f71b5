"""alma's own tests use the fixtures of alma's pytest plugin (core/testing.py)."""
