"""Deliberately broken AsGrad policies: Table 1's rule, or the worker's queue, got wrong once.

Each is the AsGrad server of :mod:`~asyncproof.reference.parameter_server.asgrad` with one
named piece replaced (the policy function of its Table 1 row, or ``serve_queue``); the
guarantees ``asgrad-assignment-rule`` and ``asgrad-delay-bound`` of
:mod:`.asgrad_properties` must catch them.

============================================  ============================================================
variant                                       the mistake
============================================  ============================================================
``broken-pure-async-waiting-off-by-one``      α = b⌊t/b⌋ instead of b⌊(t + 1)/b⌋: the job is computed at
                                              the previous multiple of b once every b assignments
``broken-random-async-waiting-same-worker``   "sample a new client" read as "send the model back to the
                                              client that just finished": k = i_t, pure asynchronous SGD
                                              with waiting under random's name
``broken-shuffled-async-reshuffles``          a fresh permutation χ for every assignment, so the same
                                              worker can come twice in a block of n (random with a detour)
``broken-random-async-lazy-queue``            a worker that finishes does not take up its queued job; the
                                              job waits until the worker is assigned again
============================================  ============================================================
"""

from __future__ import annotations

from ..reference.parameter_server import asgrad
from ..reference.parameter_server.asgrad import STREAM_POLICY
from ..reference.rng import generator
from .broken import _variant


def _asgrad(base: str, name: str, summary: str, policy, **hooks) -> None:
    _variant(base, name, summary, lambda problem, params, seed: asgrad.build(problem, params, seed, policy, **hooks))


def _waiting_off_by_one(t, i_t, n, b, seed):
    return i_t, b * (t // b)                                     # the mistake: t, not t + 1


def _random_waiting_same_worker(t, i_t, n, b, seed):
    return i_t, b * ((t + 1) // b)                               # the mistake: no new client is sampled


def _reshuffled(t, i_t, n, b, seed):
    chi = generator(seed, STREAM_POLICY, t).permutation(n)       # the mistake: a permutation per assignment
    return int(chi[t % n]), t + 1


def _lazy_queue(workers, worker):
    return
    yield                                                        # the mistake: the queue is not served


_asgrad("pure-async-sgd-waiting", "broken-pure-async-waiting-off-by-one",
        "BROKEN pure-async-sgd-waiting: α = b⌊t/b⌋", _waiting_off_by_one)
_asgrad("random-async-sgd-waiting", "broken-random-async-waiting-same-worker",
        "BROKEN random-async-sgd-waiting: the finished worker gets the new job", _random_waiting_same_worker)
_asgrad("shuffled-async-sgd", "broken-shuffled-async-reshuffles",
        "BROKEN shuffled-async-sgd: a fresh permutation for every assignment", _reshuffled)
_asgrad("random-async-sgd", "broken-random-async-lazy-queue",
        "BROKEN random-async-sgd: a finished worker leaves its queued job waiting", "random", serve_queue=_lazy_queue)
