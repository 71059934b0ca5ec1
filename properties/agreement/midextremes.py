"""MidExtremes, value by value (seed 000), beside ``reference/agreement/midextremes.py``.

* ``agreement-midextremes``: every MidExtremes value (in-cluster writes, MDAA Aggregates)
  recomputed exactly from the values written or sent, on views that need the tie-break
  and views whose L1 and L2 diameter pairs differ (drawn on purpose:
  :data:`~asyncproof.properties.agreement.common.DANGEROUS`).

The recomputation (:func:`check_midextremes_steps`) is also the first part of
``agreement-contraction`` (:mod:`.cluster_agreement`).  It must catch:

=============================================  ==================================================
variant                                        the mistake
=============================================  ==================================================
``broken-cluster-agreement-tie-by-index``      MidExtremes breaks ties by the pair's indices (the
                                               first pair found), not by the pair's values
``broken-mdaa-l1-diameter``                    MidExtremes (in the clusters and as Aggregate)
                                               measures distances in L1 (Σ|a − b|), not L2
=============================================  ==================================================

The wrong pairs of MidExtremes are :func:`~asyncproof.reference.agreement.midextremes.diameter_pair`
with its distance or tie-break (``distance``, ``rank``) changed.
"""

from __future__ import annotations

import math
from fractions import Fraction
from functools import partial

import numpy as np

from ...reference.agreement import midextremes as me
from ...reference.agreement.cluster_agreement import Written
from ...reference.agreement.mdaa import Aggregated, Sent
from ..variants import variant
from .common import PriorityAdversary, draw_case, register_guarantee, show


def _pairs(X: list) -> list[tuple[int, int, Fraction, Fraction]]:
    """Every pair (lo, hi) of the values, lo <=lex hi, with its exact squared L2 and its L1 distance."""
    exact = [[Fraction(float(v)) for v in x] for x in X]
    out = []
    for i in range(len(X)):
        for j in range(i + 1, len(X)):
            lo, hi = sorted((i, j), key=lambda k: tuple(X[k]))
            out.append((lo, hi, sum((a - b) ** 2 for a, b in zip(exact[lo], exact[hi])),
                        sum(abs(a - b) for a, b in zip(exact[lo], exact[hi]))))
    return out


def _lex_first(X: list, pairs) -> tuple[int, int]:
    return min(((lo, hi) for lo, hi, *_ in pairs), key=lambda ij: (tuple(X[ij[0]]), tuple(X[ij[1]])))


def _mid(X: list, ij) -> np.ndarray:
    return 0.5 * X[ij[0]] + 0.5 * X[ij[1]]


def _wanted(X: list) -> np.ndarray:
    """MidExtremes(X) recomputed independently: exact squared distances (Fractions of the floats),
    the lexicographically smallest pair of values among exact ties, the midpoint 0.5 a + 0.5 b."""
    pairs = _pairs(X)
    top = max(p[2] for p in pairs)
    near = [p for p in pairs if p[2] >= top * (1 - Fraction(1, 10 ** 12))]
    mids = {_mid(X, p[:2]).tobytes() for p in near}
    if len(mids) > 1:     # a genuine tie: the slide's rule needs the tie-break
        return _mid(X, _lex_first(X, [p for p in near if p[2] == top]))
    return _mid(X, near[0][:2])


def _is_midextremes(X: list, y) -> str | None:
    """``None`` if y is MidExtremes(X) (see :func:`_wanted`), else what is wrong."""
    X = [np.asarray(x, dtype=np.float64) for x in X]
    y = np.asarray(y, dtype=np.float64)
    if len(X) == 1:
        return None if X[0].tobytes() == y.tobytes() else f"{show(y)} is not the only value {show(X[0])} of its view"
    want = _wanted(X)
    if want.tobytes() == y.tobytes():
        return None
    top = max(p[2] for p in _pairs(X))
    return (f"{show(y)} is not MidExtremes of the view's {len(X)} values {', '.join(show(x) for x in X)}: "
            f"their diameter {math.sqrt(top):.6g} is realised by the pair with midpoint {show(want)}")


def _view_kind(X: list) -> tuple[bool, bool]:
    """(a genuine tie: pairs at the exact largest L2 distance with different midpoints; the pair
    the largest L1 distance picks has another midpoint than the L2 pair)."""
    X = [np.asarray(x, dtype=np.float64) for x in X]
    if len(X) < 3:
        return False, False
    pairs = _pairs(X)
    top2, top1 = max(p[2] for p in pairs), max(p[3] for p in pairs)
    tied = [p for p in pairs if p[2] == top2]
    tie = len({_mid(X, p[:2]).tobytes() for p in tied}) > 1
    l1 = _mid(X, _lex_first(X, [p for p in pairs if p[3] == top1]))
    return tie, l1.tobytes() != _mid(X, _lex_first(X, tied)).tobytes()


def _midextremes_views(result) -> tuple[list, str | None]:
    """Every value MidExtremes computed in the run with the view it was computed from, as
    (where, X, y), and the first value computed from a value nobody wrote or sent (or None).

    In a cluster: each write of round k + 1 and the round-k values its writer read (the
    values those registers held with round k).  In MDAA with the rule ``midextremes``: each
    Aggregate of round r and the round-r values its senders sent (their ``"send"`` records,
    in sender-pid order), not the values the aggregating process says it received.  Cached
    on the result (the check and the hard case both read it)."""
    cached = getattr(result, "_midextremes_views", None)
    if cached is not None:
        return cached
    views, error = [], None
    latest: dict = {}
    for w in result.trace.records(Written):
        inst, c, k = w.inst, w.c, w.round - 1
        where = f"cluster {c}" + (f" in MDAA round {inst}" if inst else "")
        if w.view is not None:
            X = [latest.get((inst, c, j, k)) for j, rd in enumerate(w.view) if rd == k]
            if any(x is None for x in X):
                error = error or (f"{where}: A[{w.j}]'s round-{k + 1} value was computed from a round-{k} value "
                                  f"nobody wrote")
            else:
                views.append((f"{where}: A[{w.j}]'s round-{k + 1} value", X, w.x))
        latest[(inst, c, w.j, w.round)] = w.x
    if result.params.get("rule") == "midextremes":
        sent: dict = {}
        for step, pid, _, v in result.trace.stepwise(Sent, Aggregated):
            if isinstance(v, Sent):
                sent.setdefault((pid, v.r), v.z)
            else:
                X = [sent.get((s, v.r)) for s in v.senders]
                if any(x is None for x in X):
                    error = error or f"p{pid} aggregated round {v.r} with a value its sender never sent"
                else:
                    views.append((f"p{pid}'s Aggregate of round {v.r}", X, v.y))
    result._midextremes_views = (views, error)
    return views, error


def check_midextremes_steps(result) -> str | None:
    """Every in-cluster value of round k + 1 is MidExtremes of the round-k values its writer read
    (and, in MDAA with MidExtremes as Aggregate, every Aggregate of the values its senders sent)."""
    views, error = _midextremes_views(result)
    if error:
        return error
    for where, X, y in views:
        msg = _is_midextremes(X, y)
        if msg:
            return f"{where} {msg}"
    return None


def check_midextremes(result) -> str | None:
    return check_midextremes_steps(result)


def _tie_and_l1(result) -> bool:
    """Some view needed the tie-break, and some view's L1 diameter pair is not its L2 pair."""
    tie = l1 = False
    for _, X, _ in _midextremes_views(result)[0]:
        t, l = _view_kind(X)
        tie, l1 = tie or t, l1 or l
        if tie and l1:
            return True
    return False


register_guarantee(
    name="agreement-midextremes",
    statement="every MidExtremes value (in-cluster rounds, the MDAA Aggregate) is the midpoint of its view's "
              "L2 diameter pair with the documented tie-break, recomputed exactly",
    source="seed 000, 'MDAA within a Cluster' ('MidExtremes returns the average of the two values realizing "
           "the maximum Euclidean distance')",
    # always a DANGEROUS triple, and views hold many values when processes run at one priority
    # (round-robin among them): the cut and the fault plans are still drawn
    draw=lambda data, alg: draw_case(data, alg, dangerous=True),
    adversary=lambda data: PriorityAdversary(data, levels=1),
    check=check_midextremes,
    hard=_tie_and_l1,
    hard_case="a view needing the tie-break and one whose L1 and L2 diameter pairs differ",
    broken={"cluster-agreement": "broken-cluster-agreement-tie-by-index", "mdaa": "broken-mdaa-l1-diameter"},
)


# --- the broken variants it must catch ------------------------------------------------------------


def _by_index(X, lo, hi):
    return min(lo, hi), max(lo, hi)          # the mistake: the first pair found wins a tie


def _l1(a, b):
    return float(np.abs(a - b).sum())         # the mistake: Σ|a − b| for Σ(a − b)²


variant("broken-cluster-agreement-tie-by-index", of="cluster-agreement",
        mistake="MidExtremes breaks ties by the pairs' indices",
        replace={"diameter_pair": partial(me.farthest_pair, distance=me.pair_distance, rank=_by_index)})
variant("broken-mdaa-l1-diameter", of="mdaa", mistake="MidExtremes measures distances in L1",
        replace={"diameter_pair": partial(me.farthest_pair, distance=_l1, rank=me.pair_rank)})   # in the clusters and as Aggregate
