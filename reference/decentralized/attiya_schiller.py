"""Attiya–Schiller distributed SGD in the cluster-based model: step, send, average enough round-t
models, multi-dimensional approximate agreement (MDAA), skip; non-volatile checkpoints and recovery.

Seed 000 (``000_3f5163bcd896752f.txt``), slides "Distributed SGD Algorithm" (the loop below),
"Skipping" and "Recovery through Skipping" (a process skips to the most advanced round; a
recovering process rejoins through skipping, from a checkpoint in non-volatile memory), "Main
Correctness Claims" and "Correctness Proof – Definitions" (Δ^cw, the bounds checked in
``properties/decentralized/attiya_schiller.py``).  The paper itself (Attiya and Schiller) is not
reachable here: this module follows the slides only, and its readings of what the slides leave
open are stated below and tested in ``tests/decentralized/test_attiya_schiller.py``.

====================================================  =============================================================
the slide "Distributed SGD Algorithm"                 :func:`build`'s process
====================================================  =============================================================
For iteration t = 1 ... T:                            ``while t <= T:`` (``ModelAt(t, x_t)`` recorded)
1. Compute stochastic gradient g_t w.r.t. x_t          ``g = yield from compute(f"w{i}", f"grad t={t}", ...)``: the
                                                       b samples of ``sample_indices(seed, i, t, m, b)``
2. Update y_t = x_t − η_t g_t                          ``y = steps.perturb(x, η_t, g)``
3. Send ⟨t, y_t⟩ to all processes                       ``yield Broadcast((t, y), tag=f"model {t}")`` (itself included)
4. Collect **enough** round t models and average       wait until the round-t senders represent a majority of
   them ȳ_t                                            processes (``steps.enough``, MDAA's ``represented_majority``);
                                                       ``ȳ = steps.average(round-t models by sender)``: pid order
5. x_{t+1} = ApproximateAgreement(ȳ_t)                 ``x = yield from MDAA(clusters, R, K, rule, name=f"t{t}")
                                                       .agree(ctx, me, ȳ)`` (reference/agreement/mdaa.py)
6. **If** received **enough** messages for round       at every wait (step 4's and MDAA's): when the round-t'
   t' > t **then skip to round t'**                     senders represent a majority, ȳ = average of the round-t'
                                                       models (``steps.skip``), and continue at step 5 of round t'
Recovery through skipping: non-volatile memory         ``Checkpoint`` of (t, x_t) at each iteration, of (t, ȳ_t,
checkpoints the current status                         MDAA's own state) during step 5; a recovered process
                                                       resumes there (``steps.resume``), asks for help
                                                       (``steps.help_request``) and skips forward
(after t = T)                                          ``Output(x_{T+1})``, then answer help requests forever
====================================================  =============================================================

Named steps (:class:`~asyncproof.reference.registry.Steps`; a broken variant replaces one):
``perturb(x, eta, g)``, ``enough(clusters, senders)``, ``average(clusters, by_sender)``, ``skip(x, ybar)``,
``resume(checkpoint)``, ``help_request(t)``, ``answer(last)``.

Readings (each tested):

* **"Enough" is a majority of processes, represented by clusters**: the round-t senders heard
  represent more than n/2 processes (:meth:`~.agreement.cluster_model.Clusters.majority`), as
  MDAA's wait reads "messages representing a majority of processes"; every round-t model heard
  when the wait ends is averaged (more than a bare majority when more arrived), one per sender
  (the first it sent: a recovered process re-sends the same y_t, computed again from the same
  checkpointed x_t and samples), **in sender-pid order**, never arrival order.
* **Skipping (step 6)** is tested at every wait, in step 4 and inside the MDAA of step 5 (the
  process's MDAA waits also end when round-t' models represent a majority): the process takes the
  most advanced such round t', averages its round-t' models into ȳ_{t'} and runs the MDAA of round
  t' on it, as any process finishing step 4 of round t' does.  It never carries a value of a round
  < t' forward (the old x_t, or a half-agreed ȳ_t: the broken variant
  ``broken-attiya-schiller-skip-keeps-model``).  A skipping process sends no model of round t' (it
  has no x_{t'}), and records no ``ModelAt`` for the rounds it skipped.
* **Checkpoints** (the engine's non-volatile memory, one per process): {t, x_t} when iteration t
  begins; during step 5, {t, ȳ_t, the MDAA's own checkpoint}: MDAA checkpoints inside ``agree``, and
  its state is nested in this process's (one non-volatile memory per process), so a process that
  crashes inside the MDAA of round t resumes it there (its registers and round values), never
  re-enters it with another input.  After the output: {done, x_{T+1}}.
* **Recovery.**  A crash loses the inbox (volatile memory), so a recovered process broadcasts a help
  request (tag ``help``) and every process answers it, also after finishing, with the last model
  message it sent (``answer``); a process that went through the MDAA of round u answers that
  instance's help requests too, with its last MDAA round message of round u (MDAA's ``last``), as
  MDAA's own responders do.  With these answers the recovered process skips to any round whose
  models represent a majority; without them it could wait forever (tested).  For the same reason a
  recovered process enters every later MDAA as a recovering MDAA process (its help request, its own
  registers read first): that instance's messages may have reached it before the crash.  Finished
  processes stay as responders blocked on a ``Receive``.  A limit of this reading (MDAA's too): the
  answers carry each responder's *last* model, so if the responders' last models do not represent a
  majority in one round (one of them skipped the last round) and nobody moves any more, the
  recovered process waits; the guarantees' runs have not met it.
* **Values do not steer control flow.**  Which messages are awaited, which rounds are skipped and
  the event names depend on round numbers and senders only (MidExtremes picks its pair from the
  values, but that changes values, not events), so the events of a run replay under another seed
  with other gradient noise: the Monte Carlo estimates of E[Δ^cw(x_t)] rely on it (checked).

Recorded (declared in :data:`RECORDS`): :class:`~.common.ModelAt` ``"model"`` (t, x_t) at the start of
each iteration and (T + 1, x_{T+1}) at the end, :class:`~.common.GradientAt` ``"gradient"``,
:data:`~asyncproof.reference.records.ITERATE` ``"x"`` after each MDAA, :class:`Perturbed`
``"perturbed"`` (t, y_t) when sent, :class:`Averaged` ``"average"`` (t, from, senders, ȳ),
:class:`AgreeInput` ``"agree"`` (t, x: the MDAA input), :class:`IterationSkip`
``"iteration_skip"`` (from t to t'), :class:`Recovered` ``"recovered"`` (t, x, agreeing),
:class:`SgdHelp` ``"sgd_help"``; and the MDAA's records (its rounds, sends, aggregates, help, the
cluster agreement's writes and skips), its ``inst``/``r`` counted within each round t's instance.

Round-robin, clusters [1, 1, 1], the quadratic of seed 004 without noise: everybody hears all three
models, so the three averages, MDAA inputs and outputs agree:

>>> from asyncproof import run_algorithm
>>> res = run_algorithm("attiya-schiller-sgd", params={"clusters": [1, 1, 1], "T": 2, "eta": 0.05})
>>> [o[-1].round(6).tolist() for _, o in sorted(res.trace.outputs.items())]
[[0.81, 0.25], [0.81, 0.25], [0.81, 0.25]]
>>> [a.senders for a in res.trace.records(Averaged)][:3], res.metrics["skips"]
([[0, 1, 2], [0, 1, 2], [0, 1, 2]], 0)
"""

from __future__ import annotations

import re

import numpy as np

from ..agreement.cluster_model import Clusters, Member, cluster_params
from ..agreement.mdaa import MDAA
from ..agreement.mdaa import PARAMS as MDAA_PARAMS
from ..agreement.mdaa import RECORDS as MDAA_RECORDS
from ..agreement.mdaa import Sent, represented_majority
from ..agreement.provenance import input_point
from ..baselines._common import start_point, x0_param
from ..engine import Broadcast, Checkpoint, Output, ProcessSpec, Receive, Send, System, compute
from ..errors import InputError
from ..records import ITERATE, Record, declare, record
from ..registry import (MAX_ITERATIONS, Algorithm, Cost, MemoryEstimate, Steps, arrays_cost,
                        bounded_int, events_cost, records_cost, register)
from .common import (GradientAt, ModelAt, batch_param, coordinatewise_diameter, diameters, rate_of, rate_params,
                     sample_indices, stochastic_gradient)

# --------------------------------------------------------------------------------------
# the records


@record("perturbed")
class Perturbed(Record):
    """Step 3: the model ⟨t, y_t⟩ a process sent (y_t = x_t − η_t g_t)."""
    t: int
    y: np.ndarray


@record("average")
class Averaged(Record):
    """Step 4 (or 6): ȳ = the average of the round-``t`` models of ``senders`` (pid order), by a
    process in round ``from_`` (``t > from_``: it skipped to t)."""
    t: int
    from_: int                      # stored as "from"
    senders: list[int]
    y: np.ndarray


@record("agree")
class AgreeInput(Record):
    """Step 5: the input the process gives the MDAA of round t."""
    t: int
    x: np.ndarray


@record("iteration_skip")
class IterationSkip(Record):
    """Step 6: a process in round ``from_`` skipped to round ``to``."""
    from_: int                      # stored as "from"
    to: int


@record("recovered")
class Recovered(Record):
    """A recovery: the process resumed at round t with x (x_t, or ȳ_t when ``agreeing``: inside step 5)."""
    t: int
    x: np.ndarray
    agreeing: bool


@record("sgd_help")
class SgdHelp(Record):
    """The help request a recovered process broadcast at round t."""
    t: int


#: the MDAA's records written by its process-level API (its "input" and "decide" are its own build's)
_AGREEMENT_RECORDS = [s for k, s in MDAA_RECORDS.items() if k not in ("input", "decide")]
RECORDS = declare(ModelAt, GradientAt, ITERATE, Perturbed, Averaged, AgreeInput, IterationSkip, Recovered, SgdHelp,
                  *_AGREEMENT_RECORDS)

# --------------------------------------------------------------------------------------
# the named steps


def perturb(x: np.ndarray, eta: float, g: np.ndarray) -> np.ndarray:
    """2. y_t = x_t − η_t g_t."""
    return x - eta * g


def enough(clusters: Clusters, senders) -> bool:
    """4. and 6. "enough" round-t models: their senders represent a majority of processes (MDAA's
    reading, :func:`~.agreement.mdaa.represented_majority`)."""
    return represented_majority(clusters, senders)


def average(clusters: Clusters, by_sender: dict) -> np.ndarray:
    """4. ȳ_t: the mean of one round's models received (``by_sender``: sender pid -> y), one per
    sender, summed in sender-pid order (never arrival order), divided by how many were received."""
    pids = sorted(by_sender)
    acc = np.array(by_sender[pids[0]], dtype=np.float64)
    for p in pids[1:]:
        acc = acc + by_sender[p]
    return acc / len(pids)


def skip(x: np.ndarray, ybar: np.ndarray) -> np.ndarray:
    """6. Skipping to round t': continue with ȳ_{t'}, the average of the round-t' models; ``x`` (the
    model of the round the process was in) is dropped."""
    return ybar


def resume(checkpoint: dict) -> dict:
    """Recovery: resume from the last checkpoint ({} if none: from x_1), never from scratch."""
    return checkpoint


def help_request(t: int):
    """Recovery: the help request broadcast by a process recovering at round t (its inbox is lost)."""
    return ("help", t)


def answer(last):
    """The answer to a help request: the last model message sent, ⟨t, y_t⟩, unchanged."""
    return last


STEPS = Steps(perturb=perturb, enough=enough, average=average, skip=skip, resume=resume,
              help_request=help_request, answer=answer)

# --------------------------------------------------------------------------------------
# the process

_MODEL = re.compile(r"model (\d+)")
_INSTANCE_HELP = re.compile(r"t(\d+) help")


class _Books:
    """What a process heard of the model rounds: round -> sender -> y (the first one), round -> the
    sender of every message; and the last message it sent of each MDAA instance (to answer help)."""

    def __init__(self):
        self.got: dict[int, dict[int, np.ndarray]] = {}
        self.heard: dict[int, list[int]] = {}

    def add(self, m) -> None:
        t, y = m.payload
        self.heard.setdefault(int(t), []).append(m.src_pid)
        self.got.setdefault(int(t), {}).setdefault(m.src_pid, y)

    def best(self, steps, clusters, t: int) -> int | None:
        """The most advanced round t' >= t whose models are enough, or None."""
        ok = [u for u, by in self.heard.items() if u >= t and steps.enough(clusters, by)]
        return max(ok) if ok else None

    def forget_before(self, t: int) -> None:
        self.got = {u: v for u, v in self.got.items() if u >= t}
        self.heard = {u: v for u, v in self.heard.items() if u >= t}


def _is_model(m) -> bool:
    return m.job is None and m.src_pid is not None and _MODEL.fullmatch(m.tag) is not None


def build(problem, params, seed, steps):
    clusters = Clusters.parse(params["clusters"])
    n, T, b = clusters.n, params["T"], params["b"]
    x0 = start_point(problem, params)
    instances = {t: MDAA(clusters, params["R"], params["K"], params["rule"], name=f"t{t}") for t in range(1, T + 1)}

    def process(pid: int, recovering: bool):
        me = Member.of(clusters, pid)

        def body(ctx, checkpoint=None):
            books = _Books()
            answers: dict[int, tuple] = {}          # MDAA round t -> the last round message sent in it
            state = steps.resume(checkpoint or {}) if recovering else {}
            t, x, last = state.get("t", 1), state.get("x", x0), state.get("last")
            ybar, agreeing = state.get("ybar"), state.get("mdaa")     # agreeing: inside step 5 (MDAA's state)
            answers.update(state.get("answers", {}))

            def helps(m) -> bool:
                if m.job is not None or m.src_pid is None:
                    return False
                if m.tag == "help":
                    return True
                h = _INSTANCE_HELP.fullmatch(m.tag)
                return h is not None and int(h.group(1)) in answers

            def serve(m):
                """Answer a help request (``yield from``): the last model sent, or the last round
                message of an MDAA instance already left."""
                if m.tag == "help":
                    if last is not None:
                        msg = steps.answer(last)
                        yield Send(m.src_pid, msg, tag=f"model {msg[0]}")
                    return
                u = int(_INSTANCE_HELP.fullmatch(m.tag).group(1))
                spec = instances[u]
                msg = spec.steps.answer(answers[u], None)
                ctx.record(Sent(r=msg[0], z=msg[1].x, to=m.src_pid))
                yield Send(m.src_pid, msg, tag=spec.tag(f"round {msg[0]}"))

            def take(msgs):
                """Book the models, answer the help requests (``yield from``)."""
                for m in msgs:
                    if _is_model(m):
                        books.add(m)
                    elif helps(m):
                        yield from serve(m)

            def ready(t_from: int, msgs) -> bool:
                if any(helps(m) for m in msgs):
                    return True
                heard = {u: list(v) for u, v in books.heard.items()}
                for m in msgs:
                    if _is_model(m):
                        heard.setdefault(int(m.payload[0]), []).append(m.src_pid)
                return any(u >= t_from and steps.enough(clusters, by) for u, by in heard.items())

            def entering(u: int, y_in: np.ndarray) -> dict:
                """The checkpoint on entering step 5 of round u: a recovery resumes that MDAA
                (``mdaa: {}``: as a recovered MDAA process, reading its own registers first)."""
                return {"t": u, "ybar": y_in, "mdaa": {}, "last": last, "answers": dict(answers)}

            def mine(m) -> bool:
                return _is_model(m) or helps(m)

            def wait(t_from: int, label: str):
                """Wait (``yield from``) until the models of some round >= t_from are enough."""
                best = books.best(steps, clusters, t_from)
                while best is None:
                    msgs = yield Receive(until=lambda ms: ready(t_from, ms), match=mine, label=label)
                    yield from take(msgs)
                    best = books.best(steps, clusters, t_from)
                return best

            def agree(u: int, y_in: np.ndarray, resumed):
                """5. x_{u+1} = MDAA_u(ȳ_u) (``yield from``), its checkpoints nested in this
                process's, its waits also ending at step 6's condition for a round > u.
                Returns ("done", x_{u+1}) or ("skip", t')."""
                spec = instances[u]
                gen = spec.agree(ctx, me, input_point(y_in, pid, n, False), resume=resumed)
                result, action = None, None
                try:
                    action = gen.send(None)
                    while True:
                        if isinstance(action, Checkpoint):
                            result = yield Checkpoint({"t": u, "ybar": y_in, "mdaa": action.state, "last": last,
                                                       "answers": dict(answers)})
                        elif isinstance(action, Receive):
                            inner = action
                            msgs = yield Receive(
                                until=lambda ms: inner.until([m for m in ms if inner.match(m)])
                                or ready(u + 1, [m for m in ms if not inner.match(m)]),
                                match=lambda m: inner.match(m) or mine(m), label=inner.label)
                            yield from take([m for m in msgs if not inner.match(m)])
                            ahead = books.best(steps, clusters, u + 1)
                            if ahead is not None:
                                gen.close()
                                return "skip", ahead
                            result = [m for m in msgs if inner.match(m)]
                        else:
                            result = yield action
                        action = gen.send(result)
                except StopIteration as stop:
                    y, sent = stop.value
                    answers[u] = sent
                    return "done", y.x

            def averaged(u: int, t_from: int, held: np.ndarray):
                """4. ȳ_u from the round-u models heard; 6. when u > t_from: skipping, ``held`` dropped."""
                y_u = steps.average(clusters, books.got[u])
                ctx.record(Averaged(t=u, from_=t_from, senders=sorted(books.got[u]), y=y_u))
                if u > t_from:
                    ctx.record(IterationSkip(from_=t_from, to=u))
                    y_u = steps.skip(held, y_u)
                books.forget_before(u)
                return y_u

            if state.get("done"):
                x = state["x"]
            else:
                in_aa = agreeing is not None                                    # resume inside step 5
                if recovering:
                    ctx.record(Recovered(t=t, x=ybar if in_aa else x, agreeing=in_aa))
                    request = steps.help_request(t)
                    if request is not None:
                        ctx.record(SgdHelp(t=t))
                        yield Broadcast(request, tag="help", include_self=False)
                while t <= T:                                                   # for iteration t = 1 .. T
                    if not in_aa:
                        ctx.record(ModelAt(t=t, x=x))
                        samples = sample_indices(seed, pid, t, problem.m, b)    # 1. g_t at x_t
                        g = yield from compute(f"w{pid}", f"grad t={t}",
                                               lambda x=x, s=samples: stochastic_gradient(problem, x, s))
                        ctx.record(GradientAt(t=t, samples=[int(j) for j in samples], g=g))
                        y = steps.perturb(x, rate_of(params, t), g)              # 2. y_t = x_t − η_t g_t
                        ctx.record(Perturbed(t=t, y=y))
                        yield Broadcast((t, y), tag=f"model {t}")               # 3. send ⟨t, y_t⟩ to all
                        last = (t, y)
                        u = yield from wait(t, f"models t={t}")                 # 4. enough round-t models
                        ybar = averaged(u, t, x)                                # (6. if u > t)
                        t, in_aa, agreeing = u, True, None
                        yield Checkpoint(entering(t, ybar))
                    ctx.record(AgreeInput(t=t, x=ybar))
                    # a recovered process enters every MDAA as a recovering one: the instance's messages
                    # may have reached it before its crash, and be lost with its inbox
                    entry = agreeing if agreeing is not None else ({} if recovering else None)
                    how, value = yield from agree(t, ybar, entry)               # 5. x_{t+1} = AA(ȳ_t)
                    if how == "skip":                                           # 6. from inside the AA
                        ybar = averaged(value, t, ybar)
                        t, agreeing = value, None
                        yield Checkpoint(entering(t, ybar))
                        continue
                    x = value
                    ctx.record(ITERATE.key, x)
                    t, in_aa, agreeing, ybar = t + 1, False, None, None
                    books.forget_before(t)
                    yield Checkpoint({"t": t, "x": x, "last": last, "answers": dict(answers)})
                ctx.record(ModelAt(t=T + 1, x=x))
                yield Output(x)
                yield Checkpoint({"done": True, "x": x, "last": last, "answers": dict(answers)})
            while True:                                                         # a responder from now on
                msgs = yield Receive(until=lambda ms: any(helps(m) for m in ms), match=helps, label="help requests")
                yield from take(msgs)
        return body

    specs = [ProcessSpec(process(p, False), recover=process(p, True)) for p in range(n)]
    registers = {}
    for spec in instances.values():
        registers.update(spec.registers())
    return System(specs, registers=registers, seed=seed)


# --------------------------------------------------------------------------------------
# the registered algorithm


def metrics(trace, problem, params):
    outs = {p: np.asarray(o[-1]) for p, o in trace.outputs.items() if o}
    m = {"outputs": len(outs), "steps": len(trace.events), "stopped": trace.stopped,
         "skips": len(trace.records(IterationSkip)), "crashes": len(trace.crashed),
         "recoveries": len(trace.records(Recovered))}
    diam = diameters(trace)
    if diam:
        m["max_diameter"] = max(diam.values())
    if outs:
        xs = [outs[p] for p in sorted(outs)]
        m["diameter_out"] = coordinatewise_diameter(xs)
        mean = np.mean(xs, axis=0)
        m["loss"] = float(problem.value(mean))
        if mean.size <= 6:
            m["x"] = [float(v) for v in mean]
    return m


def check(problem, params) -> None:
    Clusters.parse(params["clusters"])
    start_point(problem, params)
    if problem.L is None:
        raise InputError(f"attiya-schiller-sgd: problem {problem.name!r} is not smooth (no L); "
                         "the slides assume a smooth cost function")


def _per_iteration(p) -> int:
    """Engine steps of one iteration, about: MDAA's R rounds (K in-cluster rounds of c + 1 steps, a
    broadcast to all and their receipts), the gradient job, the models' broadcast and receipts."""
    c = Clusters.parse(p["clusters"])
    n = c.n
    return p["R"] * (p["K"] * sum(s * (s + 2) for s in c.sizes) + 3 * n * n + 6 * n) + 3 * n * n + 10 * n


def memory(problem, p) -> MemoryEstimate:
    n, d, T = Clusters.parse(p["clusters"]).n, problem.d, p["T"]
    steps = _per_iteration(p)
    lower = ("T", "R", "K", "the clusters")
    return MemoryEstimate(events_cost(T * steps, f"T = {T} iterations x {steps} steps", lower),
                          records_cost(T * n * (p["R"] * (p["K"] + 4) + 8), 300,
                                       f"T = {T} x n = {n} x (R(K + 4) + 8)", lower),
                          arrays_cost(T * n * (p["R"] * (p["K"] + 2) + 8), d, f"T = {T} x n = {n} values (d = {d})",
                                      lower),
                          Cost(f"T = {T} MDAA instances' registers and messages", T * p["R"] * n * (300 + 200 * n),
                               ("T",)))


#: every iteration runs a whole MDAA (R rounds of K in-cluster rounds, n² messages a round): bounds
#: that keep the step budget of the largest run finite (the memory check refuses most of the range)
MAX_T, MAX_AGREEMENT_ROUNDS = MAX_ITERATIONS // 10, 100

PARAMS = {
    "clusters": cluster_params([1, 1, 1])["clusters"],
    "T": bounded_int("T", 4, "iterations t = 1 .. T", 1, MAX_T, "T (iterations)"),
    **rate_params(0.05, "constant"),
    "b": batch_param(1),
    "x0": x0_param(),
    "R": bounded_int("R", 1, "MDAA rounds per iteration (step 5)", 1, MAX_AGREEMENT_ROUNDS, "R (MDAA rounds)"),
    "K": bounded_int("K", 2, "in-cluster rounds of each MDAA round (the slide's constant)", 1, MAX_AGREEMENT_ROUNDS,
                     "K (in-cluster rounds)"),
    "rule": MDAA_PARAMS["rule"],
}

ALGORITHM = register(Algorithm(
    name="attiya-schiller-sgd",
    summary="Attiya–Schiller distributed SGD: step, send, average enough round-t models, MDAA, skip; recovery",
    source="seed 000, slides 'Distributed SGD Algorithm', 'Skipping', 'Recovery through Skipping', "
           "'Main Correctness Claims', 'Correctness Proof – Definitions'",
    params=PARAMS,
    build=build,
    steps=STEPS,
    metrics=metrics,
    default_problem="quadratic",
    max_steps=lambda p: 4 * p["T"] * _per_iteration(p) + 40 * Clusters.parse(p["clusters"]).n ** 2 + 2000,
    check=check,
    family="decentralized",
    memory=memory,
    records=RECORDS,
))
