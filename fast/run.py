"""The entry point of every fast run: :func:`run_fast` and what it returns, :class:`FastRun`.

``run_fast(algorithm, problem, params, seed, threads, record=True, timeout=...)`` takes the
reference algorithm's name, problem and parameters (resolved and checked by the reference's own
:func:`~asyncproof.reference.schedule.prepare`), runs it on ``threads`` real threads, and returns
the final model, the recorder's log, the statistics and, where the mode allows, the reference
schedule of the run (rebuilt on first use of :attr:`FastRun.schedule`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from asyncproof.reference.errors import AsyncproofError, InputError


class FastRunError(AsyncproofError):
    """A fast run that did not finish: a worker raised or produced a non-finite value, or the run
    timed out.  The message is one line naming the worker and the iteration."""


@dataclass
class Rebuilt:
    """The reference run steered through a fast run's recorded orders (``recorder.Guide``)."""
    result: Any                      # the reference's RunResult: its trace, schedule, metrics
    same_x: bool                     # its final model equals the fast run's, bit for bit

    @property
    def schedule(self):
        return self.result.schedule


@dataclass
class FastRun:
    algorithm: str
    problem: Any
    params: dict                     # the reference's parameters of this run (n = threads)
    seed: int
    threads: int
    assignment: str
    x0: np.ndarray
    x: np.ndarray                    # the shared memory at the end
    log: np.ndarray | None           # the recorder's rows (recorder.LOG_DTYPE), None when not recording
    stats: dict
    op_names: dict = field(default_factory=dict)
    why_not_replayable: str = ""     # empty when the recorded orders determine the run
    _rebuild: Callable | None = field(default=None, repr=False)
    _rebuilt: Rebuilt | None = field(default=None, repr=False)

    @property
    def replayable(self) -> bool:
        return not self.why_not_replayable

    def rebuild(self) -> Rebuilt:
        """The reference run through the recorded orders (computed once; the reference takes
        about a thousand times longer than the fast run, so only small runs should ask)."""
        if not self.replayable:
            raise InputError(self.why_not_replayable)
        if self._rebuilt is None:
            self._rebuilt = self._rebuild(self)
        return self._rebuilt

    @property
    def schedule(self):
        """The reference schedule that replays this run, or None where the mode has none."""
        return self.rebuild().schedule if self.replayable else None


#: cells of 8 bytes between two threads' own cells: 128 bytes, so that they share no cache line (nor
#: the adjacent line some CPUs fetch with it), or the line would bounce between the cores on every write
PAD = 16


def private(n: int, dtype=np.float64) -> np.ndarray:
    """A zeroed array of ``n`` cells that shares no cache line with any other array: a thread's own
    scratch (state, buffers), written on every sample."""
    return np.zeros(n + 2 * PAD, dtype=dtype)[PAD:PAD + n]


def fast_algorithms() -> dict:
    """Algorithm name -> its fast runner ``(problem, params, seed, threads, record, timeout, assignment)``."""
    from .shared_memory import cyclades, hogwild
    return {**hogwild.FAST, **cyclades.FAST}


def replayable_algorithms() -> tuple[str, ...]:
    """The fast algorithms whose recorded runs the reference rebuilds and replays bit for bit."""
    from .shared_memory import cyclades, hogwild
    return (*hogwild.REPLAYABLE, *cyclades.REPLAYABLE)


def run_fast(algorithm: str, problem=None, params: dict | None = None, seed: int = 0, threads: int = 2,
             record: bool = True, timeout: float = 60.0, assignment: str = "keyed", **kw) -> FastRun:
    """Run ``algorithm`` on ``threads`` real threads (see the module docstring)."""
    runners = fast_algorithms()
    if algorithm not in runners:
        raise InputError(f"no fast implementation of {algorithm!r}; fast: {', '.join(sorted(runners))}")
    return runners[algorithm](problem=problem, params=params, seed=seed, threads=threads, record=record,
                              timeout=timeout, assignment=assignment, **kw)
