"""The guarantee of Rennala SGD (Tyurin & Richtárik, NeurIPS 2023) and the broken variant it must catch.

* ``rennala-fresh-only``: Rennala uses only gradients computed at the current
  iterate x_k, exactly S per update, x_{k+1} = x_k − γ (1/S) Σ (sorted by worker,
  serial) bit for bit; every stale one is recorded as discarded, none silently.
  It must catch ``broken-rennala-uses-stale``: a result one round old (computed at
  x^{k-1}) still counts toward the S of round k (the ``fresh`` step replaced).

The rounds are rebuilt from the records by :func:`.common.round_loop`, shared with Malenia.
"""

from __future__ import annotations

from ...reference.parameter_server.common import Received
from ...reference.parameter_server.rennala import Batch
from ..common import bit_difference
from ..guarantees import Guarantee, register
from ..variants import variant
from .common import draw, in_order, job_key, round_loop


def check_rennala(result) -> str | None:
    p = result.params
    S, gamma = p["S"], p["gamma"]

    def exactly_S(k, fresh):
        return None if len(fresh) == S else f"round {k} updated with {len(fresh)} fresh gradients, not S = {S}"

    def update(k, fresh, batch, xs):
        members = sorted(job_key(r) for r in fresh)
        if [tuple(m) for m in batch.members] != members:
            return f"round {k}'s batch is recorded as {batch.members}, its fresh gradients were {members}"
        by_key = {job_key(r): r for r in fresh}
        g = in_order([by_key[m].gradient for m in members]) / S
        return bit_difference(xs[k + 1], xs[k] - gamma * g, f"x_{k + 1}",
                              f"x_{k} − γ (1/S) Σ of the S fresh gradients (sorted by worker, serial)")

    return round_loop(result, Batch, lambda fresh: len(fresh) >= S, exactly_S, update)


def _discarded_stale(result) -> bool:
    return any(not r.used and r.tau > 0 for r in result.trace.records(Received))


register(Guarantee(
    name="rennala-fresh-only",
    statement="Rennala updates with exactly S gradients computed at x_k, x_{k+1} = x_k − γ mean bit for bit; "
              "every stale one is recorded discarded",
    source="Tyurin & Richtárik, NeurIPS 2023 (Rennala SGD); Algorithm 1 of Tyurin 2025, lines 4-12",
    algorithms=("rennala-sgd",),
    draw=draw,
    check=check_rennala,
    hard=_discarded_stale,
    hard_case="a stale gradient discarded",
    broken={"rennala-sgd": "broken-rennala-uses-stale"},
))


def _fresh_enough(job, k: int) -> bool:
    return job.pi >= k - 1          # the mistake: "fresh enough", a gradient one round old still counts


variant("broken-rennala-uses-stale", of="rennala-sgd",
        mistake="a gradient computed at x_{k-1} still counts toward the S of round k",
        replace={"fresh": _fresh_enough})
