"""Guarantees and broken variants of reference/shared_memory/, one module per algorithm:
``hogwild`` (its atomic, lock and racy modes) and ``cyclades`` (serially-equivalent SGD)."""
