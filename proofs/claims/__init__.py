"""The builtin claims, one module per claim.

Each module builds one :class:`~asyncproof.proofs.registry.Claim` and registers it
at import; :func:`asyncproof.proofs.registry.all_claims` imports every module of this
package's family folders (``agreement/``, ``decentralized/``, ``parameter_server/``,
``shared_memory/``, as in ``reference/``) on first use, so adding a claim is adding a module there.

===============================================  =================================  ====================================
module                                           claim id                           seed, slide (or paper)
===============================================  =================================  ====================================
``agreement/agreement_contraction``              ``agreement-cluster-contraction``  000, "MDAA within a Cluster"
``agreement/agreement_rounds``                   ``agreement-q-rounds``             000, MDAA rounds R from q
``agreement/agreement_validity``                 ``agreement-convex-aggregate``     000, Aggregate rules
``agreement/coordinatewise_diameter``            ``coordinatewise-diameter``        000, "Main Correctness Claims"
``decentralized/diameter_recurrence``           ``diameter-recurrence``            000, "Main Correctness Claims",
                                                                                    "Correctness Proof"
``decentralized/effective_gradient``           ``effective-gradient``             000, "Main Correctness Claims"
                                                                                    (the effective gradient)
``decentralized/external_convergence``         ``external-convergence``           000, "Strongly Convex Q ⇒
                                                                                    'External' Convergence"
``parameter_server/asgrad_theorem1``             ``asgrad-theorem1``                001, "Theorem 1"
``parameter_server/shuffled_assignment``         ``shuffled-assignment``            001, "Table 1", shuffled async SGD
``parameter_server/delayed_gd_quadratic``        ``delayed-gd-quadratic``           004, "Asynchronous SGD can get wild"
``parameter_server/rennala_malenia_round_time``  ``rennala-malenia-round-time``     Tyurin 2025; 004, Malenia
``parameter_server/straggler_order_statistics``  ``straggler-order-statistics``     002, "Stragglers"
``shared_memory/hogwild_conflict_probability``   ``hogwild-conflict-probability``   002, HOGWILD! conflict graph
``shared_memory/hogwild_noise_bound``            ``hogwild-noise-bound``            002, perturbed iterates
``shared_memory/hogwild_theorem_3_4``            ``hogwild-theorem-3.4``            002, "Theorem 3.4"
===============================================  =================================  ====================================

Check functions take the formula or function they test as a keyword parameter, so
the tests can hand them a wrong one and see them fail.
"""
