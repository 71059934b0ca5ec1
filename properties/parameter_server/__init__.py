"""Guarantees and broken variants of reference/parameter_server/, one module per algorithm.

``asgrad`` (the five Table 1 rows of seed 001), ``rennala``, ``malenia``, ``ringleader`` and
``fedbuff``, each beside its ``reference/parameter_server/`` module; ``common`` holds what the
last four share (their draw, the recomputations from the records, ``server-attribution``).
"""
