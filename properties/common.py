"""What the guarantees of every family compare with: bit-exact differences, reported readably."""

from __future__ import annotations

import re

import numpy as np


def final_output(result, pid: int) -> np.ndarray | None:
    """The last point process ``pid`` output in ``result``'s run (``None`` if it output nothing)."""
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


def nonbenign(result) -> bool:
    """The adversary made a non-default choice where it had one."""
    return any(c != 0 for c, k in zip(result.trace.choices, result.trace.enabled_counts) if k > 1)


def deliveries(trace, tag: str) -> list[tuple[int, int, int, int]]:
    """(step, src, dst, k) of every delivery of a message tagged ``tag`` followed by a number k (its round
    or iteration: ``"round "``, ``"model "``, ``"t="``), in step order, read from the schedule's own
    event names (what really reached whom, not what the processes say they heard)."""
    pattern = re.compile(rf"deliver #\d+ p(\d+)->p(\d+) {re.escape(tag)}(\d+)")
    out = []
    for step, e in enumerate(trace.events):
        m = pattern.fullmatch(e)
        if m:
            out.append((step, int(m.group(1)), int(m.group(2)), int(m.group(3))))
    return out


def first_deliveries(trace, tag: str) -> dict[tuple[int, int, int], int]:
    """(src, dst, k) -> the first step at which a message tagged ``tag`` k from src reached dst."""
    out: dict[tuple[int, int, int], int] = {}
    for step, src, dst, k in deliveries(trace, tag):
        out.setdefault((src, dst, k), step)
    return out
