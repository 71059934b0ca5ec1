"""HOGWILD! at coordinate granularity (seed 002)."""
