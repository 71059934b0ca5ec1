"""Guarantees of the AsGrad family (seed 001, Algorithm 1 and Table 1).

* ``asgrad-attribution``: every received gradient is g_k(x_π) of the job (k, π) the
  server assigned: computed on worker k's local data (its samples lie in worker k's
  split), at the iterate x_π, bit for bit; and the server applied exactly it:
  ``x_{t+1} = x_t − γ g``.  Design notes, "Known deviations": a random or shuffled
  assignment that computes on the data of the worker that just finished.
* ``asgrad-delays``: the recorded π_t, τ_t = t − π_t, active jobs |A_{t+1} \\ R_t|, τ_C
  and τ_max equal an independent recomputation from the assignment and receipt
  records; every τ_t <= τ_max and every active count <= τ_C; shuffled asynchronous SGD
  has τ_C = n (seed 001, Table 1: "For shuffled asynchronous SGD τ_C = n").
* ``pure-async-one-worker``: pure asynchronous SGD with one worker is SGD, bit for bit.
* ``pure-async-zero-delay``: with any number n of workers, under a **zero-delay schedule**
  (every received gradient has τ_t = 0), pure asynchronous SGD is SGD on the local data of
  the worker that finishes first, bit for bit.  Algorithm 1 starts a job (i, 0) on every
  worker, so for n >= 2 the only zero-delay schedules are those in which one worker i_0
  delivers every one of the T gradients and the other n − 1 initial jobs are still active at
  T (stragglers slower than T iterations: allowed, τ_max >= T).  The schedules are searched
  by :class:`ZeroDelaySchedules`, which leaves the adversary every choice that keeps τ_t = 0.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from ..reference.adversaries import Adversary
from ..reference.parameter_server.common import local_samples, local_splits
from ..reference.schedule import run_algorithm
from .baseline_properties import bit_difference, replay_covers
from .guarantees import Case, Guarantee, register
from .strategies import problems, seeds, step_sizes

ASGRAD = ("pure-async-sgd", "pure-async-sgd-waiting", "random-async-sgd", "random-async-sgd-waiting",
          "shuffled-async-sgd")


def _draw(data, algorithm: str, **fixed) -> Case:
    params = {"gamma": data.draw(step_sizes(), label="gamma"), "T": data.draw(st.integers(1, 12), label="T"),
              "n": data.draw(st.integers(1, 4), label="n"),
              "zeta": data.draw(st.sampled_from([0.0, 0.5, 1.0]), label="zeta")}
    if algorithm.endswith("waiting"):
        params["b"] = data.draw(st.integers(1, 3), label="b")
    params.update(fixed)
    problem = data.draw(problems(names=["least-squares", "logistic", "quadratic"], min_m=params["n"]),
                        label="problem")
    return Case(algorithm, problem, params, data.draw(seeds(), label="seed"))


def _splits(result):
    p = result.params
    return local_splits(result.problem, p["n"], p["zeta"], result.schedule.seed)


def _assignments(result) -> dict[tuple[int, int], int]:
    """(worker, serial) -> π, from the server's assignment records."""
    out = {(w, s): pi for (w, pi, s) in result.trace.observed("assigned")[0]}
    for a in result.trace.observed("assign"):
        out[(a["worker"], a["serial"])] = a["pi"]
    return out


# ---------------------------------------------------------------------------------------------


def check_attribution(result) -> str | None:
    p, problem = result.params, result.problem
    splits = _splits(result)
    assigned = _assignments(result)
    xs = [problem.x0 if p.get("x0") is None else np.asarray(p["x0"], dtype=np.float64)]
    xs += list(result.trace.observed("x", 0))
    for r in result.trace.observed("received"):
        t, k, s = r["t"], r["worker"], r["serial"]
        if (k, s) not in assigned:
            return f"t = {t}: a gradient from worker {k} (job #{s}) that was never assigned"
        pi = assigned[(k, s)]
        if r["pi"] != pi or r["tau"] != t - pi:
            return f"t = {t}: job ({k}, π = {pi}) was recorded as π = {r['pi']}, τ = {r['tau']}"
        outside = sorted(set(r["samples"]) - set(int(j) for j in splits[k]))
        if outside:
            return (f"t = {t}: the job assigned to worker {k} used samples {outside[:5]}, "
                    f"which are not worker {k}'s data")
        idx = np.asarray(r["samples"], dtype=np.int64)
        g = problem.sample_grad(xs[pi], int(idx[0])) if len(idx) == 1 else problem.batch_grad(xs[pi], idx)
        diff = bit_difference(r["gradient"], g, f"the gradient received at t = {t}",
                              f"g_{k}(x_{pi}) recomputed from its samples")
        if diff:
            return diff
        diff = bit_difference(xs[t + 1], xs[t] - p["gamma"] * r["gradient"], f"x_{t + 1}", f"x_{t} − γ g")
        if diff:
            return diff
    return None


def _stale_or_reassigned(result) -> bool:
    recs = result.trace.observed("received")
    moved = any(a["worker"] != r["worker"] for a, r in zip(result.trace.observed("assign"), recs))
    stale = any(r["tau"] > 0 for r in recs)
    return stale and (moved or result.schedule.algorithm.startswith(("pure", "broken-pure")))


register(Guarantee(
    name="asgrad-attribution",
    statement="every received gradient is g_k(x_π) of its assigned job (k, π), on worker k's data, bit for bit",
    source="seed 001, Algorithm 1; design notes, 'Known deviations'",
    algorithms=ASGRAD,
    draw=_draw,
    check=check_attribution,
    hard=_stale_or_reassigned,
    hard_case="a stale gradient (τ_t > 0)",
    broken={"random-async-sgd": "broken-random-async-finished-workers-data",
            "pure-async-sgd": "broken-pure-async-current-iterate"},
))

# ---------------------------------------------------------------------------------------------


def check_delays(result) -> str | None:
    p = result.params
    n, T = p["n"], p["T"]
    assigned = _assignments(result)
    initial = result.trace.observed("assigned")[0]
    order = [(w, s) for (w, _, s) in initial] + [(a["worker"], a["serial"]) for a in result.trace.observed("assign")]
    received, taus = set(), []
    tau_C = 0
    recs = result.trace.observed("received")
    for t, r in enumerate(recs):
        a_next = n + t                                  # |A_{t+1}|: n initial jobs, one assigned per iteration
        active = a_next - len(received)                 # |A_{t+1} \ R_t|
        if r["active"] != active:
            return f"t = {t}: recorded {r['active']} active jobs, but |A_{{t+1}} \\ R_t| = {active}"
        tau_C = max(tau_C, active)
        key = (r["worker"], r["serial"])
        if key not in assigned or key in received or key not in order[:a_next]:
            return f"t = {t}: job {key} was not active"
        taus.append(t - assigned[key])
        received.add(key)
    still = [assigned[k] for k in order if k not in received]
    tau_max = max(taus + [T - pi for pi in still], default=0)
    rec_C, rec_max = result.trace.observed("tau_C")[-1], result.trace.observed("tau_max")[-1]
    if (rec_C, rec_max) != (tau_C, tau_max):
        return f"recorded τ_C = {rec_C}, τ_max = {rec_max}; recomputed τ_C = {tau_C}, τ_max = {tau_max}"
    if any(tau > tau_max for tau in taus):
        return f"a delay exceeds τ_max = {tau_max}"
    bound = (result.schedule.model or {}).get("tau")
    late = [age for _, kind, age in result.trace.delays if bound is not None and age > bound]
    if late:
        return f"a job stayed pending {max(late)} process steps, beyond the model's bound τ = {bound}"
    if "shuffled" in result.schedule.algorithm and tau_C != n:
        return f"shuffled asynchronous SGD has τ_C = {tau_C}, not n = {n}"
    return None


def _draw_bounded(data, algorithm: str) -> Case:
    """A case under a delay bound τ of the model: the Hypothesis adversary is then a bounded-delay adversary."""
    case = _draw(data, algorithm, n=data.draw(st.integers(2, 4), label="n"), T=data.draw(st.integers(4, 16), label="T"))
    return Case(case.algorithm, case.problem, case.params, case.seed,
                model={"tau": data.draw(st.integers(1, 12), label="model tau")})


def _delay_beyond_round_robin(result) -> bool:
    n = result.params["n"]
    return any(r["tau"] >= n for r in result.trace.observed("received"))


register(Guarantee(
    name="asgrad-delays",
    statement="under a delay bound: π_t, τ_t, |A \\ R|, τ_C, τ_max are the paper's; τ_t <= τ_max; τ_C = n for shuffled",
    source="seed 001, 'Notation and Convergence Theory' and Table 1",
    algorithms=ASGRAD,
    draw=_draw_bounded,
    check=check_delays,
    hard=_delay_beyond_round_robin,
    hard_case="a delay τ_t >= n",
    broken={"random-async-sgd": "broken-random-async-uncounted-queue"},
))

# ---------------------------------------------------------------------------------------------


def check_one_worker(result) -> str | None:
    p = result.params
    sgd = run_algorithm("sgd", problem=result.schedule.problem, seed=result.schedule.seed,
                        params={"gamma": p["gamma"], "T": p["T"], "x0": p.get("x0")})
    out = result.trace.outputs.get(0)
    return bit_difference(None if not out else out[-1], sgd.trace.outputs[0][-1],
                          "pure asynchronous SGD with one worker", "SGD")


def _moved_twice(result) -> bool:
    xs = result.trace.observed("x", 0)
    return len(xs) >= 2 and bool(np.any(xs[-1] != xs[-2]))


register(Guarantee(
    name="pure-async-one-worker",
    statement="pure asynchronous SGD with one worker equals SGD bit for bit, under any schedule",
    source="seed 001, Table 1 (pure asynchronous SGD); seed 003, Algorithm 2",
    algorithms=("pure-async-sgd",),
    draw=lambda data, alg: _draw(data, alg, n=1, zeta=0.0),
    check=check_one_worker,
    hard=_moved_twice,
    hard_case="T >= 2 and the last update moved x",
    broken={"pure-async-sgd": "broken-pure-async-serial-offset"},
))


class ZeroDelaySchedules(Adversary):
    """The zero-delay schedules of pure asynchronous SGD, every choice drawn from ``st.data()``.

    A job may finish only while the server waits for a result (no process step is enabled),
    and only a job created after the last finish: so the gradient the server receives at t
    was assigned at t (τ_t = 0).  The first finish is any of the n initial jobs (all at
    x_0), drawn by Hypothesis; when only stale jobs are left (after the server's output) the
    oldest runs.
    """
    name = "zero-delay"

    def __init__(self, data):
        self.data = data
        self.last_finish = -1

    def reset(self, engine) -> None:
        self.last_finish = -1

    def choose(self, engine, events) -> int:
        allowed = [i for i, e in enumerate(events) if e.kind != "finish"]
        if not allowed:
            allowed = [i for i, e in enumerate(events) if e.created is not None and e.created > self.last_finish]
        if not allowed:
            return 0
        i = allowed[0] if len(allowed) == 1 else self.data.draw(st.sampled_from(allowed), label="zero-delay choice")
        if events[i].kind == "finish":
            self.last_finish = engine.clock
        return i


def check_zero_delay(result) -> str | None:
    p, seed = result.params, result.schedule.seed
    received = result.trace.observed("received", 0)
    delayed = [r for r in received if r["tau"] != 0]
    if delayed:
        r = delayed[0]
        return f"the schedule is not zero-delay: at t = {r['t']} worker {r['worker']}'s gradient has τ_t = {r['tau']}"
    if not received:
        return None
    first = received[0]["worker"]
    if any(r["worker"] != first for r in received):
        return f"a zero-delay schedule received gradients of workers {sorted({r['worker'] for r in received})}"
    split = _splits(result)[first]
    order = [int(local_samples(split, seed, first, s)[0]) for s in range(p["T"])]
    sgd = run_algorithm("sgd", problem=result.schedule.problem, seed=seed,
                        params={"gamma": p["gamma"], "T": p["T"], "x0": p.get("x0"), "order": order})
    out = result.trace.outputs.get(0)
    return bit_difference(None if not out else out[-1], sgd.trace.outputs[0][-1],
                          f"pure asynchronous SGD with n = {p['n']} under a zero-delay schedule",
                          f"SGD on worker {first}'s samples")


def _zero_delay_hard(result) -> bool:
    others = result.params["n"] >= 2 and any(r["worker"] != 0 for r in result.trace.observed("received", 0))
    return others and _moved_twice(result)


register(Guarantee(
    name="pure-async-zero-delay",
    statement="pure asynchronous SGD with any n under a zero-delay schedule equals SGD on the first worker's data",
    source="seed 001, Table 1 (pure asynchronous SGD), Algorithm 1; seed 003, Algorithm 2",
    algorithms=("pure-async-sgd",),
    draw=lambda data, alg: _draw(data, alg, batch=1, n=data.draw(st.integers(2, 4), label="n >= 2")),
    check=check_zero_delay,
    hard=_zero_delay_hard,
    hard_case="n >= 2, a worker other than 0 delivered, and x moved twice",
    broken={"pure-async-sgd": "broken-pure-async-serial-offset"},
    adversary=ZeroDelaySchedules,
))

replay_covers(_draw, *ASGRAD)
