"""The guarantees every registered algorithm owes, whoever wrote it: they cover it automatically.

* ``replay-determinism``: replaying a run's schedule reproduces its digest bit for bit
  (design notes, "Determinism rules"; the fresh-process and JIT-off halves are in
  ``tests/test_determinism.py``).  Every algorithm of the registry is covered: a guarantee
  module may say how to draw its algorithms' cases (:func:`replay_covers`); one that does not
  is drawn as the first guarantee that checks it draws its cases.
* ``schedule-independence``: an algorithm that aggregates synchronously (it declares the
  :data:`~asyncproof.reference.records.ARRIVAL` record: the order its round's results
  arrived in) gives a result that does not depend on that order, bit for bit (seed 003,
  Algorithms 1, 3 and 4: the sum is taken in worker order, never arrival order).

The broken variant each must catch is declared here, beside it.
"""

from __future__ import annotations

from hypothesis import strategies as st

from ..reference.adversaries import RoundRobin
from ..reference.baselines._common import start_point
from ..reference.records import ARRIVAL
from ..reference.schedule import replay, run_algorithm
from .common import bit_difference, final_output, nonbenign
from .guarantees import Case, Guarantee, register
from .strategies import baseline_params, problems, seeds
from .variants import variant

# ---------------------------------------------------------------------------------------
# replay determinism

#: how to draw a case of each algorithm for replay determinism (filled by :func:`replay_covers`)
REPLAY_DRAWS: dict = {}


def replay_covers(draw, *algorithms: str) -> None:
    """Draw the cases of ``algorithms`` for replay determinism with ``draw`` (their family's own)."""
    for a in algorithms:
        REPLAY_DRAWS[a] = draw
    REPLAY.algorithms = tuple(REPLAY.algorithms) + tuple(a for a in algorithms if a not in REPLAY.algorithms)


def check_replay(result) -> str | None:
    rep = replay(result.schedule)
    return None if rep.reproduced else f"replaying the run's own schedule: {rep.report()}"


def _replay_hard(result) -> bool:
    if max(result.trace.enabled_counts, default=1) > 1:
        return nonbenign(result)
    return len(set(result.trace.observed("j"))) > 1     # one process: the samples drawn vary (any algorithm: none without "j")


REPLAY = register(Guarantee(
    name="replay-determinism",
    statement="replaying a run's schedule reproduces the run bit for bit (same digest)",
    source="design notes, 'Determinism rules'",
    algorithms=(),
    draw=lambda data, alg: REPLAY_DRAWS[alg](data, alg),
    check=check_replay,
    hard=_replay_hard,
    hard_case="non-benign schedule (or varying samples)",
    broken={"sgd": "broken-sgd-warm-start-leak"},
))

_LAST_ITERATE: dict = {}   # the mistake: state that outlives the run
_RUN_KEY: list = [None]    # the problem of the run in progress, set by its start


def _leaky_start(problem, params):
    _RUN_KEY[0] = (problem.name, problem.d)
    return _LAST_ITERATE.get(_RUN_KEY[0], start_point(problem, params))


def _leaky_update(x, g, gamma):
    x = x - gamma * g
    _LAST_ITERATE[_RUN_KEY[0]] = x                       # the next run "warm-starts" from here
    return x


variant("broken-sgd-warm-start-leak", of="sgd", mistake="starts from the previous run's last iterate",
        replace={"start": _leaky_start, "update": _leaky_update})

# ---------------------------------------------------------------------------------------
# schedule independence of the synchronous aggregators


def check_schedule_independence(result) -> str | None:
    s = result.schedule
    benign = run_algorithm(s.algorithm, problem=s.problem, params=s.params, seed=s.seed, adversary=RoundRobin())
    for pid in sorted(set(result.trace.outputs) | set(benign.trace.outputs)):
        diff = bit_difference(final_output(result, pid), final_output(benign, pid),
                              "the result under this schedule", "the result under round-robin")
        if diff:
            return diff
    return None


#: dense problems, whose gradients are sums of unrelated floats: a reordered sum changes their bits
DENSE = ["least-squares", "logistic"]


def _draw_more_terms(data, algorithm: str) -> Case:
    """Larger batches and more workers than elsewhere, on dense problems: more terms whose order can
    matter, and terms whose sum rounds differently in another order."""
    fixed = {"n": data.draw(st.integers(2, 5), label="n")}
    if algorithm == "minibatch-sgd":
        fixed["b"] = data.draw(st.integers(4, 8), label="b")
    params = data.draw(baseline_params(algorithm, **fixed), label="params")
    problem = data.draw(problems(names=DENSE, min_m=params["n"]), label="problem")
    return Case(algorithm, problem, params, data.draw(seeds(), label="seed"))


def _out_of_order(result) -> bool:
    # with two terms a + b = b + a exactly; a reordering can only matter from three on
    return any(len(a) >= 3 and list(a) != sorted(a) for a in result.trace.records("arrival"))


INDEPENDENT = register(Guarantee(
    name="schedule-independence",
    statement="the result does not depend on the order in which workers finish",
    source="seed 003, Algorithms 1, 3 and 4 (synchronous aggregation)",
    algorithms=(),
    draw=_draw_more_terms,
    check=check_schedule_independence,
    hard=_out_of_order,
    hard_case=">= 3 results arrived out of order",
    broken={"minibatch-sgd": "broken-minibatch-arrival-order"},
))


def _aggregate_in_arrival_order(jobs, messages):
    delta = messages[0].payload.copy()
    for m in messages[1:]:
        delta = delta + m.payload          # the mistake: whoever finished first is added first
    return delta


variant("broken-minibatch-arrival-order", of="minibatch-sgd", mistake="sums in arrival order",
        replace={"aggregate": _aggregate_in_arrival_order})

# ---------------------------------------------------------------------------------------


def cover_every_algorithm(guarantees) -> None:
    """Make the two guarantees cover every registered algorithm (called once all are loaded).

    Replay determinism: an algorithm no module named in :func:`replay_covers` is drawn as the
    first guarantee that checks it draws its cases (an algorithm without any guarantee is
    refused by tests/test_registry_rules.py).  Schedule independence: every algorithm declaring
    the ``arrival`` record, in name order."""
    from ..reference.registry import algorithms
    for alg in algorithms():
        if alg.name not in REPLAY_DRAWS:
            owner = next((g for g in guarantees if g is not REPLAY and alg.name in g.algorithms), None)
            if owner is not None:
                replay_covers(owner.draw, alg.name)
        if ARRIVAL.key in (alg.records or {}) and alg.name not in INDEPENDENT.algorithms:
            INDEPENDENT.algorithms = tuple(INDEPENDENT.algorithms) + (alg.name,)
