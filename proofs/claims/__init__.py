"""The builtin claims, one module per claim.

Each module builds one :class:`~asyncproof.proofs.registry.Claim` and registers it
at import; :func:`asyncproof.proofs.registry.all_claims` imports every module of this
package on first use, so adding a claim is adding a module here.

=================================  ==============================================  ==========================
module                             claim id                                        seed, slide
=================================  ==============================================  ==========================
``straggler_order_statistics``     ``straggler-order-statistics``                  002, "Stragglers"
``coordinatewise_diameter``        ``coordinatewise-diameter``                     000, "Main Correctness Claims"
``delayed_gd_quadratic``           ``delayed-gd-quadratic``                        004, "Asynchronous SGD can get
                                                                                   wild" (Delay = 5)
``asgrad_theorem1``                ``asgrad-theorem1``, ``shuffled-tau-c``         001, "Theorem 1", "Table 1"
``hogwild_conflict_probability``   ``hogwild-conflict-probability``                002, HOGWILD! conflict graph
``hogwild_noise_bound``            ``hogwild-noise-bound``                         002, perturbed iterates
``hogwild_theorem_3_4``            ``hogwild-theorem-3.4``                         002, "Theorem 3.4"
``agreement_contraction``          ``agreement-cluster-contraction``               000, "MDAA within a Cluster"
``agreement_rounds``               ``agreement-q-rounds``                          000, MDAA rounds R from q
``agreement_validity``             ``agreement-convex-aggregate``                  000, Aggregate rules
=================================  ==============================================  ==========================

Check functions take the formula or function they test as a keyword parameter, so
the tests can hand them a wrong one and see them fail.
"""
