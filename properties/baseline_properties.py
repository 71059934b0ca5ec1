"""The foundation's guarantees: replay determinism and the baselines' equivalences.

* ``replay-determinism``: replaying a run's schedule reproduces its digest bit for
  bit (design notes, "Determinism rules"; the fresh-process and JIT-off halves are
  in :mod:`asyncproof.properties.fresh`).
* ``simu-parallel-one-node``: SimuParallelSGD (seed 003, Algorithm 3) with n = 1 is
  SGD (Algorithm 2) on that node's shuffled order, bit for bit, under any schedule.
* ``minibatch-b1``: mini-batch SGD (seed 003, Algorithm 4) with b = 1 is SGD, bit
  for bit, under any schedule.
* ``schedule-independence``: the synchronous baselines' results do not depend on
  the order in which the adversary lets their workers finish.

Against an independent statement of each algorithm (numpy gradients of the
objective from :mod:`asyncproof.properties.kernel_properties`, never the kernels, and
the documented keys of the sample streams, never ``reference/rng.py``):

* ``sgd-iterates``: ``x_{t+1} = x_t - gamma grad f_{i_t}(x_t)``, ``i_t`` keyed ``(seed, 0, t)``;
* ``minibatch-mean``: the step is the mean of the b sample gradients of the keyed batch;
* ``simu-parallel-average``: the result is the average of n SGD runs on the nodes'
  documented shards and shuffles, run here;
* ``batch-gd-full-gradient``: the step is the full gradient, however unequal the shards.

Importing this module also registers ``kernel-gradients``
(:mod:`asyncproof.properties.kernel_properties`).
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from ..reference.adversaries import RoundRobin
from ..reference.schedule import replay, run_algorithm
from .guarantees import Case, Guarantee, register
from .strategies import baseline_params, iterations, problems, seeds, step_sizes

BASELINES = ("batch-gd", "minibatch-sgd", "sgd", "simu-parallel-sgd")


def _draw(data, algorithm: str, **fixed) -> Case:
    params = data.draw(baseline_params(algorithm, **fixed), label="params")
    problem = data.draw(problems(min_m=params.get("n", 1)), label="problem")
    return Case(algorithm, problem, params, data.draw(seeds(), label="seed"))


def _final(result, pid: int) -> np.ndarray | None:
    out = result.trace.outputs.get(pid)
    return None if not out else np.asarray(out[-1])


def bit_difference(a, b, what_a: str, what_b: str) -> str | None:
    """``None`` if ``a`` and ``b`` are the same float64 bits, else a message showing both."""
    if a is None or b is None:
        return f"{what_a if a is None else what_b} produced no output"
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape == b.shape and a.tobytes() == b.tobytes():
        return None
    if a.shape != b.shape:
        return f"{what_a} has shape {a.shape}, {what_b} has shape {b.shape}"
    k = int(np.argmax(a != b)) if np.any(a != b) else 0
    return (f"{what_a} and {what_b} differ: coordinate {k} is {float(a.flat[k])!r} vs {float(b.flat[k])!r} "
            f"(max |difference| {float(np.max(np.abs(a - b))):.3g})")


def _nonbenign(result) -> bool:
    """The adversary made a non-default choice where it had one."""
    return any(c != 0 for c, k in zip(result.trace.choices, result.trace.enabled_counts) if k > 1)


# ---------------------------------------------------------------------------------------
# replay determinism


#: how to draw a case of each algorithm for replay determinism; other families add theirs
REPLAY_DRAWS = {name: _draw for name in BASELINES}


def replay_covers(draw, *algorithms: str) -> None:
    """Add ``algorithms`` (drawn by ``draw``) to the replay-determinism guarantee."""
    for a in algorithms:
        REPLAY_DRAWS[a] = draw
    g = REPLAY
    g.algorithms = tuple(g.algorithms) + tuple(a for a in algorithms if a not in g.algorithms)


def cover_every_algorithm(guarantees) -> None:
    """Replay determinism is owed by every registered algorithm, not only by those whose guarantee
    module called :func:`replay_covers`: one left out is drawn as the first guarantee that checks
    it draws its cases (an algorithm without any guarantee is refused by tests/test_registry_rules.py)."""
    from ..reference.registry import algorithms
    for alg in algorithms():
        if alg.name in REPLAY_DRAWS:
            continue
        owner = next((g for g in guarantees if g is not REPLAY and alg.name in g.algorithms), None)
        if owner is not None:
            replay_covers(owner.draw, alg.name)


def check_replay(result) -> str | None:
    rep = replay(result.schedule)
    return None if rep.reproduced else f"replaying the run's own schedule: {rep.report()}"


def _replay_hard(result) -> bool:
    if max(result.trace.enabled_counts, default=1) > 1:
        return _nonbenign(result)
    return len(set(result.trace.observed("j"))) > 1     # one process: the samples drawn vary (any algorithm: none without "j")


REPLAY = register(Guarantee(
    name="replay-determinism",
    statement="replaying a run's schedule reproduces the run bit for bit (same digest)",
    source="design notes, 'Determinism rules'",
    algorithms=BASELINES,
    draw=lambda data, alg: REPLAY_DRAWS[alg](data, alg),
    check=check_replay,
    hard=_replay_hard,
    hard_case="non-benign schedule (or varying samples)",
    broken={"sgd": "broken-sgd-warm-start-leak"},
))

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
    return bit_difference(_final(result, p["n"]), _final(sgd, 0), "SimuParallelSGD(n=1)",
                          "SGD on node 0's order")


def _last_update_moved(result) -> bool:
    xs = result.trace.records("x", 0)
    return len(xs) >= 2 and bool(np.any(xs[-1] != xs[-2]))


register(Guarantee(
    name="simu-parallel-one-node",
    statement="SimuParallelSGD with n = 1 equals SGD on the node's shuffled order, bit for bit",
    source="seed 003, Algorithms 2 and 3",
    algorithms=("simu-parallel-sgd",),
    draw=lambda data, alg: _draw(data, alg, n=1),
    check=check_simu_parallel_one_node,
    hard=_last_update_moved,
    hard_case="T >= 2 and the last update moved w",
    broken={"simu-parallel-sgd": "broken-simu-parallel-drops-last"},
))

# ---------------------------------------------------------------------------------------
# mini-batch SGD with b = 1 is SGD


def check_minibatch_b1(result) -> str | None:
    p = result.params
    sgd = run_algorithm("sgd", problem=result.schedule.problem, seed=result.schedule.seed,
                        params={"gamma": p["gamma"], "T": p["T"], "x0": p.get("x0")})
    return bit_difference(_final(result, 0), _final(sgd, 0), "mini-batch SGD(b=1)", "SGD")


def _second_step_sees_moved_iterate(result) -> bool:
    xs = result.trace.records("x", 0)
    x0 = result.problem.x0 if result.params.get("x0") is None else np.asarray(result.params["x0"])
    return len(xs) >= 2 and bool(np.any(xs[0] != x0))


register(Guarantee(
    name="minibatch-b1",
    statement="mini-batch SGD with b = 1 equals SGD bit for bit, under any schedule",
    source="seed 003, Algorithms 2 and 4; seed 000, 'Mini-Batch SGD'",
    algorithms=("minibatch-sgd",),
    draw=lambda data, alg: _draw(data, alg, b=1),
    check=check_minibatch_b1,
    hard=_second_step_sees_moved_iterate,
    hard_case="T >= 2 and x_1 != x_0",
    broken={"minibatch-sgd": "broken-minibatch-stale-gradient"},
))

# ---------------------------------------------------------------------------------------
# schedule independence of the synchronous baselines


def check_schedule_independence(result) -> str | None:
    s = result.schedule
    benign = run_algorithm(s.algorithm, problem=s.problem, params=s.params, seed=s.seed, adversary=RoundRobin())
    pid = result.params["n"] if "simu-parallel" in s.algorithm else 0   # SimuParallel's aggregator is p{n}
    return bit_difference(_final(result, pid), _final(benign, pid), "the result under this schedule",
                          "the result under round-robin")


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


register(Guarantee(
    name="schedule-independence",
    statement="the result does not depend on the order in which workers finish",
    source="seed 003, Algorithms 1, 3 and 4 (synchronous aggregation)",
    algorithms=("batch-gd", "minibatch-sgd", "simu-parallel-sgd"),
    draw=_draw_more_terms,
    check=check_schedule_independence,
    hard=_out_of_order,
    hard_case=">= 3 results arrived out of order",
    broken={"minibatch-sgd": "broken-minibatch-arrival-order"},
))

# ---------------------------------------------------------------------------------------
# the baselines against an independent statement of their algorithm
#
# Each check below recomputes the run from the seed's pseudo-code with the oracle of
# :mod:`.kernel_properties` (the objective's gradients written out with numpy, never the
# kernels) and the documented keys of the sample streams (restated there, never through
# reference/rng.py), and compares the recorded iterates with it.

# (their names are imported at the end of this module, so that ``kernel-gradients``, which
# that import registers, comes after the baselines' guarantees in tables)


def _steps_tolerance(x, gamma: float, g) -> np.ndarray:
    """What float rounding can move ``x - gamma g`` by when ``g`` is summed in another order."""
    return 1e-9 * (np.abs(x) + gamma * (1.0 + np.max(np.abs(g), initial=0.0)))


def _iterate_difference(what: str, got, want, tol) -> str | None:
    bad = np.abs(np.asarray(got) - want) > tol
    if not np.any(bad):
        return None
    i = int(np.argmax(bad))
    return (f"{what}: coordinate {i} is {float(np.asarray(got)[i])!r}, the independent statement gives "
            f"{float(want[i])!r} (|difference| {abs(float(np.asarray(got)[i]) - float(want[i])):.3g})")


def _distinct_rows(G, rows) -> bool:
    """Two of the sample gradients ``G[rows]`` differ (beyond rounding)."""
    sub = G[list(rows)]
    return bool(np.any(np.abs(sub - sub[0]) > 1e-12 * (1.0 + np.abs(sub[0]))))


def _draw_every(data, algorithm: str, **ranges) -> Case:
    params = {"gamma": data.draw(step_sizes(), label="gamma"),
              "T": data.draw(ranges.pop("T", iterations()), label="T")}
    for k, s in ranges.items():
        params[k] = data.draw(s, label=k)
    problem = data.draw(every_problem(min_m=params.get("n", 1)), label="problem")
    return Case(algorithm, problem, params, data.draw(seeds(), label="seed"))


# -- SGD: x_{t+1} = x_t - gamma grad f_{i_t}(x_t), i_t from the key (seed, STREAM_SAMPLER, t)


def sgd_samples(result) -> list[int]:
    """The documented sample sequence of an SGD run (its ``order``, else the keyed draws)."""
    p, order = result.params, result.params.get("order")
    if order is not None:
        return [int(order[t % len(order)]) for t in range(p["T"])]
    return [int(documented_batch(result.schedule.seed, t, result.problem.m, 1)[0]) for t in range(p["T"])]


def check_sgd_iterates(result) -> str | None:
    p, o, gamma = result.params, Oracle(result.problem), result.params["gamma"]
    want_js, js = sgd_samples(result), [int(j) for j in result.trace.records("j", 0)]
    for t, (j, w) in enumerate(zip(js, want_js)):
        if j != w:
            return (f"iteration {t} used sample {j}; the documented key (seed {result.schedule.seed}, stream "
                    f"STREAM_SAMPLER = 0, iteration {t}) draws {w}")
    points = gradient_points(result)
    if len(js) != p["T"] or len(points) != p["T"]:
        return f"SGD recorded {len(js)} samples and {len(points)} steps for T = {p['T']}"
    for t, x, x_next in points:
        j = want_js[t]
        if o.ambiguous(x)[j]:
            continue
        g = o.grads(x)[j]
        if msg := _iterate_difference(f"x_{t + 1} (SGD on sample {j})", x_next, x - gamma * g,
                                      _steps_tolerance(x, gamma, g)):
            return msg
    out = _final(result, 0)
    if out is None or not np.array_equal(out, points[-1][2]):
        return "SGD's output is not its last iterate x_T"
    return None


def _sample_choice_mattered(result) -> bool:
    """T >= 2, and at some t >= 1 another sample's gradient at x_t differs from the one drawn."""
    o, js = Oracle(result.problem), sgd_samples(result)
    return any(t >= 1 and _distinct_rows(o.grads(x), [js[t], *range(result.problem.m)])
               for t, x, _ in gradient_points(result))


register(Guarantee(
    name="sgd-iterates",
    statement="SGD's iterates are x_{t+1} = x_t - gamma grad f_{i_t}(x_t) with i_t the documented keyed draw "
              "(seed, STREAM_SAMPLER, t), recomputed with numpy gradients",
    source="seed 003, Algorithm 2; seed 000, 'Stochastic Gradient Descent'; reference/rng.py",
    algorithms=("sgd",),
    draw=lambda data, alg: _draw_every(data, alg, T=iterations(lo=2)),
    check=check_sgd_iterates,
    hard=_sample_choice_mattered,
    hard_case="T >= 2 and at some t >= 1 another sample had another gradient",
    broken={"sgd": "broken-sgd-sample-stream-swapped"},
))

# -- mini-batch SGD: the step is the mean of the batch's b sample gradients


def minibatch_batches(result) -> list[np.ndarray]:
    p, batches = result.params, result.params.get("batches")
    if batches is not None:
        return [np.asarray(batches[t % len(batches)], dtype=np.int64) for t in range(p["T"])]
    return [documented_batch(result.schedule.seed, t, result.problem.m, p["b"]) for t in range(p["T"])]


def check_minibatch_mean(result) -> str | None:
    p, o, gamma = result.params, Oracle(result.problem), result.params["gamma"]
    points, batches = gradient_points(result), minibatch_batches(result)
    if len(points) != p["T"]:
        return f"mini-batch SGD recorded {len(points)} steps for T = {p['T']}"
    for (t, x, x_next), M in zip(points, batches):
        if np.any(o.ambiguous(x)[M]):
            continue
        g = o.grads(x)[M].mean(axis=0)              # (1/b) sum_{j in M} grad f_j(x_t), repeats counted
        if msg := _iterate_difference(f"x_{t + 1} (mini-batch {M.tolist()}, b = {p['b']})", x_next, x - gamma * g,
                                      _steps_tolerance(x, gamma, g)):
            return msg
    out = _final(result, 0)
    if out is None or not np.array_equal(out, points[-1][2]):
        return "mini-batch SGD's output is not its last iterate"
    return None


def _batch_mattered(result) -> bool:
    p = result.params
    if p["b"] < 2 or p["b"] == p["n"]:
        return False
    o = Oracle(result.problem)
    return any(_distinct_rows(o.grads(x), M)
               for (_, x, _), M in zip(gradient_points(result), minibatch_batches(result)))


register(Guarantee(
    name="minibatch-mean",
    statement="mini-batch SGD steps along the mean of its b sample gradients at x_t, the batch being the "
              "documented keyed draw (seed, STREAM_SAMPLER, t), recomputed with numpy gradients",
    source="seed 003, Algorithm 4; seed 000, 'Mini-Batch SGD' (x_{t+1} = x_t - eta/M sum G(x_t, z_i))",
    algorithms=("minibatch-sgd",),
    draw=lambda data, alg: _draw_every(data, alg, T=iterations(hi=4), b=st.integers(2, 4), n=st.integers(1, 3)),
    check=check_minibatch_mean,
    hard=_batch_mattered,
    hard_case="b >= 2, b != n, a batch with two different gradients",
    broken={"minibatch-sgd": "broken-minibatch-divides-by-workers"},
))

# -- SimuParallelSGD: the average of n independent SGD runs on the nodes' shards


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
    out = _final(result, n)
    if out is None:
        return "the aggregator produced no output"
    tol = 1e-8 * (1.0 + np.max(np.abs(finals)) + np.abs(want))
    return _iterate_difference(f"the aggregate v (n = {n} nodes, T = {p['T']})", out, want, tol)


def _node_models_differ(result) -> bool:
    finals = simu_parallel_nodes(result)
    return result.params["n"] >= 2 and any(np.any(np.abs(f - finals[0]) > 1e-9 * (1 + np.abs(f))) for f in finals)


register(Guarantee(
    name="simu-parallel-average",
    statement="SimuParallelSGD's result is the average of n SGD runs, each on its node's documented shard "
              "and shuffle, run independently here with numpy gradients",
    source="seed 003, Algorithm 3 (Zinkevich et al. 2010)",
    algorithms=("simu-parallel-sgd",),
    draw=lambda data, alg: _draw_every(data, alg, n=st.integers(2, 3)),
    check=check_simu_parallel_average,
    hard=_node_models_differ,
    hard_case="n >= 2 nodes whose models differ",
    broken={"simu-parallel-sgd": "broken-simu-parallel-one-based-sum"},
))

# -- batch GD: the full gradient, however unequal the shards


def _shard_sizes(m: int, n: int) -> list[int]:
    return [m // n + (1 if k < m % n else 0) for k in range(n)]     # contiguous, the first m mod n longer


def check_batch_gd_full_gradient(result) -> str | None:
    p, o, gamma = result.params, Oracle(result.problem), result.params["gamma"]
    points = gradient_points(result)
    if len(points) != p["T"]:
        return f"batch GD recorded {len(points)} steps for T = {p['T']}"
    for t, x, x_next in points:
        if np.any(o.ambiguous(x)):
            continue
        g = o.grads(x).mean(axis=0)                  # (1/m) sum_j grad f_j(x_t)
        what = f"x_{t + 1} (n = {p['n']} shards of sizes {_shard_sizes(result.problem.m, p['n'])})"
        if msg := _iterate_difference(what, x_next, x - gamma * g, _steps_tolerance(x, gamma, g)):
            return msg
    out = _final(result, 0)
    if out is None or not np.array_equal(out, points[-1][2]):
        return "batch GD's output is not its last iterate"
    return None


def _unequal_shards_mattered(result) -> bool:
    """n >= 2 unequal shards, and at some x_t the unweighted mean of the shard means is not the mean."""
    m, n = result.problem.m, result.params["n"]
    if n < 2 or m % n == 0:
        return False
    o, sizes = Oracle(result.problem), _shard_sizes(m, n)
    bounds = np.cumsum([0] + sizes)
    for _, x, _ in gradient_points(result):
        G = o.grads(x)
        unweighted = np.mean([G[bounds[k]:bounds[k + 1]].mean(axis=0) for k in range(n)], axis=0)
        if np.any(np.abs(unweighted - G.mean(axis=0)) > 1e-9 * (1.0 + np.abs(G).max())):
            return True
    return False


register(Guarantee(
    name="batch-gd-full-gradient",
    statement="batch GD steps along the full gradient (1/m) sum_j grad f_j(x_t), recomputed with numpy "
              "gradients: the shards' means weighted by their sizes",
    source="seed 003, Algorithm 1 (aggregate over X, divide by |X|)",
    algorithms=("batch-gd",),
    draw=lambda data, alg: _draw_every(data, alg, T=iterations(hi=4), n=st.integers(2, 3)),
    check=check_batch_gd_full_gradient,
    hard=_unequal_shards_mattered,
    hard_case="n >= 2 unequal shards whose unweighted mean of means differs",
    broken={"batch-gd": "broken-batch-gd-unweighted-shards"},
))

# Imported last (see above); the functions above look these names up when they run.
from .kernel_properties import (SPLIT_STREAM, Oracle, documented_batch, documented_generator,  # noqa: E402
                                every_problem, gradient_points)
