"""Slack adapter: bolt listeners, converters, delivery through slack_sdk (SDK imports stay here)."""
