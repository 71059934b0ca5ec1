"""What the decentralized guarantees share: Monte Carlo estimates over seeds of one schedule.

The decentralized algorithms' control flow does not depend on the values they compute (which
messages a process waits for, which rounds it skips, every event name depend on iteration
numbers and senders only), so the events of a run replay under another seed, whose samples,
and so gradient noise, differ (:func:`replay_with_seed`; a replay that does not follow the
events is an error, since the estimate would then not be of this schedule).  An expectation
over the noise *for this schedule* is then a mean over seeds, with a Student-t interval
(:func:`t_interval`): the seeds' "E", never a single run.

>>> [round(v, 4) for v in t_interval([1.0, 2.0, 3.0])]      # mean ± t(0.975, 2) · s/√3
[2.0, -0.4841, 4.4841]
>>> t_interval([5.0, 5.0])
(5.0, 5.0, 5.0)
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ...reference.schedule import replay
from ..guarantees import Guarantee, register

#: the confidence level of the intervals
LEVEL = 0.95


class NotThisSchedule(AssertionError):
    """The events of a schedule did not replay under another seed: its control flow depends on values."""


def register_for(algorithm: str, *, broken: str, adversary=None, **fields) -> Guarantee:
    """Register a guarantee of ``algorithm`` alone, with ``broken``, the variant of it that it must catch
    (``fields``: the rest of :class:`~asyncproof.properties.guarantees.Guarantee`'s)."""
    return register(Guarantee(algorithms=(algorithm,), broken={algorithm: broken}, adversary=adversary, **fields))


def replay_with_seed(schedule, seed: int):
    """The trace of ``schedule``'s events replayed with run seed ``seed`` (other samples, other gradient
    noise; the problem's own data keep their seed).  :class:`NotThisSchedule` if the events do not
    replay."""
    rep = replay(replace(schedule, seed=seed, digest="", stopped=""))
    if rep.divergence is not None:
        raise NotThisSchedule(f"the schedule does not replay under seed {seed}: {rep.report()} -- the control "
                              f"flow depends on the values, so an estimate over seeds is not of this schedule")
    return rep.trace


def pid_order_mean(vectors) -> np.ndarray:
    """The average the algorithms owe, restated: the vectors (given in sender-pid order) summed left to
    right, then divided by their number, the same bits whatever order they arrived in."""
    acc = np.array(vectors[0], dtype=np.float64)
    for v in vectors[1:]:
        acc = acc + v
    return acc / len(vectors)


def t_interval(values, level: float = LEVEL) -> tuple[float, float, float]:
    """(mean, lower, upper): the Student-t interval of the mean at ``level`` (a point when the values
    do not vary, or there is one)."""
    from scipy import stats
    a = np.asarray(values, dtype=np.float64)
    mean = float(a.mean())
    if len(a) < 2 or float(a.std()) == 0.0:
        return mean, mean, mean
    lo, hi = stats.t.interval(level, len(a) - 1, loc=mean, scale=stats.sem(a))
    return mean, float(lo), float(hi)
