"""Guarantees of the shared-memory algorithms (seed 002): HOGWILD! and serially-equivalent SGD."""
