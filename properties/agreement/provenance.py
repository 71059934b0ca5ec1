"""Validity of cluster approximate agreement and MDAA (seed 000), beside ``reference/agreement/provenance.py``.

* ``agreement-validity``: every output lies in the convex hull of the inputs, certified
  twice: by its exact provenance weights (>= 0, summing to 1, the value within rounding
  of Σ w_i x_i) and independently by an LP membership test (scipy's HiGHS).

It must catch:

======================================  ==================================================
variant                                 the mistake
======================================  ==================================================
``broken-cluster-agreement-zero-init``  the array A starts as ⟨0, 1⟩ (a zero vector with
                                        round 1) instead of ⟨⊥, 0⟩: an early collect
                                        averages the zero vector in
``broken-mdaa-weights-by-n``            Aggregate weighs each message by the size of
                                        the cluster it represents and divides by n: the
                                        weights sum to 1 only if every cluster is heard
                                        exactly once
======================================  ==================================================
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from ...reference.agreement.cluster_agreement import DECIDE
from ...reference.agreement.cluster_model import Clusters
from ...reference.agreement.provenance import Point, certify, combine, hull_distance
from ..variants import variant
from .common import inputs_of, outputs_of, register_guarantee, skipped_any

#: slack for float rounding in the LP (relative to the inputs' scale)
LP_TOL = 1e-7


def _decisions(result) -> dict:
    """The last decision of every process that decided: its value and provenance weights."""
    return {pid: v for (_, pid, _, v) in result.trace.stepwise(DECIDE)}


def check_validity(result) -> str | None:
    X = inputs_of(result)
    scale = float(np.max(np.abs(X)))
    decisions = _decisions(result)
    for pid, y in sorted(outputs_of(result).items()):
        dist = hull_distance(X, y)
        if dist > LP_TOL * (1.0 + scale):
            return (f"p{pid}'s output {np.round(y, 6).tolist()} is outside the convex hull of the inputs "
                    f"(LP distance {dist:.3g})")
        if result.params.get("provenance", True):
            point = decisions.get(pid)
            if point is None or point.x.tobytes() != y.tobytes():
                return f"p{pid}'s output is not the value of its recorded decision"
            why = certify(point, X)
            if why:
                return f"p{pid}'s output is not certified by its provenance: {why}"
    return None


def _combined(result) -> bool:
    """A skip happened, and some output is a real combination (not one of the inputs)."""
    if not skipped_any(result):
        return False
    return any(p.w is not None and sum(1 for w in p.w if w) >= 2 for p in _decisions(result).values())


register_guarantee(
    name="agreement-validity",
    statement="every output lies in the convex hull of the inputs: exact provenance weights and an LP (HiGHS)",
    source="seed 000, 'Multi-Dimensional Approximate Agreement' (outputs 'in the convex hull of the inputs')",
    check=check_validity,
    hard=_combined,
    hard_case="a skip happened and an output combines >= 2 inputs",
    broken={"cluster-agreement": "broken-cluster-agreement-zero-init", "mdaa": "broken-mdaa-weights-by-n"},
)


# --- the broken variants it must catch ------------------------------------------------------------


def _zero_register(d, n, provenance):
    zero = Point(np.zeros(d), tuple(Fraction(0) for _ in range(n)) if provenance else None)
    return (zero, 1)                                               # the mistake: ⟨0, 1⟩ for ⟨⊥, 0⟩


variant("broken-cluster-agreement-zero-init", of="cluster-agreement",
        mistake="registers start as <0, 1> instead of <empty, 0>", replace={"initial_register": _zero_register})


def _weighed_by_cluster_size(clusters: Clusters, by_sender):
    # each message with the processes it represents, over n
    return [(by_sender[s], Fraction(len(clusters.members[clusters.cluster_of(s)]), clusters.n))
            for s in sorted(by_sender)]


def _weights_by_n(rule, values):
    return combine([p for p, _ in values], [w for _, w in values])   # the mistake: Σ |c|/n != 1


variant("broken-mdaa-weights-by-n", of="mdaa", mistake="Aggregate weighs a message by its cluster's size and divides by n",
        replace={"received_values": _weighed_by_cluster_size, "aggregate": _weights_by_n})
