"""The cluster-based fault model (seed 000), beside ``reference/agreement/cluster_model.py``: what the
algorithms owe under crashes and recoveries, and the fault pattern itself.

* ``agreement-termination``: under fair schedules and a fault pattern whose correct
  processes represent a majority (crash-stop or crash-recovery), the run finishes and
  every process that is up at the end has decided, recovered ones included.
* ``agreement-recovery``: a recovered process rejoins by skipping and never moves a
  round backwards: no register's round number ever decreases, no process enters an
  MDAA round lower than one it entered before, and every recovered process decides.
* ``agreement-crash-budget`` (the fault model itself, from the schedule's events and its
  recorded model): at most f crashes, of crashable processes only, recoveries only under
  crash-recovery and only of a down process, a down process silent; no process says two
  different things for one round (a round message, a register's round).
* ``agreement-correct-majority``: with the engine's constraint ``Model(majority=True)``, a
  majority is up after every event, every Aggregate heard distinct senders representing a
  majority, and every process up at the end decides.

=========================================  ================================================  =====================
variant                                    the mistake                                       caught by
=========================================  ================================================  =====================
``broken-cluster-agreement-barrier``       synchronous rounds: after each write a process     agreement-termination
                                           waits for every cluster member's "wrote r" note
``broken-mdaa-majority-of-clusters``       waits for a majority of *clusters* (the slide      agreement-termination
                                           "Skipping"'s wording) instead of processes
``broken-cluster-agreement-restarts``,     a recovered process starts over from its input     agreement-recovery
``broken-mdaa-restarts``                   at round 1 instead of its register / checkpoint
``broken-mdaa-helps-with-current-value``   a help request is answered with the process's      agreement-crash-budget
                                           current value y, labelled with the round of the
                                           last message it sent (whose value was z_r)
``broken-mdaa-counts-messages``            the wait sums the processes each round message     agreement-correct-
                                           represents: a cluster heard twice (two members,    majority
                                           or a recovered process's re-sent message) counts
                                           twice
=========================================  ================================================  =====================

``agreement-correct-majority`` also catches ``broken-cluster-agreement-barrier`` (a crash the
majority constraint allows blocks a barrier).  The rest of that guarantee and of
``agreement-crash-budget`` (at most f crashes, only crashable processes, a majority up at every
step) checks the engine's fault filters (crash budget, crashable set, majority), which no
algorithm can change, so no broken variant can replace them: those parts are shown able to fail
by ``tests/agreement/test_agreement_faults.py``, which breaks the filter itself in place.
"""

from __future__ import annotations

import math
import re

import numpy as np
from hypothesis import strategies as st

from ...reference.agreement.cluster_agreement import DECIDE, Skipped, Written
from ...reference.agreement.cluster_model import Clusters
from ...reference.agreement.mdaa import ROUND, Aggregated, Sent
from ...reference.engine import Receive, Send
from ..variants import variant
from .common import clusters_of, deliveries_of, draw_case, is_mdaa, outputs_of, register_guarantee, show


# --- termination ----------------------------------------------------------------------------------


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


def check_termination(result) -> str | None:
    trace = result.trace
    if trace.stopped != "quiescent":
        return f"the run did not finish: stopped after {len(trace.events)} events ({trace.stopped})"
    down, _ = _status(trace)
    outs = outputs_of(result)
    waiting = [p for p in range(clusters_of(result).n) if p not in down and p not in outs]
    if waiting:
        return (f"{', '.join(f'p{p}' for p in waiting)} {'is' if len(waiting) == 1 else 'are'} up and never decided, "
                f"although the correct processes represent a majority (down at the end: "
                f"{sorted(down) or 'none'}, crashes: {trace.crashed})")
    return None


def _crashed(result) -> bool:
    return len(result.trace.crashed) >= 1


register_guarantee(
    name="agreement-termination",
    statement="with a correct majority represented and fair schedules, every correct process decides "
              "(crash-stop and crash-recovery)",
    source="seed 000, 'Multi-Dimensional AA in the Cluster-Based Model' (majority), 'Recovery through Skipping'",
    draw=lambda data, alg: draw_case(data, alg, faults=data.draw(st.sampled_from(["majority", "recovery"]),
                                                           label="faults")),
    check=check_termination,
    hard=_crashed,
    hard_case="a crash happened",
    broken={"cluster-agreement": "broken-cluster-agreement-barrier", "mdaa": "broken-mdaa-majority-of-clusters"},
)


def _barrier(ctx, clusters: Clusters, me, r):
    mates = [p for p in clusters.members[me.cluster] if p != me.pid]
    for p in mates:
        yield Send(p, r, tag=f"wrote {r}")
    # the mistake: a round waits for every member of the cluster, so one crash blocks it
    yield Receive(until=lambda ms: len({m.src_pid for m in ms}) >= len(mates),
                  match=lambda m, r=r: m.tag == f"wrote {r}", label=f"barrier {r}")


variant("broken-cluster-agreement-barrier", of="cluster-agreement",
        mistake="every round waits for all cluster members", replace={"proceed": _barrier})


def _majority_of_clusters(clusters: Clusters, senders) -> bool:
    return 2 * len({clusters.cluster_of(s) for s in senders}) > len(clusters.members)


variant("broken-mdaa-majority-of-clusters", of="mdaa",
        mistake="waits for messages from a majority of clusters, not of processes",
        replace={"represented_majority": _majority_of_clusters})


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
    for step, pid, _, v in trace.stepwise(ROUND) if is_mdaa(result) else ():
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
    events, mdaa = result.trace.events, is_mdaa(result)
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
    for step, pid, _, v in result.trace.stepwise(Skipped, *((Aggregated,) if is_mdaa(result) else ())):
        if pid in recovered_at and step > recovered_at[pid] and (isinstance(v, Skipped) or v.skip):
            return True
    return False


register_guarantee(
    name="agreement-recovery",
    statement="a recovered process rejoins by skipping and never moves a round backwards (registers, MDAA rounds)",
    source="seed 000, 'Recovery through Skipping', 'Skipping'",
    draw=lambda data, alg: draw_case(data, alg, faults="recovery"),
    check=check_recovery,
    hard=_recovered_and_skipped,
    hard_case="a crash right after an Aggregate and its checkpoint (a write), its recovery; "
              "a recovered process skipped",
    broken={"cluster-agreement": "broken-cluster-agreement-restarts", "mdaa": "broken-mdaa-restarts"},
)


def _start_over(register):
    return None, 0                           # the mistake: the register is not read, round 1 again
    yield


variant("broken-cluster-agreement-restarts", of="cluster-agreement",
        mistake="a recovered process starts over at round 1", replace={"resume_register": _start_over})
variant("broken-mdaa-restarts", of="mdaa", mistake="a recovered process starts over at round 1",
        replace={"resume": lambda checkpoint: {}, "resume_register": _start_over})   # the mistake: no checkpoint


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
    for step, pid, _, v in result.trace.stepwise(Written, *((Sent,) if is_mdaa(result) else ())):
        if isinstance(v, Sent):
            what, x = (f"p{pid}'s round-{v.r} message", pid, v.r), v.z
        else:
            where = f"cluster {v.c}" + (f" (MDAA round {v.inst})" if v.inst else "")
            what, x = (f"A[{v.j}] of {where} with round {v.round}", v.inst, v.c, v.j, v.round), v.x
        x = np.asarray(x, dtype=np.float64)
        first = said.setdefault(what, (step, x))
        if first[1].tobytes() != x.tobytes():
            return (f"{what[0]} carried {show(first[1])} (step {first[0]}) and {show(x)} (step {step}): "
                    f"one process spoke with two voices")
    return None


def check_crash_budget(result) -> str | None:
    model, n = result.schedule.model, clusters_of(result).n
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
    model, n = result.schedule.model, clusters_of(result).n
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


register_guarantee(
    name="agreement-crash-budget",
    statement="a run's faults are its fault pattern's: at most f crashes, of crashable processes only, recoveries "
              "only under crash-recovery, a down process silent; no process speaks with two voices",
    source="seed 000, 'Cluster-Based Model', 'Recovery through Skipping' (crash-stop, crash-recovery from "
           "non-volatile memory)",
    draw=lambda data, alg: draw_case(data, alg, faults="budget", min_n=3),
    check=check_crash_budget,
    hard=_budget_used_up,
    hard_case="the budget f used up while a crashable process was up and undecided",
    broken={"mdaa": "broken-mdaa-helps-with-current-value"},
)


variant("broken-mdaa-helps-with-current-value", of="mdaa",
        mistake="a help request is answered with the current value, labelled with the last round",
        replace={"answer": lambda last, y: (last[0], y)})               # the mistake: y, not z_r


def check_correct_majority(result) -> str | None:
    clusters = clusters_of(result)
    n = clusters.n
    down: set[int] = set()
    for i, e, kind, p in _faults(result):
        if kind in ("crash", "recover"):
            (down.add if kind == "crash" else down.discard)(p)
            if 2 * (n - len(down)) <= n:
                return (f"after step {i} ({e}) {n - len(down)} of n = {n} processes are up, no majority "
                        f"(down: {', '.join(f'p{q}' for q in sorted(down))}), under the majority constraint")
    got = deliveries_of(result.trace)
    for step, pid, _, a in result.trace.stepwise(Aggregated) if is_mdaa(result) else ():
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
    n = clusters_of(result).n
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


register_guarantee(
    name="agreement-correct-majority",
    statement="under the majority constraint (Model(majority=True)) a majority is up at every step, every Aggregate "
              "heard a majority of distinct processes, and every process up at the end decides",
    source="seed 000, 'Multi-Dimensional AA in the Cluster-Based Model' (messages representing a majority), "
           "'Non Strongly Convex Functions Require a Majority'",
    draw=lambda data, alg: draw_case(data, alg, faults="process-majority", min_n=3, skewed=True),
    check=check_correct_majority,
    hard=_bare_majority,
    hard_case="half the processes down (a bare majority up) before all decided",
    broken={"cluster-agreement": "broken-cluster-agreement-barrier", "mdaa": "broken-mdaa-counts-messages"},
)


def _per_message(clusters: Clusters, senders) -> bool:
    # the mistake: Σ over the messages of the processes each represents (a cluster counted per message)
    return 2 * sum(len(clusters.members[clusters.cluster_of(s)]) for s in senders) > clusters.n


variant("broken-mdaa-counts-messages", of="mdaa",
        mistake="the wait counts each message's represented processes, a cluster once per message",
        replace={"represented_majority": _per_message})
