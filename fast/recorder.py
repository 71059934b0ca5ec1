"""What a fast run really did: per-thread logs ordered by one global ticket, and the reference
schedule rebuilt from them.

The design (``docs/fast.md`` says why), in the terms every fast family uses:

* **Rows.**  A thread appends one row per operation that matters to the run: ``op`` (a code the
  family defines, with its names in ``op_names``), ``k`` (the iteration, sample or message the
  row belongs to), ``v`` (the cell, register or peer it touches), ``value`` (the value read, or
  the value the cell held when an update was applied to it), ``aux`` (the update applied, or a
  second value), and a ticket interval ``(t0, t1)``.  Rows live in per-thread preallocated
  arrays (``ilog``: int64 ``[op, k, v, t0, t1]``, ``flog``: float64 ``[value, aux]``), written by
  the ``nogil`` kernel; when they are full the kernel returns and the thread's Python loop copies
  them out (:meth:`ThreadLog.flush`) and calls it again, so a run's length is not bounded by a
  buffer and no thread ever waits for another to record.
* **Tickets.**  ``ticket`` is one int64 cell; ``fetch_add_i64(ticket, 0, 1)`` draws the next.
  A row whose ticket is drawn *inside* the operation's linearisation point (while holding the
  lock it orders, inside the server's update) has ``t0 == t1``: its position in the total order
  of such rows is the real order of those operations.  A ticket drawn apart from the operation
  is a total order but not the memory order, so a lock-free access is instead *bracketed*: a
  ticket drawn just before it and one just after (seq_cst RMWs, which on x86 are full fences,
  so the access cannot move across them), ``t0 < t1``: the access happened strictly between.
  Consecutive accesses of one thread share the ticket between them, so bracketing costs one
  ticket per access.  ``t0 = t1 = -1``: the row is not ordered by a ticket.
* **The reference schedule.**  Where the recorded orders determine the run (HOGWILD! with
  locks: the order of lock acquisitions per coordinate and which thread drew which k; an
  algorithm whose server applies updates under one lock: the order of those updates), the
  schedule is rebuilt by running the reference engine under a :class:`Guide`: an adversary that
  lets an event run only when it is the next one its resource's recorded order allows, and
  otherwise picks the oldest enabled event.  The reference run *is* the replay: its schedule is
  what ``asyncproof replay`` reads, and its final model is compared with the fast one bit for
  bit.  Where the memory order is not a replayable total order (lock-free reads and writes), the
  rows and their intervals are the record, and the checks are on them (``docs/fast.md``).

Nothing here knows about HOGWILD!: a family gives its op codes, and for a replayable mode the
``orders`` and ``classify`` of its :class:`Guide`.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from typing import Callable, Hashable

import numpy as np

from asyncproof.reference.adversaries import Adversary
from asyncproof.reference.errors import InputError

#: int64 columns of ``ilog`` and float64 columns of ``flog``
ICOLS = ("op", "k", "v", "t0", "t1")
FCOLS = ("value", "aux")
LOG_DTYPE = np.dtype([("thread", np.int64), ("op", np.int64), ("k", np.int64), ("v", np.int64),
                      ("t0", np.int64), ("t1", np.int64), ("value", np.float64), ("aux", np.float64)])


class ThreadLog:
    """One thread's preallocated row buffer and the rows flushed from it so far."""

    def __init__(self, thread: int, capacity: int):
        self.thread = thread
        self.ilog = np.zeros((capacity, len(ICOLS)), dtype=np.int64)
        self.flog = np.zeros((capacity, len(FCOLS)), dtype=np.float64)
        self._chunks: list[np.ndarray] = []

    @property
    def capacity(self) -> int:
        return self.ilog.shape[0]

    def flush(self, n: int) -> None:
        """Keep the buffer's first ``n`` rows (the kernel wrote them) and free the buffer."""
        if n <= 0:
            return
        rows = np.empty(n, dtype=LOG_DTYPE)
        rows["thread"] = self.thread
        for c, name in enumerate(ICOLS):
            rows[name] = self.ilog[:n, c]
        for c, name in enumerate(FCOLS):
            rows[name] = self.flog[:n, c]
        self._chunks.append(rows)

    def rows(self) -> np.ndarray:
        return np.concatenate(self._chunks) if self._chunks else np.empty(0, dtype=LOG_DTYPE)


class Recorder:
    """The global ticket and one :class:`ThreadLog` per thread.  ``enabled = False`` makes a
    recorder of empty buffers: the kernels then draw no ticket and write no row."""

    def __init__(self, threads: int, capacity: int, op_names: dict[int, str], enabled: bool = True):
        self.enabled = enabled
        self.op_names = dict(op_names)
        self.ticket = np.zeros(1, dtype=np.int64)
        self.logs = [ThreadLog(p, capacity if enabled else 1) for p in range(threads)]

    def log(self) -> np.ndarray:
        """Every thread's rows, in order of ``t1`` then ``t0`` (unticketed rows last), then thread
        and row: a structured array with the fields of :data:`LOG_DTYPE`."""
        rows = np.concatenate([lg.rows() for lg in self.logs]) if self.logs else np.empty(0, LOG_DTYPE)
        big = np.iinfo(np.int64).max
        t1 = np.where(rows["t1"] < 0, big, rows["t1"])
        t0 = np.where(rows["t0"] < 0, big, rows["t0"])
        return rows[np.lexsort((np.arange(rows.size), rows["thread"], t0, t1))]


# --------------------------------------------------------------------------------------------
# rebuilding the reference schedule


@dataclass
class Guide(Adversary):
    """An adversary that steers a reference run through recorded orders.

    ``orders[resource]``: the tokens in the order the fast run took the resource (a coordinate's
    lock: the samples k that took it; the sample counter: the thread that drew each k).
    ``classify(event_name)``: ``(resource, token)`` for an event that takes a resource, else
    ``None``.  An event that takes a resource may run only when its token is the resource's next
    one (for a resource in ``open_after``, also once its order is used up: the steps that end a
    process); every other event may always run.  Among the events that may run, the oldest
    (the engine's canonical choice 0) runs.  If events are enabled but none may run, the recorded
    orders contradict each other (or the algorithm): :class:`InputError` naming the step."""
    orders: dict
    classify: Callable[[str], "tuple[Hashable, Hashable] | None"]
    open_after: frozenset = frozenset()
    name = "fast-recorded"
    _queues: dict = field(default_factory=dict, repr=False)

    def reset(self, engine) -> None:
        self._queues = {r: deque(toks) for r, toks in self.orders.items()}

    def _may(self, name: str) -> bool:
        c = self.classify(name)
        if c is None:
            return True
        resource, token = c
        q = self._queues.get(resource)
        if not q:
            return resource in self.open_after
        return q[0] == token

    def choose(self, engine, events) -> int:
        for i, e in enumerate(events):
            if self._may(e.name):
                c = self.classify(e.name)
                if c is not None and self._queues.get(c[0]):
                    self._queues[c[0]].popleft()
                return i
        names = [e.name for e in events][:6]
        raise InputError(f"the recorded orders cannot be replayed: at step {engine.step_index} none of the enabled "
                         f"events {names} is the next one recorded")

    def leftover(self) -> dict:
        """The resources whose recorded order was not used up (a complete rebuild leaves none)."""
        return {r: len(q) for r, q in self._queues.items() if q}

    def to_json(self) -> dict:
        return {"name": self.name}


def pattern_classifier(rules: list[tuple[str, Callable[[re.Match], "tuple[Hashable, Hashable]"]]]):
    """``classify`` from ``(regex, match -> (resource, token))`` rules tried in order."""
    compiled = [(re.compile(p), f) for p, f in rules]

    def classify(name: str):
        for pat, f in compiled:
            m = pat.fullmatch(name)
            if m:
                return f(m)
        return None
    return classify
