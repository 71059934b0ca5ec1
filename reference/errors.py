"""Errors raised by asyncproof, each meant to be read by a person.

Every error a user can cause (bad data, bad parameters, an unreadable or mismatched
schedule file) is an :class:`InputError`: its message is one line that names the
field and the bad value.  The CLI turns it into exit status 2.  A guarantee that
does not hold is a :class:`PropertyViolation` (exit status 1); a replay that stops
matching its schedule is a :class:`ReplayDivergence` (exit status 1).
"""

from __future__ import annotations


class AsyncproofError(Exception):
    """Base class of every error asyncproof raises on purpose."""


class InputError(AsyncproofError, ValueError):
    """Bad input: a wrong shape, a NaN, an invalid parameter, an unknown name, a corrupt file."""


class NonFinite(InputError):
    """A point with a NaN or an infinite coordinate, given where a finite point is needed.

    Raised by :meth:`~asyncproof.reference.problems.Problem.check_x` (so by every
    ``value``/``grad`` of a problem).  Outside a run it is bad input like any other
    :class:`InputError` (``x0 = [nan]``: one line, exit status 2).  Inside a running
    engine it means the run diverged: the engine catches it during the step and ends the
    run with ``trace.stopped == "diverged"`` (``docs/engine.md``, "Divergence").

    Attributes
    ----------
    field : str
        The name of the point (``"x"``, ``"x0"``).
    index : int
        The first coordinate that is not finite.
    value : float
        Its value (``inf``, ``-inf`` or ``nan``).
    norm : float
        The point's Euclidean norm (``inf``, or ``nan`` when a coordinate is NaN).
    """

    def __init__(self, message: str, field: str = "x", index: int = 0, value: float = float("nan"),
                 norm: float = float("nan")):
        super().__init__(message)
        self.field = field
        self.index = index
        self.value = value
        self.norm = norm


class ReplayDivergence(AsyncproofError):
    """A replayed schedule asked for an event that is not enabled at that step.

    Attributes
    ----------
    step : int
        Index (0-based) of the first step that could not be replayed.
    expected : str
        The event name the schedule holds at that step.
    enabled : list[str]
        The names of the events that were enabled instead.
    """

    def __init__(self, step: int, expected: str, enabled: list[str], detail: str = ""):
        self.step = step
        self.expected = expected
        self.enabled = list(enabled)
        shown = ", ".join(repr(e) for e in self.enabled[:12])
        if len(self.enabled) > 12:
            shown += f", ... ({len(self.enabled)} in all)"
        msg = (f"diverged at step {step}: the schedule expects {expected!r}, "
               f"but the enabled events are [{shown}]")
        if detail:
            msg += f"; {detail}"
        super().__init__(msg)


class PropertyViolation(AsyncproofError, AssertionError):
    """A stated guarantee does not hold on a run.

    ``path`` is where the breaking schedule was written (always before raising).
    """

    def __init__(self, prop: str, message: str, path: str | None = None):
        self.prop = prop
        self.path = path
        text = f"{prop} violated: {message}"
        if path:
            text += f"\n  counterexample saved to {path}\n  replay with: asyncproof replay {path}"
        super().__init__(text)
