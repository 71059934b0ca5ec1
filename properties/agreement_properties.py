"""Guarantees of cluster approximate agreement and MDAA (seed 000)."""
