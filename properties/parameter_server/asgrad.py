"""Guarantees of the AsGrad family (seed 001, Algorithm 1 and Table 1) and the broken variants they must catch.

:mod:`~asyncproof.reference.parameter_server.asgrad` runs the five Table 1 rows: pure, random and
shuffled asynchronous SGD, pure and random "with waiting".

* ``asgrad-attribution``: every received gradient is g_k(x_π) of the job (k, π) the
  server assigned: computed on worker k's local data (its samples lie in worker k's
  split), at the iterate x_π, bit for bit; and the server applied exactly it:
  ``x_{t+1} = x_t − γ g``.  Design notes, "Known deviations": a random or shuffled
  assignment that computes on the data of the worker that just finished.
* ``asgrad-delays``: the recorded π_t, τ_t = t − π_t, active jobs |A_{t+1} \\ R_t|, τ_C,
  τ_max, τ̃_max and each new job's place in its worker's queue equal an independent
  recomputation from the assignment and receipt records (a worker serves its jobs first
  come, first served), under a delay bound of the model.
* ``pure-async-one-worker``: pure asynchronous SGD with one worker is SGD, bit for bit.
* ``pure-async-zero-delay``: with any number n of workers, under a **zero-delay schedule**
  (every received gradient has τ_t = 0), pure asynchronous SGD is SGD on the local data of
  the worker that finishes first, bit for bit.  Algorithm 1 starts a job (i, 0) on every
  worker, so for n >= 2 the only zero-delay schedules are those in which one worker i_0
  delivers every one of the T gradients and the other n − 1 initial jobs are still active at
  T (stragglers slower than T iterations: allowed, τ_max >= T).  The schedules are searched
  by :class:`ZeroDelaySchedules`, which leaves the adversary every choice that keeps τ_t = 0.
* ``asgrad-assignment-rule``: every assignment (k_{t+1}, α_{t+1}) is its Table 1 row,
  recomputed here: α = t + 1 or b⌊(t + 1)/b⌋ ("with waiting"); k = i_t (pure), the
  documented keyed draw k ~ Unif[n] (random), and for shuffled, every block of n
  consecutive assignments a permutation of the workers (the keyed χ of that block).
* ``asgrad-delay-bound``: under compute times with ratio ρ (every job between s and ρs,
  the adversary choosing each), a job that waits behind q jobs on its worker is received
  within τ̃ <= q + (n − 1)(1 + ⌊(q + 1)ρ⌋) iterations of its assignment (pure: q = 0, so
  τ_t <= (n − 1)(1 + ⌊ρ⌋)): its worker serves it after those q, and meanwhile every other
  worker finishes at most 1 + ⌊(q + 1)ρ⌋ jobs.  ρ and q are measured on the trace.

Each broken variant is the AsGrad server with one of its named steps replaced (the ``policy``
of its Table 1 row, ``serve_queue``, ``data_of``, ``point_of``, ``count_active`` or
``sample_key``), declared after the guarantee that must catch it:

==============================================  ============================================================
variant                                         the mistake (the step it replaces)
==============================================  ============================================================
``broken-random-async-finished-workers-data``   a new job computes on the data of the worker that just
                                                finished, not the assigned one (design notes; ``data_of``)
``broken-pure-async-current-iterate``           a job computes at the iterate current when it runs, while
                                                recording the assigned π (``point_of``)
``broken-random-async-uncounted-queue``         only running jobs are counted as active, not queued ones
                                                (``count_active``)
``broken-pure-async-serial-offset``             a worker's jobs are numbered from 1: its samples are shifted
                                                (``sample_key``)
``broken-pure-async-waiting-off-by-one``        α = b⌊t/b⌋ instead of b⌊(t + 1)/b⌋: the job is computed at
                                                the previous multiple of b once every b assignments
                                                (``policy``)
``broken-random-async-waiting-same-worker``     "sample a new client" read as "send the model back to the
                                                client that just finished": k = i_t, pure asynchronous SGD
                                                with waiting under random's name (``policy``)
``broken-shuffled-async-reshuffles``            a fresh permutation χ for every assignment, so the same
                                                worker can come twice in a block of n (random with a detour)
                                                (``policy``)
``broken-random-async-lazy-queue``              a worker that finishes does not take up its queued job; the
                                                job waits until the worker is assigned again (``serve_queue``)
==============================================  ============================================================
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

from ...reference.adversaries import Adversary, HypothesisAdversary, Timed
from ...reference.parameter_server.asgrad import (ASSIGNED, STREAM_POLICY, TAU_C, TAU_MAX, TAU_TILDE_MAX,
                                                  AsGradReceived, Assign)
from ...reference.parameter_server.common import local_splits
from ...reference.rng import generator
from ...reference.schedule import run_algorithm
from ...reference.timing import Chosen
from ..common import bit_difference
from ..every_algorithm import replay_covers
from ..guarantees import Case, Guarantee, register
from ..kernels import documented_local_samples
from ..strategies import problems, seeds, step_sizes
from ..variants import variant

ASGRAD = ("pure-async-sgd", "pure-async-sgd-waiting", "random-async-sgd", "random-async-sgd-waiting",
          "shuffled-async-sgd")


def _draw(data, algorithm: str, **fixed) -> Case:
    params = {"gamma": data.draw(step_sizes(), label="gamma"), "T": data.draw(st.integers(1, 12), label="T"),
              "n": data.draw(st.integers(1, 4), label="n"),
              "zeta": data.draw(st.sampled_from([0.0, 0.5, 1.0]), label="zeta")}
    if algorithm.endswith("waiting"):
        params["b"] = data.draw(st.integers(1, 3), label="b")
    params["C"] = data.draw(st.one_of(st.none(), st.integers(1, params["n"] + 2)), label="C")
    params.update(fixed)
    problem = data.draw(problems(names=["least-squares", "logistic", "quadratic"], min_m=params["n"]),
                        label="problem")
    return Case(algorithm, problem, params, data.draw(seeds(), label="seed"))


def _splits(result):
    p = result.params
    return local_splits(result.problem, p["n"], p["zeta"], result.schedule.seed)


def _assignments(result) -> dict[tuple[int, int], int]:
    """(worker, serial) -> π, from the server's assignment records."""
    out = {(w, s): pi for (w, pi, s) in result.trace.records(ASSIGNED.key)[0]}
    for a in result.trace.records(Assign):
        out[(a.worker, a.serial)] = a.pi
    return out


# ---------------------------------------------------------------------------------------------


def check_attribution(result) -> str | None:
    p, problem = result.params, result.problem
    splits = _splits(result)
    assigned = _assignments(result)
    xs = [problem.x0 if p.get("x0") is None else np.asarray(p["x0"], dtype=np.float64)]
    xs += list(result.trace.records("x", 0))
    for r in result.trace.records(AsGradReceived):
        t, k, s = r.t, r.worker, r.serial
        if (k, s) not in assigned:
            return f"t = {t}: a gradient from worker {k} (job #{s}) that was never assigned"
        pi = assigned[(k, s)]
        if r.pi != pi or r.tau != t - pi:
            return f"t = {t}: job ({k}, π = {pi}) was recorded as π = {r.pi}, τ = {r.tau}"
        outside = sorted(set(r.samples) - set(int(j) for j in splits[k]))
        if outside:
            return (f"t = {t}: the job assigned to worker {k} used samples {outside[:5]}, "
                    f"which are not worker {k}'s data")
        drawn = documented_local_samples(splits[k], result.schedule.seed, k, s, p["batch"])
        if r.samples != drawn:
            return f"t = {t}: worker {k}'s job #{s} used samples {r.samples}, not its keyed draw {drawn}"
        idx = np.asarray(r.samples, dtype=np.int64)
        g = problem.sample_grad(xs[pi], int(idx[0])) if len(idx) == 1 else problem.batch_grad(xs[pi], idx)
        diff = bit_difference(r.gradient, g, f"the gradient received at t = {t}",
                              f"g_{k}(x_{pi}) recomputed from its samples")
        if diff:
            return diff
        diff = bit_difference(xs[t + 1], xs[t] - p["gamma"] * r.gradient, f"x_{t + 1}", f"x_{t} − γ g")
        if diff:
            return diff
    return None


def _stale_or_reassigned(result) -> bool:
    recs = result.trace.records(AsGradReceived)
    moved = any(a.worker != r.worker for a, r in zip(result.trace.records(Assign), recs))
    stale = any(r.tau > 0 for r in recs)
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


def _finished_workers_data(job, finished):
    return job.worker if finished is None else finished         # the mistake: the finisher's data


def _current_iterate(job, xs):
    return xs[-1]                                                # the mistake: the newest iterate, not x_π


variant("broken-random-async-finished-workers-data", of="random-async-sgd",
        mistake="a new job uses the data of the worker that just finished", replace={"data_of": _finished_workers_data})
variant("broken-pure-async-current-iterate", of="pure-async-sgd",
        mistake="computes at the iterate current when the job runs", replace={"point_of": _current_iterate})

# ---------------------------------------------------------------------------------------------


def _bookkeeping(result):
    """The server's books rebuilt from its records alone: per received gradient (t, worker,
    serial) its π, its assignment iteration a (0 for A_1, t + 1 for the job assigned after
    receipt t) and the jobs it waited behind on its worker (first come, first served); the
    active count before each receipt; the jobs still open at the end."""
    p = result.params
    n = p["n"]
    initial = result.trace.records(ASSIGNED.key)[0]
    jobs, queues = {}, [[] for _ in range(n)]          # (w, s) -> {"pi", "a", "ahead"}; per worker its open jobs
    for (w, pi, s) in initial:
        jobs[(w, s)] = {"pi": pi, "a": 0, "ahead": len(queues[w])}
        queues[w].append((w, s))
    actives, rows = [], []
    for _, _, key, val in result.trace.stepwise(AsGradReceived, Assign, pid=0):
        if key == AsGradReceived.key:
            key_ = (val.worker, val.serial)
            actives.append(sum(len(q) for q in queues))
            if key_ not in jobs or key_ not in queues[val.worker]:
                return None, f"t = {val.t}: worker {val.worker}'s job #{val.serial} was not active"
            if queues[val.worker][0] != key_:
                return None, (f"t = {val.t}: worker {val.worker} delivered job #{val.serial} before "
                              f"#{queues[val.worker][0][1]}, assigned earlier (first come, first served)")
            queues[val.worker].pop(0)
            rows.append((val, jobs[key_]))
        else:
            w, s = val.worker, val.serial
            jobs[(w, s)] = {"pi": val.pi, "a": val.t + 1, "ahead": len(queues[w])}
            queues[w].append((w, s))
    still = [jobs[k] for q in queues for k in q]
    return (rows, actives, still, jobs), None


def check_delays(result) -> str | None:
    p = result.params
    n, T = p["n"], p["T"]
    C = p.get("C") or n
    books, msg = _bookkeeping(result)
    if msg:
        return msg
    rows, actives, still, jobs = books
    initial = result.trace.records(ASSIGNED.key)[0]
    if len(initial) != C:
        return f"A_1 holds {len(initial)} jobs, not C = {C}"
    for a in result.trace.records(Assign):
        if a.ahead != jobs[(a.worker, a.serial)]["ahead"]:
            return (f"t = {a.t}: the job assigned to worker {a.worker} is recorded {a.ahead} in its queue, "
                    f"but {jobs[(a.worker, a.serial)]['ahead']} of its jobs were open")
    taus, tildes = [], []
    for (r, job), active in zip(rows, actives):
        t = r.t
        if r.active != active:
            return f"t = {t}: recorded {r.active} active jobs, but |A_{{t+1}} \\ R_t| = {active}"
        if r.pi != job["pi"] or r.tau != t - job["pi"]:
            return f"t = {t}: job ({r.worker}, π = {job['pi']}) was recorded as π = {r.pi}, τ = {r.tau}"
        taus.append(t - job["pi"])
        tildes.append(t - job["a"])
    tau_C = max(actives, default=0)
    tau_max = max(taus + [T - j["pi"] for j in still], default=0)
    tilde_max = max(tildes + [T - j["a"] for j in still], default=0)
    recorded = tuple(result.trace.records(v.key)[-1] for v in (TAU_C, TAU_MAX, TAU_TILDE_MAX))
    if recorded != (tau_C, tau_max, tilde_max):
        return (f"recorded τ_C, τ_max, τ̃_max = {recorded}; recomputed from the records "
                f"{(tau_C, tau_max, tilde_max)}")
    bound = (result.schedule.model or {}).get("tau")
    late = [age for _, kind, age in result.trace.delays if bound is not None and age > bound]
    if late:
        return f"a job stayed pending {max(late)} process steps, beyond the model's bound τ = {bound}"
    return None


def _draw_bounded(data, algorithm: str) -> Case:
    """A case under a delay bound τ of the model: the Hypothesis adversary is then a bounded-delay adversary."""
    n = data.draw(st.integers(2, 4), label="n")
    C = data.draw(st.one_of(st.integers(n + 1, n + 3), st.none(), st.integers(1, n)), label="C")   # queues first
    case = _draw(data, algorithm, n=n, T=data.draw(st.integers(4, 16), label="T"), C=C)
    return Case(case.algorithm, case.problem, case.params, case.seed,
                model={"tau": data.draw(st.integers(1, 12), label="model tau")})


def _delay_beyond_round_robin(result) -> bool:
    """A delay of n or more or a job that waited in a queue (the books of a queue are kept), and a
    job pending exactly the model's bound τ (where an off-by-one in the bound shows)."""
    n, bound = result.params["n"], (result.schedule.model or {}).get("tau")
    return (any(r.tau >= n for r in result.trace.records(AsGradReceived)) or
            any(a.ahead >= 1 for a in result.trace.records(Assign))) and \
        any(age == bound for _, kind, age in result.trace.delays if kind == "finish")


class Procrastinating(Adversary):
    """Delays every job as long as the model allows: a process step first, else the newest finish,
    never an older one by choice, so a job finishes only when the delay bound forces it (at exactly
    τ).  Half the cases of ``asgrad-delays`` run under it, the others under the plain Hypothesis
    adversary."""
    name = "procrastinating"

    def choose(self, engine, events) -> int:
        normal = [i for i, e in enumerate(events) if not e.is_fault]
        steps = [i for i in normal if events[i].kind != "finish"]
        if steps:
            return steps[0]
        return max(normal, key=lambda i: (events[i].created if events[i].created is not None else -1, -i))


def _delays_adversary(data):
    if data.draw(st.booleans(), label="procrastinate"):
        return Procrastinating()
    return HypothesisAdversary(data)


register(Guarantee(
    name="asgrad-delays",
    statement="under a delay bound: π_t, τ_t, |A \\ R|, τ_C, τ_max, τ̃_max and each job's place in its worker's "
              "queue are the paper's, recomputed from the assignment and receipt records",
    source="seed 001, 'Notation and Convergence Theory' and Table 1",
    algorithms=ASGRAD,
    draw=_draw_bounded,
    check=check_delays,
    hard=_delay_beyond_round_robin,
    hard_case="a delay τ_t >= n or a queued job, and a job pending exactly the model's bound",
    broken={"random-async-sgd": "broken-random-async-uncounted-queue"},
    adversary=_delays_adversary,
))


def _running_only(workers):
    return len(workers.running)                                  # the mistake: queued jobs are active too


variant("broken-random-async-uncounted-queue", of="random-async-sgd",
        mistake="queued jobs are not counted as active", replace={"count_active": _running_only})

# ---------------------------------------------------------------------------------------------


def check_one_worker(result) -> str | None:
    p = result.params
    sgd = run_algorithm("sgd", problem=result.schedule.problem, seed=result.schedule.seed,
                        params={"gamma": p["gamma"], "T": p["T"], "x0": p.get("x0")})
    out = result.trace.outputs.get(0)
    return bit_difference(None if not out else out[-1], sgd.trace.outputs[0][-1],
                          "pure asynchronous SGD with one worker", "SGD")


def _moved_twice(result) -> bool:
    xs = result.trace.records("x", 0)
    return len(xs) >= 2 and bool(np.any(xs[-1] != xs[-2]))


register(Guarantee(
    name="pure-async-one-worker",
    statement="pure asynchronous SGD with one worker equals SGD bit for bit, under any schedule",
    source="seed 001, Table 1 (pure asynchronous SGD); seed 003, Algorithm 2",
    algorithms=("pure-async-sgd",),
    draw=lambda data, alg: _draw(data, alg, n=1, zeta=0.0, C=None),
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
    received = result.trace.records(AsGradReceived, 0)
    delayed = [r for r in received if r.tau != 0]
    if delayed:
        r = delayed[0]
        return f"the schedule is not zero-delay: at t = {r.t} worker {r.worker}'s gradient has τ_t = {r.tau}"
    if not received:
        return None
    first = received[0].worker
    if any(r.worker != first for r in received):
        return f"a zero-delay schedule received gradients of workers {sorted({r.worker for r in received})}"
    split = _splits(result)[first]
    order = [documented_local_samples(split, seed, first, s, 1)[0] for s in range(p["T"])]
    sgd = run_algorithm("sgd", problem=result.schedule.problem, seed=seed,
                        params={"gamma": p["gamma"], "T": p["T"], "x0": p.get("x0"), "order": order})
    out = result.trace.outputs.get(0)
    return bit_difference(None if not out else out[-1], sgd.trace.outputs[0][-1],
                          f"pure asynchronous SGD with n = {p['n']} under a zero-delay schedule",
                          f"SGD on worker {first}'s samples")


def _zero_delay_hard(result) -> bool:
    others = result.params["n"] >= 2 and any(r.worker != 0 for r in result.trace.records(AsGradReceived, 0))
    return others and _moved_twice(result)


register(Guarantee(
    name="pure-async-zero-delay",
    statement="pure asynchronous SGD with any n under a zero-delay schedule equals SGD on the first worker's data",
    source="seed 001, Table 1 (pure asynchronous SGD), Algorithm 1; seed 003, Algorithm 2",
    algorithms=("pure-async-sgd",),
    draw=lambda data, alg: _draw(data, alg, batch=1, C=None, n=data.draw(st.integers(2, 4), label="n >= 2")),
    check=check_zero_delay,
    hard=_zero_delay_hard,
    hard_case="n >= 2, a worker other than 0 delivered, and x moved twice",
    broken={"pure-async-sgd": "broken-pure-async-serial-offset"},
    adversary=ZeroDelaySchedules,
))


# one variant for both guarantees above: with one worker or under a zero-delay schedule, shifted
# samples are a different SGD
def _serial_from_one(job):
    return job.serial + 1                                        # the mistake: the first job draws sample 1


variant("broken-pure-async-serial-offset", of="pure-async-sgd",
        mistake="a worker's jobs are numbered from 1", replace={"sample_key": _serial_from_one})

# ---------------------------------------------------------------------------------------------


def _finished_worker(result) -> dict[int, int]:
    """t -> i_t, the worker whose gradient the server received at iteration t."""
    return {r.t: r.worker for r in result.trace.records(AsGradReceived)}


def check_assignment_rule(result) -> str | None:
    """Table 1, recomputed: α from t and b; k from i_t (pure), from the documented keyed draw
    ``generator(seed, STREAM_POLICY, t)`` (random), and for shuffled from the block: the n
    assignments t = jn .. jn + n − 1 are n different workers, the keyed χ_j in order."""
    p, seed = result.params, result.schedule.seed
    policy = policy_of(result.schedule.algorithm)
    n, b = p["n"], p.get("b", 1)
    i_t = _finished_worker(result)
    blocks: dict[int, list] = {}
    for a in result.trace.records(Assign):
        t, k, alpha = a.t, a.worker, a.pi
        want_alpha = b * ((t + 1) // b) if policy.endswith("waiting") else t + 1
        if alpha != want_alpha:
            return f"t = {t}: the new job computes at x_{alpha}, Table 1's row gives α = {want_alpha}"
        if policy.startswith("pure") and k != i_t[t]:
            return f"t = {t}: the new job went to worker {k}, but pure asynchronous SGD reassigns i_t = {i_t[t]}"
        if policy.startswith("random"):
            want = int(generator(seed, STREAM_POLICY, t).integers(n))
            if k != want:
                return f"t = {t}: the new job went to worker {k}, the keyed draw k ~ Unif[n] is {want}"
        if policy == "shuffled":
            block = blocks.setdefault(t // n, [])
            if k in block:
                return (f"t = {t}: worker {k} was assigned twice in the block t = {t // n * n} .. {t // n * n + n - 1}: "
                        f"{block + [k]} is not part of a permutation of the {n} workers")
            block.append(k)
            want = int(generator(seed, STREAM_POLICY, t // n).permutation(n)[t % n])
            if k != want:
                return f"t = {t}: worker {k}, but the block's keyed permutation χ gives χ({t % n + 1}) = {want}"
    return None


def policy_of(algorithm: str) -> str:
    """The Table 1 row an AsGrad algorithm runs (a broken variant: the row it poses as, which its
    name says, ``broken-random-async-waiting-...``): "pure", "random", "shuffled", "-waiting"."""
    name = algorithm.removeprefix("broken-")
    row = "shuffled" if name.startswith("shuffled") else "random" if name.startswith("random") else "pure"
    return row + ("-waiting" if "waiting" in name else "")


def _rule_hard(result) -> bool:
    """Where a wrong rule shows: a full block of n (shuffled), an assignment between two multiples
    of b (waiting), a worker assigned while busy (random), two reassignments (pure)."""
    p, policy = result.params, policy_of(result.schedule.algorithm)
    assigns = result.trace.records(Assign)
    if policy.endswith("waiting"):
        return p.get("b", 1) >= 2 and any((a.t + 1) % p["b"] for a in assigns) and len(assigns) >= p["b"]
    if policy == "shuffled":
        return len(assigns) >= 2 * p["n"] >= 4
    if policy == "random":
        return any(a.ahead >= 1 for a in assigns)
    return len(assigns) >= 2


def _draw_rule(data, algorithm: str) -> Case:
    n = data.draw(st.integers(2, 4), label="n")
    fixed = {"n": n, "T": data.draw(st.integers(2 * n, 4 * n), label="T")}
    if algorithm.endswith("waiting"):
        fixed["b"] = data.draw(st.integers(2, 3), label="b")
    return _draw(data, algorithm, **fixed)


register(Guarantee(
    name="asgrad-assignment-rule",
    statement="each assignment (k_(t+1), α_(t+1)) is its Table 1 row: α = t + 1 or b⌊(t+1)/b⌋; k = i_t, the keyed "
              "k ~ Unif[n], or for shuffled one permutation of the workers per n assignments",
    source="seed 001, Table 1 and Algorithm 1",
    algorithms=ASGRAD,
    draw=_draw_rule,
    check=check_assignment_rule,
    hard=_rule_hard,
    hard_case="a full block / an assignment between multiples of b / a busy worker assigned",
    broken={"pure-async-sgd-waiting": "broken-pure-async-waiting-off-by-one",
            "random-async-sgd-waiting": "broken-random-async-waiting-same-worker",
            "shuffled-async-sgd": "broken-shuffled-async-reshuffles"},
))


def _waiting_off_by_one(t, i_t, n, b, seed):
    return i_t, b * (t // b)                                     # the mistake: t, not t + 1


def _random_waiting_same_worker(t, i_t, n, b, seed):
    return i_t, b * ((t + 1) // b)                               # the mistake: no new client is sampled


def _reshuffled(t, i_t, n, b, seed):
    chi = generator(seed, STREAM_POLICY, t).permutation(n)       # the mistake: a permutation per assignment
    return int(chi[t % n]), t + 1


variant("broken-pure-async-waiting-off-by-one", of="pure-async-sgd-waiting", mistake="α = b⌊t/b⌋",
        replace={"policy": _waiting_off_by_one})
variant("broken-random-async-waiting-same-worker", of="random-async-sgd-waiting",
        mistake="the finished worker gets the new job", replace={"policy": _random_waiting_same_worker})
variant("broken-shuffled-async-reshuffles", of="shuffled-async-sgd",
        mistake="a fresh permutation for every assignment", replace={"policy": _reshuffled})

# ---------------------------------------------------------------------------------------------


class RatioTimes(Timed):
    """The timed adversary with compute times of ratio ρ: every job takes between 1 and ρ, the
    time of each drawn from ``st.data()`` (ρ too, from a few values); shrinks toward equal times."""

    def __init__(self, data):
        rho = data.draw(st.sampled_from([1.0, 1.5, 2.0, 3.0, 5.0]), label="ρ")
        pick = lambda: data.draw(st.one_of(st.just(0.0), st.just(1.0), st.floats(0.0, 1.0)), label="time")  # noqa: E731
        super().__init__(default=Chosen(1.0, rho, pick), seed=0)


def job_times(result) -> list[tuple[int, int, float]]:
    """(start step, finish step, duration) of every job that finished, from the trace's annotations."""
    times = result.trace.annotations
    return [(a, b, times[b]["time"] - times[a]["time"]) for (a, b, _, _, kind) in result.trace.links if kind == "job"]


def delay_bound(n: int, q: int, rho: float) -> int:
    """τ̃ of a job that waits behind q jobs: q + (n − 1)(1 + ⌊(q + 1)ρ⌋)."""
    return q + (n - 1) * (1 + math.floor((q + 1) * rho + 1e-12))


def _served_back_to_back(result) -> str | None:
    """The bound's hypothesis, from the trace's clock: a worker starts each job at the later of its
    assignment and the worker's previous finish (it never idles while it has an open job)."""
    times = result.trace.annotations
    assigned_at = {}                                              # (worker, serial) -> time of its assignment
    for (w, _, srl) in result.trace.records(ASSIGNED.key)[0]:
        assigned_at[(w, srl)] = 0.0
    for (step, _, _, val) in result.trace.stepwise(Assign):
        assigned_at[(val.worker, val.serial)] = times[step]["time"]
    free = {}
    for (a, b, _, lane, kind) in sorted(result.trace.links):
        if kind != "job":
            continue
        label = result.trace.events[a]                            # "p0 start w1 g_1(x_3) #2"
        w, srl = int(lane[1:]), int(label.rsplit("#", 1)[1])
        want = max(assigned_at.get((w, srl), 0.0), free.get(w, 0.0))
        if times[a]["time"] != want:
            return (f"worker {w} started job #{srl} at time {times[a]['time']:g}, but it was free with that job "
                    f"open from time {want:g}: a worker idled with work to do")
        free[w] = times[b]["time"]
    return None


def check_delay_bound(result) -> str | None:
    """ρ = the largest over the smallest job duration measured on the trace; q and τ̃ from the records;
    first the hypothesis the bound rests on, that every worker serves its open jobs back to back."""
    books, msg = _bookkeeping(result)
    if msg or not result.trace.annotations:
        return msg
    msg = _served_back_to_back(result)
    if msg:
        return msg
    rows = books[0]
    durations = [d for _, _, d in job_times(result)]
    if not durations:
        return None
    if min(durations) <= 0:
        return f"a job took {min(durations)} time: the bound needs positive compute times"
    rho = max(durations) / min(durations)
    n = result.params["n"]
    for r, job in rows:
        tilde, bound = r.t - job["a"], delay_bound(n, job["ahead"], rho)
        if tilde > bound:
            return (f"worker {r.worker}'s job #{r.serial}, assigned at iteration {job['a']} behind {job['ahead']} "
                    f"job(s), was received at t = {r.t}: τ̃ = {tilde} > q + (n − 1)(1 + ⌊(q + 1)ρ⌋) = {bound} "
                    f"(ρ = {rho:.3g}, n = {n})")
    return None


def _near_the_bound(result) -> bool:
    """Some job came within half of its bound, with n >= 2 (a bound met only with room to spare tests little)."""
    books, msg = _bookkeeping(result)
    durations = [d for _, _, d in job_times(result)]
    if msg or not durations or result.params["n"] < 2:
        return False
    rho = max(durations) / min(durations)
    return any(2 * (r.t - job["a"]) >= delay_bound(result.params["n"], job["ahead"], rho) for r, job in books[0])


def _draw_timed(data, algorithm: str) -> Case:
    n = data.draw(st.integers(2, 4), label="n")
    return _draw(data, algorithm, n=n, T=data.draw(st.integers(n, 6 * n), label="T"))


register(Guarantee(
    name="asgrad-delay-bound",
    statement="with compute times of ratio ρ, workers serve their jobs back to back and a job that waits behind q "
              "jobs on its worker is received within q + (n − 1)(1 + ⌊(q + 1)ρ⌋) iterations of its assignment "
              "(pure: τ_t <= (n − 1)(1 + ⌊ρ⌋))",
    source="seed 001, 'Notation and Convergence Theory' (τ_t, τ̃_t) and its experiments' per-worker times s_i",
    algorithms=ASGRAD,
    draw=_draw_timed,
    check=check_delay_bound,
    hard=_near_the_bound,
    hard_case="a job within half of its bound",
    broken={"random-async-sgd": "broken-random-async-lazy-queue"},
    adversary=RatioTimes,
))


def _lazy_queue(workers, worker):
    return
    yield                                                        # the mistake: the queue is not served


variant("broken-random-async-lazy-queue", of="random-async-sgd",
        mistake="a finished worker leaves its queued job waiting", replace={"serve_queue": _lazy_queue})

replay_covers(_draw, *ASGRAD)
