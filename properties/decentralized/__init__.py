"""Guarantees and broken variants of reference/decentralized/ (seeds 000 and 003), one module beside each reference module."""
