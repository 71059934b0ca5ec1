"""Shared-memory asynchrony (seed 002, "Lifting Synchronization Barriers"): HOGWILD! and
serially-equivalent conflict-free parallel SGD.  Importing this package registers its algorithms."""
