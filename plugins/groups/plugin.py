"""The groups plugin's hook implementations (its entry point)."""
