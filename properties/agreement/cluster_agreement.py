"""Contraction (seed 000), beside ``reference/agreement/cluster_agreement.py``: a cluster's round contracts
by a constant, and MDAA's rounds and outputs are built on it.

* ``agreement-contraction``: q-contraction per round and overall.  In a cluster, every
  value of round k + 1 is MidExtremes of the round-k values its writer read (recomputed
  with exact distances by :mod:`.midextremes`), and every round contracts the diameter of
  the round's values by the constant κ = √(6/7) (``proofs/claims/agreement/agreement_contraction.py``);
  across clusters every MDAA round contracts the y's by κ(ε)
  (:func:`~asyncproof.reference.agreement.mdaa.kappa_round`), and the outputs satisfy
  max ||y_i − y_j||² <= q max ||x_i − x_j||² with the run's q (its parameter, or κ(ε)^(2R)
  when T is given); those two are checked by :mod:`.mdaa`, which ``agreement-no-split`` shares.

It must catch:

=============================================  ==================================================
variant                                        the mistake
=============================================  ==================================================
``broken-cluster-agreement-closest-pair``      MidExtremes averages the wrong pair: the two
                                               closest values (argmin for argmax)
``broken-mdaa-skip-keeps-value``               skipping to round r' keeps the process's old y
                                               (the round's value is dropped)
=============================================  ==================================================
"""

from __future__ import annotations

import math

import numpy as np

from ...reference.agreement.cluster_agreement import KAPPA_CLUSTER, Written
from ...reference.agreement.mdaa import Aggregated
from ...reference.agreement.midextremes import diameter
from ...reference.kernels import sq_dist
from ..variants import variant
from .common import is_mdaa, register_guarantee, skipped_any, rounding_slack
from .mdaa import check_mdaa_rounds, check_overall
from .midextremes import check_midextremes_steps


def _cluster_rounds(result) -> str | None:
    """Every round of every cluster instance: diam(V_{k+1}) <= κ diam(V_k) (κ = √(6/7))."""
    V: dict = {}
    for w in result.trace.records(Written):
        V.setdefault((w.inst, w.c, w.round), []).append(np.asarray(w.x))
    for (inst, c, k), vals in sorted(V.items()):
        nxt = V.get((inst, c, k + 1))
        if not nxt:
            continue
        before, after = diameter(vals), diameter(nxt)
        if after > KAPPA_CLUSTER * before + rounding_slack(before):
            where = f"cluster {c}" + (f" in MDAA round {inst}" if inst else "")
            return (f"{where}: the values of round {k + 1} have diameter {after:.6g} > √(6/7) × {before:.6g} "
                    f"(round {k}): factor {after / before if before else math.inf:.4f} > κ = {KAPPA_CLUSTER:.4f}")
    return None


def check_contraction(result) -> str | None:
    msg = check_midextremes_steps(result) or _cluster_rounds(result)
    if msg is None and "K" in result.params:
        msg = check_mdaa_rounds(result)
    return msg or check_overall(result)


def _views_differed(result) -> bool:
    """A process skipped, or two processes computed the same round from different views (in a
    cluster, or across clusters)."""
    if skipped_any(result):
        return True
    seen: dict = {}
    for w in result.trace.records(Written):
        if w.view is not None:
            seen.setdefault((w.inst, w.c, w.round), set()).add(tuple(w.view))
    for a in result.trace.records(Aggregated) if is_mdaa(result) else ():
        seen.setdefault(("mdaa", a.r), set()).add(tuple(a.senders))
    return any(len(v) >= 2 for v in seen.values())


register_guarantee(
    name="agreement-contraction",
    statement="q-contraction: each in-cluster round by √(6/7), each MDAA round by κ(ε), the outputs by q "
              "(max||y_i-y_j||² <= q max||x_i-x_j||²)",
    source="seed 000, 'MDAA within a Cluster' ('constant contraction'), 'Back to Overall MDAA' (q in O(log q) rounds)",
    check=check_contraction,
    hard=_views_differed,
    hard_case="a skip, or two processes computed a round from different views",
    broken={"cluster-agreement": "broken-cluster-agreement-closest-pair", "mdaa": "broken-mdaa-skip-keeps-value"},
)


# --- the broken variants it must catch ------------------------------------------------------------


def _closest_pair(X):
    k = len(X)
    if k < 2:
        return (0, 0)
    # the mistake: the pair with the smallest distance (the first one found), not the largest
    return min(((i, j) for i in range(k) for j in range(i + 1, k)), key=lambda ij: sq_dist(X[ij[0]], X[ij[1]]))


variant("broken-cluster-agreement-closest-pair", of="cluster-agreement",
        mistake="MidExtremes averages the two closest values", replace={"diameter_pair": _closest_pair})
variant("broken-mdaa-skip-keeps-value", of="mdaa",
        mistake="skipping to round r' keeps the old value instead of aggregating round r'",
        replace={"skip": lambda y, aggregated: y})                     # the mistake: the old y
