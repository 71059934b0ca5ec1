"""The guarantee of Malenia SGD (seed 004, "Malenia SGD with Gradient Table") and the broken variant it must catch.

* ``malenia-round-condition``: Malenia never updates before every worker contributed
  and (1/n Σ 1/B_i)^{-1} >= S/n holds (and updates as soon as it holds); x_{k+1} =
  x_k − γ (1/n) Σ_i (Σ_j g_ij)/B_i, rows in serial order, workers in order.
  It must catch ``broken-malenia-all-but-one``: a round ends when n − 1 workers
  contributed (the batch rule taken over their rows), the average is over the rows
  present (the ``enough`` and ``aggregate`` steps replaced: two steps, one mistake).

The rounds are rebuilt from the records by :func:`.common.round_loop`, shared with Rennala.
"""

from __future__ import annotations

from fractions import Fraction

from ...reference.parameter_server.malenia import Table, rows_of, table_average
from ..common import bit_difference
from ..guarantees import Guarantee, register
from ..variants import variant
from .common import draw, in_order, job_key, round_loop


def _harmonic(counts, S: int) -> bool:
    n = len(counts)
    return all(b >= 1 for b in counts) and Fraction(n * n) >= S * sum(Fraction(1, b) for b in counts)


def check_malenia(result) -> str | None:
    p = result.params
    n, S, gamma = p["n"], p["S"], p["gamma"]

    def counts_of(fresh):
        return [sum(r.worker == i for r in fresh) for i in range(n)]

    def condition(k, fresh):
        counts = counts_of(fresh)
        if not all(counts):
            return (f"round {k} updated before every worker contributed: counts B = {counts} "
                    f"(worker {counts.index(0)} sent nothing)")
        if not _harmonic(counts, S):
            return f"round {k} updated with counts B = {counts}: (1/n Σ 1/B_i)^-1 < S/n = {S}/{n}"
        before = list(counts)
        before[fresh[-1].worker] -= 1
        if _harmonic(before, S):
            return f"round {k} waited past its condition: it already held at B = {before}"
        return None

    def update(k, fresh, table, xs):
        counts = counts_of(fresh)
        rows = [sorted(r.serial for r in fresh if r.worker == i) for i in range(n)]
        if list(table.counts) != counts or [list(m) for m in table.members] != rows:
            return (f"round {k}'s table is recorded as counts {table.counts}, members {table.members}; "
                    f"its fresh gradients give {counts}, {rows}")
        by_key = {job_key(r): r for r in fresh}
        means = [in_order([by_key[(i, s)].gradient for s in rows[i]]) / counts[i] for i in range(n)]
        return bit_difference(xs[k + 1], xs[k] - gamma * (in_order(means) / n), f"x_{k + 1}",
                              f"x_{k} − γ (1/n) Σ_i (row sum)/B_i (rows in serial order, workers in order)")

    return round_loop(result, Table, lambda fresh: _harmonic(counts_of(fresh), S), condition, update)


def _a_worker_sent_two(result) -> bool:
    return any(max(t.counts) >= 2 for t in result.trace.records(Table))


register(Guarantee(
    name="malenia-round-condition",
    statement="Malenia never updates before every worker contributed and (1/n Σ 1/B_i)^-1 >= S/n; "
              "the update is the table's per-worker then across-worker average, bit for bit",
    source="seed 004, 'Malenia SGD with Gradient Table'; Algorithm 1 of Tyurin 2025 (w = 1/B)",
    algorithms=("malenia-sgd",),
    draw=draw,
    check=check_malenia,
    hard=_a_worker_sent_two,
    hard_case="a worker sent >= 2 gradients in a round",
    broken={"malenia-sgd": "broken-malenia-all-but-one"},
))


def _all_but_one_enough(S: int):
    def enough(counts):
        filled = [b for b in counts if b >= 1]
        # the mistake: "straggler-tolerant", the rule over the rows present once n - 1 are
        return len(filled) >= len(counts) - 1 and \
            Fraction(len(filled) ** 2) >= S * sum(Fraction(1, b) for b in filled)
    return enough


def _aggregate_rows_present(fresh, n):
    rows = rows_of(fresh, n)
    g = table_average([[g for _, g in row] for row in rows if row])
    return g, {"counts": [len(r) for r in rows], "members": [[s for s, _ in row] for row in rows]}


variant("broken-malenia-all-but-one", of="malenia-sgd", mistake="a round ends when n - 1 workers contributed",
        replace={"enough": _all_but_one_enough, "aggregate": _aggregate_rows_present})
