"""Parley's platform adapters and the platform-neutral contracts every package shares."""
