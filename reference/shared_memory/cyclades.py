"""Serially-equivalent conflict-free parallel SGD, CYCLADES-style (seed 002)."""
