"""Deliberately broken shared-memory variants, one per property (seed 002)."""
