"""The General Algorithm's guarantees (seed 000), each with the broken variant it must catch.

Seed 000 (``000_3f5163bcd896752f.txt``), slides "General Algorithm" and "Non Strongly Convex Functions
Require a Majority" (:mod:`asyncproof.reference.decentralized.general_algorithm`).  Every check
recomputes from the run's records (``model``, ``gradient``, ``averaged``) and its events (the
deliveries ``deliver #k pS->pI t=...``); the schedules are searched with the agreement family's
:class:`~asyncproof.properties.agreement.common.PriorityAdversary` (a cut between pid groups whose
cross links are held back until nothing else can happen, priorities, crash plans).

* ``general-average``: every x_{t+1}^i is the pid-order average of the iteration-t models it really
  received (delivered before its wait ended), from at least M distinct senders, none of another
  iteration; bit for bit.

  - ``broken-general-stale-counted``: a stale message (of an earlier iteration) is counted, and
    averaged, as a current one.

* ``general-majority``: any two averages of the same iteration share a sender (quorum
  intersection); each average has a strict majority of senders; with a correct majority every
  correct process outputs; with a majority crashed nobody passes the iteration where fewer than
  a majority are left (it blocks).

  - ``broken-general-ceil-half``: the slide's literal ⌈n/2⌉, not a majority at even n.

* ``general-nonconvex-split``: on the double well (two minima, start at the saddle) the outputs
  agree: max_{i,j} E‖out_i − out_j‖ <= δ, E estimated over :data:`SEEDS` seeds by replaying the
  run's own events with the seed changed (:func:`replay_with_seed`), with a 95% confidence
  interval.  The estimate is made wherever two processes averaged different sender sets at some
  iteration (where they never do, all outputs are equal under every seed: E = 0 exactly); it starts
  with :data:`FIRST` seeds and stops there when the interval already lies below δ, else takes all
  :data:`SEEDS` (a violation is only ever declared on the full estimate: its interval above δ).

  - ``broken-general-minority-quorum``: waits for n − f messages with f = ⌈n/2⌉ crashes "tolerated",
    ⌊n/2⌋ messages: a minority, so two sides of a partition proceed apart.

* ``general-external-convergence`` (seed 000, "Strongly Convex Q ⇒ 'External' Convergence": "for any
  M", "withstands partitioning"): on a quadratic (the gradient noise additive and independent of x)
  with η_t = 1/(μt), every node's E‖x_{T+1}^i − x*‖² is at most the exact error of sequential
  mini-batch SGD with batch M (:meth:`~asyncproof.reference.problems.Quadratic.minibatch_sgd_error`),
  for any M and under the drawn partition, where a side may hear only itself.  Why it holds: every
  model is a convex combination of models that went through the same linear maps, and each
  iteration's gradient noise reaches a node with weights that sum to 1 and are each at most 1/M (each
  average is over at least M models), so its variance is at most 1/M of one gradient's.  E is
  estimated over :data:`EXTERNAL_SEEDS` replays of the run's events under other seeds; a node
  significantly above (z > :data:`EXTERNAL_Z`) is a violation.  The tightness: with every process
  averaging all n models (M = n, round-robin) the bound is met with equality in expectation.
  (``asyncproof prove external-convergence`` fits the slide's constant over a grid of M and T.)

  - ``broken-general-first-model``: Avg(received models) read as the first model received (the
    lowest pid): the noise is not averaged, and a node's error is a single model's.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

from ...reference.decentralized.common import GradientAt, ModelAt, rate_of
from ...reference.decentralized.general_algorithm import Averaged, majority
from ..agreement.common import PriorityAdversary
from ..common import deliveries
from .common import pid_order_mean, register_for, replay_with_seed, t_interval
from ..every_algorithm import replay_covers
from ..guarantees import Case, Guarantee
from ..variants import variant

SOURCE = "seed 000, 'General Algorithm'"
#: δ of "Non Strongly Convex Functions Require a Majority": the two wells are 2 apart; the majority
#: version's estimates stay below 0.23 on the partitions the tests replay, a split's are 0.6 - 1
DELTA = 0.3
#: the seeds of the Monte Carlo estimate of E‖out_i − out_j‖
SEEDS = 24
#: the seeds of a first look: enough to clear most runs whose processes merely saw different sets
FIRST = 8


# --- cases ----------------------------------------------------------------------------------------


def draw_case(data, algorithm: str, split: bool = False, explicit_M: bool = False) -> Case:
    """n in 3..5 (4 first: the even n where ⌈n/2⌉ is no majority), a small quadratic (or, with
    ``split``, the double well from its saddle, η = 0.6, large enough to reach a well in T = 8), crash-stop
    faults that may take down a majority."""
    n = data.draw(st.sampled_from([4, 3, 5]), label="n")
    seed = data.draw(st.integers(0, 63), label="seed")
    if split:
        d = data.draw(st.integers(1, 2), label="d")
        problem = {"name": "double-well", "params": {"d": d, "sigma": 0.3, "m": 8}}
        params = {"n": n, "T": 8, "eta": 0.6}
        model = None
    else:
        d = data.draw(st.integers(1, 2), label="d")
        problem = {"name": "quadratic", "params": {"d": d, "sigma": 0.5, "m": 4, "cond": 1.0 if d == 1 else 3.0}}
        params = {"n": n, "T": data.draw(st.integers(1, 3), label="T"), "eta": 0.1,
                  "b": data.draw(st.integers(1, 2), label="b")}
        if explicit_M and data.draw(st.booleans(), label="explicit M"):
            params["M"] = data.draw(st.integers(1, n), label="M")
        f = data.draw(st.integers(0, n - 1), label="f")
        model = {"f": f, "crashable": None, "recovery": False, "majority": False, "tau": None, "fairness": None}
    return Case(algorithm, problem, params, seed, model=model)


# --- what the runs recorded -----------------------------------------------------------------------


def averages(result) -> list[tuple[int, int, Averaged]]:
    """(step, pid, record) of every average, in step order."""
    return [(s, p, a) for s, p, _, a in result.trace.stepwise(Averaged)]


def sent_models(result) -> dict[tuple[int, int], np.ndarray]:
    """(pid, t) -> the model sent at step 3, recomputed: x_t − η_t g_t from the ``model`` and
    ``gradient`` records."""
    start = {(p, m.t): np.asarray(m.x) for _, p, _, m in result.trace.stepwise(ModelAt)}
    return {(p, g.t): start[(p, g.t)] - rate_of(result.params, g.t) * np.asarray(g.g)
            for _, p, _, g in result.trace.stepwise(GradientAt)}


def waited_for(result) -> int:
    """The M of the run as documented: the parameter, else the strict majority."""
    M = result.params.get("M")
    return M if M is not None else majority(result.params["n"])


def _register(adversary=PriorityAdversary, **fields) -> Guarantee:
    return register_for("general-sgd", adversary=adversary, **fields)


# --- general-average --------------------------------------------------------------------------------


def check_average(result) -> str | None:
    n, M = result.params["n"], waited_for(result)
    sent = sent_models(result)
    got = deliveries(result.trace, "t=")
    nxt = {(p, m.t): np.asarray(m.x) for _, p, _, m in result.trace.stepwise(ModelAt)}
    done: dict[int, int] = {}
    for s, i, a in averages(result):
        if a.t != done.get(i, 0) + 1:
            return f"p{i} averaged iteration {a.t} after iteration {done.get(i, 0)}"
        done[i] = a.t
        delivered = sorted({src for k, src, dst, t in got if dst == i and t == a.t and k < s})
        if list(a.senders) != delivered:
            return (f"p{i}'s average of iteration {a.t} (step {s}) is over senders {list(a.senders)}, but the "
                    f"iteration-{a.t} models delivered to it by then came from {delivered}")
        if len(a.senders) < M:
            return f"p{i} averaged iteration {a.t} over {len(a.senders)} senders {list(a.senders)}: fewer than M = {M}"
        want = pid_order_mean([sent[(p, a.t)] for p in a.senders])
        if not np.array_equal(np.asarray(a.x), want):
            dev = float(np.max(np.abs(np.asarray(a.x) - want)))
            return (f"p{i}'s x_{a.t + 1} = {np.asarray(a.x).tolist()} is not the pid-order average "
                    f"{want.tolist()} of the iteration-{a.t} models of {list(a.senders)} (max |difference| = "
                    f"{dev:.3g}; n = {n})")
        if (i, a.t + 1) in nxt and not np.array_equal(nxt[(i, a.t + 1)], want):
            return f"p{i} starts iteration {a.t + 1} from {nxt[(i, a.t + 1)].tolist()}, not its average {want.tolist()}"
    return None


def _off_iteration(result) -> bool:
    """A model message reached a process while it was at another iteration (stale or early), and
    that process averaged again afterwards."""
    at: dict[int, list[tuple[int, int]]] = {}
    for s, p, a in averages(result):
        at.setdefault(p, []).append((s, a.t))
    for k, _, dst, t in deliveries(result.trace, "t="):
        mine = at.get(dst, [])
        current = 1 + sum(1 for s, _ in mine if s < k)
        if t != current and any(s > k for s, _ in mine):
            return True
    return False


_register(
    name="general-average",
    statement="every x_{t+1}^i is the pid-order average of the iteration-t models delivered to p_i before its "
              "wait ended, from at least M distinct senders, none of another iteration (bit for bit)",
    source=SOURCE + ", steps 3-5",
    draw=lambda data, alg: draw_case(data, alg, explicit_M=True),
    check=check_average,
    hard=_off_iteration,
    hard_case="a stale or early message reached a process that averaged afterwards",
    broken="broken-general-stale-counted",
)

variant("broken-general-stale-counted", of="general-sgd", mistake="counts a stale message as a current one",
        replace={"filed": lambda tm, t: tm if tm > t else t})       # the mistake: no check that tm == t


# --- general-majority -------------------------------------------------------------------------------


def check_majority(result) -> str | None:
    n = result.params["n"]
    need = majority(n)
    by_t: dict[int, list[tuple[int, list]]] = {}
    for _, i, a in averages(result):
        if len(a.senders) < need:
            return (f"p{i} passed iteration {a.t} with {len(a.senders)} of n = {n} models {list(a.senders)}: "
                    f"not a majority (>= {need})")
        for j, other in by_t.get(a.t, []):
            if not set(other) & set(a.senders):
                return (f"split at iteration {a.t}: p{j} averaged {other} and p{i} averaged {list(a.senders)}, "
                        f"no sender in common")
        by_t.setdefault(a.t, []).append((i, list(a.senders)))
    crashed = set(result.trace.crashed)
    alive = n - len(crashed)
    if alive >= waited_for(result):
        missing = [p for p in range(n) if p not in crashed and not result.trace.outputs.get(p)]
        if missing:
            return (f"{alive} of n = {n} processes are correct (a majority waits for {waited_for(result)}), but "
                    f"{['p%d' % p for p in missing]} did not output (run {result.trace.stopped})")
    return None


def _at_the_edge(result) -> bool:
    n = result.params["n"]
    if n - len(set(result.trace.crashed)) < majority(n):
        return True                                     # a majority crashed: the run must block
    return n % 2 == 0 and any(len(a.senders) == majority(n) for _, _, a in averages(result))


_register(
    name="general-majority",
    statement="no split: any two averages of one iteration share a sender, each is over a strict majority; "
              "with a correct majority every correct process outputs, with a majority crashed the run blocks",
    source=SOURCE + " ('from a majority'; the slides' ⌈n/2⌉ read as ⌊n/2⌋+1)",
    draw=lambda data, alg: draw_case(data, alg),
    check=check_majority,
    hard=_at_the_edge,
    hard_case="a majority crashed (the run blocks), or at even n a wait that ended with exactly ⌊n/2⌋+1 models",
    broken="broken-general-ceil-half",
)

variant("broken-general-ceil-half", of="general-sgd", mistake="waits for ⌈n/2⌉ messages (the slide's literal count)",
        replace={"quorum": lambda n: -(-n // 2)})


# --- general-nonconvex-split -------------------------------------------------------------------------


def spread(outputs: dict) -> tuple[float, tuple[int, int]]:
    """max_{i,j} ‖out_i − out_j‖ and the pair."""
    best, pair = 0.0, (0, 0)
    ps = sorted(outputs)
    for a in ps:
        for c in ps:
            if a < c:
                v = float(np.linalg.norm(np.asarray(outputs[a]) - np.asarray(outputs[c])))
                if v > best:
                    best, pair = v, (a, c)
    return best, pair


_ESTIMATES: dict = {}     # (algorithm, params, problem, events, seeds) -> estimate: shrinking meets the same runs


def split_estimate(schedule, seeds: int = SEEDS) -> tuple[float, float, float, tuple[int, int]]:
    """(mean, 95% CI low, high, pair): max over pairs of the mean ‖out_i − out_j‖ over seeds 0 .. seeds−1,
    replaying the schedule's events (Student-t interval)."""
    key = (schedule.algorithm, repr(schedule.params), repr(schedule.problem), tuple(schedule.events), seeds)
    if key not in _ESTIMATES:
        if len(_ESTIMATES) > 256:
            _ESTIMATES.clear()
        _ESTIMATES[key] = _estimate(schedule, seeds)
    return _ESTIMATES[key]


def _estimate(schedule, seeds: int) -> tuple[float, float, float, tuple[int, int]]:
    dist: dict[tuple[int, int], list[float]] = {}
    for s in range(seeds):
        outs = {p: o[-1] for p, o in replay_with_seed(schedule, s).outputs.items() if o}
        for a in outs:
            for c in outs:
                if a < c:
                    dist.setdefault((a, c), []).append(float(np.linalg.norm(np.asarray(outs[a]) - np.asarray(outs[c]))))
    if not dist:
        return 0.0, 0.0, 0.0, (0, 0)
    pair = max(dist, key=lambda k: float(np.mean(dist[k])))
    if len(dist[pair]) < 2:
        return float(dist[pair][0]), -math.inf, math.inf, pair
    return (*t_interval(dist[pair]), pair)


def _sets_differ(result) -> bool:
    """Two processes averaged different sender sets at one iteration.  When they never do, every
    process averages the same models at every iteration, so all outputs are equal under every seed:
    E‖out_i − out_j‖ = 0 exactly, and no estimate is needed."""
    seen: dict[int, set] = {}
    for _, _, a in averages(result):
        seen.setdefault(a.t, set()).add(tuple(a.senders))
    return any(len(v) > 1 for v in seen.values())


def check_split(result) -> str | None:
    outs = {p: o[-1] for p, o in result.trace.outputs.items() if o}
    here, _ = spread(outs)
    if not _sets_differ(result):
        return None
    if split_estimate(result.schedule, FIRST)[2] < DELTA:
        return None
    mean, lo, hi, (a, c) = split_estimate(result.schedule)
    if lo > DELTA:
        return (f"split brain: E‖out_{a} − out_{c}‖ ≈ {mean:.3f} (95% CI [{lo:.3f}, {hi:.3f}], {SEEDS} seeds, "
                f"this run's {len(result.schedule.events)} events replayed) > δ = {DELTA}: measured/bound = "
                f"{mean / DELTA:.2f}; this run's outputs are {here:.3f} apart")
    return None


def _left_the_saddle_apart(result) -> bool:
    """Every output left the saddle (|x_1| >= 1/2: in a well), and two processes averaged different sender
    sets at one iteration (the adversary made them see different models)."""
    outs = [o[-1] for o in result.trace.outputs.values() if o]
    if len(outs) < 2 or any(abs(float(o[0])) < 0.5 for o in outs):
        return False
    return _sets_differ(result)


class PartitionAdversary(PriorityAdversary):
    """:class:`PriorityAdversary` without fault plans (the split needs none): a cut between pid groups
    whose cross links are held back until nothing else can happen, and the processes' priorities.
    Fewer draws: a found split shrinks in a few steps (each of which costs a Monte Carlo estimate)."""
    name = "hypothesis-partition"

    def reset(self, engine) -> None:
        n = len(engine.procs)
        self.cut = self.data.draw(st.integers(0, n), label="cut")
        self.prio = dict(enumerate(self.data.draw(st.lists(st.integers(0, self.levels - 1), min_size=n, max_size=n),
                                                  label="priorities")))
        self.changes, self.crashes, self.after, self.wave, self.recoveries = {}, [], [], None, []
        self.durable, self.previous, self.waving = {}, {}, False


_register(
    name="general-nonconvex-split",
    statement=f"on the double well (two minima, x0 the saddle) the outputs agree: max_(i,j) E‖out_i − out_j‖ "
              f"<= δ = {DELTA} (E over {SEEDS} seeds, the run's events replayed)",
    source="seed 000, 'Non Strongly Convex Functions Require a Majority' (Goren, Moses & Spiegelman, DISC 2021)",
    draw=lambda data, alg: draw_case(data, alg, split=True),
    check=check_split,
    hard=_left_the_saddle_apart,
    hard_case="the outputs reached the wells after processes averaged different sender sets",
    broken="broken-general-minority-quorum",
    adversary=PartitionAdversary,
)

variant("broken-general-minority-quorum", of="general-sgd",
        mistake="waits for n − f with f = ⌈n/2⌉: ⌊n/2⌋ messages, a minority",
        replace={"quorum": lambda n: n - -(-n // 2)})

# --- general-external-convergence ------------------------------------------------------------------

#: replays of a drawn schedule under other seeds, and the one-sided z above which a mean is
#: significantly above its bound (p < 4e-5 under normality)
EXTERNAL_SEEDS = 8
EXTERNAL_Z = 4.0


def _draw_external(data, algorithm: str) -> Case:
    """A strongly convex quadratic (H = diag(2 .. 4): μ = 2), η_t = 1/(μt), any M ("for any M"), and a
    partition drawn by :class:`PartitionAdversary`: with M at most a side, each side proceeds alone."""
    n = data.draw(st.sampled_from([4, 5, 3]), label="n")
    # M = 2 first: a minority quorum that still averages (n >= 4), then 1, a majority, all
    M = data.draw(st.sampled_from(sorted({2, 1, majority(n), n}, key=[2, 1, majority(n), n].index)), label="M")
    # 16 coordinates: one run's ‖x − x*‖² is a sum of many terms, so a few seeds estimate its mean well
    problem = {"name": "quadratic", "params": {"d": 16, "cond": 2.0, "sigma": 2.0, "m": 16}}
    params = {"n": n, "M": M, "T": data.draw(st.integers(3, 6), label="T"), "eta": 0.5, "schedule": "inverse"}
    return Case(algorithm, problem, params, data.draw(st.integers(0, 63), label="seed"))


def external_report(result, seeds: int = EXTERNAL_SEEDS):
    """(rows, message): per node that output, (pid, mean, standard error, bound, z) of ‖x_{T+1}^i − x*‖² over
    ``seeds`` replays of the run's events under other seeds, against the exact error of sequential
    mini-batch SGD with batch M·b on the same steps; message if one is significantly above it."""
    p, problem = result.params, result.problem
    T, M = p["T"], waited_for(result)
    x_star = problem.minimizer()
    bound = problem.minibatch_sgd_error(M * p["b"], [rate_of(p, t) for t in range(1, T + 1)])[-1]
    errs: dict[int, list[float]] = {}
    for s in range(seeds):
        at = {}
        for _, pid, _, m in replay_with_seed(result.schedule, 7_919 * (result.schedule.seed + 1) + s).stepwise(ModelAt):
            if m.t == T + 1:
                at[pid] = m.x
        for pid, x in at.items():
            errs.setdefault(pid, []).append(float(np.sum((np.asarray(x) - x_star) ** 2)))
    rows = []
    for pid in sorted(errs):
        v = np.asarray(errs[pid])
        mean, se = float(v.mean()), float(v.std(ddof=1)) / math.sqrt(len(v))
        rows.append((pid, mean, se, bound, (mean - bound) / se if se > 0 else -math.inf))
    worst = max(rows, key=lambda r: r[4], default=None)
    if worst is not None and worst[4] > EXTERNAL_Z:
        pid, mean, se, b, z = worst
        return rows, (f"p{pid}: E‖x_(T+1) − x*‖² ≈ {mean:.4g} ± {se:.2g} ({seeds} seeds, the run's events replayed) "
                      f"above sequential mini-batch SGD's exact {b:.4g} with batch M = {M} (T = {T}, η_t = 1/(μt)): "
                      f"measured/bound = {mean / b:.3g}, z = {z:.1f}")
    return rows, None


def check_external(result) -> str | None:
    return external_report(result)[1]


def _heard_a_minority(result) -> bool:
    """Some average took fewer models than a majority (the process heard only a minority), at M >= 2
    (with M = 1 the bound is a single model's: nothing to average)."""
    M, n = waited_for(result), result.params["n"]
    return M >= 2 and any(len(a.senders) < majority(n) for _, _, a in averages(result))


class BalancedPartition(PartitionAdversary):
    """:class:`PartitionAdversary` whose cut is drawn balanced first (⌊n/2⌋ | ⌈n/2⌉, then the others):
    both sides are minorities or nearly, so a quorum M of at most the smaller side proceeds on each
    side alone, hearing only a minority ("withstands partitioning")."""
    name = "hypothesis-balanced-partition"

    def reset(self, engine) -> None:
        super().reset(engine)
        n = len(engine.procs)
        order = [n // 2] + [c for c in range(n + 1) if c != n // 2]
        self.cut = self.data.draw(st.sampled_from(order), label="balanced cut")


_register(
    name="general-external-convergence",
    statement="on a strongly convex Q, for any M and any schedule, even one where processes hear only a minority, "
              "E‖x_(T+1)^i − x*‖² is at most sequential mini-batch SGD's with batch M (Monte Carlo over the run's "
              "events replayed under other seeds, against the exact sequential value)",
    source="seed 000, 'Strongly Convex Q ⇒ External Convergence' (both versions: 'for any M', 'withstands "
           "partitioning')",
    draw=_draw_external,
    check=check_external,
    hard=_heard_a_minority,
    hard_case="an average over fewer than a majority, at M >= 2",
    broken="broken-general-first-model",
    adversary=BalancedPartition,
)


def _first_model(models: dict) -> np.ndarray:
    return models[min(models)].copy()       # the mistake: Avg(received) read as received[0]


variant("broken-general-first-model", of="general-sgd",
        mistake="takes the first received model (lowest pid) instead of the average",
        replace={"average": _first_model})

replay_covers(lambda data, alg: draw_case(data, alg, explicit_M=True), "general-sgd")
