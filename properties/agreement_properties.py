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
  values by the constant κ = √(6/7) (``proofs/claims/agreement/agreement_contraction.py``); across clusters every MDAA
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
* ``agreement-midextremes``: every MidExtremes value (in-cluster writes, MDAA Aggregates)
  recomputed exactly from the values written or sent, on views that need the tie-break
  and views whose L1 and L2 diameter pairs differ (drawn on purpose: :data:`DANGEROUS`).
* ``agreement-crash-budget`` (the fault model itself, from the schedule's events and its
  recorded model): at most f crashes, of crashable processes only, recoveries only under
  crash-recovery and only of a down process, a down process silent; no process says two
  different things for one round (a round message, a register's round).
* ``agreement-correct-majority``: with the engine's constraint ``Model(majority=True)``, a
  majority is up after every event, every Aggregate heard distinct senders representing a
  majority, and every process up at the end decides.

The engine's filters (crash budget, crashable set, majority) cannot be replaced by a
broken variant; ``tests/agreement/test_agreement_faults.py`` breaks them in place and shows the
last two guarantees catch it.

Cases are small (n <= 5, d <= 3, inputs on the integer grid [-2, 2]^d, so Hypothesis
can shrink to the configurations that break the broken variants), and are drawn per
guarantee with the fault pattern it is about (:func:`_draw`); the adversary's fault plans
aim at the dangerous cases (:class:`PriorityAdversary`: a crash right after an Aggregate
and its checkpoint, a wave down to the edge of what the pattern allows).
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

import numpy as np
from hypothesis import strategies as st

from ..reference.adversaries import Adversary
from ..reference.engine import Model
from ..reference.agreement.cluster_agreement import DECIDE, KAPPA_CLUSTER, Skipped, Written
from ..reference.agreement.cluster_model import STREAM_INPUTS, Clusters, agreement_inputs, fault_model
from ..reference.agreement.mdaa import ROUND, Aggregated, Sent, cluster_precision, kappa_round, resolve
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

#: the steps over which recoveries, waves and the late crash plans are drawn; early crashes and
#: priority changes in the first half (a cluster's agreement takes a few dozen steps)
HORIZON = 80
#: the durable steps a crash can be planned right after: a checkpoint that saves what the process
#: computed from the messages it just received (MDAA: an Aggregate and its checkpoint), or a
#: register write (the cluster's shared state)
DURABLE = ("checkpoint", "write")


class PriorityAdversary(Adversary):
    """A Hypothesis adversary that draws a few numbers per run instead of one per step.

    It draws, from ``st.data()``: a *cut* c in 0 .. n (processes p0 .. p(c−1) on one side
    of a partition, the others on the other; clusters are runs of consecutive pids, so a
    cut at a cluster boundary separates whole clusters); a priority 0 .. levels − 1 for
    each process; PCT's change points (Burckhardt et
    al., ASPLOS 2010) ``changes`` (step, priority): at that step the process that runs
    drops to that priority; and the fault plans, each aimed at a dangerous case:

    * ``crashes`` (step, k): at the first step from then on with a crash enabled, the k-th
      one (mod their number);
    * ``after`` (kind, j): the j-th durable step of ``kind`` taken by a process the model
      lets crash is followed at once by that process's crash (``checkpoint``: a checkpoint
      right after the process received messages, i.e. MDAA's Aggregate and its checkpoint;
      ``write``: a register write);
    * ``wave`` (step, k): from that step, crash as long as the model lets anybody crash,
      taking the k-th enabled crash each time: as many processes down at once as the
      fault pattern allows (half the processes under the majority constraint);
    * ``recoveries``: steps from which the first enabled recovery is taken.

    At each step the enabled event of the highest rank runs, ties going to the canonical
    order (oldest first): a process step ranks at its process's priority; a delivery
    within a side above everything, one across the cut below everything (a link held back
    until nothing else can happen).

    With every draw 0 (no plans) it is the benign schedule (messages delivered at once,
    processes round-robin), so Hypothesis shrinks toward it.  The agreement runs take
    hundreds of steps: drawing every choice (the default adversary) made one shrink take
    minutes, while the schedules that matter here (slow processes, held-back clusters,
    partitions, crashes at any point) are reached with a handful of draws.  Replays are
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
        self.after = d.draw(st.lists(st.tuples(st.sampled_from(DURABLE), st.integers(1, 3)), max_size=3),
                            label="crashes right after a durable step")
        self.wave = d.draw(st.none() | st.tuples(steps, st.integers(0, 7)), label="wave")
        self.recoveries = sorted(d.draw(st.lists(steps, max_size=2), label="recoveries"))
        self.durable: dict = {}         # kind -> how many such steps crashable processes took
        self.previous: dict = {}        # pid -> its step before the last one
        self.waving = False

    def _rank(self, e) -> int:
        if e.kind == "deliver":
            src, dst = (int(p) for p in re.findall(r"p(\d+)", e.actor))
            return self.levels if (src < self.cut) == (dst < self.cut) else -1
        return self.prio.get(e.pid, 0)

    def _durable(self, engine) -> tuple[int, str] | None:
        """(pid, kind) if the step just taken was a durable one (see :data:`DURABLE`)."""
        if not engine.step_index:
            return None
        last = engine.trace.events[-1]
        m = re.match(r"p(\d+) (\S+)", last)
        if not m:
            return None
        p, what = int(m.group(1)), m.group(2)
        before, self.previous[p] = self.previous.get(p, ""), last
        if what == "write" or (what == "checkpoint" and before.startswith(f"p{p} receive")):
            return p, what
        return None

    def _planned_crash(self, engine, crash: list, events) -> int | None:
        step = engine.step_index
        durable = self._durable(engine)
        if durable and self.after:                   # right after the j-th durable step of a crashable process
            p, kind = durable
            hit = [i for i in crash if events[i].pid == p]
            if hit:
                self.durable[kind] = self.durable.get(kind, 0) + 1
                if (kind, self.durable[kind]) in self.after:
                    self.after.remove((kind, self.durable[kind]))
                    return hit[0]
        if self.wave is not None and (self.waving or self.wave[0] <= step):
            if crash:
                self.waving = True
                return crash[self.wave[1] % len(crash)]
            if self.waving:                          # nobody else may crash: the wave is over
                self.wave, self.waving = None, False
        if self.crashes and self.crashes[0][0] <= step and crash:
            _, k = self.crashes.pop(0)
            return crash[k % len(crash)]
        return None

    def choose(self, engine, events) -> int:
        step = engine.step_index
        crash = [i for i, e in enumerate(events) if e.kind == "crash"]
        planned = self._planned_crash(engine, crash, events)
        if planned is not None:
            return planned
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


#: MDAA cluster sizes where a majority of the clusters represents a minority of the processes: a
#: wait that counts clusters instead of processes proceeds too early only on sizes like these
SKEWED = ([1, 1, 3], [1, 1, 2])


def _sizes(data, algorithm: str, min_n: int = 1, dangerous: bool = False, skewed: bool = False) -> list[int]:
    """Cluster sizes with min_n <= n <= 5: one or two clusters for a cluster alone, two to four for
    MDAA; for :data:`DANGEROUS` inputs a cluster of three or more (cluster agreement) or three
    clusters or more (MDAA), where the triple can be a view; with ``skewed``, in about half the
    MDAA cases, one of :data:`SKEWED`."""
    if skewed and algorithm == "mdaa" and data.draw(st.booleans(), label="skewed clusters"):
        return list(data.draw(st.sampled_from(SKEWED), label="clusters"))
    lo, hi, big = (1, 2, 4) if algorithm == "cluster-agreement" else (2, 4, 3)
    if dangerous and algorithm != "cluster-agreement":
        lo = 3
    sizes = data.draw(st.lists(st.integers(1, big), min_size=lo, max_size=hi), label="clusters")
    if dangerous and algorithm == "cluster-agreement":
        sizes[0] = max(sizes[0], 3)
    out: list[int] = []
    for i, k in enumerate(sizes):        # cut to n <= 5 (keeping room for the clusters still required)
        room = 5 - sum(out) - max(lo - i - 1, 0)
        if room < 1:
            break
        out.append(min(k, room))
    while sum(out) < min_n:              # grow to min_n (the last cluster, or a new singleton)
        if algorithm == "cluster-agreement" and out[-1] < 4:
            out[-1] += 1
        else:
            out.append(1)
    return out


#: the triples of {-2, ..., 2}² whose MidExtremes needs the tie-break (two pairs at the largest
#: L2 distance, with different midpoints) and whose largest L1 distance picks another pair: a
#: changed tie-break, or a diameter pair measured in L1, shows only on views like these.  Drawn
#: grid points make such a view in about one triple in fifteen, and the small clusters Hypothesis
#: draws first rarely hold one, so :func:`_draw` places one on purpose.
DANGEROUS = (((-2, -1), (0, 1), (1, -2)), ((-2, 0), (0, -2), (1, 1)), ((-2, 0), (0, 2), (1, -1)),
             ((-2, 1), (0, -1), (1, 2)), ((-1, -1), (1, 1), (2, -2)), ((-1, 0), (1, -2), (2, 1)),
             ((-1, 0), (1, 2), (2, -1)), ((-1, 1), (1, -1), (2, 2)))


def _place_dangerous(data, clusters: Clusters, algorithm: str, grid: np.ndarray) -> np.ndarray:
    """Inputs with a :data:`DANGEROUS` triple where MidExtremes will see it as one view: on three
    members of the first cluster (cluster agreement), or on the whole of three clusters (MDAA: each
    of them agrees on its point, and an Aggregate of their messages sees the triple).  The
    triple's order among the processes is drawn (an index-order tie-break differs from the
    documented one for some orders only); further coordinates are constant across the triple.
    The other processes hold copies of the triple's points, so that a view with all three
    points keeps both properties whatever else it holds."""
    triple = DANGEROUS[data.draw(st.integers(0, len(DANGEROUS) - 1), label="triple")]
    order = data.draw(st.permutations(range(3)), label="triple's order")
    X = grid.copy()
    if algorithm == "cluster-agreement":
        groups = [[p] for p in clusters.members[0][:3]]
    else:
        groups = [list(c) for c in clusters.members[:3]]
    rest = X[groups[0][0], 2:].copy()
    point = {p: order[k] for k, group in enumerate(groups) for p in group}
    for p in range(clusters.n):
        X[p, :2] = triple[point.get(p, p % 3)]
        X[p, 2:] = rest
    return X


def _draw(data, algorithm: str, faults: str = "any", min_n: int = 1, dangerous: bool | None = None,
          skewed: bool = False, **fixed) -> Case:
    """A case: clusters, inputs (grid points, or -- in half the cases, or always with ``dangerous`` --
    a :data:`DANGEROUS` triple placed where MidExtremes sees it), rounds, rule, and the fault
    pattern ``faults``."""
    if dangerous is None:
        dangerous = data.draw(st.sampled_from(("grid", "tie and L1/L2 triple")), label="inputs") != "grid"
    sizes = _sizes(data, algorithm, min_n, dangerous, skewed)
    clusters = Clusters.parse(sizes)
    d = data.draw(st.integers(2 if dangerous else 1, 3), label="d")
    seed = data.draw(st.integers(0, 63), label="seed")       # few bits: one node that shrinks in a few steps
    # points of the grid {-2, ..., 2}^d (ties, repeated and collinear inputs are common), drawn
    # from one seed: one node for Hypothesis to shrink, not n × d
    grid = generator(seed, STREAM_INPUTS, 1).integers(-2, 3, size=(clusters.n, d)).astype(float)
    if dangerous:
        grid = _place_dangerous(data, clusters, algorithm, grid)
    params = {"clusters": sizes, "inputs": grid.tolist()}
    if algorithm == "cluster-agreement":
        params["T"] = data.draw(st.integers(2, 4), label="T")
    else:
        rule = "midextremes" if dangerous else data.draw(st.sampled_from(["midextremes", "average"]), label="rule")
        params.update(T=data.draw(st.integers(1, 2), label="T"), K=data.draw(st.integers(2, 3), label="K"), rule=rule)
    params.update(fixed)
    model = _pattern(data, clusters, faults)
    return Case(algorithm, {"name": "quadratic", "params": {"d": d}}, params, seed, model=model)


def _pattern(data, clusters: Clusters, faults: str) -> dict | None:
    """A fault pattern of the cluster model: ``"any"`` (any crash set, either mode), ``"majority"``
    (its correct processes represent a majority), ``"recovery"`` (crash-recovery, majority kept),
    ``"anything-goes"`` (crash any set, even a majority; crash-stop), ``"process-majority"`` (the
    engine's own constraint ``Model(majority=True)``: any process may crash while more than half
    stay up; as many crashes as that allows, crash-stop or crash-recovery), ``"budget"`` (at
    least two crashable processes and a budget f of fewer crashes than that: the adversary can
    run into f)."""
    n = clusters.n
    if faults == "budget":
        crashable = data.draw(st.lists(st.integers(0, n - 1), unique=True, min_size=2, max_size=n),
                              label="crashable")
        f = data.draw(st.integers(1, len(crashable) - 1), label="f")
        recovery = data.draw(st.booleans(), label="recovery")
        return fault_model(clusters, crashable, f, recovery, need_majority=False).to_json()
    if faults == "process-majority":
        recovery = data.draw(st.booleans(), label="recovery")
        f = 2 * n if recovery else (n - 1) // 2
        return Model(f=f, recovery=recovery, majority=True, fairness=FAIRNESS).to_json()
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


def _register(name: str, statement: str, source: str, check, hard, hard_case: str, broken: dict,
              algorithms=AGREEMENT, draw=_draw, adversary=PriorityAdversary) -> Guarantee:
    """A guarantee of these algorithms, searched with :class:`PriorityAdversary`."""
    return register(Guarantee(name=name, statement=statement, source=source, algorithms=algorithms, draw=draw,
                              check=check, hard=hard, hard_case=hard_case, broken=broken, adversary=adversary))


# --- what the runs recorded -----------------------------------------------------------------------


def _inputs(result) -> np.ndarray:
    return agreement_inputs(result.problem, result.params, result.schedule.seed)


def _clusters(result) -> Clusters:
    return Clusters.parse(result.params["clusters"])


def _is_mdaa(result) -> bool:
    """An MDAA run (it has K): only MDAA records Aggregates, round messages, MDAA rounds."""
    return "K" in result.params


def _decisions(result) -> dict:
    """The last decision of every process that decided: its value and provenance weights."""
    return {pid: v for (_, pid, _, v) in result.trace.stepwise(DECIDE)}


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
    return bool(result.trace.records(Skipped)) or (
        _is_mdaa(result) and any(a.skip for a in result.trace.records(Aggregated)))


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
    for w in result.trace.records(Written):
        V.setdefault((w.inst, w.c, w.round), []).append(np.asarray(w.x))
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
        return None if X[0].tobytes() == y.tobytes() else f"{_show(y)} is not the only value {_show(X[0])} of its view"
    want = _wanted(X)
    if want.tobytes() == y.tobytes():
        return None
    top = max(p[2] for p in _pairs(X))
    return (f"{_show(y)} is not MidExtremes of the view's {len(X)} values {', '.join(_show(x) for x in X)}: "
            f"their diameter {math.sqrt(top):.6g} is realised by the pair with midpoint {_show(want)}")


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


def _midextremes_steps(result) -> str | None:
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


def _mdaa_rounds(result) -> str | None:
    """Every MDAA round: diam(Y_{r+1}) <= κ(ε) diam(Y_r), Y_1 the inputs, Y_{r+1} the aggregates of round r."""
    n = _clusters(result).n
    R, K = resolve(result.params, n)
    kappa = kappa_round(result.params["rule"], cluster_precision(K), n)
    Y = {1: list(_inputs(result))}
    for a in result.trace.records(Aggregated):
        Y.setdefault(a.r + 1, []).append(np.asarray(a.y))
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
    for w in result.trace.records(Written):
        if w.view is not None:
            seen.setdefault((w.inst, w.c, w.round), set()).add(tuple(w.view))
    for a in result.trace.records(Aggregated) if _is_mdaa(result) else ():
        seen.setdefault(("mdaa", a.r), set()).add(tuple(a.senders))
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


# --- MidExtremes, value by value ------------------------------------------------------------------


def check_midextremes(result) -> str | None:
    return _midextremes_steps(result)


def _tie_and_l1(result) -> bool:
    """Some view needed the tie-break, and some view's L1 diameter pair is not its L2 pair."""
    tie = l1 = False
    for _, X, _ in _midextremes_views(result)[0]:
        t, l = _view_kind(X)
        tie, l1 = tie or t, l1 or l
        if tie and l1:
            return True
    return False


_register(
    name="agreement-midextremes",
    statement="every MidExtremes value (in-cluster rounds, the MDAA Aggregate) is the midpoint of its view's "
              "L2 diameter pair with the documented tie-break, recomputed exactly",
    source="seed 000, 'MDAA within a Cluster' ('MidExtremes returns the average of the two values realizing "
           "the maximum Euclidean distance')",
    # always a DANGEROUS triple, and views hold many values when processes run at one priority
    # (round-robin among them): the cut and the fault plans are still drawn
    draw=lambda data, alg: _draw(data, alg, dangerous=True),
    adversary=lambda data: PriorityAdversary(data, levels=1),
    check=check_midextremes,
    hard=_tie_and_l1,
    hard_case="a view needing the tie-break and one whose L1 and L2 diameter pairs differ",
    broken={"cluster-agreement": "broken-cluster-agreement-tie-by-index", "mdaa": "broken-mdaa-l1-diameter"},
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
    for step, pid, _, a in trace.stepwise(Aggregated) if _is_mdaa(result) else ():
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
    for step, pid, _, a in trace.stepwise(Aggregated) if _is_mdaa(result) else ():
        cs = {clusters.cluster_of(s) for s in a.senders}
        rep = sum(len(clusters.members[c]) for c in cs)
        bare = all(2 * (rep - len(clusters.members[c])) <= clusters.n for c in cs)
        held = any(clusters.cluster_of(s) not in cs for s, at in sent.get(a.r, {}).items() if at < step)
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
    for w in trace.records(Written):
        reg = (w.inst, w.c, w.j)
        if reg in last and w.round <= last[reg]:
            return (f"register A[{w.j}] of cluster {w.c}" + (f" (MDAA round {w.inst})" if w.inst else "")
                    + f" held round {last[reg]} and was written with round {w.round}: "
                    + ("back" if w.round < last[reg] else "the same round again"))
        last[reg] = w.round
    entered: dict[int, int] = {}
    for step, pid, _, v in trace.stepwise(ROUND) if _is_mdaa(result) else ():
        if v < entered.get(pid, 0):
            return f"p{pid} entered MDAA round {v} after round {entered[pid]}: it moved backwards"
        entered[pid] = v
    if trace.stopped == "quiescent":
        down, recovered = _status(trace)
        decided = {pid for (_, pid, _, _) in trace.stepwise(DECIDE)}
        lost = sorted(p for p in recovered - down if p not in decided)
        if lost:
            return f"{', '.join(f'p{p}' for p in lost)} recovered and never decided"
    return None


def _crashes_after_durable_steps(result) -> list[tuple[int, int]]:
    """(pid, index of the crash) of every crash that came right after the process's durable step:
    in MDAA the checkpoint that follows an Aggregate, in a cluster alone a register write."""
    events, mdaa = result.trace.events, _is_mdaa(result)
    aggregated = {(step, pid) for step, pid, _, _ in result.trace.stepwise(Aggregated)} if mdaa else set()
    last: dict[int, int] = {}          # pid -> index of its last step
    out = []
    for i, e in enumerate(events[:-1]):
        m = re.match(r"p(\d+) (\S+)", e)
        if not m:
            continue
        p, what = int(m.group(1)), m.group(2)
        if events[i + 1] == f"crash p{p}" and (
                (mdaa and what == "checkpoint" and (last.get(p), p) in aggregated) or (not mdaa and what == "write")):
            out.append((p, i + 1))
        last[p] = i
    return out


def _recovered_and_skipped(result) -> bool:
    """A process crashed right after a durable step (an Aggregate and its checkpoint; a register
    write) and recovered; and a recovered process skipped afterwards (in its cluster or across
    clusters)."""
    events = result.trace.events
    if not any(f"recover p{p}" in events[at:] for p, at in _crashes_after_durable_steps(result)):
        return False
    recovered_at: dict[int, int] = {}
    for i, e in enumerate(events):
        m = re.fullmatch(r"recover p(\d+)", e)
        if m:
            recovered_at.setdefault(int(m.group(1)), i)
    for step, pid, _, v in result.trace.stepwise(Skipped, *((Aggregated,) if _is_mdaa(result) else ())):
        if pid in recovered_at and step > recovered_at[pid] and (isinstance(v, Skipped) or v.skip):
            return True
    return False


_register(
    name="agreement-recovery",
    statement="a recovered process rejoins by skipping and never moves a round backwards (registers, MDAA rounds)",
    source="seed 000, 'Recovery through Skipping', 'Skipping'",
    draw=lambda data, alg: _draw(data, alg, faults="recovery"),
    check=check_recovery,
    hard=_recovered_and_skipped,
    hard_case="a crash right after an Aggregate and its checkpoint (a write), its recovery; "
              "a recovered process skipped",
    broken={"cluster-agreement": "broken-cluster-agreement-restarts", "mdaa": "broken-mdaa-restarts"},
)


# --- the fault model itself -----------------------------------------------------------------------


def _faults(result):
    """Walk the schedule's own events: yields (index, event, kind, pid) with kind ``"crash"``,
    ``"recover"``, ``"step"`` or ``"deliver"`` (pid: the process crashing, recovering, stepping or
    receiving); independent of the engine's counters (``trace.crashed``, ``crash_count``)."""
    for i, e in enumerate(result.trace.events):
        m = re.fullmatch(r"(crash|recover) p(\d+)", e)
        if m:
            yield i, e, m.group(1), int(m.group(2))
            continue
        m = re.match(r"p(\d+) ", e)
        if m:
            yield i, e, "step", int(m.group(1))
            continue
        m = re.fullmatch(r"deliver #\d+ \S+->p(\d+)(?: .*)?", e)
        if m:
            yield i, e, "deliver", int(m.group(1))


def _two_voices(result) -> str | None:
    """A crash stops a process, and a recovered one resumes from what it saved: it never says two
    different things for one round (a round message, a register's round).  One that does is two
    processes (the crashed one and a fresh one), which no fault pattern of n processes allows."""
    said: dict = {}
    for step, pid, _, v in result.trace.stepwise(Written, *((Sent,) if _is_mdaa(result) else ())):
        if isinstance(v, Sent):
            what, x = (f"p{pid}'s round-{v.r} message", pid, v.r), v.z
        else:
            where = f"cluster {v.c}" + (f" (MDAA round {v.inst})" if v.inst else "")
            what, x = (f"A[{v.j}] of {where} with round {v.round}", v.inst, v.c, v.j, v.round), v.x
        x = np.asarray(x, dtype=np.float64)
        first = said.setdefault(what, (step, x))
        if first[1].tobytes() != x.tobytes():
            return (f"{what[0]} carried {_show(first[1])} (step {first[0]}) and {_show(x)} (step {step}): "
                    f"one process spoke with two voices")
    return None


def check_crash_budget(result) -> str | None:
    model, n = result.schedule.model, _clusters(result).n
    f, recovery = model["f"], model["recovery"]
    allowed = set(range(n)) if model["crashable"] is None else set(model["crashable"])
    down: set[int] = set()
    crashes = 0
    for i, e, kind, p in _faults(result):
        if p >= n:
            return f"step {i} ({e}): p{p} is not one of the n = {n} processes of the fault pattern"
        if kind == "crash":
            crashes += 1
            if p in down:
                return f"step {i} ({e}): p{p} crashed while it was down"
            if p not in allowed:
                return f"step {i} ({e}): the fault pattern lets only {sorted(allowed)} crash"
            if crashes > f:
                return f"step {i} ({e}) is crash number {crashes}; the fault pattern allows at most f = {f}"
            down.add(p)
        elif kind == "recover":
            if not recovery:
                return f"step {i} ({e}): a recovery under crash-stop"
            if p not in down:
                return f"step {i} ({e}): p{p} was not down"
            down.discard(p)
        elif p in down:
            return f"step {i} ({e}): p{p} {'stepped' if kind == 'step' else 'received a message'} while down"
    return _two_voices(result)


def _first_decisions(result) -> dict[int, int]:
    out: dict[int, int] = {}
    for step, pid, _, _ in result.trace.stepwise(DECIDE):
        out.setdefault(pid, step)
    return out


def _budget_used_up(result) -> bool:
    """The f-th crash (f >= 1) left another crashable process up and undecided: only the budget f
    held the adversary back."""
    model, n = result.schedule.model, _clusters(result).n
    if model["f"] < 1:
        return False
    allowed = set(range(n)) if model["crashable"] is None else set(model["crashable"])
    decided, down, crashes = _first_decisions(result), set(), 0
    for i, e, kind, p in _faults(result):
        if kind == "crash":
            crashes += 1
            down.add(p)
            if crashes == model["f"]:
                return any(q not in down and decided.get(q, math.inf) > i for q in allowed)
        elif kind == "recover":
            down.discard(p)
    return False


_register(
    name="agreement-crash-budget",
    statement="a run's faults are its fault pattern's: at most f crashes, of crashable processes only, recoveries "
              "only under crash-recovery, a down process silent; no process speaks with two voices",
    source="seed 000, 'Cluster-Based Model', 'Recovery through Skipping' (crash-stop, crash-recovery from "
           "non-volatile memory)",
    draw=lambda data, alg: _draw(data, alg, faults="budget", min_n=3),
    check=check_crash_budget,
    hard=_budget_used_up,
    hard_case="the budget f used up while a crashable process was up and undecided",
    broken={"mdaa": "broken-mdaa-helps-with-current-value"},
)


def check_correct_majority(result) -> str | None:
    clusters = _clusters(result)
    n = clusters.n
    down: set[int] = set()
    for i, e, kind, p in _faults(result):
        if kind in ("crash", "recover"):
            (down.add if kind == "crash" else down.discard)(p)
            if 2 * (n - len(down)) <= n:
                return (f"after step {i} ({e}) {n - len(down)} of n = {n} processes are up, no majority "
                        f"(down: {', '.join(f'p{q}' for q in sorted(down))}), under the majority constraint")
    got = _deliveries(result.trace)
    for step, pid, _, a in result.trace.stepwise(Aggregated) if _is_mdaa(result) else ():
        senders = sorted(set(a.senders))
        for s in senders:
            at = got.get((s, pid, a.r))
            if at is None or at >= step:
                return f"p{pid} aggregated round {a.r} with a message from p{s} that was never delivered to it"
        hit = {clusters.cluster_of(s) for s in senders}
        rep = sum(len(clusters.members[c]) for c in hit)
        if 2 * rep <= n:
            return (f"p{pid} aggregated round {a.r} on the messages of {', '.join(f'p{s}' for s in senders)}, "
                    f"representing {rep} of n = {n} processes: not a majority")
    return check_termination(result)


def _bare_majority(result) -> bool:
    """As many processes down at once as a majority allows (⌈n/2⌉ − 1 >= 1) while one had not decided."""
    n = _clusters(result).n
    edge = (n - 1) // 2
    if edge < 1:
        return False
    decided, down = _first_decisions(result), set()
    for i, e, kind, p in _faults(result):
        if kind in ("crash", "recover"):
            (down.add if kind == "crash" else down.discard)(p)
            if len(down) == edge and any(decided.get(q, math.inf) > i for q in range(n) if q not in down):
                return True
    return False


_register(
    name="agreement-correct-majority",
    statement="under the majority constraint (Model(majority=True)) a majority is up at every step, every Aggregate "
              "heard a majority of distinct processes, and every process up at the end decides",
    source="seed 000, 'Multi-Dimensional AA in the Cluster-Based Model' (messages representing a majority), "
           "'Non Strongly Convex Functions Require a Majority'",
    draw=lambda data, alg: _draw(data, alg, faults="process-majority", min_n=3, skewed=True),
    check=check_correct_majority,
    hard=_bare_majority,
    hard_case="half the processes down (a bare majority up) before all decided",
    broken={"cluster-agreement": "broken-cluster-agreement-barrier", "mdaa": "broken-mdaa-counts-messages"},
)


# replay determinism (the baselines' guarantee) covers both, with crash-recovery faults
replay_covers(lambda data, alg: _draw(data, alg, faults="recovery"), *AGREEMENT)
