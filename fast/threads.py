"""The worker threads of a fast run: started together, joined by one deadline, stopped by a flag.

Every fast family runs long-lived daemon threads, each calling its compiled ``nogil`` kernels until
the run is done; :func:`on_threads` starts them together, waits for them until the run's timeout,
and at the timeout sets the run's stop flag (which every kernel reads); the family raises
:func:`timeout_error`, one line.  :func:`prepare_threads` checks a run's threads and timeout and
sets the algorithm's own thread-count parameter; :func:`throughput` is every run's statistics.  Daemon threads: even a kernel that
ignored the flag could not keep the process alive.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .run import FastRunError


@dataclass
class Threads:
    """How :func:`on_threads` ended: wall-clock seconds from the start until every thread ended (or the
    timeout), whether the timeout struck, the threads still running after the stop flag, and the CPU
    time each thread got (less than the wall clock where the machine ran other work on its cores)."""
    seconds: float
    timed_out: bool
    stuck: list
    cpu: list


def on_threads(name: str, threads: int, body: Callable[[int], None], timeout: float, stop: np.ndarray,
               on_timeout: Callable[[], None] | None = None) -> Threads:
    """``body(p)`` for p = 0 .. threads-1 on long-lived daemon threads ``{name}-worker-{p}`` that start
    together (a barrier: a thread started first would otherwise finish a short run alone).  At the
    timeout ``stop[0]`` is set, ``on_timeout()`` called (a barrier of the run's own to break, say) and
    the threads get 5 s more to notice; daemons, so even one that ignored the flag could not keep the
    process alive.  ``body`` handles its own errors; the caller raises the timeout's error
    (:func:`timeout_error`)."""
    start = threading.Barrier(threads)
    cpu = [0.0] * threads

    def target(p: int) -> None:
        try:
            start.wait(timeout)
        except threading.BrokenBarrierError:
            return
        c0 = time.thread_time()
        body(p)
        cpu[p] = time.thread_time() - c0

    pool = [threading.Thread(target=target, args=(p,), name=f"{name}-worker-{p}", daemon=True)
            for p in range(threads)]
    t0 = time.perf_counter()
    for th in pool:
        th.start()
    deadline = t0 + timeout
    for th in pool:
        th.join(max(0.0, deadline - time.perf_counter()))
    seconds = time.perf_counter() - t0
    timed_out = any(th.is_alive() for th in pool) or start.broken
    if timed_out:
        stop[0] = 1
        if on_timeout is not None:
            on_timeout()
        for th in pool:
            th.join(5.0)
    return Threads(seconds, timed_out, [th.name for th in pool if th.is_alive()], cpu)


def throughput(samples: int, updates: int, ran: Threads, setup: float, first_call: float) -> dict:
    """A fast run's statistics: samples and coordinate updates, in ``seconds`` (the threads' wall clock)
    and per second; ``cpu_seconds``, the CPU time the threads got together (``cpu_seconds / seconds``
    is the number of cores they really had); the setup before the kernel's first call, and that call
    (compiling the kernel or loading it from numba's cache, and warming it), apart."""
    seconds = ran.seconds
    per = (lambda n: n / seconds) if seconds > 0 else (lambda n: math.inf)
    return {"samples": samples, "updates": updates, "threads": len(ran.cpu), "seconds": seconds,
            "samples_per_s": per(samples), "updates_per_s": per(updates), "cpu_seconds": sum(ran.cpu),
            "setup_seconds": setup, "first_call_seconds": first_call}


def timeout_error(name: str, timeout: float, ran: Threads, progress: str) -> FastRunError:
    """The one-line error of a run that timed out: how far it got, and the threads that did not stop."""
    return FastRunError(f"{name} --fast: timed out after {timeout:g} s with {progress}"
                        + (f"; {', '.join(ran.stuck)} did not stop" if ran.stuck else ""))


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
        raise InputError(f"{name} --fast: the cores are the threads: {param} = {given} was given, but the run has "
                         f"threads = {threads} (--threads)")
    return resolved
