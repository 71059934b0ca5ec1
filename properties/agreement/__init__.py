"""Guarantees and broken variants of reference/agreement/ (seed 000), one module beside each reference module.

=====================  ========================================================================
module                 guarantees, each followed by the broken variants it must catch
=====================  ========================================================================
``provenance``         ``agreement-validity``
``midextremes``        ``agreement-midextremes``
``cluster_agreement``  ``agreement-contraction``
``mdaa``               ``agreement-no-split`` (and MDAA's rounds and q, for contraction)
``cluster_model``      ``agreement-termination``, ``agreement-recovery``,
                       ``agreement-crash-budget``, ``agreement-correct-majority``
``common``             none: the cases drawn, the schedules searched
                       (:class:`~.common.PriorityAdversary`), what the runs recorded
=====================  ========================================================================

Every variant is the real algorithm with one of its named steps replaced
(:data:`~asyncproof.reference.agreement.cluster_agreement.STEPS`: ``initial_register``,
``diameter_pair``, ``proceed``, ``resume_register``;
:data:`~asyncproof.reference.agreement.mdaa.STEPS`: ``represented_majority``, ``skip``,
``answer``, ``diameter_pair``), or, for one mistake on two lines, two of them (Aggregate's
weights: ``received_values`` and ``aggregate``; a restart: ``resume`` and ``resume_register``).
"""
