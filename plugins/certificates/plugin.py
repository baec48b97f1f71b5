"""The certificates plugin's hook implementations (its entry point)."""
