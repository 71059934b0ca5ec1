"""Attiya–Schiller distributed SGD's guarantees (seed 000), beside ``reference/decentralized/attiya_schiller.py``.

Seed 000 (``000_3f5163bcd896752f.txt``), slides "Distributed SGD Algorithm", "Skipping", "Recovery
through Skipping", "Main Correctness Claims", "Correctness Proof – Definitions".  The paper is not
reachable here: the statements are the slides', with the readings below.

* ``decentralized-skip``: a process that skips to round t' never uses a value of a round < t'
  afterwards: its next MDAA input is the pid-order average of round-t' models (recomputed here from
  the models the senders recorded sending), and every later average and MDAA input is of a round >= t'.

  - ``broken-attiya-schiller-skip-keeps-model``: skipping moves the round counter but keeps the
    process's old model (x_t, or its half-agreed ȳ_t) as the MDAA input.

* ``decentralized-recovery``: a process that recovers resumes at or after the most advanced durable
  point it had reached (the start of iteration t with the x_t it recorded, or step 5 of round t with
  its ȳ_t), never from t = 1 and x_1; and every process up at the end has output x_{T+1} (it rejoined
  and finished).

  - ``broken-attiya-schiller-restarts``: the recovery ignores the checkpoint (``resume`` returns {}):
    the process starts again from iteration 1 at x_1.

* ``decentralized-diameter``: the coordinate-wise diameter Δ^cw(x_t) of every iteration, as a
  **Monte Carlo estimate** of E[Δ^cw(x_t)] over S + 1 runs of the same schedule (the drawn run and S
  replays of its events under other seeds, :func:`replay_with_seed`: only the samples drawn, i.e.
  the gradient noise, change; a replay that does not follow the events is reported, since the
  estimate rests on the control flow not depending on values), with a 95 % Student-t interval per t
  (scipy.stats); it fails when the interval's lower end exceeds the slides' bound ("Main Correctness
  Claims"): E[Δ^cw(x_t)] <= ηC for a constant η <= 1/(2Ld(⌊m/2⌋+1)), and E[Δ^cw(x_t)] <=
  η_{⌊t/2⌋}C + η_1 C ((2⌊m/2⌋+1)/(2⌊m/2⌋+2))^⌊t/2⌋ for a decreasing one, C = 4d⌊m/2⌋σ +
  2ε_max(⌊m/2⌋+1), m the number of clusters.  The messages give measured/bound ratios.

  - ``broken-attiya-schiller-divides-by-n``: the average of step 4 divides the sum of the models
    received by n, the number of processes, instead of by how many it received (the slide's "Avg"
    read as (1/n) Σ): a process that heard fewer models shrinks its model towards 0.

**σ and ε_max.**  σ is the slides' "E||G(x, z) − ∇Q(x)||_2 <= σ" ("Stochastic Gradient Descent
(SGD)"), for our G: the mean of b samples drawn uniformly with replacement (common.sample_indices)
from the problem's m.  The problems state ``problem.sigma`` as the root-mean-square
sqrt((1/m) Σ_j ||∇f_j − ∇f||²) (exact for the quadratic), so by Jensen E||G − ∇Q|| <= sqrt(E||G −
∇Q||²) = problem.sigma/√b: we take σ = problem.sigma/√b, a valid bound (the slides' σ can only be
smaller, which makes our bound looser, never wrong).  ε_max is, in the slides' C, the additive
precision of the approximate agreement per unit of learning rate (ε_t <= η_t ε_max: the only reading
under which ηC is a distance and the decreasing bound tends to 0).  Our MDAA states a relative
precision instead: its outputs lie in the convex hull of its inputs and their diameter is at most
κ(ε)^R times the inputs' (``mdaa.kappa_round(rule, cluster_precision(K), n)``, R rounds of K
in-cluster rounds; κ = 1 for a rule without a known constant).  The spread that enters one iteration
per unit of η is that of two stochastic gradients, E Σ_k |ξ^i_k − ξ^j_k| <= 2√d σ <= 2dσ, so we take
ε_max = 2dσ κ(ε)^R: from MDAA's stated constants and the problem's, never from the run.  This is a
reading, not the paper's definition (unavailable).

**How loose the bound is** (measured; tests/decentralized/test_attiya_schiller.py prints the
ratios): on the runs drawn, the real algorithm's E[Δ^cw(x_t)] stays below about 1 % of the bound and
is mostly 0: MDAA's own wait for a majority and MidExtremes leave the processes on one model unless
the adversary splits what they hear in the agreement.  An algorithm that does not average at all
(step 4 proceeds on the first model heard, ``_one_model``) stays within the bound too (ratios well
below 1): the slides' bound cannot see that mistake, and it is caught instead by the exact check of
the premise the bound rests on, :func:`check_averages` (each average is over round-t models
delivered to the process, whose senders represent a majority, in pid order), part of
``decentralized-skip``.  What the Monte Carlo bound does catch is a mistake whose spread does not
scale with η: dividing by n, on a weakly curved quadratic (L = 0.05) started far from its minimum
(x_1 = 20), where the models stay large and a process that heard fewer models lands about |x|/n
away from the others whenever the agreement does not erase the difference (ratios of 2 to 6).
"""

from __future__ import annotations

import math
import re

import numpy as np
from hypothesis import strategies as st

from ...reference.agreement.cluster_model import Clusters
from ...reference.agreement.mdaa import cluster_precision, kappa_round
from ...reference.decentralized.attiya_schiller import (AgreeInput, Averaged, IterationSkip, Perturbed, Recovered)
from ...reference.decentralized.common import ModelAt, diameters, rate_of
from ..agreement.common import PriorityAdversary, _pattern
from ..every_algorithm import replay_covers
from ..common import first_deliveries
from .common import NotThisSchedule, pid_order_mean, register_for, replay_with_seed, t_interval
from ..guarantees import Case, Guarantee
from ..variants import variant

ALGORITHM = "attiya-schiller-sgd"
SOURCE = "seed 000, slides 'Distributed SGD Algorithm', 'Skipping', 'Recovery through Skipping'"
#: replays of a schedule under other seeds for the Monte Carlo estimate (S; with the run itself S + 1 samples)
REPLAYS = 5
#: the confidence level of the intervals
LEVEL = 0.95
#: float rounding allowed in recomputed averages (relative)
SLACK = 1e-12

# --- the cases ------------------------------------------------------------------------------------


def weak_quadratic(d: int, h: float = 0.05, s: float = 1.0) -> dict:
    """A weakly curved quadratic f_j(x) = h/2 ||x||² + <ξ_j, x> (L = h), with m = 4 centred noise
    vectors ξ_j of RMS norm s·√d (so problem.sigma = s√d): the problem spec for a case."""
    signs = [[1.0 if (j >> (k % 2)) & 1 else -1.0 for k in range(d)] for j in range(4)]
    xi = [[s * v for v in row] for row in signs]
    H = [[h if i == k else 0.0 for k in range(d)] for i in range(d)]
    return {"name": "quadratic", "params": {"H": H, "xi": xi}}


def eta_max(L: float, d: int, m: int) -> float:
    """The slides' largest learning rate: 1/(2Ld(⌊m/2⌋+1))."""
    return 1.0 / (2.0 * L * d * (m // 2 + 1))


def draw_case(data, algorithm: str, faults: str = "recovery", min_T: int = 3) -> Case:
    """Two to four clusters of one or two processes (n <= 5), d in {1, 2}, T in min_T .. 4, a weakly
    curved quadratic started at x_1 = 20·1, a constant or decreasing η below the slides' limit, MDAA
    with R = 1 and K = 2, and the fault pattern ``faults`` (properties/agreement/common.py)."""
    sizes = data.draw(st.lists(st.integers(1, 2), min_size=2, max_size=4), label="clusters")
    while sum(sizes) > 5:
        sizes.pop()
    if len(sizes) == 2 and sizes == [1, 1]:
        sizes.append(1)                     # two singletons: a majority is everybody, nothing can differ
    clusters = Clusters.parse(sizes)
    d = data.draw(st.integers(1, 2), label="d")
    T = data.draw(st.integers(min_T, 4), label="T")
    schedule = data.draw(st.sampled_from(["constant", "inverse"]), label="schedule")
    frac = data.draw(st.sampled_from([0.01, 0.05, 0.2]), label="η / η_max")
    problem = weak_quadratic(d)
    eta = frac * eta_max(0.05, d, len(sizes))
    params = {"clusters": sizes, "T": T, "eta": eta, "schedule": schedule, "x0": [20.0] * d, "R": 1, "K": 2,
              "rule": data.draw(st.sampled_from(["midextremes", "average"]), label="rule")}
    seed = data.draw(st.integers(0, 63), label="seed")
    return Case(algorithm, problem, params, seed, model=_pattern(data, clusters, faults))


def register_guarantee(draw=draw_case, **fields) -> Guarantee:
    return register_for(ALGORITHM, adversary=PriorityAdversary, draw=draw, **fields)


# --- what the runs recorded -----------------------------------------------------------------------


def sent_models(trace) -> dict[tuple[int, int], np.ndarray]:
    """(sender, t) -> the y_t it sent (the first: a recovered process re-sends the same one)."""
    out = {}
    for _, pid, _, p in trace.stepwise(Perturbed):
        out.setdefault((pid, p.t), np.asarray(p.y))
    return out


def check_averages(result) -> str | None:
    """Every average of round t (step 4, or 6) is over round-t models that reached the process before,
    whose senders represent a majority of processes, and equals their pid-order mean."""
    trace, clusters = result.trace, Clusters.parse(result.params["clusters"])
    sent, got = sent_models(trace), first_deliveries(trace, "model ")
    for step, pid, _, a in trace.stepwise(Averaged):
        for s in a.senders:
            if (s, a.t) not in sent:
                return f"p{pid} averaged round {a.t} with a model of p{s}, which sent none of round {a.t}"
            at = got.get((s, pid, a.t))
            if at is None or at >= step:
                return f"p{pid} averaged round {a.t} with p{s}'s model, which had not reached it"
        if not clusters.majority(a.senders):
            return (f"p{pid} averaged round {a.t} over {a.senders}, who represent {clusters.represented(a.senders)} "
                    f"of n = {clusters.n} processes: not a majority (not 'enough')")
        want = pid_order_mean([sent[(s, a.t)] for s in a.senders])
        err = float(np.max(np.abs(np.asarray(a.y) - want)))
        if err > SLACK * (1.0 + float(np.max(np.abs(want)))):
            return (f"p{pid}'s average of round {a.t} over {a.senders} is {np.asarray(a.y).tolist()}, "
                    f"the pid-order mean of their models is {want.tolist()}")
    return None


# --- decentralized-skip ---------------------------------------------------------------------------


def check_skip(result) -> str | None:
    trace = result.trace
    msg = check_averages(result)
    if msg:
        return msg
    sent = sent_models(trace)
    for step, pid, _, s in trace.stepwise(IterationSkip):
        later = [(st_, r) for st_, p, _, r in trace.stepwise(Averaged, AgreeInput) if p == pid and st_ >= step]
        recovered = [st_ for st_, p, _, _ in trace.stepwise(Recovered) if p == pid and st_ > step]
        stop = min(recovered, default=math.inf)      # a later recovery may resume (legitimately) elsewhere
        first_input = None
        for st_, r in later:
            if st_ >= stop:
                break
            if r.t < s.to:
                return (f"p{pid} skipped from round {s.from_} to {s.to} at step {step} and then used a value of "
                        f"round {r.t} ({type(r).__name__} at step {st_})")
            if isinstance(r, AgreeInput) and first_input is None:
                first_input = r
        if first_input is None:
            continue
        avg = next((r for st_, r in later if isinstance(r, Averaged) and r.t == s.to), None)
        if first_input.t != s.to or avg is None:
            return f"p{pid} skipped to round {s.to} but entered the agreement of round {first_input.t}"
        want = pid_order_mean([sent[(q, s.to)] for q in avg.senders])
        err = float(np.max(np.abs(np.asarray(first_input.x) - want)))
        if err > SLACK * (1.0 + float(np.max(np.abs(want)))):
            return (f"p{pid} skipped from round {s.from_} to {s.to} but its agreement input of round {s.to} is "
                    f"{np.asarray(first_input.x).tolist()}, not the average {want.tolist()} of the round-{s.to} "
                    f"models of {avg.senders}: a stale value (off by {err:.3g})")
    return None


def _skipped(result) -> bool:
    return bool(result.trace.records(IterationSkip))


register_guarantee(
    name="decentralized-skip",
    statement="a process that skips to round t' continues with the average of round-t' models and never uses a "
              "value of a round < t' again; every average is over delivered round-t models of a majority, in pid order",
    source=SOURCE + " (step 6, 'If received enough messages for round t' > t then skip to round t'')",
    check=check_skip,
    hard=_skipped,
    hard_case="a process skipped to a later round",
    broken="broken-attiya-schiller-skip-keeps-model",
)

variant("broken-attiya-schiller-skip-keeps-model", of=ALGORITHM,
        mistake="skipping advances the round but keeps the old model",
        replace={"skip": lambda x, ybar: x})


# --- decentralized-recovery -----------------------------------------------------------------------


def _up_at_end(result) -> set[int]:
    n = Clusters.parse(result.params["clusters"]).n
    up = set(range(n))
    for e in result.trace.events:
        m = re.fullmatch(r"(crash|recover) p(\d+)", e)
        if m:
            (up.discard if m.group(1) == "crash" else up.add)(int(m.group(2)))
    return up


def _progress_before(trace, pid: int, step: int):
    """The most advanced durable point p reached before ``step``: ((t, phase), x), phase 0 at the start
    of iteration t (x = x_t), 1 inside step 5 of round t (x = ȳ_t); None if it recorded nothing."""
    best = None
    for st_, p, _, r in trace.stepwise(ModelAt, AgreeInput):
        if p != pid or st_ >= step:
            continue
        key = (r.t, 0 if isinstance(r, ModelAt) else 1)
        if best is None or key >= best[0]:
            best = (key, np.asarray(r.x))
    return best


def _crash_before(trace, pid: int, step: int) -> int:
    return max(i for i, e in enumerate(trace.events[:step]) if e == f"crash p{pid}")


def check_recovery(result) -> str | None:
    trace, T = result.trace, result.params["T"]
    for step, pid, _, r in trace.stepwise(Recovered):
        done = _progress_before(trace, pid, _crash_before(trace, pid, step) + 1)
        if done is None:
            continue
        (t_c, phase_c), x_c = done
        if (t_c, phase_c) > (T, 1):                 # it had output x_{T+1}: nothing to resume
            continue
        resumed = (r.t, 1 if r.agreeing else 0)
        where = "step 5 (the agreement) of round" if phase_c else "the start of iteration"
        if resumed < (t_c, phase_c):
            return (f"p{pid} had reached {where} {t_c} before it crashed, but resumed at "
                    f"{'step 5 of round' if r.agreeing else 'iteration'} {r.t}: a completed step is lost")
        if resumed == (t_c, phase_c) and not np.array_equal(np.asarray(r.x), x_c):
            return (f"p{pid} resumed at {where} {t_c} with {np.asarray(r.x).tolist()}, not the "
                    f"{'ȳ' if phase_c else 'x'}_{t_c} = {x_c.tolist()} it held before the crash")
    if trace.stopped != "quiescent":
        return f"the run did not finish ({trace.stopped})"
    missing = sorted(p for p in _up_at_end(result) if not trace.outputs.get(p))
    if missing:
        return f"{', '.join(f'p{p}' for p in missing)} up at the end but never output x_{{T+1}}"
    return None


def _recovered_mid_run(result) -> bool:
    trace = result.trace
    for step, pid, _, r in trace.stepwise(Recovered):
        done = _progress_before(trace, pid, _crash_before(trace, pid, step) + 1)
        if done is not None and done[0] > (1, 0) and trace.outputs.get(pid):
            return True
    return False


register_guarantee(
    name="decentralized-recovery",
    statement="a recovered process resumes at or after the point its checkpoint saved (never from t = 1 or x_1), "
              "rejoins through skipping and outputs; every process up at the end outputs x_{T+1}",
    source=SOURCE + " ('Recovery through Skipping': non-volatile memory checkpoints the current status)",
    check=check_recovery,
    hard=_recovered_mid_run,
    hard_case="a process crashed after a durable step past iteration 1, recovered and finished",
    broken="broken-attiya-schiller-restarts",
)

variant("broken-attiya-schiller-restarts", of=ALGORITHM, mistake="recovers from scratch, ignoring its checkpoint",
        replace={"resume": lambda checkpoint: {}})


# --- decentralized-diameter -----------------------------------------------------------------------


def sigma_of(result) -> float:
    """σ = problem.sigma/√b (see the module docstring)."""
    return float(result.problem.sigma) / math.sqrt(result.params["b"])


def eps_max(result) -> float:
    """ε_max = 2dσ κ(ε)^R, from MDAA's stated constants (module docstring)."""
    p = result.params
    n = Clusters.parse(p["clusters"]).n
    kappa = kappa_round(p["rule"], cluster_precision(p["K"]), n)
    return 2.0 * result.problem.d * sigma_of(result) * (1.0 if kappa is None else kappa) ** p["R"]


def bound_of(result):
    """(C, the bound as a function of t, the learning-rate limit 1/(2Ld(⌊m/2⌋+1)))."""
    p, prob = result.params, result.problem
    m = len(Clusters.parse(p["clusters"]).members)
    h, d = m // 2, prob.d
    C = 4.0 * d * h * sigma_of(result) + 2.0 * eps_max(result) * (h + 1)
    limit = eta_max(prob.L, d, m)
    q = (2 * h + 1) / (2 * h + 2)
    constant = p.get("etas") is None and p["schedule"] == "constant"

    def bound(t: int) -> float:
        if constant:
            return rate_of(p, 1) * C
        return rate_of(p, max(1, t // 2)) * C + rate_of(p, 1) * C * q ** (t // 2)
    return C, bound, limit


def monte_carlo(result, replays: int = REPLAYS):
    """t -> the Δ^cw(x_t) of the run and of ``replays`` replays under other seeds; or a message."""
    samples = {t: [v] for t, v in diameters(result.trace).items()}
    for j in range(replays):
        try:
            trace = replay_with_seed(result.schedule, 1_000_003 * (result.schedule.seed + 1) + j)
        except NotThisSchedule as e:
            return None, str(e)
        for t, v in diameters(trace).items():
            samples.setdefault(t, []).append(v)
    return samples, None


def diameter_report(result, replays: int = REPLAYS):
    """(rows, message): rows (t, mean, lower, upper, bound) of the estimate; message if it failed."""
    C, bound, limit = bound_of(result)
    etas = [rate_of(result.params, t) for t in range(1, result.params["T"] + 1)]
    if max(etas) > limit * (1 + 1e-12):
        return [], None                       # outside the statement's premise: nothing claimed
    samples, msg = monte_carlo(result, replays)
    if msg:
        return [], msg
    rows = []
    for t in sorted(samples):
        if len(samples[t]) != replays + 1:
            return rows, f"iteration {t}: {len(samples[t])} of {replays + 1} replays reached it (control flow differs)"
        mean, lo, hi = t_interval(samples[t], LEVEL)
        rows.append((t, mean, lo, hi, bound(t)))
    for t, mean, lo, hi, b in rows:
        if lo > b * (1 + 1e-12):
            ratios = ", ".join(f"t={u}: {mu / bb:.3g}" for u, mu, _, _, bb in rows)
            return rows, (f"E[Δ^cw(x_{t})] is in [{lo:.4g}, {hi:.4g}] ({int(LEVEL * 100)}% t-interval over "
                          f"{replays + 1} seeds, mean {mean:.4g}), above the bound {b:.4g} (C = {C:.4g}, "
                          f"σ = {sigma_of(result):.4g}, ε_max = {eps_max(result):.4g}); measured/bound: {ratios}")
    return rows, None


def check_diameter(result) -> str | None:
    return diameter_report(result)[1]


def _inputs_differ(result) -> bool:
    """The agreement had work to do: two MDAA inputs of one round differed (or two x_t did)."""
    by_round: dict = {}
    for a in result.trace.records(AgreeInput):
        by_round.setdefault(a.t, []).append(np.asarray(a.x))
    return any(any(not np.array_equal(xs[0], x) for x in xs[1:]) for xs in by_round.values()) or \
        any(v > 0 for v in diameters(result.trace).values())


def _draw_diameter(data, algorithm: str) -> Case:
    return draw_case(data, algorithm, faults=data.draw(st.sampled_from(["majority", "recovery"]), label="faults"))


register_guarantee(
    name="decentralized-diameter",
    statement="Monte Carlo over seeds (95% t-intervals): E[Δ^cw(x_t)] <= ηC (constant η <= 1/(2Ld(⌊m/2⌋+1))), "
              "<= η_{⌊t/2⌋}C + η_1 C q^⌊t/2⌋ (decreasing), C = 4d⌊m/2⌋σ + 2ε_max(⌊m/2⌋+1)",
    source="seed 000, slides 'Main Correctness Claims', 'Correctness Proof', 'Correctness Proof – Definitions'",
    check=check_diameter,
    hard=_inputs_differ,
    hard_case="the MDAA inputs of a round differed (processes averaged different models)",
    broken="broken-attiya-schiller-divides-by-n",
    draw=_draw_diameter,
)


def _divide_by_n(clusters, by_sender: dict) -> np.ndarray:
    pids = sorted(by_sender)
    acc = np.array(by_sender[pids[0]], dtype=np.float64)
    for p in pids[1:]:
        acc = acc + by_sender[p]
    return acc / clusters.n             # the mistake: n processes, not the models received


variant("broken-attiya-schiller-divides-by-n", of=ALGORITHM,
        mistake="divides the sum of the models received by n, not by how many were received",
        replace={"average": _divide_by_n})


def _one_model(clusters, senders) -> bool:
    """The mistake the slides' bound cannot see (tests): step 4 proceeds on the first model heard."""
    return len(senders) >= 1


replay_covers(draw_case, ALGORITHM)
