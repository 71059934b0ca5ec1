"""The worker threads of a fast run: started together, joined by one deadline, stopped by a flag.

Every fast family runs long-lived daemon threads, each calling its compiled ``nogil`` kernels until
the run is done; :func:`run_threads` starts them, waits for them until the run's timeout, and at
the timeout sets the run's stop flag (which every kernel reads) and raises
:class:`~asyncproof.fast.run.FastRunError` in one line.  Daemon threads: even a kernel that
ignored the flag could not keep the process alive.
"""

from __future__ import annotations

import threading
import time
from typing import Callable

import numpy as np

from .run import FastRunError


def run_threads(name: str, work: Callable[[int], None], threads: int, timeout: float, stop: np.ndarray,
                progress: Callable[[], str], on_timeout: Callable[[], None] | None = None) -> float:
    """Run ``work(p)`` for p = 0 .. threads-1 on daemon threads ``{name}-worker-{p}``; return the
    seconds until the last one ended.  Past ``timeout`` seconds: ``stop[0] = 1``, ``on_timeout()``
    (a barrier to break, say), five seconds for the threads to stop, then ``FastRunError``: "{name}
    --fast: timed out after S s with {progress()}", naming the threads that did not stop."""
    pool = [threading.Thread(target=work, args=(p,), name=f"{name}-worker-{p}", daemon=True) for p in range(threads)]
    t0 = time.perf_counter()
    for th in pool:
        th.start()
    for th in pool:
        th.join(max(0.0, t0 + timeout - time.perf_counter()))
    seconds = time.perf_counter() - t0
    if any(th.is_alive() for th in pool):
        stop[0] = 1
        if on_timeout is not None:
            on_timeout()
        for th in pool:
            th.join(5.0)
        stuck = [th.name for th in pool if th.is_alive()]
        raise FastRunError(f"{name} --fast: timed out after {timeout:g} s with {progress()}"
                           + (f"; {', '.join(stuck)} did not stop" if stuck else ""))
    return seconds


def prepare_threads(name: str, problem, params: dict | None, seed: int, threads: int, timeout, param: str):
    """``(algorithm, params, problem)`` of the reference algorithm ``name`` run on ``threads`` threads:
    ``threads`` and ``timeout`` checked, and the algorithm's parameter ``param`` (its cores, its
    threads) set to ``threads``; a ``param`` given otherwise is refused in one line."""
    from asyncproof.reference.errors import InputError
    from asyncproof.reference.registry import resolve_params

    from .shared_memory.hogwild import _prepare
    if isinstance(threads, bool) or not isinstance(threads, int) or not 1 <= threads <= 256:
        raise InputError(f"threads must be an integer in 1 .. 256, got {threads!r}")
    if not (isinstance(timeout, (int, float)) and timeout > 0):
        raise InputError(f"timeout must be a positive number of seconds, got {timeout!r}")
    params = dict(params or {})
    given = params.pop(param, None)
    params[param] = threads
    resolved = _prepare(name, problem, params, seed)
    if given is not None and resolve_params(name, {param: given})[param] != threads:
        raise InputError(f"{name} --fast: the cores are the threads; {param} = {given} but threads = {threads}")
    return resolved
