"""Checks of fast shared-memory algorithms (mirrors ``fast/shared_memory/``)."""
