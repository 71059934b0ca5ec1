"""SimuParallelSGD (Zinkevich et al., NIPS 2010): n nodes run SGD alone, then average.

Seed 003 (003_64bc3d1a200f9b77.txt), "Algorithm 3 SimuParallelSGD with samples X,
iterations T, steps size ε, number of nodes n and states w".

=====  ====================================================  =========================================
line   seed 003, Algorithm 3                                 here
=====  ====================================================  =========================================
1      define H = ⌊m/n⌋                                       ``H = problem.m // n``
2      randomly partition X, giving H samples to each node   ``partition(seed, m, n)``
3      for all i ∈ {1..n} parallel do                        one process ``p{i}`` per node
4      randomly shuffle samples on node i                    ``shuffle(seed, i, local)``
5      init w_0^i = 0                                        ``w = x0`` (the problem's x0, 0 by default)
6      for all t = 0 ... T do                                ``for t in range(T)``
7      get the t-th sample on the i-th node                  ``order[t mod H]``
8      update w_{t+1}^i ← w_t^i − ε Δ_t(w_t^i)               a job on worker ``w{i}``, then the update
9      aggregate v = (1/n) Σ_i w_t^i                         node ``p{i}`` sends w to the aggregator ``p{n}``
10     return v                                              the aggregator sums in node order, divides by n
=====  ====================================================  =========================================

Choices: ``n = 1`` is allowed (the paper requires n > 1) because SimuParallelSGD with
one node is SGD on that node's order, a property the test suite checks.  When
``T > H`` the node starts another pass over the same shuffled order (Zinkevich
et al. assume ``T <= m/n``).  The ``m - nH`` samples left over by line 1 are not used.
The final average is taken in node order, never arrival order, so the result
does not depend on which node the adversary lets finish first.  Named steps
(:class:`Steps`): ``sent`` (line 9: which model a node sends) and ``average`` (line 10).
"""

from __future__ import annotations

import numpy as np

from ..engine import Output, ProcessSpec, Receive, Send, System, compute
from ..errors import InputError
from ..records import ARRIVAL, ITERATE, Value, declare
from ..registry import MAX_PROCESSES, Algorithm, Steps, bounded_int, register
from ..rng import STREAM_SPLIT, generator
from ._common import final_metrics, gamma_param, iterations_param, start_point, x0_param


def partition(seed: int, m: int, n: int) -> list[np.ndarray]:
    """Line 2: a random partition of the m samples, H = ⌊m/n⌋ to each node."""
    H = m // n
    perm = generator(seed, STREAM_SPLIT, 0).permutation(m)
    return [perm[i * H:(i + 1) * H] for i in range(n)]


def shuffle(seed: int, i: int, local: np.ndarray) -> np.ndarray:
    """Line 4: node i's own random order of its samples."""
    return local[generator(seed, STREAM_SPLIT, 1 + i).permutation(len(local))]


def sent_model(w_before, w_after):
    """Line 9: the node sends its last model, w^i_T (the one after its T-th update)."""
    return w_after


def node_process(problem, i, n, gamma, T, x0, seed, local, steps):
    def body(ctx):
        order = shuffle(seed, i, local)                                   # line 4
        ctx.record("order", order)
        w = x0.copy()                                                     # line 5
        before = w
        for t in range(T):                                                # line 6
            j = int(order[t % len(order)])                                # line 7
            g = yield from compute(f"w{i}", f"grad f_{j}(w^{i}_{t})", lambda w=w, j=j: problem.sample_grad(w, j))
            before, w = w, w - gamma * g                                  # line 8
            ctx.record("x", w)
        yield Send(n, steps.sent(before, w), tag=f"w^{i}_T")              # line 9: to the aggregator
    return body


def average_in_node_order(messages, n):
    by_node = {m.src_pid: m.payload for m in messages}
    v = by_node[0].copy()
    for i in range(1, n):
        v = v + by_node[i]
    return v / n


def aggregator_process(n, steps):
    def body(ctx):
        got = yield Receive(until=lambda ms: len(ms) >= n, label="models")
        ctx.record("arrival", [m.src_pid for m in got])
        yield Output(steps.average(got, n))                               # line 10
    return body


def build(problem, params, seed, steps):
    n = params["n"]
    if problem.m < n:
        raise InputError(f"simu-parallel-sgd: n = {n} nodes need at least n samples, the problem has m = {problem.m}")
    x0 = start_point(problem, params)
    parts = partition(seed, problem.m, n)                                 # lines 1-2
    procs = [ProcessSpec(node_process(problem, i, n, params["gamma"], params["T"], x0, seed, parts[i], steps))
             for i in range(n)]
    procs.append(ProcessSpec(aggregator_process(n, steps)))
    return System(procs, seed=seed)


ALGORITHM = register(Algorithm(
    name="simu-parallel-sgd",
    summary="SimuParallelSGD: n nodes run SGD on their own shuffled partition, then average",
    source="seed 003 Algorithm 3 (Zinkevich et al., NIPS 2010)",
    params={"gamma": gamma_param(), "T": iterations_param(), "x0": x0_param(),
            "n": bounded_int("n", 4, "number of nodes, >= 1", 1, MAX_PROCESSES, "n (nodes)")},
    build=build,
    steps=Steps(sent=sent_model, average=average_in_node_order),
    records=declare(Value("order", "line 4: the node's shuffled samples", kinds=(np.ndarray,)), ITERATE, ARRIVAL),
    metrics=lambda trace, problem, params: final_metrics(trace, problem, params["n"]),
    default_problem="least-squares",
    max_steps=lambda p: p["n"] * (3 * p["T"] + 4) + 10,
))
