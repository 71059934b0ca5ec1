"""Deliberately broken serially-equivalent variants (seed 002): reordered or merged components."""
