"""Guarantees of cluster approximate agreement and MDAA (seed 000).

Each check recomputes from what the run recorded and from the run's own inputs
(rebuilt from its parameters and seed, not taken from the trace): the values written
to the cluster arrays (``"write"``), the y's every process aggregated
(``"aggregate"``), the outputs, and the schedule's own events (crashes, recoveries,
broadcasts, deliveries).

* ``agreement-validity``: every output lies in the convex hull of the inputs, certified
  twice: by its exact provenance weights (>= 0, summing to 1, the value within rounding
  of Σ w_i x_i) and independently by an LP membership test (scipy's HiGHS).
* ``agreement-contraction``: q-contraction per round and overall.  In a cluster, every
  value of round k + 1 is MidExtremes of the round-k values its writer read (recomputed
  here with exact distances), and every round contracts the diameter of the round's
  values by the constant κ = √(6/7) (``proofs/claims/agreement_contraction.py``); across clusters every MDAA
  round contracts the y's by κ(ε) (:func:`~asyncproof.reference.agreement.mdaa.kappa_round`),
  and the outputs satisfy max ||y_i − y_j||² <= q max ||x_i − x_j||² with the run's q (its
  parameter, or κ(ε)^(2R) when T is given).
* ``agreement-termination``: under fair schedules and a fault pattern whose correct
  processes represent a majority (crash-stop or crash-recovery), the run finishes and
  every process that is up at the end has decided, recovered ones included.
* ``agreement-no-split`` (MDAA): under fault patterns that may leave no majority and
  unfair schedules: any two processes that aggregated the same round heard a common
  cluster (their messages were really delivered), the outputs agree (q-contraction),
  and if the processes that ever sent a round-1 message do not represent a majority,
  nobody decides (safety without liveness).
* ``agreement-recovery``: a recovered process rejoins by skipping and never moves a
  round backwards: no register's round number ever decreases, no process enters an
  MDAA round lower than one it entered before, and every recovered process decides.

Cases are small (n <= 5, d <= 3, inputs on the integer grid [-2, 2]^d, so Hypothesis
can shrink to the configurations that break the broken variants), and are drawn per
guarantee with the fault pattern it is about (:func:`_draw`).
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

import numpy as np
from hypothesis import strategies as st

from ..reference.adversaries import Adversary
from ..reference.agreement.cluster_agreement import KAPPA_CLUSTER
from ..reference.agreement.cluster_model import STREAM_INPUTS, Clusters, agreement_inputs, fault_model
from ..reference.agreement.mdaa import cluster_precision, kappa_round, resolve
from ..reference.agreement.midextremes import diameter
from ..reference.agreement.provenance import certify, hull_distance
from ..reference.rng import generator
from . import broken_agreement  # noqa: F401  (registers the broken variants)
from .baseline_properties import replay_covers
from .guarantees import Case, Guarantee, register

AGREEMENT = ("cluster-agreement", "mdaa")
FAIRNESS = 12
#: slack for float rounding in diameters (relative) and in the LP (relative to the inputs' scale)
ROUND_SLACK = 1e-9
LP_TOL = 1e-7


# --- the schedules searched ---------------------------------------------------------------------

#: the steps over which recoveries are drawn; crashes and priority changes in the first half
#: (a cluster's agreement takes a few dozen steps: later crashes would hit decided processes)
HORIZON = 80


class PriorityAdversary(Adversary):
    """A Hypothesis adversary that draws a few numbers per run instead of one per step.

    It draws, from ``st.data()``: a *cut* c in 0 .. n (processes p0 .. p(c−1) on one side
    of a partition, the others on the other; clusters are runs of consecutive pids, so a
    cut at a cluster boundary separates whole clusters); a priority 0 .. levels − 1 for
    each process; PCT's change points (Burckhardt et
    al., ASPLOS 2010) ``changes`` (step, priority): at that step the process that runs
    drops to that priority; and two fault plans: ``crashes`` (step, k): at the first step
    from then on with a crash enabled, the k-th one (mod their number), and
    ``recoveries``: steps from which the first enabled recovery is taken.  At each step
    the enabled event of the highest rank runs, ties going to the canonical order (oldest
    first): a process step ranks at its process's priority; a delivery within a side
    above everything, one across the cut below everything (a link held back until nothing
    else can happen).

    With every draw 0 it is the benign schedule (messages delivered at once, processes
    round-robin), so Hypothesis shrinks toward it.  The agreement runs take hundreds of
    steps: drawing every choice (the default adversary) made one shrink take minutes,
    while the schedules that matter here (slow processes, held-back clusters,
    partitions, crashes at any point) are reached with six draws.  Replays are
    by event name, as for every adversary.
    """
    name = "hypothesis-priority"

    def __init__(self, data, levels: int = 4):
        self.data, self.levels = data, levels

    def reset(self, engine) -> None:
        d = self.data
        early, steps = st.integers(0, HORIZON // 2), st.integers(0, HORIZON)
        n = len(engine.procs)
        self.cut = d.draw(st.integers(0, n), label="cut")
        self.prio = dict(enumerate(d.draw(st.lists(st.integers(0, self.levels - 1), min_size=n, max_size=n),
                                          label="priorities")))
        self.changes = dict(d.draw(st.lists(st.tuples(early, st.integers(0, self.levels - 1)), max_size=3),
                                   label="priority changes"))
        self.crashes = sorted(d.draw(st.lists(st.tuples(early, st.integers(0, 7)), max_size=3), label="crashes"))
        self.recoveries = sorted(d.draw(st.lists(steps, max_size=2), label="recoveries"))

    def _rank(self, e) -> int:
        if e.kind == "deliver":
            src, dst = (int(p) for p in re.findall(r"p(\d+)", e.actor))
            return self.levels if (src < self.cut) == (dst < self.cut) else -1
        return self.prio.get(e.pid, 0)

    def choose(self, engine, events) -> int:
        step = engine.step_index
        crash = [i for i, e in enumerate(events) if e.kind == "crash"]
        if self.crashes and self.crashes[0][0] <= step and crash:
            _, k = self.crashes.pop(0)
            return crash[k % len(crash)]
        recover = [i for i, e in enumerate(events) if e.kind == "recover"]
        if self.recoveries and self.recoveries[0] <= step and recover:
            self.recoveries.pop(0)
            return recover[0]
        normal = [i for i, e in enumerate(events) if not e.is_fault]
        if not normal:
            return recover[0] if recover else 0
        best = max(normal, key=lambda i: (self._rank(events[i]), -i))
        if step in self.changes and events[best].kind == "step":
            self.prio[events[best].pid] = self.changes[step]
        return best

    def to_json(self) -> dict:
        return {"name": self.name}


# --- drawing cases --------------------------------------------------------------------------------


def _sizes(data, algorithm: str) -> list[int]:
    """Cluster sizes with n <= 5: one or two clusters for a cluster alone, two to four for MDAA."""
    lo, hi, big = (1, 2, 4) if algorithm == "cluster-agreement" else (2, 4, 3)
    sizes = data.draw(st.lists(st.integers(1, big), min_size=lo, max_size=hi), label="clusters")
    out: list[int] = []
    for i, k in enumerate(sizes):        # cut to n <= 5 (keeping room for the clusters still required)
        room = 5 - sum(out) - max(lo - i - 1, 0)
        if room < 1:
            break
        out.append(min(k, room))
    return out


def _pattern(data, clusters: Clusters, faults: str) -> dict | None:
    """A fault pattern of the cluster model: ``"any"`` (any crash set, either mode), ``"majority"``
    (its correct processes represent a majority), ``"recovery"`` (crash-recovery, majority kept),
    ``"anything-goes"`` (crash any set, even a majority; crash-stop)."""
    n = clusters.n
    if faults == "anything-goes":
        f = data.draw(st.integers(0, n), label="f")
        return fault_model(clusters, None, f, need_majority=False).to_json()
    recovery = faults == "recovery" or (faults != "majority" and data.draw(st.booleans(), label="recovery"))
    if faults == "any":
        crashable = data.draw(st.lists(st.integers(0, n - 1), unique=True, max_size=n), label="crashable")
        f = data.draw(st.integers(0, len(crashable)), label="f")
        return fault_model(clusters, crashable, f, recovery, need_majority=False).to_json()
    # keep one process of enough clusters up: the others' members may all crash
    keep = data.draw(st.lists(st.booleans(), min_size=len(clusters.members), max_size=len(clusters.members)),
                     label="kept clusters")
    order = sorted(range(len(clusters.members)), key=lambda k: -len(clusters.members[k]))
    for k in order:
        if clusters.majority([clusters.members[j][0] for j, kept in enumerate(keep) if kept]):
            break
        keep[k] = True
    keepers = {clusters.members[k][0] for k, kept in enumerate(keep) if kept}
    crashable = [p for p in range(n) if p not in keepers]
    # all of them may crash (twice each under recovery); the adversary's plan picks who and when
    f = len(crashable) * (2 if recovery else 1)
    return fault_model(clusters, crashable, f, recovery, fairness=FAIRNESS).to_json()


def _draw(data, algorithm: str, faults: str = "any", **fixed) -> Case:
    sizes = _sizes(data, algorithm)
    clusters = Clusters.parse(sizes)
    d = data.draw(st.integers(1, 3), label="d")
    seed = data.draw(st.integers(0, 63), label="seed")       # few bits: one node that shrinks in a few steps
    # points of the grid {-2, ..., 2}^d (ties, repeated and collinear inputs are common), drawn
    # from one seed: one node for Hypothesis to shrink, not n × d
    grid = generator(seed, STREAM_INPUTS, 1).integers(-2, 3, size=(clusters.n, d)).astype(float)
    params = {"clusters": sizes, "inputs": grid.tolist()}
    if algorithm == "cluster-agreement":
        params["T"] = data.draw(st.integers(2, 4), label="T")
    else:
        params.update(T=data.draw(st.integers(1, 2), label="T"), K=data.draw(st.integers(2, 3), label="K"),
                      rule=data.draw(st.sampled_from(["midextremes", "average"]), label="rule"))
    params.update(fixed)
    model = _pattern(data, clusters, faults)
    return Case(algorithm, {"name": "quadratic", "params": {"d": d}}, params, seed, model=model)


def _register(name: str, statement: str, source: str, check, hard, hard_case: str, broken: dict,
              algorithms=AGREEMENT, draw=_draw) -> Guarantee:
    """A guarantee of these algorithms, searched with :class:`PriorityAdversary`."""
    return register(Guarantee(name=name, statement=statement, source=source, algorithms=algorithms, draw=draw,
                              check=check, hard=hard, hard_case=hard_case, broken=broken, adversary=PriorityAdversary))


# --- what the runs recorded -----------------------------------------------------------------------


def _inputs(result) -> np.ndarray:
    return agreement_inputs(result.problem, result.params, result.schedule.seed)


def _clusters(result) -> Clusters:
    return Clusters.parse(result.params["clusters"])


def _decisions(result) -> dict:
    """The last decision of every process that decided: its value and provenance weights."""
    return {pid: v for (_, pid, key, v) in result.trace.observations if key == "decide"}


def _outputs(result) -> dict[int, np.ndarray]:
    return {p: np.asarray(o[-1]) for p, o in result.trace.outputs.items() if o}


def _status(trace) -> tuple[set[int], set[int]]:
    """(processes down at the end, processes that recovered at least once), from the events."""
    down, recovered = set(), set()
    for e in trace.events:
        m = re.fullmatch(r"(crash|recover) p(\d+)", e)
        if m:
            p = int(m.group(2))
            if m.group(1) == "crash":
                down.add(p)
            else:
                down.discard(p)
                recovered.add(p)
    return down, recovered


def _skipped(result) -> bool:
    return bool(result.trace.observed("skip")) or any(a["skip"] for a in result.trace.observed("aggregate"))


def _slack(scale: float) -> float:
    return ROUND_SLACK * (1.0 + scale)


# --- validity -------------------------------------------------------------------------------------


def check_validity(result) -> str | None:
    X = _inputs(result)
    scale = float(np.max(np.abs(X)))
    decisions = _decisions(result)
    for pid, y in sorted(_outputs(result).items()):
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
    if not _skipped(result):
        return False
    return any(p.w is not None and sum(1 for w in p.w if w) >= 2 for p in _decisions(result).values())


_register(
    name="agreement-validity",
    statement="every output lies in the convex hull of the inputs: exact provenance weights and an LP (HiGHS)",
    source="seed 000, 'Multi-Dimensional Approximate Agreement' (outputs 'in the convex hull of the inputs')",
    check=check_validity,
    hard=_combined,
    hard_case="a skip happened and an output combines >= 2 inputs",
    broken={"cluster-agreement": "broken-cluster-agreement-zero-init", "mdaa": "broken-mdaa-weights-by-n"},
)


# --- contraction ----------------------------------------------------------------------------------


def _cluster_rounds(result) -> str | None:
    """Every round of every cluster instance: diam(V_{k+1}) <= κ diam(V_k) (κ = √(6/7))."""
    V: dict = {}
    for w in result.trace.observed("write"):
        V.setdefault((w["inst"], w["c"], w["round"]), []).append(np.asarray(w["x"]))
    for (inst, c, k), vals in sorted(V.items()):
        nxt = V.get((inst, c, k + 1))
        if not nxt:
            continue
        before, after = diameter(vals), diameter(nxt)
        if after > KAPPA_CLUSTER * before + _slack(before):
            where = f"cluster {c}" + (f" in MDAA round {inst}" if inst else "")
            return (f"{where}: the values of round {k + 1} have diameter {after:.6g} > √(6/7) × {before:.6g} "
                    f"(round {k}): factor {after / before if before else math.inf:.4f} > κ = {KAPPA_CLUSTER:.4f}")
    return None


def _show(x) -> str:
    return "[" + ", ".join(f"{float(v):.6g}" for v in x) + "]"


def _is_midextremes(X: list, y) -> str | None:
    """``None`` if y is MidExtremes(X), recomputed here independently: exact squared distances
    (Fractions of the floats), the lexicographically smallest pair of values among exact ties,
    and the midpoint 0.5 a + 0.5 b in float64."""
    X = [np.asarray(x, dtype=np.float64) for x in X]
    y = np.asarray(y, dtype=np.float64)
    if len(X) == 1:
        return None if X[0].tobytes() == y.tobytes() else f"{_show(y)} is not the only value {_show(X[0])} of its view"
    exact = [[Fraction(float(v)) for v in x] for x in X]
    pairs = {}
    for i in range(len(X)):
        for j in range(i + 1, len(X)):
            lo, hi = sorted((i, j), key=lambda k: tuple(X[k]))
            pairs[(lo, hi)] = sum((a - b) ** 2 for a, b in zip(exact[lo], exact[hi]))
    top = max(pairs.values())
    near = [ij for ij, v in pairs.items() if v >= top * (1 - Fraction(1, 10 ** 12))]
    mids = {ij: 0.5 * X[ij[0]] + 0.5 * X[ij[1]] for ij in near}
    if len({m.tobytes() for m in mids.values()}) > 1:     # a genuine tie: the slide's rule needs the tie-break
        tied = [ij for ij in near if pairs[ij] == top]
        want = mids[min(tied, key=lambda ij: (tuple(X[ij[0]]), tuple(X[ij[1]])))]
    else:
        want = next(iter(mids.values()))
    if want.tobytes() == y.tobytes():
        return None
    return (f"{_show(y)} is not MidExtremes of the view's {len(X)} values {', '.join(_show(x) for x in X)}: "
            f"their diameter {math.sqrt(top):.6g} is realised by the pair with midpoint {_show(want)}")


def _midextremes_steps(result) -> str | None:
    """Every in-cluster value of round k + 1 is MidExtremes of the round-k values its writer read."""
    latest: dict = {}
    for w in result.trace.observed("write"):
        inst, c, k = w["inst"], w["c"], w["round"] - 1
        if w["view"] is not None:
            X = [latest.get((inst, c, j, k)) for j, rd in enumerate(w["view"]) if rd == k]
            where = f"cluster {c}" + (f" in MDAA round {inst}" if inst else "")
            if any(x is None for x in X):
                return f"{where}: A[{w['j']}]'s round-{k + 1} value was computed from a round-{k} value nobody wrote"
            msg = _is_midextremes(X, w["x"])
            if msg:
                return f"{where}: A[{w['j']}]'s round-{k + 1} value {msg}"
        latest[(inst, c, w["j"], w["round"])] = w["x"]
    return None


def _mdaa_rounds(result) -> str | None:
    """Every MDAA round: diam(Y_{r+1}) <= κ(ε) diam(Y_r), Y_1 the inputs, Y_{r+1} the aggregates of round r."""
    n = _clusters(result).n
    R, K = resolve(result.params, n)
    kappa = kappa_round(result.params["rule"], cluster_precision(K), n)
    Y = {1: list(_inputs(result))}
    for a in result.trace.observed("aggregate"):
        Y.setdefault(a["r"] + 1, []).append(np.asarray(a["y"]))
    for r in sorted(Y):
        if r + 1 in Y:
            before, after = diameter(Y[r]), diameter(Y[r + 1])
            if after > kappa * before + _slack(before):
                return (f"MDAA round {r}: the y's of round {r + 1} have diameter {after:.6g} > κ(ε) × {before:.6g}: "
                        f"factor {after / before if before else math.inf:.4f} > κ(ε) = {kappa:.6f} (K = {K})")
    return None


def run_q(result) -> float:
    """The contraction q the run promises: for MDAA its parameter q, or κ(ε)^(2R) when T is given;
    for a cluster alone κ^(2(T−1))."""
    p = result.params
    if "K" not in p:                    # cluster agreement alone
        return KAPPA_CLUSTER ** (2 * (p["T"] - 1))
    n = _clusters(result).n
    R, K = resolve(p, n)
    if p.get("T") is None:
        return p["q"]
    return kappa_round(p["rule"], cluster_precision(K), n) ** (2 * R)


def _overall(result) -> str | None:
    """max ||y_i − y_j||² <= q max ||x_i − x_j||² over the outputs (per cluster for cluster agreement)."""
    X, outs, clusters = _inputs(result), _outputs(result), _clusters(result)
    q = run_q(result)
    groups = [list(c) for c in clusters.members] if "K" not in result.params else [list(range(clusters.n))]
    for g in groups:
        ys = [outs[p] for p in g if p in outs]
        din, dout = diameter(X[g]), diameter(ys) if ys else 0.0
        if dout ** 2 > q * din ** 2 + _slack(din ** 2):
            who = "the outputs" + (f" of cluster {clusters.cluster_of(g[0])}" if len(groups) > 1 else "")
            return (f"{who} are not q-contracted: max||y_i − y_j||² = {dout ** 2:.6g} > q × max||x_i − x_j||² = "
                    f"{q:.6g} × {din ** 2:.6g}")
    return None


def check_contraction(result) -> str | None:
    msg = _midextremes_steps(result) or _cluster_rounds(result)
    if msg is None and "K" in result.params:
        msg = _mdaa_rounds(result)
    return msg or _overall(result)


def _views_differed(result) -> bool:
    """A process skipped, or two processes computed the same round from different views (in a
    cluster, or across clusters)."""
    if _skipped(result):
        return True
    seen: dict = {}
    for w in result.trace.observed("write"):
        if w["view"] is not None:
            seen.setdefault((w["inst"], w["c"], w["round"]), set()).add(tuple(w["view"]))
    for a in result.trace.observed("aggregate"):
        seen.setdefault(("mdaa", a["r"]), set()).add(tuple(a["senders"]))
    return any(len(v) >= 2 for v in seen.values())


_register(
    name="agreement-contraction",
    statement="q-contraction: each in-cluster round by √(6/7), each MDAA round by κ(ε), the outputs by q "
              "(max||y_i-y_j||² <= q max||x_i-x_j||²)",
    source="seed 000, 'MDAA within a Cluster' ('constant contraction'), 'Back to Overall MDAA' (q in O(log q) rounds)",
    check=check_contraction,
    hard=_views_differed,
    hard_case="a skip, or two processes computed a round from different views",
    broken={"cluster-agreement": "broken-cluster-agreement-closest-pair", "mdaa": "broken-mdaa-skip-keeps-value"},
)


# --- termination ----------------------------------------------------------------------------------


def check_termination(result) -> str | None:
    trace = result.trace
    if trace.stopped != "quiescent":
        return f"the run did not finish: stopped after {len(trace.events)} events ({trace.stopped})"
    down, _ = _status(trace)
    outs = _outputs(result)
    waiting = [p for p in range(_clusters(result).n) if p not in down and p not in outs]
    if waiting:
        return (f"{', '.join(f'p{p}' for p in waiting)} {'is' if len(waiting) == 1 else 'are'} up and never decided, "
                f"although the correct processes represent a majority (down at the end: "
                f"{sorted(down) or 'none'}, crashes: {trace.crashed})")
    return None


def _crashed(result) -> bool:
    return len(result.trace.crashed) >= 1


_register(
    name="agreement-termination",
    statement="with a correct majority represented and fair schedules, every correct process decides "
              "(crash-stop and crash-recovery)",
    source="seed 000, 'Multi-Dimensional AA in the Cluster-Based Model' (majority), 'Recovery through Skipping'",
    draw=lambda data, alg: _draw(data, alg, faults=data.draw(st.sampled_from(["majority", "recovery"]),
                                                           label="faults")),
    check=check_termination,
    hard=_crashed,
    hard_case="a crash happened",
    broken={"cluster-agreement": "broken-cluster-agreement-barrier", "mdaa": "broken-mdaa-majority-of-clusters"},
)


# --- no split without a majority -----------------------------------------------------------------


def _deliveries(trace) -> dict[tuple[int, int, int], int]:
    """(src, dst, round) -> the first step at which a round message from src was delivered to dst."""
    out = {}
    for i, e in enumerate(trace.events):
        m = re.fullmatch(r"deliver #\d+ p(\d+)->p(\d+) round (\d+)", e)
        if m:
            out.setdefault((int(m.group(1)), int(m.group(2)), int(m.group(3))), i)
    return out


def check_no_split(result) -> str | None:
    trace, clusters = result.trace, _clusters(result)
    got = _deliveries(trace)
    by_round: dict[int, list] = {}
    for step, pid, key, a in trace.observations:
        if key != "aggregate":
            continue
        for s in a["senders"]:
            at = got.get((s, pid, a["r"]))
            if at is None or at >= step:
                return f"p{pid} aggregated round {a['r']} with a message from p{s} that was never delivered to it"
        cs = {clusters.cluster_of(s) for s in a["senders"]}
        for other_pid, other in by_round.get(a["r"], []):
            if not cs & other:
                return (f"split: in round {a['r']} p{other_pid} aggregated clusters {sorted(other)} and p{pid} "
                        f"clusters {sorted(cs)}, with no cluster in common")
        by_round.setdefault(a["r"], []).append((pid, cs))
    msg = _overall(result)
    if msg:
        return msg
    senders = {int(m.group(1)) for e in trace.events if (m := re.fullmatch(r"p(\d+) broadcast round 1", e))}
    outs = _outputs(result)
    if outs and not clusters.majority(senders):
        return (f"{', '.join(f'p{p}' for p in sorted(outs))} decided although only {sorted(senders)} ever sent a "
                f"round-1 message, representing {clusters.represented(senders)} of n = {clusters.n}")
    return None


def _edge_of_majority(result) -> bool:
    """An aggregate heard a bare majority (dropping any of its clusters loses it) while a cluster whose
    round message had already been sent was held back by the adversary."""
    trace, clusters = result.trace, _clusters(result)
    sent: dict[int, dict[int, int]] = {}
    for i, e in enumerate(trace.events):
        m = re.fullmatch(r"p(\d+) broadcast round (\d+)", e)
        if m:
            sent.setdefault(int(m.group(2)), {}).setdefault(int(m.group(1)), i)
    for step, pid, key, a in trace.observations:
        if key != "aggregate":
            continue
        cs = {clusters.cluster_of(s) for s in a["senders"]}
        rep = sum(len(clusters.members[c]) for c in cs)
        bare = all(2 * (rep - len(clusters.members[c])) <= clusters.n for c in cs)
        held = any(clusters.cluster_of(s) not in cs for s, at in sent.get(a["r"], {}).items() if at < step)
        if bare and held:
            return True
    return False


_register(
    name="agreement-no-split",
    statement="without a majority no process decides, and never a split: two aggregates of a round share a cluster, "
              "outputs q-contract",
    source="seed 000, 'Non Strongly Convex Functions Require a Majority' ('No split-brain'), "
           "'Multi-Dimensional AA in the Cluster-Based Model'",
    algorithms=("mdaa",),
    draw=lambda data, alg: _draw(data, alg, faults="anything-goes"),
    check=check_no_split,
    hard=_edge_of_majority,
    hard_case="a cluster delayed to the edge of the majority",
    broken={"mdaa": "broken-mdaa-waits-for-half"},
)


# --- recovery -------------------------------------------------------------------------------------


def check_recovery(result) -> str | None:
    trace = result.trace
    last: dict = {}
    for w in trace.observed("write"):
        reg = (w["inst"], w["c"], w["j"])
        if reg in last and w["round"] <= last[reg]:
            return (f"register A[{w['j']}] of cluster {w['c']}" + (f" (MDAA round {w['inst']})" if w["inst"] else "")
                    + f" held round {last[reg]} and was written with round {w['round']}: "
                    + ("back" if w["round"] < last[reg] else "the same round again"))
        last[reg] = w["round"]
    entered: dict[int, int] = {}
    for step, pid, key, v in trace.observations:
        if key == "round":
            if v < entered.get(pid, 0):
                return f"p{pid} entered MDAA round {v} after round {entered[pid]}: it moved backwards"
            entered[pid] = v
    if trace.stopped == "quiescent":
        down, recovered = _status(trace)
        decided = {pid for (_, pid, k, _) in trace.observations if k == "decide"}
        lost = sorted(p for p in recovered - down if p not in decided)
        if lost:
            return f"{', '.join(f'p{p}' for p in lost)} recovered and never decided"
    return None


def _recovered_and_skipped(result) -> bool:
    """A process recovered and skipped afterwards (in its cluster or across clusters)."""
    recovered_at: dict[int, int] = {}
    for i, e in enumerate(result.trace.events):
        m = re.fullmatch(r"recover p(\d+)", e)
        if m:
            recovered_at.setdefault(int(m.group(1)), i)
    for step, pid, key, v in result.trace.observations:
        if pid in recovered_at and step > recovered_at[pid] and (key == "skip" or (key == "aggregate" and v["skip"])):
            return True
    return False


_register(
    name="agreement-recovery",
    statement="a recovered process rejoins by skipping and never moves a round backwards (registers, MDAA rounds)",
    source="seed 000, 'Recovery through Skipping', 'Skipping'",
    draw=lambda data, alg: _draw(data, alg, faults="recovery"),
    check=check_recovery,
    hard=_recovered_and_skipped,
    hard_case="a recovered process skipped",
    broken={"cluster-agreement": "broken-cluster-agreement-restarts", "mdaa": "broken-mdaa-restarts"},
)


# replay determinism (the baselines' guarantee) covers both, with crash-recovery faults
replay_covers(lambda data, alg: _draw(data, alg, faults="recovery"), *AGREEMENT)
