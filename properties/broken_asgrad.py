"""Deliberately broken AsGrad policies and bookkeeping: one named step of an AsGrad algorithm got wrong.

Each is the AsGrad server of :mod:`~asyncproof.reference.parameter_server.asgrad` with one
of its named steps replaced (the ``policy`` of its Table 1 row, ``serve_queue``, ``data_of``,
``point_of``, ``count_active`` or ``sample_key``); the guarantees of :mod:`.asgrad_properties`
must catch them.

==============================================  ============================================================
variant                                         the mistake (the step it replaces)
==============================================  ============================================================
``broken-pure-async-waiting-off-by-one``        α = b⌊t/b⌋ instead of b⌊(t + 1)/b⌋: the job is computed at
                                                the previous multiple of b once every b assignments
                                                (``policy``)
``broken-random-async-waiting-same-worker``     "sample a new client" read as "send the model back to the
                                                client that just finished": k = i_t, pure asynchronous SGD
                                                with waiting under random's name (``policy``)
``broken-shuffled-async-reshuffles``            a fresh permutation χ for every assignment, so the same
                                                worker can come twice in a block of n (random with a detour)
                                                (``policy``)
``broken-random-async-lazy-queue``              a worker that finishes does not take up its queued job; the
                                                job waits until the worker is assigned again (``serve_queue``)
``broken-random-async-finished-workers-data``   a new job computes on the data of the worker that just
                                                finished, not the assigned one (design notes; ``data_of``)
``broken-pure-async-current-iterate``           a job computes at the iterate current when it runs, while
                                                recording the assigned π (``point_of``)
``broken-random-async-uncounted-queue``         only running jobs are counted as active, not queued ones
                                                (``count_active``)
``broken-pure-async-serial-offset``             a worker's jobs are numbered from 1: its samples are shifted
                                                (``sample_key``)
==============================================  ============================================================
"""

from __future__ import annotations

from ..reference.parameter_server.asgrad import STREAM_POLICY
from ..reference.rng import generator
from .variants import variant


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


variant("broken-pure-async-waiting-off-by-one", of="pure-async-sgd-waiting", mistake="α = b⌊t/b⌋",
        replace={"policy": _waiting_off_by_one})
variant("broken-random-async-waiting-same-worker", of="random-async-sgd-waiting",
        mistake="the finished worker gets the new job", replace={"policy": _random_waiting_same_worker})
variant("broken-shuffled-async-reshuffles", of="shuffled-async-sgd",
        mistake="a fresh permutation for every assignment", replace={"policy": _reshuffled})
variant("broken-random-async-lazy-queue", of="random-async-sgd",
        mistake="a finished worker leaves its queued job waiting", replace={"serve_queue": _lazy_queue})


# -- the bookkeeping of a job: whose data, which iterate, which sample; the active count -----------


def _finished_workers_data(job, finished):
    return job.worker if finished is None else finished         # the mistake: the finisher's data


def _current_iterate(job, xs):
    return xs[-1]                                                # the mistake: the newest iterate, not x_π


def _running_only(workers):
    return len(workers.running)                                  # the mistake: queued jobs are active too


def _serial_from_one(job):
    return job.serial + 1                                        # the mistake: the first job draws sample 1


variant("broken-random-async-finished-workers-data", of="random-async-sgd",
        mistake="a new job uses the data of the worker that just finished", replace={"data_of": _finished_workers_data})
variant("broken-pure-async-current-iterate", of="pure-async-sgd",
        mistake="computes at the iterate current when the job runs", replace={"point_of": _current_iterate})
variant("broken-random-async-uncounted-queue", of="random-async-sgd",
        mistake="queued jobs are not counted as active", replace={"count_active": _running_only})
variant("broken-pure-async-serial-offset", of="pure-async-sgd",
        mistake="a worker's jobs are numbered from 1", replace={"sample_key": _serial_from_one})
