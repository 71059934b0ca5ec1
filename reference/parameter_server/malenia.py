"""Malenia SGD: a gradient table per round, averaged per worker, then across workers.

Seed 004 (004_5e02a306927ced0b.txt), slides "Back to Synchrony: Malenia SGD" (Tyurin and
Richtárik) and "Malenia SGD with Gradient Table" ... "Synchronize and Repeat";
Tyurin & Richtárik, "Optimal time complexities of parallel stochastic optimization
methods under a fixed computation model", NeurIPS 2023 (arXiv:2305.12387): Malenia SGD
is the optimal method of the *heterogeneous* setting.  The line numbers and quoted
lines are those of Algorithm 1 in Tyurin, "Bridging the gap between homogeneous and
heterogeneous asynchronous optimization is surprisingly difficult" (2025), which
restates Malenia (w_i^k = 1/B_i^k) and Rennala in one loop; that loop is
:func:`~.rennala.round_server`, shared with :mod:`.rennala`.

=====  ================================================================  ==========================================
line   Algorithm 1, quoted (Malenia: w_i^k = 1/B_i^k)                    here (``round_server`` + ``malenia_*``)
=====  ================================================================  ==========================================
1      "Input: point x^0, stepsize γ, parameter S, weights {w_i^k}"      ``xs = [x0]``; params gamma, S
2      "for k = 0, 1, …, K − 1 do"                                       ``for k in range(T)``
3      "Ask all workers to calculate stochastic gradients at x^k;        :func:`~.rennala.ask_all`; a fresh table
       init g_i^k = 0 and B_i^k = 0"                                     (the slide's empty table)
4      "while (1/n Σ_i (w_i^k)² B_i^k)^{-1} ≤ S/n do", i.e. while        :func:`malenia_enough` (see "the rule")
       (1/n Σ_i 1/B_i^k)^{-1} ≤ S/n
5      "Wait for the next worker j"                                      the adversary picks which job finishes
6-7    "Update B_j^k = B_j^k + 1"; "… update g_j^k = g_j^k +             the table row of j: its gradients at x^k
       ∇f_j(x^k; ξ)"
8      "Ask this worker to calculate a stochastic gradient at x^k"       :func:`~.rennala.ask_again`
10     "g_w^k := 1/n Σ_i w_i^k g_i^k" = (1/n) Σ_i (1/B_i^k) g_i^k        :func:`table_average`
11     "x^{k+1} = x^k − γ g_w^k"                                         ``xs.append(xs[k] - gamma * g)``
12     "Stop all the workers' calculations (or ignore the unfinished     ``stale="stop"`` (default) or
       calculations in the next iterations)"                             ``"ignore"``, as in :mod:`.rennala`
=====  ================================================================  ==========================================

Readings and deviations:

* **The rule.**  The round ends as soon as, after a fresh gradient arrives, every
  worker has contributed (B_i >= 1) **and** the harmonic mean of the counts reaches
  S/n: (1/n Σ_i 1/B_i)^{-1} >= S/n, i.e. n^2 >= S Σ_i 1/B_i, tested exactly in rational
  arithmetic.  A zero count makes the harmonic mean 0 (1/0 = ∞), so the first part is
  implied whenever S >= 1; it is kept explicit because it is the slide's "synchronize"
  (every row of the table filled).  The restated line 4 continues while the mean is
  <= S/n, i.e. stops only at > S/n ("The method waits for the moment when
  (1/n Σ 1/B_i^k)^{-1} > S/n", proof of its Theorem F.2); the two differ only when the
  mean equals S/n exactly, where we stop, as Rennala's "exactly S" (so with S <= n a
  round ends the moment the last worker delivers its first gradient).
* **Stop or ignore (line 12).**  As in :mod:`.rennala`: ``"stop"`` by default, every
  worker restarts at x^{k+1}; with ``"ignore"`` a worker still busy at an older
  iterate finishes first and its result is discarded.  The proof of Theorem F.2 bounds a
  round by t̄ = 2(τ_n + (1/n Σ_i τ_i) S/n) "because the number of computed stochastic
  gradients B_i^k >= ⌊t̄/τ_i⌋" (claim ``rennala-malenia-round-time``).  With n = 10,
  S = 10 and τ_i = i every round takes τ_10 = 10 with stops (100 for T = 10, as
  mini-batch SGD); when ignored, every round after the first takes 2 τ_10 = 20 (190),
  since the slowest worker is always one stale job behind.
* **Summation order.**  Each row is summed in its worker's serial order (the order
  that worker computed them; arrival order across workers never enters), starting
  from its first gradient, then divided by B_i; the n row means are summed in worker
  order 0 .. n−1 and divided by n.  Division, not multiplication by 1/B_i or 1/n.

Named steps: Rennala's (:data:`~.rennala.STEPS`) with ``enough(S)`` (line 4: returns the
test on the counts, :func:`malenia_enough`) and ``aggregate(fresh, n)`` (line 10,
:func:`malenia_aggregate`) replaced.

Recorded (:func:`~.rennala.round_records`): ``"received"`` per arriving gradient
(:class:`~.common.Received`: ``t`` = round k, ``pi``, ``tau``, ``used``, ``samples``,
``gradient``), ``"table"`` per update (:class:`Table`: ``k``, ``counts`` B_i, ``members``: each
row's serials in summation order), ``"x"``, ``"stopped"`` per stop, ``"discarded"``.
"""

from __future__ import annotations

from fractions import Fraction

from ..records import Record, record
from ..registry import Algorithm, register
from ..baselines._common import gamma_param, iterations_param
from . import rennala
from .common import check_workers, sum_in_order, worker_params
from .rennala import RoundRule, S_param, build_rounds, metrics, round_records, round_rule, rounds_memory, stale_param


@record("table")
class Table(Record):
    """Line 10 of round ``k``: the gradient table, its ``counts`` B_i^k and its ``members``: per
    worker i, the serials of its row in summation order."""
    k: int
    counts: list
    members: list


def harmonic_condition(counts, S: int) -> bool:
    """Every B_i >= 1 and (1/n Σ 1/B_i)^{-1} >= S/n, exactly: n^2 >= S Σ_i 1/B_i."""
    n = len(counts)
    if any(b < 1 for b in counts):
        return False
    return Fraction(n * n) >= S * sum(Fraction(1, b) for b in counts)


def rows_of(fresh, n: int):
    """The table: per worker, its (serial, gradient) pairs in serial order."""
    rows = [[] for _ in range(n)]
    for w, s, g in fresh:
        rows[w].append((s, g))
    for row in rows:
        row.sort(key=lambda e: e[0])
    return rows


def malenia_enough(S: int):
    """Line 4 (a step that returns the test on the counts B_i^k): :func:`harmonic_condition`."""
    return lambda counts: harmonic_condition(counts, S)


def table_average(rows):
    """(1/n) Σ_i (G_i / B_i): each row (a list of gradients in order) summed from its first
    gradient and divided by its count; the row means summed in row order, divided by n."""
    means = [sum_in_order(row) / len(row) for row in rows]
    return sum_in_order(means) / len(rows)


def malenia_aggregate(fresh, n):
    """Line 10: the table of the round's fresh gradients, :func:`table_average` of its rows."""
    rows = rows_of(fresh, n)
    g = table_average([[g for _, g in row] for row in rows])
    return g, {"counts": [len(r) for r in rows], "members": [[s for s, _ in row] for row in rows]}


STEPS = rennala.STEPS.replace(enough=malenia_enough, aggregate=malenia_aggregate)


def malenia_rule(S: int) -> RoundRule:
    """Malenia's own steps (:data:`STEPS`) with S bound."""
    return round_rule(STEPS, S, Table)


def build(problem, params, seed, steps):
    return build_rounds(problem, params, seed, round_rule(steps, params["S"], Table))


PARAMS = {"gamma": gamma_param(), "T": iterations_param(),
          "S": S_param("a round ends when every worker contributed and (1/n Σ 1/B_i)^{-1} >= S/n; S >= 1"),
          "stale": stale_param(), **worker_params()}

# A round waits for the slowest worker, so the number of results per round is not bounded
# by the parameters (it grows with the ratio of compute times); 64 (S + n) results per round,
# three events each, leaves room for a ratio of about 64.  An unfair adversary (PCT without a
# fairness bound) can starve a worker forever: the run then stops here, unfinished.
ALGORITHM = register(Algorithm(
    name="malenia-sgd",
    summary="Malenia SGD: per-round gradient table at x_k, every worker contributes, g = (1/n) Σ_i G_i/B_i",
    source="seed 004, slides 'Malenia SGD with Gradient Table'; Tyurin & Richtárik, NeurIPS 2023; "
           "Algorithm 1 of Tyurin 2025 (w = 1/B)",
    params=PARAMS,
    build=build,
    steps=STEPS,
    metrics=metrics,
    default_problem="least-squares",
    max_steps=lambda p: 3 * 64 * (p["T"] + 1) * (p["S"] + p["n"]) + 100,
    check=check_workers,
    family="parameter-server",
    memory=rounds_memory,
    records=round_records(Table),
))
