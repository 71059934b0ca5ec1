"""Deliberately broken agreement variants, one realistic mistake each (seed 000).

=========================================  ================================================  =====================
variant                                    the mistake                                       caught by
=========================================  ================================================  =====================
``broken-cluster-agreement-zero-init``     the array A starts as ⟨0, 1⟩ (a zero vector with   agreement-validity
                                           round 1) instead of ⟨⊥, 0⟩: an early collect
                                           averages the zero vector in
``broken-mdaa-weights-by-n``               Aggregate weighs each message by the size of       agreement-validity
                                           the cluster it represents and divides by n: the
                                           weights sum to 1 only if every cluster is heard
                                           exactly once
``broken-cluster-agreement-closest-pair``  MidExtremes averages the wrong pair: the two       agreement-contraction
                                           closest values (argmin for argmax)
``broken-mdaa-skip-keeps-value``           skipping to round r' keeps the process's old y     agreement-contraction
                                           (the round's value is dropped)
``broken-cluster-agreement-barrier``       synchronous rounds: after each write a process     agreement-termination
                                           waits for every cluster member's "wrote r" note
``broken-mdaa-majority-of-clusters``       waits for a majority of *clusters* (the slide      agreement-termination
                                           "Skipping"'s wording) instead of processes
``broken-mdaa-waits-for-half``             waits for messages representing half of the       agreement-no-split
                                           processes, not more than half
``broken-cluster-agreement-restarts``,     a recovered process starts over from its input     agreement-recovery
``broken-mdaa-restarts``                   at round 1 instead of its register / checkpoint
``broken-cluster-agreement-tie-by-index``  MidExtremes breaks ties by the pair's indices (the  agreement-midextremes
                                           first pair found), not by the pair's values
``broken-mdaa-l1-diameter``                MidExtremes (in the clusters and as Aggregate)     agreement-midextremes
                                           measures distances in L1 (Σ|a − b|), not L2
``broken-mdaa-helps-with-current-value``   a help request is answered with the process's      agreement-crash-budget
                                           current value y, labelled with the round of the
                                           last message it sent (whose value was z_r)
``broken-mdaa-counts-messages``            the wait sums the processes each round message     agreement-correct-
                                           represents: a cluster heard twice (two members,    majority
                                           or a recovered process's re-sent message) counts
                                           twice
=========================================  ================================================  =====================

``agreement-correct-majority`` also catches ``broken-cluster-agreement-barrier`` (a crash the
majority constraint allows blocks a barrier).  The rest of that guarantee and of
``agreement-crash-budget`` (at most f crashes, only crashable processes, a majority up at every
step) checks the engine's fault filters, which no algorithm can change: those parts are shown
able to fail by ``tests/test_agreement_faults.py``, which breaks the filter itself.

Every variant is the real algorithm with one of its hooks replaced
(:func:`~asyncproof.reference.agreement.cluster_agreement.build`'s ``agreement``,
``initial``, ``recover_resumes``; :class:`~asyncproof.reference.agreement.mdaa.MDAA`'s
``aggregate``, ``on_skip``, ``enough``, ``restart``, ``answer``), or, for MidExtremes, one
named step of :func:`~asyncproof.reference.agreement.midextremes.diameter_pair`
(``distance``, ``rank``).
"""

from __future__ import annotations

from fractions import Fraction
from functools import partial

import numpy as np

from ..reference.agreement import cluster_agreement as ca
from ..reference.agreement import mdaa
from ..reference.agreement import midextremes as me
from ..reference.agreement.cluster_model import Clusters
from ..reference.agreement.provenance import Point, combine
from ..reference.engine import Receive, Send
from ..reference.kernels import sq_dist
from .broken import _variant

# --- validity ------------------------------------------------------------------------------------


def _zero_init(problem, params, seed):
    n = Clusters.parse(params["clusters"]).n
    zero = Point(np.zeros(problem.d), tuple(Fraction(0) for _ in range(n)) if params["provenance"] else None)
    return ca.build(problem, params, seed, initial=(zero, 1))      # the mistake: ⟨0, 1⟩ for ⟨⊥, 0⟩


_variant("cluster-agreement", "broken-cluster-agreement-zero-init",
         "BROKEN cluster-agreement: registers start as <0, 1> instead of <empty, 0>", _zero_init)


def _weights_by_n(clusters: Clusters):
    def aggregate(points, senders):
        sizes = [len(clusters.members[clusters.cluster_of(s)]) for s in senders]
        return combine(points, [Fraction(k, clusters.n) for k in sizes])     # the mistake: Σ |c|/n != 1
    return aggregate


_variant("mdaa", "broken-mdaa-weights-by-n",
         "BROKEN mdaa: Aggregate weighs a message by its cluster's size and divides by n",
         lambda problem, params, seed: mdaa.build(
             problem, params, seed, aggregate=_weights_by_n(Clusters.parse(params["clusters"]))))

# --- contraction ---------------------------------------------------------------------------------


def _closest_pair_mid(points):
    X = np.ascontiguousarray([p.x for p in points])
    if len(points) < 2:
        return points[0]
    k = len(points)
    # the mistake: the pair with the smallest distance (the first one found), not the largest
    a, b = min(((i, j) for i in range(k) for j in range(i + 1, k)), key=lambda ij: sq_dist(X[ij[0]], X[ij[1]]))
    return combine([points[a], points[b]], (Fraction(1, 2), Fraction(1, 2)))


_variant("cluster-agreement", "broken-cluster-agreement-closest-pair",
         "BROKEN cluster-agreement: MidExtremes averages the two closest values",
         lambda problem, params, seed: ca.build(problem, params, seed,
                                                agreement=partial(ca.cluster_agreement, mid=_closest_pair_mid)))

_variant("mdaa", "broken-mdaa-skip-keeps-value",
         "BROKEN mdaa: skipping to round r' keeps the old value instead of aggregating round r'",
         lambda problem, params, seed: mdaa.build(problem, params, seed, on_skip=lambda old, new: old))

# --- termination ---------------------------------------------------------------------------------


def _barrier(clusters: Clusters):
    def sync(ctx, me, r):
        mates = [p for p in clusters.members[me.cluster] if p != me.pid]
        for p in mates:
            yield Send(p, r, tag=f"wrote {r}")
        # the mistake: a round waits for every member of the cluster, so one crash blocks it
        yield Receive(until=lambda ms: len({m.src_pid for m in ms}) >= len(mates),
                      match=lambda m, r=r: m.tag == f"wrote {r}", label=f"barrier {r}")
    return sync


_variant("cluster-agreement", "broken-cluster-agreement-barrier",
         "BROKEN cluster-agreement: every round waits for all cluster members",
         lambda problem, params, seed: ca.build(problem, params, seed, agreement=partial(
             ca.cluster_agreement, sync=_barrier(Clusters.parse(params["clusters"])))))


def _majority_of_clusters(clusters: Clusters, senders) -> bool:
    return 2 * len({clusters.cluster_of(s) for s in senders}) > len(clusters.members)


_variant("mdaa", "broken-mdaa-majority-of-clusters",
         "BROKEN mdaa: waits for messages from a majority of clusters, not of processes",
         lambda problem, params, seed: mdaa.build(problem, params, seed, enough=_majority_of_clusters))

# --- no split ------------------------------------------------------------------------------------


def _half(clusters: Clusters, senders) -> bool:
    return 2 * clusters.represented(senders) >= clusters.n      # the mistake: >= n/2 instead of > n/2


_variant("mdaa", "broken-mdaa-waits-for-half",
         "BROKEN mdaa: waits for messages representing half of the processes",
         lambda problem, params, seed: mdaa.build(problem, params, seed, enough=_half))

# --- recovery ------------------------------------------------------------------------------------

_variant("cluster-agreement", "broken-cluster-agreement-restarts",
         "BROKEN cluster-agreement: a recovered process starts over at round 1",
         lambda problem, params, seed: ca.build(problem, params, seed, recover_resumes=False))
_variant("mdaa", "broken-mdaa-restarts",
         "BROKEN mdaa: a recovered process starts over at round 1",
         lambda problem, params, seed: mdaa.build(problem, params, seed, restart=True))

# --- MidExtremes, value by value -------------------------------------------------------------------


def _by_index(X, lo, hi):
    return min(lo, hi), max(lo, hi)          # the mistake: the first pair found wins a tie


_variant("cluster-agreement", "broken-cluster-agreement-tie-by-index",
         "BROKEN cluster-agreement: MidExtremes breaks ties by the pairs' indices",
         lambda problem, params, seed: ca.build(problem, params, seed, agreement=partial(
             ca.cluster_agreement, mid=partial(me.mid_extremes, pair=partial(me.diameter_pair, rank=_by_index)))))


def _l1(a, b):
    return float(np.abs(a - b).sum())         # the mistake: Σ|a − b| for Σ(a − b)²


def _l1_mdaa(problem, params, seed):
    pair = partial(me.diameter_pair, distance=_l1)
    hooks = {"agreement": partial(ca.cluster_agreement, mid=partial(me.mid_extremes, pair=pair))}
    if params["rule"] == "midextremes":
        hooks["aggregate"] = mdaa.rule_aggregate(partial(me.mid_extremes_weights, pair=pair))
    return mdaa.build(problem, params, seed, **hooks)


_variant("mdaa", "broken-mdaa-l1-diameter",
         "BROKEN mdaa: MidExtremes measures distances in L1", _l1_mdaa)

# --- the fault model -------------------------------------------------------------------------------

_variant("mdaa", "broken-mdaa-helps-with-current-value",
         "BROKEN mdaa: a help request is answered with the current value, labelled with the last round",
         lambda problem, params, seed: mdaa.build(problem, params, seed, answer=lambda last, y: (last[0], y)))


def _per_message(clusters: Clusters, senders) -> bool:
    # the mistake: Σ over the messages of the processes each represents (a cluster counted per message)
    return 2 * sum(len(clusters.members[clusters.cluster_of(s)]) for s in senders) > clusters.n


_variant("mdaa", "broken-mdaa-counts-messages",
         "BROKEN mdaa: the wait counts each message's represented processes, a cluster once per message",
         lambda problem, params, seed: mdaa.build(problem, params, seed, enough=_per_message))
