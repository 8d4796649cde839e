"""The learning loop: collected data -> datasets -> fine-tuning -> evaluation gate -> registry.

See docs/learning.md. Nothing here loads a model at import time.
"""
