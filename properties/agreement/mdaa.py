"""MDAA across clusters (seed 000), beside ``reference/agreement/mdaa.py``: its rounds, its q, and no split.

Every MDAA round contracts the y's by κ(ε) (:func:`check_mdaa_rounds`) and the outputs q-contract
with the run's q (:func:`run_q`, :func:`check_overall`): parts of ``agreement-contraction``
(:mod:`.cluster_agreement`), and the outputs' part of no-split.

* ``agreement-no-split`` (MDAA): under fault patterns that may leave no majority and
  unfair schedules: any two processes that aggregated the same round heard a common
  cluster (their messages were really delivered), the outputs agree (q-contraction),
  and if the processes that ever sent a round-1 message do not represent a majority,
  nobody decides (safety without liveness).

It must catch:

=============================================  ==================================================
variant                                        the mistake
=============================================  ==================================================
``broken-mdaa-waits-for-half``                 waits for messages representing half of the
                                               processes, not more than half
=============================================  ==================================================
"""

from __future__ import annotations

import math
import re

import numpy as np

from ...reference.agreement.cluster_agreement import KAPPA_CLUSTER
from ...reference.agreement.cluster_model import Clusters
from ...reference.agreement.mdaa import Aggregated, cluster_precision, kappa_round, resolve
from ...reference.agreement.midextremes import diameter
from ..variants import variant
from .common import clusters_of, deliveries_of, draw_case, inputs_of, is_mdaa, outputs_of, register_guarantee, rounding_slack


# --- MDAA's rounds and its q ----------------------------------------------------------------------


def check_mdaa_rounds(result) -> str | None:
    """Every MDAA round: diam(Y_{r+1}) <= κ(ε) diam(Y_r), Y_1 the inputs, Y_{r+1} the aggregates of round r."""
    n = clusters_of(result).n
    R, K = resolve(result.params, n)
    kappa = kappa_round(result.params["rule"], cluster_precision(K), n)
    Y = {1: list(inputs_of(result))}
    for a in result.trace.records(Aggregated):
        Y.setdefault(a.r + 1, []).append(np.asarray(a.y))
    for r in sorted(Y):
        if r + 1 in Y:
            before, after = diameter(Y[r]), diameter(Y[r + 1])
            if after > kappa * before + rounding_slack(before):
                return (f"MDAA round {r}: the y's of round {r + 1} have diameter {after:.6g} > κ(ε) × {before:.6g}: "
                        f"factor {after / before if before else math.inf:.4f} > κ(ε) = {kappa:.6f} (K = {K})")
    return None


def run_q(result) -> float:
    """The contraction q the run promises: for MDAA its parameter q, or κ(ε)^(2R) when T is given;
    for a cluster alone κ^(2(T−1))."""
    p = result.params
    if "K" not in p:                    # cluster agreement alone
        return KAPPA_CLUSTER ** (2 * (p["T"] - 1))
    n = clusters_of(result).n
    R, K = resolve(p, n)
    if p.get("T") is None:
        return p["q"]
    return kappa_round(p["rule"], cluster_precision(K), n) ** (2 * R)


def check_overall(result) -> str | None:
    """max ||y_i − y_j||² <= q max ||x_i − x_j||² over the outputs (per cluster for cluster agreement)."""
    X, outs, clusters = inputs_of(result), outputs_of(result), clusters_of(result)
    q = run_q(result)
    groups = [list(c) for c in clusters.members] if "K" not in result.params else [list(range(clusters.n))]
    for g in groups:
        ys = [outs[p] for p in g if p in outs]
        din, dout = diameter(X[g]), diameter(ys) if ys else 0.0
        if dout ** 2 > q * din ** 2 + rounding_slack(din ** 2):
            who = "the outputs" + (f" of cluster {clusters.cluster_of(g[0])}" if len(groups) > 1 else "")
            return (f"{who} are not q-contracted: max||y_i − y_j||² = {dout ** 2:.6g} > q × max||x_i − x_j||² = "
                    f"{q:.6g} × {din ** 2:.6g}")
    return None


# --- no split without a majority -----------------------------------------------------------------


def check_no_split(result) -> str | None:
    trace, clusters = result.trace, clusters_of(result)
    got = deliveries_of(trace)
    by_round: dict[int, list] = {}
    for step, pid, _, a in trace.stepwise(Aggregated) if is_mdaa(result) else ():
        for s in a.senders:
            at = got.get((s, pid, a.r))
            if at is None or at >= step:
                return f"p{pid} aggregated round {a.r} with a message from p{s} that was never delivered to it"
        cs = {clusters.cluster_of(s) for s in a.senders}
        for other_pid, other in by_round.get(a.r, []):
            if not cs & other:
                return (f"split: in round {a.r} p{other_pid} aggregated clusters {sorted(other)} and p{pid} "
                        f"clusters {sorted(cs)}, with no cluster in common")
        by_round.setdefault(a.r, []).append((pid, cs))
    msg = check_overall(result)
    if msg:
        return msg
    senders = {int(m.group(1)) for e in trace.events if (m := re.fullmatch(r"p(\d+) broadcast round 1", e))}
    outs = outputs_of(result)
    if outs and not clusters.majority(senders):
        return (f"{', '.join(f'p{p}' for p in sorted(outs))} decided although only {sorted(senders)} ever sent a "
                f"round-1 message, representing {clusters.represented(senders)} of n = {clusters.n}")
    return None


def _edge_of_majority(result) -> bool:
    """An aggregate heard a bare majority (dropping any of its clusters loses it) while a cluster whose
    round message had already been sent was held back by the adversary."""
    trace, clusters = result.trace, clusters_of(result)
    sent: dict[int, dict[int, int]] = {}
    for i, e in enumerate(trace.events):
        m = re.fullmatch(r"p(\d+) broadcast round (\d+)", e)
        if m:
            sent.setdefault(int(m.group(2)), {}).setdefault(int(m.group(1)), i)
    for step, pid, _, a in trace.stepwise(Aggregated) if is_mdaa(result) else ():
        cs = {clusters.cluster_of(s) for s in a.senders}
        rep = sum(len(clusters.members[c]) for c in cs)
        bare = all(2 * (rep - len(clusters.members[c])) <= clusters.n for c in cs)
        held = any(clusters.cluster_of(s) not in cs for s, at in sent.get(a.r, {}).items() if at < step)
        if bare and held:
            return True
    return False


register_guarantee(
    name="agreement-no-split",
    statement="without a majority no process decides, and never a split: two aggregates of a round share a cluster, "
              "outputs q-contract",
    source="seed 000, 'Non Strongly Convex Functions Require a Majority' ('No split-brain'), "
           "'Multi-Dimensional AA in the Cluster-Based Model'",
    algorithms=("mdaa",),
    draw=lambda data, alg: draw_case(data, alg, faults="anything-goes"),
    check=check_no_split,
    hard=_edge_of_majority,
    hard_case="a cluster delayed to the edge of the majority",
    broken={"mdaa": "broken-mdaa-waits-for-half"},
)


def _half(clusters: Clusters, senders) -> bool:
    return 2 * clusters.represented(senders) >= clusters.n      # the mistake: >= n/2 instead of > n/2


variant("broken-mdaa-waits-for-half", of="mdaa", mistake="waits for messages representing half of the processes",
        replace={"represented_majority": _half})
