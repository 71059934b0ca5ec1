"""A catalogue of realistic one-line mutants of the reference, for ``run.py`` beside this file.

Each mutant is one plausible edit a developer or a paper's public code makes (an off-by-one,
a forgotten division, arrival order instead of a fixed order, the wrong worker's stream, a
filter that lets one case too many through), with the algorithms whose guarantees must catch
it.  ``before`` must occur exactly once in ``path`` (``tests/test_mutation_catalogue.py``
checks it in CI, so the catalogue cannot rot silently), and ``after`` must change behaviour:
no equivalent mutants (a rewrite that computes the same thing is not a test of the suite).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Mutant:
    id: str
    path: str                   # relative to the checkout's root
    before: str                 # exactly one occurrence in the file
    after: str
    algorithms: tuple[str, ...]
    why: str


def apply(m: Mutant, text: str) -> str:
    count = text.count(m.before)
    if count != 1:
        raise ValueError(f"mutant {m.id}: {m.before!r} occurs {count} times in {m.path}, not once")
    return text.replace(m.before, m.after)


PS = "reference/parameter_server/"

MUTANTS = [
    # --- AsGrad (seed 001, Algorithm 1 and Table 1) ---------------------------------------------------
    Mutant("asgrad-pure-alpha", PS + "asgrad.py", "    return i_t, t + 1\n", "    return i_t, t\n",
           ("pure-async-sgd",), "pure asynchronous SGD computes the new job at x_t, before the update"),
    Mutant("asgrad-waiting-alpha", PS + "asgrad.py", "return i_t, b * ((t + 1) // b)", "return i_t, b * (t // b)",
           ("pure-async-sgd-waiting",), "waiting: the last multiple of b taken from t, not t + 1"),
    Mutant("asgrad-random-one-based", PS + "asgrad.py", "STREAM_POLICY, t).integers(n)), t + 1",
           "STREAM_POLICY, t).integers(1, n)), t + 1", ("random-async-sgd",),
           "random worker drawn from 1..n−1: worker 0 never gets a job after the first"),
    Mutant("asgrad-shuffled-reshuffle", PS + "asgrad.py", "generator(seed, STREAM_POLICY, t // n).permutation(n)",
           "generator(seed, STREAM_POLICY, t).permutation(n)", ("shuffled-async-sgd",),
           "a fresh permutation for every assignment instead of one per n"),
    Mutant("asgrad-finished-workers-data", PS + "asgrad.py",
           "    return job.worker                 # a job computes on the data",
           "    return finished if finished is not None else job.worker  # a job computes on the data",
           ("random-async-sgd",), "the new job computes on the data of the worker that just finished"),
    Mutant("asgrad-current-iterate", PS + "asgrad.py", "    return xs[job.pi]", "    return xs[-1]",
           ("pure-async-sgd",), "a job computes at the iterate current when it finishes, not at x_π"),
    Mutant("asgrad-queue-uncounted", PS + "asgrad.py", "    return workers.active()", "    return len(workers.running)",
           ("random-async-sgd",), "queued jobs are not counted as active"),
    Mutant("asgrad-tau-off-by-one", PS + "asgrad.py", "tau = t - job.pi  ", "tau = t - job.pi - 1  ",
           ("random-async-sgd",), "τ_t = t − π_t − 1"),
    Mutant("asgrad-taumax-open-jobs", PS + "asgrad.py", "tau_max = max(taus + [T - j.pi for j in open_jobs], default=0)",
           "tau_max = max(taus, default=0)", ("random-async-sgd",),
           "τ_max forgets the jobs still active at the end (the paper's second term)"),
    Mutant("asgrad-ahead-running", PS + "asgrad.py", "ahead = (k in workers.running) + len(workers.queue[k])",
           "ahead = len(workers.queue[k])", ("random-async-sgd",),
           "the job a worker is running is not counted among those a new job waits behind"),
    # --- the workers every parameter-server algorithm shares --------------------------------------------
    Mutant("common-one-stream", PS + "common.py", "generator(seed, STREAM_LOCAL + worker, serial)",
           "generator(seed, STREAM_LOCAL, serial)", ("fedbuff",),
           "every worker draws from the same sample stream"),
    Mutant("common-lifo-queue", PS + "common.py", "job = self.queue[worker].popleft()", "job = self.queue[worker].pop()",
           ("random-async-sgd",), "a busy worker serves its queue last in, first out"),
    Mutant("common-finished-frees-newer", PS + "common.py", "if self.running.get(job.worker) is job:",
           "if job.worker in self.running:", ("rennala-sgd",),
           "a result that finished before a stop frees its worker although it runs a newer job"),
    # --- Rennala and Malenia (Tyurin & Richtárik) ---------------------------------------------------------
    Mutant("rennala-stale-counts", PS + "rennala.py", "    return job.pi == k\n", "    return job.pi >= k - 1\n",
           ("rennala-sgd",), "a gradient one round old still counts toward S"),
    Mutant("rennala-S-plus-one", PS + "rennala.py", "lambda counts: sum(counts) >= S", "lambda counts: sum(counts) > S",
           ("rennala-sgd",), "the restated line 4 read as a strict inequality: S + 1 gradients"),
    Mutant("rennala-arrival-order", PS + "rennala.py", "batch = sorted(fresh, key=lambda e: (e[0], e[1]))",
           "batch = list(fresh)", ("rennala-sgd",), "the batch summed in arrival order"),
    Mutant("rennala-line8-after-stop", PS + "rennala.py",
           'if workers.busy(job.worker) or (loop_ended and stale == "stop"):', "if workers.busy(job.worker):",
           ("rennala-sgd",), "with stops, the worker that ends the loop is started at x^k (and stopped at once)"),
    Mutant("malenia-strict", PS + "malenia.py", "return Fraction(n * n) >= S * sum(", "return Fraction(n * n) > S * sum(",
           ("malenia-sgd",), "the harmonic condition read strictly"),
    Mutant("malenia-row-sum", PS + "malenia.py", "means = [sum_in_order(row) / len(row) for row in rows]",
           "means = [sum_in_order(row) for row in rows]", ("malenia-sgd",),
           "a worker's row summed, not averaged (G_i instead of G_i/B_i)"),
    # --- FedBuff (Nguyen et al. 2022) --------------------------------------------------------------------
    Mutant("fedbuff-staleness", PS + "fedbuff.py", "            s = v - job.version\n",
           "            s = v - job.version - 1\n", ("fedbuff",), "staleness counted one model short"),
    Mutant("fedbuff-linear-weight", PS + "fedbuff.py", '"sqrt": lambda s: 1.0 / math.sqrt(1 + s)',
           '"sqrt": lambda s: 1.0 / (1 + s)', ("fedbuff",), "the staleness weight 1/(1 + s), not 1/√(1 + s)"),
    Mutant("fedbuff-unweighted", PS + "fedbuff.py", 'num = sum_in_order([e["weight"] * e["delta"] for e in entries])',
           'num = sum_in_order([e["delta"] for e in entries])', ("fedbuff",), "the staleness weights forgotten"),
    Mutant("fedbuff-queued-model", PS + "fedbuff.py", "    return len(published) - 1\n", "    return job.assigned\n",
           ("fedbuff",), "a queued client trains on the model of when it was sampled"),
    Mutant("fedbuff-sample-key", PS + "fedbuff.py", "serial * Q + q", "serial + q", ("fedbuff",),
           "local steps keyed by serial + q: clients share draws"),
    Mutant("fedbuff-local-restart", PS + "fedbuff.py", "            y = y - step\n", "            y = y0 - step\n",
           ("fedbuff",), "every local step starts from the downloaded model"),
    # --- Ringleader ASGD (Maranjyan & Richtárik 2025) ------------------------------------------------------
    Mutant("ringleader-drops-stored", PS + "ringleader.py", "table, stored = stored, [[] for _ in range(n)]",
           "table, stored = [[] for _ in range(n)], [[] for _ in range(n)]", ("ringleader-asgd",),
           "the temporary table is dropped at the end of a round"),
    Mutant("ringleader-restart-point", PS + "ringleader.py", "workers.new_job(job.worker, job.pi)",
           "workers.new_job(job.worker, job.pi + 1)", ("ringleader-asgd",),
           "a worker whose gradient did not trigger an update computes at another point than its own"),
    # --- shared memory (seed 002) -------------------------------------------------------------------------
    Mutant("hogwild-overlap-off-by-one", "reference/shared_memory/hogwild.py",
           "return all(c < tau for c in overlaps)",
           "return all(c <= tau for c in overlaps)", ("hogwild-atomic",),
           "a sample may overlap τ + 1 others"),
    Mutant("hogwild-lock-not-held", "reference/shared_memory/hogwild.py", "    mem.locks[v] = k\n",
           "    pass\n", ("hogwild-lock",), "the lock is tested but never set"),
    Mutant("hogwild-racy-store-fresh", "reference/shared_memory/hogwild.py", "mem.x[v] = loaded + update(q, v)",
           "mem.x[v] = mem.x[v] + update(q, v)", ("hogwild-racy",),
           "the store adds to the current cell (an atomic add) while the mode says racy"),
    Mutant("hogwild-lost-count", "reference/shared_memory/hogwild.py", "held[v] = base | {k}", "held[v] = {k}",
           ("hogwild-racy",), "a write forgets what the cell held: every earlier update counted lost"),
    Mutant("cyclades-barrier", "reference/shared_memory/cyclades.py", "    return arrived == threads\n",
           "    return arrived >= threads - 1\n", ("serially-equivalent-sgd",),
           "the barrier opens when all but one thread have arrived"),
    # --- the baselines (seeds 000, 002, 003) ---------------------------------------------------------------
    Mutant("sgd-sample-stream", "reference/baselines/sgd.py", "return int(draw_batch(seed, t, m, 1)[0])",
           "return int(draw_batch(seed, t + 1, m, 1)[0])", ("sgd",), "SGD's sample keyed by t + 1"),
    Mutant("batch-gd-unweighted", "reference/baselines/batch_gd.py", "g = g + (sizes[k] / m) * means[k]",
           "g = g + (sizes[0] / m) * means[k]", ("batch-gd",), "every shard weighted by the first shard's size"),
    Mutant("minibatch-divides-by-n", "reference/baselines/minibatch_sgd.py", "    return delta / b\n",
           "    return delta / max(b - 1, 1)\n", ("minibatch-sgd",), "the batch sum divided by b − 1"),
    Mutant("simu-parallel-node-order", "reference/baselines/simu_parallel_sgd.py",
           "local[generator(seed, STREAM_SPLIT, 1 + i).permutation(len(local))]",
           "local[generator(seed, STREAM_SPLIT, i).permutation(len(local))]", ("simu-parallel-sgd",),
           "node i shuffles with node i − 1's key (node 0 with the split's own)"),
    Mutant("simu-parallel-average", "reference/baselines/simu_parallel_sgd.py", "    return v / n\n",
           "    return v / (n + 1)\n", ("simu-parallel-sgd",), "the average counts the aggregator as a node"),
    # --- approximate agreement (seed 000) -----------------------------------------------------------------
    Mutant("midextremes-l1", "reference/agreement/midextremes.py", "    return sq_dist(a, b)\n",
           "    return float(np.sum(np.abs(np.asarray(a) - np.asarray(b))))\n", ("mdaa",),
           "the diameter pair measured in L1"),
    Mutant("midextremes-tie-by-index", "reference/agreement/midextremes.py",
           "return tuple(X[lo]), tuple(X[hi]), min(lo, hi), max(lo, hi)", "return min(lo, hi), max(lo, hi)",
           ("cluster-agreement",), "ties between diameter pairs broken by the holders' indices"),
    Mutant("cluster-skip-keeps-round", "reference/agreement/cluster_agreement.py", "        if r == rmax:",
           "        if r >= rmax - 1:", ("cluster-agreement",), "a process one round behind does not skip"),
    Mutant("mdaa-majority-of-clusters", "reference/agreement/mdaa.py", "    return clusters.majority(senders)\n",
           "    return 2 * len({clusters.cluster_of(s) for s in senders}) > len(clusters.members)\n", ("mdaa",),
           "the wait counts a majority of clusters, not of processes"),
    # --- the engine's model: constraints as filters --------------------------------------------------------
    Mutant("engine-majority-filter", "reference/engine.py", "if m.majority and (up - 1) * 2 <= n:",
           "if m.majority and (up - 1) * 2 < n:", ("mdaa",),
           "a crash is allowed that leaves exactly half of the processes up: no correct majority"),
    Mutant("engine-crash-budget", "reference/engine.py", "if self.crash_count < m.f:", "if self.crash_count <= m.f:",
           ("cluster-agreement",), "one crash more than the model's f"),
    Mutant("engine-tau-filter", "reference/engine.py", "self.clock - e.created >= m.tau", "self.clock - e.created > m.tau",
           ("random-async-sgd",), "the delay bound lets a job wait one step too long"),
]
