"""The guarantees of Ringleader ASGD (Maranjyan & Richtárik 2025; seed 004) and the broken variants they must catch.

* ``ringleader-phases``: Ringleader never updates before every worker has a gradient
  in the table; after that exactly one update per worker (phase 2), the worker that
  completed phase 1 first; each update is the table average of the reconstructed
  table; update delays <= 2n − 2 (``Update.tau``).  It must catch
  ``broken-ringleader-n-minus-one``: phase 1 ends when n − 1 rows of the table are
  filled; updates average the rows present (the ``phase1_done`` step replaced).
* ``ringleader-no-discarded-work``: every received gradient is used by an update or
  still stored at the end ("no discarded work").  It must catch
  ``broken-ringleader-drops-stored``: an already-updated worker's arrival in phase 2 is
  recorded as stored but never put in the temporary table: it is lost (the ``store``
  step replaced).
"""

from __future__ import annotations

from ...reference.parameter_server.ringleader import STORED, RingleaderReceived, Update
from ..common import bit_difference
from ..guarantees import Guarantee, register
from ..variants import variant
from .common import draw, each_job_once_in_order, finished, in_order, iterates, job_key, server_records


def _restarts(recs, restart_at: dict) -> str | None:
    """A worker is restarted the moment its result arrives, at the iterate it was restarted at:
    its job #s+1 computes at ``restart_at[(w, s)]``; every job #0 at x_0."""
    for r in recs:
        w, s = job_key(r)
        want = 0 if s == 0 else restart_at.get((w, s - 1))
        if r.pi != want:
            return f"worker {w}'s job #{s} computed at x_{r.pi}, but it was started at x_{want}"
    return None


def check_ringleader(result) -> str | None:
    """Rebuilds the table (G_i, b_i) and the temporary table from the order of the records:
    an arrival before the round's first update fills the table (phase 1), after it the
    table if its worker has not updated this round, else the temporary table; n updates
    end the round and the temporary table becomes the table."""
    p, xs = result.params, iterates(result)
    n, T, gamma = p["n"], p["T"], p["gamma"]
    table, stored = [[] for _ in range(n)], [[] for _ in range(n)]      # rows of "received" records
    done, rnd, t, trigger = [], 0, 0, None          # done: the workers updated this round, in order
    recs, restart_at, used = [], {}, set()
    for key, val in server_records(result, RingleaderReceived, Update):
        if key == RingleaderReceived.key:
            r, w, s = val, val.worker, val.serial
            recs.append(r)
            if trigger is not None:
                return (f"worker {trigger}'s gradient should have triggered update {t}, "
                        f"but worker {w}'s gradient #{s} arrived first")
            if r.t != t or r.round != rnd or r.tau != t - r.pi or r.pi > t:
                return (f"worker {w}'s gradient #{s} arrived after {t} updates in round {rnd}, recorded as "
                        f"t = {r.t}, round {r.round}, π = {r.pi}, τ = {r.tau}")
            if w in done:
                if not r.stored or r.phase != 2:
                    return f"worker {w} had updated in round {rnd}, but its gradient #{s} was not stored"
                stored[w].append(r)
                restart_at[(w, s)] = r.pi                   # computes again at its own point
                continue
            if r.stored or r.phase != (2 if done else 1):
                return (f"round {rnd}: worker {w}'s gradient #{s} belongs in the table (phase "
                        f"{2 if done else 1}), recorded phase {r.phase}, stored = {r.stored}")
            table[w].append(r)
            if done or all(table):
                trigger = w
            # the updater is sent x_(t+1) after its update; any other arrival computes again at its own point
            restart_at[(w, s)] = t + 1 if trigger is not None and t + 1 < T else r.pi
        else:                                                           # Update
            u = val
            if not all(table):
                empty = [i for i in range(n) if not table[i]]
                return f"update {t} before phase 1 of round {rnd} was complete: worker(s) {empty} have no gradient"
            if trigger is None:
                return f"update {t} of round {rnd} without an arrival to trigger it"
            if u.t != t or u.round != rnd or u.worker != trigger or u.position != len(done) + 1:
                return (f"update {t} (round {rnd}, position {len(done) + 1}, triggered by worker {trigger}) "
                        f"was recorded as t = {u.t}, round {u.round}, position {u.position}, "
                        f"worker {u.worker}")
            rows = [sorted(r.serial for r in row) for row in table]
            if [list(m) for m in u.members] != rows or list(u.counts) != [len(row) for row in rows]:
                return f"update {t}: the table is recorded as {u.members}, the arrivals give {rows}"
            delays = [t - min(r.pi for r in row) for row in table]
            if list(u.delays) != delays or u.tau != max(delays):
                return f"update {t}: recorded delays {u.delays} (τ = {u.tau}), recomputed {delays}"
            if max(delays) > 2 * n - 2:
                return f"update {t}: delay {max(delays)} exceeds 2n − 2 = {2 * n - 2}"
            means = [in_order([r.gradient for r in sorted(row, key=lambda r: r.serial)]) / len(row)
                     for row in table]
            diff = bit_difference(xs[t + 1], xs[t] - gamma * (in_order(means) / n), f"x_{t + 1}",
                                  f"x_{t} − γ (1/n) Σ_i G_i/b_i of the table rebuilt from the arrivals")
            if diff:
                return diff
            used |= {job_key(r) for row in table for r in row}
            done.append(trigger)
            t, trigger = t + 1, None
            if len(done) == n:                                          # the round is over
                table, stored, done, rnd = stored, [[] for _ in range(n)], [], rnd + 1
    msg = each_job_once_in_order(recs, n) or _restarts(recs, restart_at)
    if msg:
        return msg
    if finished(result):
        if t != T:
            return f"the run finished after {t} of T = {T} updates"
        left = sorted({job_key(r) for row in table + stored for r in row} - used)
        rec = result.trace.records(STORED.key, 0)
        if not rec or sorted(tuple(m) for m in rec[-1]) != left:
            return f"the run reports {rec[-1] if rec else 'nothing'} still stored; the arrivals leave {left}"
    return None


def _delay_beyond_n(result) -> bool:
    """An update used a gradient n or more updates old (a stored one that came back, or a slow
    worker's): beyond what one round of n updates gives, toward the bound 2n − 2."""
    n = result.params["n"]
    return any(u.tau >= n for u in result.trace.records(Update))


register(Guarantee(
    name="ringleader-phases",
    statement="Ringleader updates only once every worker has a gradient in the table, then exactly once per "
              "worker; each update is the rebuilt table's average bit for bit; update delays <= 2n − 2",
    source="seed 004, slides 'Ringleader ASGD: Phase 1 (collect)', 'Phase 2 (update)'; "
           "Maranjyan & Richtárik 2025",
    algorithms=("ringleader-asgd",),
    draw=draw,
    check=check_ringleader,
    hard=_delay_beyond_n,
    hard_case="an update delay >= n",
    broken={"ringleader-asgd": "broken-ringleader-n-minus-one"},
))


def _n_minus_one_rows(table) -> bool:
    return sum(1 for row in table if row) >= len(table) - 1     # the mistake: one row may still be empty


variant("broken-ringleader-n-minus-one", of="ringleader-asgd",
        mistake="phase 1 ends when n - 1 rows of the table are filled", replace={"phase1_done": _n_minus_one_rows})

# --- no discarded work: a gradient that arrives in phase 2 is stored for the next round ----------


def check_no_discarded_work(result) -> str | None:
    """Every received gradient is a member of an update after its arrival, or in the final
    "stored"; an update's members were all received before it."""
    received, used = {}, set()
    for key, val in server_records(result, RingleaderReceived, Update):
        if key == RingleaderReceived.key:
            received[job_key(val)] = val
        else:                                                           # Update
            members = {(i, s) for i, row in enumerate(val.members) for s in row}
            phantom = sorted(members - set(received))
            if phantom:
                return f"update {val.t} used gradients {phantom} that had not arrived"
            used |= members
    stored = result.trace.records(STORED.key, 0)
    if not stored:
        return None if not finished(result) else "the run finished without recording what is still stored"
    left = {tuple(m) for m in stored[-1]}
    both = sorted(left & used)
    if both:
        return f"gradients {both} are reported stored at the end, but were already used"
    lost = sorted(set(received) - used - left)
    if lost:
        w, s = lost[0]
        r = received[(w, s)]
        return (f"worker {w}'s gradient #{s} (received after {r.t} updates, phase {r.phase}, "
                f"stored = {r.stored}) was never used and is not stored: discarded work")
    return each_job_once_in_order(list(received.values()), result.params["n"])


def _stored_in_phase_2(result) -> bool:
    return any(r.stored for r in result.trace.records(RingleaderReceived))


register(Guarantee(
    name="ringleader-no-discarded-work",
    statement="Ringleader discards no work: every received gradient is used by an update or still stored",
    source="Maranjyan & Richtárik 2025 ('no idle workers, no discarded work'); seed 004, 'Prepare for the "
           "Next Round'",
    algorithms=("ringleader-asgd",),
    draw=draw,
    check=check_no_discarded_work,
    hard=_stored_in_phase_2,
    hard_case="a gradient stored in phase 2",
    broken={"ringleader-asgd": "broken-ringleader-drops-stored"},
))


def _dropped(stored, worker: int, entry) -> None:
    return None                                                 # the mistake: never put in the temporary table


variant("broken-ringleader-drops-stored", of="ringleader-asgd",
        mistake="arrivals of already-updated workers are recorded as stored, then lost", replace={"store": _dropped})
