"""Differential tests: fast runs on real threads against the reference (a package, so its module
names do not clash with tests/shared_memory/test_hogwild.py)."""
