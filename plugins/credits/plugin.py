"""The credits plugin's hook implementations (its entry point)."""
