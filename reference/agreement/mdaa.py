"""Multi-dimensional approximate agreement (MDAA) across clusters: rounds of cluster agreement,
a message to all, a wait for a represented majority, an Aggregate rule; skipping and recovery.

Seed 000 (``000_3f5163bcd896752f.txt``), slides "Multi-Dimensional AA in the Cluster-Based
Model" (two versions: "messages representing a majority of processes"; "A process
**represents** all processes in its cluster"), "Skipping" (step 5), "Recovery through
Skipping", "Back to Overall MDAA" ("Can pick ε to ensure q-contraction in O(log q) rounds").

==============================================  ==============================================================
the slides                                      :meth:`MDAA.agree`
==============================================  ==============================================================
For round r = 1 ... R:                          ``while r <= R:``
1. z_r = ClusterApproximateAgreement(y_r)       ``z = yield from cluster_agreement(..., A of (cluster, r), K)``
2. Send ⟨r, z_r⟩ to all processes                ``yield Broadcast((r, z), tag=f"round {r}")`` (itself included)
3. Wait to receive round r messages             ``yield Receive(until=...)`` until the senders of round r
   representing a majority of processes            represent more than n/2 processes (``represented_majority``)
4. y_{r+1} = Aggregate(received values)         ``y = aggregate(rule, received_values(...))``: by sender pid
5. If received round r' messages, r' > r,       ... or of a round r' > r: then y_{r'+1} = Aggregate(round r'
   then skip to round r'                           values) (``skip``) and r ← r' + 1
(return)                                        ``yield Output(y_{R+1})``
Recovery through skipping: non-volatile          ``Checkpoint`` of (r, y_r, z_r) after steps 1 and 4; a recovered
memory checkpoints the current status             process resumes from it (``resume``), asks for help
                                                   (``help_request``), and skips forward
==============================================  ==============================================================

Named steps (:class:`~asyncproof.reference.registry.Steps`, the lines where implementations go
wrong; a broken variant or a user replaces one with ``steps.replace(name=fn)``):
``represented_majority(clusters, senders)``, ``received_values(clusters, by_sender)``,
``aggregate(rule, values)``, ``skip(y, aggregated)``, ``resume(checkpoint)``,
``help_request(r)``, ``answer(last, y)``, and the cluster agreement's ``diameter_pair(X)`` (also
MidExtremes' pair as Aggregate), ``proceed(ctx, clusters, me, r)``, ``resume_register(register)``,
``initial_register(d, n, provenance)``.

Readings (each tested in ``tests/agreement/test_agreement_mdaa.py``):

* **A majority of processes, not of clusters.**  The first slides wait for messages
  "representing a majority of processes"; "Skipping" and "Back to Overall MDAA" write "from
  a majority of clusters".  Both intersect pairwise, but they need different fault
  assumptions: with clusters [3, 1, 1], one correct process in the first cluster
  represents 3 of 5 processes and suffices for the first reading, not for the second.  We
  follow the first (and the issue); the second is the broken variant
  ``broken-mdaa-majority-of-clusters`` of the termination guarantee.
* **Which messages are aggregated.**  All round-r values received when the wait ends
  (possibly more than a bare majority), one per sender (the first one it sent: a
  recovered process re-sends the same checkpointed z_r), ordered by sender pid, never
  by arrival.
* **Skipping (step 5)** happens when round-r' messages *representing a majority* have
  arrived (the later "Distributed SGD Algorithm" slide: "received **enough** messages for
  round t' > t").  The skipping process computes y_{r'+1} = Aggregate(round-r' values), as
  any process finishing round r' does, so skipping never injects a stale value; it takes
  the most advanced such round.  The mistake of skipping with the old value is the
  broken variant ``broken-mdaa-skip-keeps-value`` of q-contraction.
* **Recovery.**  The engine loses a crashed process's inbox (volatile), so a recovered
  process may have lost the very messages it waits for, after the others finished.  It
  therefore broadcasts a help request (tag ``help``) on recovery, and every process
  answers it, also after deciding, with the last round message it sent
  (the step ``answer``, :func:`last_message`: the ⟨r, z_r⟩ it broadcast, so a process has one value per
  round); the process then skips to any round whose messages represent a majority.
  Without the request a recovered process can wait forever (tested).  Finished processes stay as responders
  blocked on a ``Receive``, which keeps the run quiescent.
* **R from q.**  With MidExtremes as Aggregate, one round contracts the diameter of the
  y's by κ(ε) = √3 δ* + ε, δ* = (√(14 − 2ε²) − 2√3 ε)/7, where ε = √(6/7)^(K−1) bounds the
  spread of a cluster's outputs after K in-cluster rounds (relative to its inputs).  So R
  = ⌈ln q / (2 ln κ(ε))⌉ rounds give q-contraction of the squared diameter: O(log 1/q)
  rounds for fixed ε.  With the average, κ(ε) = 1 − (1 − ε)/n.  Derivations:
  ``proofs/claims/agreement/agreement_contraction.py``.  A user's rule has no known constant: give T.

Process-level API (for algorithms that run agreement inside their own processes, e.g. the
decentralized SGD of a later issue): build an :class:`MDAA` for the clusters, add its
:meth:`MDAA.registers` to the system, and call ``y = yield from spec.agree(ctx, me, x)``
with ``x`` a :class:`~.provenance.Point` (``input_point``); give each instance its own
``name`` so that registers and message tags of successive calls do not mix.  Its process
writes the records :data:`RECORDS` declares (except ``"input"`` and ``"decide"``, this module's
``build``'s): an algorithm running it declares them among its own.

Recorded (declared in :data:`RECORDS`, read back typed with ``trace.records(Aggregated)``):
``"input"``; :data:`ROUND` ``"round"`` r (entering round r), :class:`Sent` ``"send"`` for every
round message sent, :class:`Aggregated` ``"aggregate"`` for every Aggregate,
:class:`HelpRequest` ``"help"`` on recovery, ``"decide"`` (the output
:class:`~.provenance.Point`, with its weights); and the cluster agreement's
:class:`~.cluster_agreement.Written` ``"write"``, :class:`~.cluster_agreement.Skipped`
``"skip"``, :class:`~.cluster_agreement.ClusterOutput` ``"cluster_output"`` with ``inst`` = the
MDAA round.

Round-robin, clusters [2, 1]: the first cluster agrees on (1, 0), the second is (0, 4)
alone; everybody hears all three round-1 messages and MidExtremes gives (0.5, 2):

>>> from asyncproof import run_algorithm
>>> res = run_algorithm("mdaa", params={"clusters": [2, 1], "T": 2, "K": 2,
...                     "inputs": [[0.0, 0.0], [2.0, 0.0], [0.0, 4.0]]})
>>> [o[-1].tolist() for _, o in sorted(res.trace.outputs.items())]
[[0.5, 2.0], [0.5, 2.0], [0.5, 2.0]]
>>> inner_rounds_for(0.25), rounds_for(1e-3, 19, "midextremes", 5)     # ε = 0.25: K = 19, R = 80
(19, 80)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import partial
from typing import Callable

import numpy as np

from ..engine import Broadcast, Checkpoint, Output, ProcessSpec, Receive, Send, System
from ..errors import InputError
from ..records import Record, Value, declare, record
from ..registry import (DICT_BYTES, INT_BYTES, MAX_ROUNDS, Algorithm, Cost, MemoryEstimate, Param, Steps,
                        arrays_cost, bounded_int, events_cost, records_cost, register)
from .cluster_agreement import STEPS as CLUSTER_STEPS
from .cluster_agreement import (DECIDE, INPUT, KAPPA_CLUSTER, ClusterOutput, Skipped, Written,
                                cluster_agreement, provenance_bytes, recorded_inputs)
from .cluster_model import Clusters, Member, agreement_inputs, cluster_params
from .midextremes import RULES, apply_rule, diameter, diameter_pair, mid_extremes_weights, resolve_rule, rule_name
from .provenance import Point, input_point

# --------------------------------------------------------------------------------------
# the records (reference/records.py), besides the cluster agreement's


@record("send")
class Sent(Record):
    """A round message ⟨r, z_r⟩ sent (step 2), or re-sent as the answer to a help request."""
    r: int
    z: np.ndarray                   # the value z_r
    to: int | None                  # None: the broadcast; a pid: the help answer to it


@record("aggregate")
class Aggregated(Record):
    """Step 4 (and 5): y_{r+1} = Aggregate(the round-r values of ``senders``), by a process in
    round ``from_``; ``skip``: r > ``from_`` (it skipped to round r)."""
    r: int                          # the round aggregated
    from_: int                      # stored as "from": the round the process was in
    senders: list[int]              # whose round-r values, in pid order
    skip: bool
    y: np.ndarray                   # y_{r+1}


@record("help")
class HelpRequest(Record):
    """Recovery: the help request broadcast by a process recovering in round r."""
    r: int


#: r, recorded on entering MDAA round r
ROUND = Value("round", "r: entering MDAA round r", kinds=(int,))

#: the records of ``mdaa``: its own and the cluster agreement's (one instance per MDAA round)
RECORDS = declare(INPUT, ROUND, Sent, Aggregated, HelpRequest, DECIDE, Written, Skipped, ClusterOutput)


# --------------------------------------------------------------------------------------
# the contraction constants and R from q


def cluster_precision(K: int) -> float:
    """ε: a cluster's outputs after K rounds are within ε times its inputs' diameter, ε = √(6/7)^(K−1)."""
    return KAPPA_CLUSTER ** (K - 1)


def kappa_round(rule, eps: float, n: int) -> float | None:
    """The per-round contraction of the y's' diameter for ``rule`` with cluster precision ε (None: unknown)."""
    name = rule if isinstance(rule, str) else None
    if name == "midextremes":
        delta = (math.sqrt(14.0 - 2.0 * eps * eps) - 2.0 * math.sqrt(3.0) * eps) / 7.0
        return min(1.0, math.sqrt(3.0) * delta + eps)
    if name == "average":
        return min(1.0, 1.0 - (1.0 - eps) / n)
    return None


def rounds_for(q: float, K: int, rule, n: int) -> int:
    """R = ⌈ln q / (2 ln κ)⌉: rounds after which max ||y_i − y_j||² <= q max ||x_i − x_j||²."""
    if not (isinstance(q, (int, float)) and 0.0 < q < 1.0):
        raise InputError(f"q must be in (0, 1), got {q!r}")
    kappa = kappa_round(rule, cluster_precision(K), n)
    if kappa is None:
        raise InputError(f"aggregate rule {rule_name(rule)!r} has no known contraction constant: give T (the rounds R)")
    if kappa >= 1.0:
        raise InputError(f"K = {K} in-cluster round(s) give cluster precision ε = {cluster_precision(K):.3g}, "
                         f"and rule {rule_name(rule)!r} then contracts nothing per round: take K >= 2")
    return max(1, math.ceil(math.log(q) / (2.0 * math.log(kappa)) - 1e-12))


def inner_rounds_for(eps: float) -> int:
    """K = 1 + ⌈ln ε / ln √(6/7)⌉: the in-cluster rounds that bring a cluster within ε."""
    if not (isinstance(eps, (int, float)) and 0.0 < eps < 1.0):
        raise InputError(f"eps (the in-cluster precision) must be in (0, 1), got {eps!r}")
    return 1 + max(0, math.ceil(math.log(eps) / math.log(KAPPA_CLUSTER) - 1e-12))


# --------------------------------------------------------------------------------------
# the process


def represented_majority(clusters: Clusters, senders) -> bool:
    """3. The wait: do the round's messages represent a majority of processes?

    ``senders`` lists the sender of every round message heard, one entry per message (a
    recovered process re-sends its round message, so a sender may appear twice); a
    cluster counts once however many of its members, or messages, were heard."""
    return clusters.majority(senders)


def received_values(clusters: Clusters, by_sender: dict) -> list:
    """4.'s received values: one per sender (the first it sent), ordered by sender pid, never
    by arrival (``by_sender``: sender pid -> its value)."""
    return [by_sender[s] for s in sorted(by_sender)]


def aggregate(rule, values) -> Point:
    """4. y_{r+1} = Aggregate(received values): ``rule``'s convex combination of one round's
    values (ordered by sender pid)."""
    return apply_rule(rule, values)


def skip(y: Point, aggregated: Point) -> Point:
    """5. Skipping to round r': continue with y_{r'+1} = Aggregate(round r' values), like any
    process finishing round r' (keeping the old y instead is the broken variant
    ``broken-mdaa-skip-keeps-value``)."""
    return aggregated


def resume(checkpoint: dict) -> dict:
    """Recovery: a recovered process resumes from its last checkpoint ({} if it never saved
    one), not from round 1 (the broken variant ``broken-mdaa-restarts``)."""
    return checkpoint


def help_request(r: int):
    """Recovery: the help request a recovered process (at round r) broadcasts, since the
    messages in its inbox were lost with the crash; ``None`` would ask nobody."""
    return ("help", r)


def last_message(last, y):
    """The answer to a help request: the last round message sent, ⟨r, z_r⟩, unchanged (a
    process has one value per round; answering with its current y instead is the broken
    variant ``broken-mdaa-helps-with-current-value``)."""
    return last


#: MDAA's named steps, with those of the cluster agreement it runs
STEPS = Steps(
    **CLUSTER_STEPS, represented_majority=represented_majority, received_values=received_values,
    aggregate=aggregate, skip=skip, resume=resume, help_request=help_request, answer=last_message)


@dataclass
class MDAA:
    """One MDAA instance: the clusters, R rounds of K in-cluster rounds, the Aggregate rule,
    and the named ``steps`` (default :data:`STEPS`: the slides', and for recovery this
    module's reading)."""
    clusters: Clusters
    R: int
    K: int
    rule: object = "midextremes"
    name: str = ""
    steps: Steps = field(default_factory=lambda: STEPS)
    _rule: Callable = field(init=False, repr=False)

    def __post_init__(self):
        self._rule = resolve_rule(self.rule)
        if isinstance(self.rule, str) and self.rule == "midextremes" and self.steps.diameter_pair is not diameter_pair:
            # MidExtremes picks its pair with the steps' diameter_pair, in the Aggregate as in the clusters
            self._rule = partial(mid_extremes_weights, pair=self.steps.diameter_pair)

    # names ---------------------------------------------------------------------------------
    def tag(self, what: str) -> str:
        return f"{self.name} {what}" if self.name else what

    def array(self, cluster: int, r: int) -> tuple[str, ...]:
        return tuple((f"{self.name}." if self.name else "") + a for a in self.clusters.array(cluster, r))

    def registers(self, initial=None) -> dict:
        """Every register of this instance (one array per cluster and round), all ⟨⊥, 0⟩."""
        return {a: initial for r in range(1, self.R + 1) for c in range(len(self.clusters.members))
                for a in self.array(c, r)}

    # messages ------------------------------------------------------------------------------
    def _parse(self, m):
        """("help", None) | ("round", (r, Point)) | None for a message of another instance."""
        if m.tag == self.tag("help"):
            return "help", None
        prefix = self.tag("round ")
        if m.tag.startswith(prefix) and m.src_pid is not None and m.job is None:
            r, z = m.payload
            return "round", (int(r), z)
        return None

    def _mine(self, m) -> bool:
        return self._parse(m) is not None

    def best_round(self, heard: dict, r: int) -> int | None:
        """The most advanced round r' >= r whose messages represent a majority (or None);
        ``heard[r']`` lists the sender of each round-r' message received."""
        ok = [rr for rr, by in heard.items() if rr >= r and self.steps.represented_majority(self.clusters, by)]
        return max(ok) if ok else None

    def _would_be_ready(self, heard: dict, r: int, messages) -> bool:
        senders = {rr: list(by) for rr, by in heard.items()}
        for m in messages:
            kind, body = self._parse(m)
            if kind == "help":
                return True
            senders.setdefault(body[0], []).append(m.src_pid)
        return self.best_round(senders, r) is not None

    def _answer(self, ctx, to: int, last, y):
        """Send the help answer (recorded as ``"send"``, like every round message)."""
        msg = self.steps.answer(last, y)
        ctx.record(Sent(r=msg[0], z=msg[1].x, to=to))
        yield Send(to, msg, tag=self.tag(f"round {msg[0]}"))

    # the algorithm -------------------------------------------------------------------------
    def agree(self, ctx, me: Member, x: Point, resume: dict | None = None):
        """The slides' loop for process ``me`` with input ``x``; returns (y_{R+1}, last message sent).

        ``resume``: the last checkpoint of a recovered process (``{}`` if it never
        checkpointed), or ``None`` on a first start.
        """
        steps = self.steps
        state = steps.resume(resume) if resume else {}
        r = state.get("r", 1)
        y = state.get("y", x)
        z = state.get("z")
        last = state.get("last")
        recovering = resume is not None
        request = steps.help_request(r) if recovering and r <= self.R else None
        if request is not None:
            ctx.record(HelpRequest(r=r))
            yield Broadcast(request, tag=self.tag("help"), include_self=False)
        got: dict[int, dict[int, Point]] = {}       # round -> sender -> its value (the first heard)
        heard: dict[int, list[int]] = {}              # round -> the sender of every message heard
        while r <= self.R:                                                  # for round r = 1 .. R
            ctx.record(ROUND.key, r)
            if z is None:                                                   # 1. z_r = ClusterAA(y_r)
                z = yield from cluster_agreement(ctx, me, y, self.array(me.cluster, r), self.K, inst=r,
                                                 resume=recovering, steps=steps, clusters=self.clusters)
                yield Checkpoint({"r": r, "y": y, "z": z, "last": last})
            recovering = False
            ctx.record(Sent(r=r, z=z.x, to=None))
            yield Broadcast((r, z), tag=self.tag(f"round {r}"))              # 2. send ⟨r, z_r⟩ to all
            last = (r, z)
            rr = None
            while rr is None:                                               # 3. wait for a majority
                msgs = yield Receive(until=lambda ms, r=r: self._would_be_ready(heard, r, ms), match=self._mine,
                                     label=self.tag(f"round {r}"))
                for m in msgs:
                    kind, body = self._parse(m)
                    if kind == "help":
                        if last is not None:
                            yield from self._answer(ctx, m.src_pid, last, y)
                    elif body[0] >= r:
                        heard.setdefault(body[0], []).append(m.src_pid)
                        got.setdefault(body[0], {}).setdefault(m.src_pid, body[1])
                rr = self.best_round(heard, r)
            senders = sorted(got[rr])                                       # 4. Aggregate
            new = steps.aggregate(self._rule, steps.received_values(self.clusters, got[rr]))
            if rr > r:                                                      # 5. skip to round r'
                new = steps.skip(y, new)
            ctx.record(Aggregated(r=rr, from_=r, senders=senders, skip=rr > r, y=new.x))
            y, r, z = new, rr + 1, None
            got = {k: v for k, v in got.items() if k >= r}
            heard = {k: v for k, v in heard.items() if k >= r}
            yield Checkpoint({"r": r, "y": y, "z": None, "last": last})
        return y, last

    def respond(self, ctx, last, y=None):
        """After deciding (with ``y``): answer help requests with the last round message, forever
        (blocked otherwise)."""
        while True:
            msgs = yield Receive(until=lambda ms: any(self._parse(m)[0] == "help" for m in ms),
                                 match=self._mine, label=self.tag("help requests"))
            for m in msgs:
                if self._parse(m)[0] == "help" and last is not None:
                    yield from self._answer(ctx, m.src_pid, last, y)


# --------------------------------------------------------------------------------------
# the registered algorithm


def resolve(params: dict, n: int) -> tuple[int, int]:
    """(R, K) of a run: K from ``K`` or ``eps``; R from ``T`` or from ``q``."""
    K = params["K"] if params.get("K") is not None else inner_rounds_for(params["eps"])
    R = params["T"] if params.get("T") is not None else rounds_for(params["q"], K, params["rule"], n)
    return R, K


def spec_of(params: dict, steps: Steps | None = None) -> MDAA:
    clusters = Clusters.parse(params["clusters"])
    R, K = resolve(params, clusters.n)
    return MDAA(clusters, R, K, params["rule"], steps=STEPS if steps is None else steps)


def build(problem, params, seed, steps):
    spec = spec_of(params, steps)
    X = agreement_inputs(problem, params, seed)
    n = spec.clusters.n

    def process(pid: int, recovering: bool):
        me = Member.of(spec.clusters, pid)

        def body(ctx, checkpoint=None):
            ctx.record(INPUT.key, X[pid])
            saved = steps.resume(checkpoint) if recovering and checkpoint is not None else {}
            if saved.get("done"):
                y, last = saved["y"], saved["last"]
            else:
                x = input_point(X[pid], pid, n, params["provenance"])
                y, last = yield from spec.agree(ctx, me, x, resume=(checkpoint or {}) if recovering else None)
                ctx.record(DECIDE.key, y)
                yield Output(y.x)
                yield Checkpoint({"done": True, "y": y, "last": last})
            yield from spec.respond(ctx, last, y)
        return body

    specs = [ProcessSpec(process(p, False), recover=process(p, True)) for p in range(n)]
    return System(specs, registers=spec.registers(steps.initial_register(problem.d, n, params["provenance"])),
                  seed=seed)


def mdaa_values(trace) -> dict[int, list]:
    """Y[r]: the y_r values computed (inputs for r = 1, then every aggregate of round r − 1)."""
    Y = {1: list(recorded_inputs(trace))}
    for a in trace.records(Aggregated):
        Y.setdefault(a.r + 1, []).append(a.y)
    return Y


def mdaa_factors(trace) -> list[float]:
    """diam(Y_{r+1}) / diam(Y_r) for every round with diam(Y_r) > 0."""
    Y = mdaa_values(trace)
    return [diameter(Y[r + 1]) / diameter(Y[r]) for r in sorted(Y) if r + 1 in Y and diameter(Y[r]) > 0]


def metrics(trace, problem, params):
    from .cluster_agreement import round_factors
    n = Clusters.parse(params["clusters"]).n
    R, K = resolve(params, n)
    outs = [o[-1] for _, o in sorted(trace.outputs.items()) if o]
    d_in = diameter(recorded_inputs(trace))
    d_out = diameter(outs) if outs else math.nan
    kappa = kappa_round(params["rule"], cluster_precision(K), n)
    return {"outputs": len(outs), "R": R, "K": K, "eps": cluster_precision(K),
            "kappa_round": kappa if kappa is not None else math.nan,
            "q_guaranteed": kappa ** (2 * R) if kappa is not None else math.nan,
            "diameter_in": d_in, "diameter_out": d_out,
            "contraction": (d_out / d_in) ** 2 if d_in > 0 and outs else 0.0,
            "worst_round": max(mdaa_factors(trace), default=0.0),
            "worst_in_cluster": max(round_factors(trace), default=0.0),
            "skips": sum(a.skip for a in trace.records(Aggregated)),
            "cluster_skips": len(trace.records(Skipped)), "crashes": len(trace.crashed),
            "recoveries": sum(e.startswith("recover ") for e in trace.events)}


def _check_rule(v) -> str | None:
    try:
        resolve_rule(v)
    except InputError as e:
        return str(e)
    return None


def check(problem, params) -> None:
    clusters = Clusters.parse(params["clusters"])
    agreement_inputs(problem, params, 0)
    resolve(params, clusters.n)


def _open_unit(what: str):
    def check(v):
        if v is None:
            return None
        return None if 0.0 < v < 1.0 else f"{what} must be in (0, 1), got {v!r}"
    return check


PARAMS = {
    **cluster_params([2, 2, 1]),
    # below (float64's ε)² a contraction of squared diameters is lost in rounding, and ε below
    # float64's ε is a precision no value can show: R and K stay in the hundreds
    "q": Param("q", float, 0.1, "target contraction: max||y_i-y_j||^2 <= q max||x_i-x_j||^2 (sets R)",
               _open_unit("q"), lo=1e-30, hi=1.0, hi_open=True),
    "eps": Param("eps", float, 0.25, "in-cluster precision ε (sets K = 1 + ceil(ln ε / ln sqrt(6/7)))",
                 _open_unit("eps (the in-cluster precision)"), lo=1e-15, hi=1.0, hi_open=True,
                 what="eps (the in-cluster precision)"),
    "T": bounded_int("T", None, "rounds R (default: derived from q)", 1, MAX_ROUNDS, "T (the rounds R)"),
    "K": bounded_int("K", None, "in-cluster rounds, the slide's constant (default: from eps)", 1, MAX_ROUNDS),
    "rule": Param("rule", str, "midextremes", f"Aggregate rule: {', '.join(sorted(RULES))} or module:function",
                  _check_rule),
}


def memory(problem, p) -> MemoryEstimate:
    """R rounds: K in-cluster rounds (c + 1 steps per process of a cluster of c), a broadcast to
    and receipt from all n (n(n + 4) steps); per round and process K + 4 records with values;
    a register per process and round, and the values the registers and messages hold (with n
    exact weights each when ``provenance``)."""
    c = Clusters.parse(p["clusters"])
    n, d = c.n, problem.d
    R, K = resolve(p, n)
    steps = K * sum(s * (s + 1) for s in c.sizes) + n * (n + 4)
    lower = ("T (or q)", "K (or eps)", "the clusters")
    return MemoryEstimate(
        events_cost(R * steps + 10 * n, f"R = {R} rounds x (K Σ c(c + 1) + n(n + 4)) = {steps}, K = {K}, n = {n}",
                    lower),
        records_cost(R * n * (K + 4), DICT_BYTES + n * INT_BYTES // 4, f"R = {R} rounds x n = {n} x (K + 4)",
                     lower),
        arrays_cost(R * n * (K + 2), d, f"R = {R} rounds x n = {n} x (K + 2) values (d = {d})", lower),
        Cost(f"R = {R} rounds x n = {n} registers and n^2 messages", R * n * (300 + 200 * n), ("T (or q)",)),
        Cost(f"exact weights (provenance=false drops them) of R = {R} rounds x n = {n} values",
             provenance_bytes(2 * R * n, n, R * (K + 1)) if p["provenance"] else 0, lower),
        Cost(f"n = {n} processes", n * 5000, ("the clusters",)))


def _max_steps(p) -> int:
    c = Clusters.parse(p["clusters"])
    R, K = resolve(p, c.n)
    biggest = max(c.sizes)
    return R * (c.n * (K * (biggest + 2) + 8) + 2 * c.n * c.n) * 4 + 20 * c.n * c.n + 1000


ALGORITHM = register(Algorithm(
    name="mdaa",
    summary="multi-dimensional approximate agreement across clusters: cluster agreement, majority, Aggregate",
    source="seed 000, slides 'Multi-Dimensional AA in the Cluster-Based Model', 'Skipping', "
           "'Recovery through Skipping', 'Back to Overall MDAA'",
    params=PARAMS,
    build=build,
    steps=STEPS,
    metrics=metrics,
    default_problem="quadratic",
    max_steps=_max_steps,
    check=check,
    family="agreement",
    memory=memory,
    records=RECORDS,
))
