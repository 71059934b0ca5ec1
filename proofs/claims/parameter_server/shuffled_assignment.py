"""Shuffled asynchronous SGD visits every worker once per n assignments.

Seed 001 (001_c6590ddcd2705154.txt), "Table 1", row "Shuffled Asynchronous SGD [NEW]":
"k_{t+1} = χ(j), α_{t+1} = t + 1, j − 1 = t (mod n), χ is a permutation of [n]".  What
sets it apart from random asynchronous SGD (k_{t+1} ~ Unif[n]) is that every block of n
consecutive assignments is a permutation of the workers, so after t assignments every
worker has been assigned ⌊t/n⌋ or ⌈t/n⌉ times, whatever the schedule: the assignment
"sequence correlation" of Theorem 2 is that of shuffling, not of sampling with
replacement.  (The table's footnote "For shuffled asynchronous SGD τ_C = n" is not
special to it: with C jobs in flight every policy keeps C active jobs, one assignment per
received gradient; ``asgrad-delays`` recomputes that identity.)

==================  ==============  ===============================================================
check               kind            what
==================  ==============  ===============================================================
``blocks``          property        on runs of ``shuffled-async-sgd`` under Hypothesis-drawn
                                    schedules, n and C: every block of n assignments is a
                                    permutation and the counts after every t differ by at most 1
``random-fails``    counterexample  the same statement is refuted on random asynchronous SGD, with
                                    and without waiting, and on pure asynchronous SGD with unequal
                                    compute times: the search finds a block with a worker twice
==================  ==============  ===============================================================
"""

from __future__ import annotations

from ....reference.parameter_server.asgrad import Assign
from ....reference.schedule import run_algorithm
from ...registry import EXAMPLES, Check, Claim, check_budget, hypothesis_settings, register


def block_violation(assigned: list[int], n: int) -> str | None:
    """The statement, on a sequence of assigned workers: each block of n is n different workers, and
    after every prefix the per-worker counts differ by at most one."""
    counts = [0] * n
    for t, k in enumerate(assigned):
        block = assigned[t // n * n: t + 1]
        if block.count(k) > 1:
            return f"worker {k} assigned twice in the block starting at t = {t // n * n}: {block}"
        counts[k] += 1
        if max(counts) - min(counts) > 1:
            return f"after {t + 1} assignments the per-worker counts are {counts}"
    return None


def _search(budget: str, algorithm: str, adversary_of):
    """A Hypothesis search for runs of ``algorithm`` breaking the statement: (examples, counterexample)."""
    from hypothesis import Phase, given, settings, strategies as st

    seen, found = [0], []

    # no shrinking: a refutation needs one run, and a block with a worker twice reads as well at any size
    @settings(hypothesis_settings(budget, max_examples=max(20, EXAMPLES[budget] // 10)),
              phases=[Phase.explicit, Phase.generate])
    @given(st.data())
    def prop(data):
        n = data.draw(st.integers(2, 5), label="n")
        params = {"n": n, "T": data.draw(st.integers(n, 5 * n), label="T"),
                  "C": data.draw(st.one_of(st.none(), st.integers(1, n + 3)), label="C")}
        if algorithm.endswith("waiting"):
            params["b"] = data.draw(st.integers(1, 3), label="b")
        res = run_algorithm(algorithm, problem={"name": "least-squares", "params": {"m": 12, "d": 2}},
                            params=params, seed=data.draw(st.integers(0, 99), label="seed"),
                            adversary=adversary_of(data, n))
        seen[0] += 1
        msg = block_violation([a.worker for a in res.trace.records(Assign)], n)
        if msg:
            found.append(f"n = {n}, {params}: {msg}")
            raise AssertionError(msg)

    try:
        prop()
    except AssertionError:
        pass
    return seen[0], (found[-1] if found else None)


def _any_schedule(data, n):
    from ....reference.adversaries import HypothesisAdversary
    return HypothesisAdversary(data)


def _unequal_times(data, n):
    from hypothesis import strategies as st
    times = [data.draw(st.integers(1, 6), label="s_i") for _ in range(n)]
    return "timed:model=fixed,s=" + "/".join(str(s) for s in times)


def check_blocks(budget: str, algorithm: str = "shuffled-async-sgd") -> tuple[bool, str]:
    check_budget(budget)
    examples, bad = _search(budget, algorithm, _any_schedule)
    if bad:
        return False, f"counterexample on {algorithm}: {bad}"
    return True, (f"{examples} runs of {algorithm} under Hypothesis-drawn schedules (n = 2..5, C jobs in flight): "
                  f"every block of n assignments is a permutation, counts within 1 after every t")


def check_random_fails(budget: str) -> tuple[bool, str]:
    check_budget(budget)
    parts, missed = [], []
    for alg, adversary_of in (("random-async-sgd", _any_schedule), ("random-async-sgd-waiting", _any_schedule),
                              ("pure-async-sgd", _unequal_times)):
        examples, bad = _search(budget, alg, adversary_of)
        if bad:
            parts.append(f"{alg}: refuted ({bad})")
        else:
            missed.append(f"{alg}: not refuted in {examples} runs")
    return (not missed), "; ".join(parts + missed)


register(Claim(
    id="shuffled-assignment",
    source='001_c6590ddcd2705154.txt, "Table 1", "Shuffled Asynchronous SGD [NEW]"',
    statement="Shuffled asynchronous SGD assigns every worker once in each block of n consecutive assignments, so "
              "after t assignments every worker has ⌊t/n⌋ or ⌈t/n⌉ of them; random asynchronous SGD (with or "
              "without waiting) and pure asynchronous SGD with unequal compute times do not.",
    checks=[Check("blocks", "property", check_blocks),
            Check("random-fails", "counterexample", check_random_fails)],
))
