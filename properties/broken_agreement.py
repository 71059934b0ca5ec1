"""Deliberately broken agreement variants, one per property (seed 000)."""
