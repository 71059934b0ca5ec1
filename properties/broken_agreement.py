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
able to fail by ``tests/agreement/test_agreement_faults.py``, which breaks the filter itself.

Every variant is the real algorithm with one of its named steps replaced
(:data:`~asyncproof.reference.agreement.cluster_agreement.STEPS`: ``initial_register``,
``diameter_pair``, ``proceed``, ``resume_register``;
:data:`~asyncproof.reference.agreement.mdaa.STEPS`: ``represented_majority``, ``skip``,
``answer``, ``diameter_pair``), or, for one mistake on two lines, two of them (Aggregate's
weights: ``received_values`` and ``aggregate``; a restart: ``resume`` and ``resume_register``).
The wrong pairs of MidExtremes are :func:`~asyncproof.reference.agreement.midextremes.diameter_pair`
with its distance or tie-break (``distance``, ``rank``) changed.
"""

from __future__ import annotations

from fractions import Fraction
from functools import partial

import numpy as np

from ..reference.agreement import midextremes as me
from ..reference.agreement.cluster_model import Clusters
from ..reference.agreement.provenance import Point, combine
from ..reference.engine import Receive, Send
from ..reference.kernels import sq_dist
from .variants import variant

# --- validity ------------------------------------------------------------------------------------


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

# --- contraction ---------------------------------------------------------------------------------


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

# --- termination ---------------------------------------------------------------------------------


def _barrier(ctx, clusters: Clusters, me, r):
    mates = [p for p in clusters.members[me.cluster] if p != me.pid]
    for p in mates:
        yield Send(p, r, tag=f"wrote {r}")
    # the mistake: a round waits for every member of the cluster, so one crash blocks it
    yield Receive(until=lambda ms: len({m.src_pid for m in ms}) >= len(mates),
                  match=lambda m, r=r: m.tag == f"wrote {r}", label=f"barrier {r}")


variant("broken-cluster-agreement-barrier", of="cluster-agreement",
        mistake="every round waits for all cluster members", replace={"proceed": _barrier})


def _majority_of_clusters(clusters: Clusters, senders) -> bool:
    return 2 * len({clusters.cluster_of(s) for s in senders}) > len(clusters.members)


variant("broken-mdaa-majority-of-clusters", of="mdaa",
        mistake="waits for messages from a majority of clusters, not of processes",
        replace={"represented_majority": _majority_of_clusters})

# --- no split ------------------------------------------------------------------------------------


def _half(clusters: Clusters, senders) -> bool:
    return 2 * clusters.represented(senders) >= clusters.n      # the mistake: >= n/2 instead of > n/2


variant("broken-mdaa-waits-for-half", of="mdaa", mistake="waits for messages representing half of the processes",
        replace={"represented_majority": _half})

# --- recovery ------------------------------------------------------------------------------------


def _start_over(register):
    return None, 0                           # the mistake: the register is not read, round 1 again
    yield


variant("broken-cluster-agreement-restarts", of="cluster-agreement",
        mistake="a recovered process starts over at round 1", replace={"resume_register": _start_over})
variant("broken-mdaa-restarts", of="mdaa", mistake="a recovered process starts over at round 1",
        replace={"resume": lambda checkpoint: {}, "resume_register": _start_over})   # the mistake: no checkpoint

# --- MidExtremes, value by value -------------------------------------------------------------------


def _by_index(X, lo, hi):
    return min(lo, hi), max(lo, hi)          # the mistake: the first pair found wins a tie


def _l1(a, b):
    return float(np.abs(a - b).sum())         # the mistake: Σ|a − b| for Σ(a − b)²


variant("broken-cluster-agreement-tie-by-index", of="cluster-agreement",
        mistake="MidExtremes breaks ties by the pairs' indices",
        replace={"diameter_pair": partial(me.farthest_pair, distance=me.pair_distance, rank=_by_index)})
variant("broken-mdaa-l1-diameter", of="mdaa", mistake="MidExtremes measures distances in L1",
        replace={"diameter_pair": partial(me.farthest_pair, distance=_l1, rank=me.pair_rank)})   # in the clusters and as Aggregate

# --- the fault model -------------------------------------------------------------------------------

variant("broken-mdaa-helps-with-current-value", of="mdaa",
        mistake="a help request is answered with the current value, labelled with the last round",
        replace={"answer": lambda last, y: (last[0], y)})               # the mistake: y, not z_r


def _per_message(clusters: Clusters, senders) -> bool:
    # the mistake: Σ over the messages of the processes each represents (a cluster counted per message)
    return 2 * sum(len(clusters.members[clusters.cluster_of(s)]) for s in senders) > clusters.n


variant("broken-mdaa-counts-messages", of="mdaa",
        mistake="the wait counts each message's represented processes, a cluster once per message",
        replace={"represented_majority": _per_message})
