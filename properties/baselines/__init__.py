"""Guarantees and broken variants of reference/baselines/, one module per algorithm.

:mod:`.sgd`, :mod:`.minibatch_sgd`, :mod:`.simu_parallel_sgd` and :mod:`.batch_gd` each hold
their algorithm's guarantees, each beside the broken variants it must catch; :mod:`.common`
holds what they share (the draws, the tolerance of a recomputed iterate, and the baselines'
cover of replay determinism).  Replay determinism and schedule independence are
:mod:`asyncproof.properties.every_algorithm`'s; ``kernel-gradients`` is
:mod:`asyncproof.properties.kernels`'.
"""
