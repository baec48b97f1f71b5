"""The wiki plugin's hook implementations (its entry point)."""
