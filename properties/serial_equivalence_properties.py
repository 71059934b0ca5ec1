"""Guarantees of serially-equivalent conflict-free parallel SGD (seed 002, CYCLADES-style)."""
