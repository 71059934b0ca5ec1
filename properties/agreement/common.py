"""What the agreement guarantees share (seed 000): the cases drawn, the schedules searched, what the runs recorded.

Each check recomputes from what the run recorded and from the run's own inputs
(rebuilt from its parameters and seed, not taken from the trace): the values written
to the cluster arrays (``"write"``), the y's every process aggregated
(``"aggregate"``), the outputs, and the schedule's own events (crashes, recoveries,
broadcasts, deliveries).

Cases are small (n <= 5, d <= 3, inputs on the integer grid [-2, 2]^d, so Hypothesis
can shrink to the configurations that break the broken variants), and are drawn per
guarantee with the fault pattern it is about (:func:`draw_case`); the adversary's fault plans
aim at the dangerous cases (:class:`PriorityAdversary`: a crash right after an Aggregate
and its checkpoint, a wave down to the edge of what the pattern allows).

Every guarantee of the family is declared with :func:`register_guarantee`; this module imports none of
its siblings (they import it).  Replay determinism (:mod:`~asyncproof.properties.every_algorithm`)
draws both algorithms' cases here, with crash-recovery faults.
"""

from __future__ import annotations

import re

import numpy as np
from hypothesis import strategies as st

from ...reference.adversaries import Adversary, highest_priority
from ...reference.agreement.cluster_agreement import Skipped
from ...reference.agreement.cluster_model import STREAM_INPUTS, Clusters, agreement_inputs, fault_model
from ...reference.agreement.mdaa import Aggregated
from ...reference.engine import Model
from ...reference.rng import generator
from ..common import first_deliveries
from ..every_algorithm import replay_covers
from ..guarantees import Case, Guarantee, register

AGREEMENT = ("cluster-agreement", "mdaa")
FAIRNESS = 12
#: slack for float rounding in diameters (relative)
ROUND_SLACK = 1e-9


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
        best = highest_priority(normal, lambda i: self._rank(events[i]))
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
#: draws first rarely hold one, so :func:`draw_case` places one on purpose.
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


def draw_case(data, algorithm: str, faults: str = "any", min_n: int = 1, dangerous: bool | None = None,
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


def register_guarantee(name: str, statement: str, source: str, check, hard, hard_case: str, broken: dict,
              algorithms=AGREEMENT, draw=draw_case, adversary=PriorityAdversary) -> Guarantee:
    """A guarantee of these algorithms, searched with :class:`PriorityAdversary`."""
    return register(Guarantee(name=name, statement=statement, source=source, algorithms=algorithms, draw=draw,
                              check=check, hard=hard, hard_case=hard_case, broken=broken, adversary=adversary))


# --- what the runs recorded -----------------------------------------------------------------------


def inputs_of(result) -> np.ndarray:
    return agreement_inputs(result.problem, result.params, result.schedule.seed)


def clusters_of(result) -> Clusters:
    return Clusters.parse(result.params["clusters"])


def is_mdaa(result) -> bool:
    """An MDAA run (it has K): only MDAA records Aggregates, round messages, MDAA rounds."""
    return "K" in result.params


def outputs_of(result) -> dict[int, np.ndarray]:
    return {p: np.asarray(o[-1]) for p, o in result.trace.outputs.items() if o}


def skipped_any(result) -> bool:
    return bool(result.trace.records(Skipped)) or (
        is_mdaa(result) and any(a.skip for a in result.trace.records(Aggregated)))


def deliveries_of(trace) -> dict[tuple[int, int, int], int]:
    """(src, dst, round) -> the first step at which a round message from src was delivered to dst."""
    return first_deliveries(trace, "round ")


def rounding_slack(scale: float) -> float:
    """What float rounding may add to a squared diameter of this scale (public: asyncproof.strategies'
    checkers use the guarantees' own tolerance, not one of their own)."""
    return ROUND_SLACK * (1.0 + scale)


def show(x) -> str:
    return "[" + ", ".join(f"{float(v):.6g}" for v in x) + "]"


# replay determinism (every algorithm's guarantee) covers both, with crash-recovery faults
replay_covers(lambda data, alg: draw_case(data, alg, faults="recovery"), *AGREEMENT)
