"""Celery app, tasks, conversation state in Redis, delivery."""
