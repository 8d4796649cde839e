"""Celery tasks, one module per domain; thin wrappers around plain functions."""
