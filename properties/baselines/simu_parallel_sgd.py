"""SimuParallelSGD's guarantees, each with the broken variant it must catch.

Seed 003, "Algorithm 3 SimuParallelSGD" (Zinkevich et al. 2010)
(:mod:`asyncproof.reference.baselines.simu_parallel_sgd`).

* ``simu-parallel-one-node``: SimuParallelSGD with n = 1 is SGD (Algorithm 2) on that node's
  shuffled order, bit for bit, under any schedule.

  - ``broken-simu-parallel-drops-last``: each node sends w_{T-1}, so its last update is lost.

* ``simu-parallel-average``: against an independent statement of the algorithm (see
  :mod:`.common`): the result is the average of n SGD runs on the nodes' documented shards and
  shuffles, run here.

  - ``broken-simu-parallel-one-based-sum``: the slide's ``sum_{i=1..n}`` read as ``range(1, n)``:
    node 0's model is left out of the sum, which is still divided by n.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from ...reference.schedule import run_algorithm
from ..common import bit_difference, final_output
from ..guarantees import Guarantee, register
from ..kernels import SPLIT_STREAM, Oracle, documented_generator
from ..variants import variant
from .common import draw_case, draw_every, iterate_difference

# ---------------------------------------------------------------------------------------
# SimuParallelSGD with one node is SGD


def check_simu_parallel_one_node(result) -> str | None:
    p = result.params
    order = result.trace.records("order", 0)
    if not order:
        return "node 0 recorded no sample order"
    sgd = run_algorithm("sgd", problem=result.schedule.problem, seed=result.schedule.seed,
                        params={"gamma": p["gamma"], "T": p["T"], "x0": p.get("x0"),
                                "order": [int(j) for j in order[0]]})
    return bit_difference(final_output(result, p["n"]), final_output(sgd, 0), "SimuParallelSGD(n=1)",
                          "SGD on node 0's order")


def _last_update_moved(result) -> bool:
    xs = result.trace.records("x", 0)
    return len(xs) >= 2 and bool(np.any(xs[-1] != xs[-2]))


register(Guarantee(
    name="simu-parallel-one-node",
    statement="SimuParallelSGD with n = 1 equals SGD on the node's shuffled order, bit for bit",
    source="seed 003, Algorithms 2 and 3",
    algorithms=("simu-parallel-sgd",),
    draw=lambda data, alg: draw_case(data, alg, n=1),
    check=check_simu_parallel_one_node,
    hard=_last_update_moved,
    hard_case="T >= 2 and the last update moved w",
    broken={"simu-parallel-sgd": "broken-simu-parallel-drops-last"},
))

variant("broken-simu-parallel-drops-last", of="simu-parallel-sgd", mistake="sends w_{T-1}",
        replace={"sent": lambda w_before, w_after: w_before})          # the mistake: the iterate before the update

# ---------------------------------------------------------------------------------------
# the average of n independent SGD runs on the nodes' shards


def simu_parallel_orders(seed: int, m: int, n: int) -> list[np.ndarray]:
    """Lines 1-4 restated: H = m // n, node i's shard is perm[iH:(i+1)H] of the permutation keyed
    (seed, STREAM_SPLIT, 0), shuffled by the permutation keyed (seed, STREAM_SPLIT, 1 + i)."""
    H = m // n
    perm = documented_generator(seed, SPLIT_STREAM, 0).permutation(m)
    return [perm[i * H:(i + 1) * H][documented_generator(seed, SPLIT_STREAM, 1 + i).permutation(H)]
            for i in range(n)]


def simu_parallel_nodes(result) -> list[np.ndarray]:
    """Each node's final model, by SGD run here on its documented order with numpy gradients."""
    p, o = result.params, Oracle(result.problem)
    x0 = result.problem.x0 if p.get("x0") is None else np.asarray(p["x0"], dtype=np.float64)
    finals = []
    for order in simu_parallel_orders(result.schedule.seed, result.problem.m, p["n"]):
        w = x0.copy()
        for t in range(p["T"]):
            w = w - p["gamma"] * o.grads(w)[int(order[t % len(order)])]
        finals.append(w)
    return finals


def check_simu_parallel_average(result) -> str | None:
    p, n = result.params, result.params["n"]
    for i, order in enumerate(simu_parallel_orders(result.schedule.seed, result.problem.m, n)):
        rec = result.trace.records("order", i)
        if not rec or [int(j) for j in rec[0]] != order.tolist():
            return (f"node {i}'s sample order is {[int(j) for j in rec[0]] if rec else None}; the documented "
                    f"partition and shuffle (keys (seed, STREAM_SPLIT, 0) and (seed, STREAM_SPLIT, {1 + i})) "
                    f"give {order.tolist()}")
    finals = simu_parallel_nodes(result)
    want = np.mean(finals, axis=0)
    out = final_output(result, n)
    if out is None:
        return "the aggregator produced no output"
    tol = 1e-8 * (1.0 + np.max(np.abs(finals)) + np.abs(want))
    return iterate_difference(f"the aggregate v (n = {n} nodes, T = {p['T']})", out, want, tol)


def _node_models_differ(result) -> bool:
    finals = simu_parallel_nodes(result)
    return result.params["n"] >= 2 and any(np.any(np.abs(f - finals[0]) > 1e-9 * (1 + np.abs(f))) for f in finals)


register(Guarantee(
    name="simu-parallel-average",
    statement="SimuParallelSGD's result is the average of n SGD runs, each on its node's documented shard "
              "and shuffle, run independently here with numpy gradients",
    source="seed 003, Algorithm 3 (Zinkevich et al. 2010)",
    algorithms=("simu-parallel-sgd",),
    draw=lambda data, alg: draw_every(data, alg, n=st.integers(2, 3)),
    check=check_simu_parallel_average,
    hard=_node_models_differ,
    hard_case="n >= 2 nodes whose models differ",
    broken={"simu-parallel-sgd": "broken-simu-parallel-one-based-sum"},
))


def _sum_nodes_one_based(messages, n):
    by_node = {m.src_pid: m.payload for m in messages}
    v = 0.0 * by_node[0]
    for i in range(1, n):                               # the mistake: the slide's i = 1..n as range(1, n)
        v = v + by_node[i]
    return v / n


variant("broken-simu-parallel-one-based-sum", of="simu-parallel-sgd", mistake="sums nodes 1..n-1",
        replace={"average": _sum_nodes_one_based})
