"""Guarantees, and running them with Hypothesis against real and broken algorithms.

A :class:`Guarantee` is a stated property of one or more algorithms:

* ``draw(data, algorithm)`` draws a case (problem, parameters, seed) from
  Hypothesis's ``st.data()``; the schedule is drawn during the run by the
  Hypothesis adversary, choice by choice;
* ``check(result)`` is a plain function over a finished run (its trace, schedule,
  problem, parameters) that returns ``None`` or a message saying what broke;
* ``hard(result)`` says whether the run exercised the dangerous case (a delay at
  its bound, a crash, an out-of-order arrival).  A guarantee whose runs never
  did is reported *vacuous*: passing it proves nothing.
* ``broken`` maps an algorithm to its deliberately broken variant, which the
  guarantee must catch.
* ``applies(result)`` (optional) says whether the run meets the statement's premise (a
  bound τ given): its draws always do; a run drawn elsewhere (a fast run rebuilt through
  the reference, ``asyncproof verify --fast``) may not, and then the check says nothing.

:func:`search` runs one guarantee on one algorithm (or its broken variant) and
returns the statistics; a violation is saved by :class:`FailureCapture` before it
is raised, and :func:`recheck` re-runs the check on a replayed schedule.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

from hypothesis import given, reject
from hypothesis import strategies as st

from ..reference.errors import InputError, PropertyViolation
from ..reference.registries import Registry, modules_of
from ..reference.schedule import RunResult, Schedule, replay, run_algorithm
from .capture import FailureCapture
from .profiles import budget_settings
from .strategies import schedules


@dataclass(frozen=True)
class Case:
    algorithm: str
    problem: dict
    params: dict
    seed: int
    model: dict | None = None


@dataclass
class Guarantee:
    name: str
    statement: str
    source: str
    algorithms: tuple[str, ...]
    draw: Callable[[object, str], Case]
    check: Callable[[RunResult], str | None]
    hard: Callable[[RunResult], bool]
    hard_case: str                              # what "hard" means, for the table
    broken: dict[str, str] = field(default_factory=dict)
    # the schedules searched: an adversary drawing from ``st.data()`` (default: every choice free,
    # :func:`~asyncproof.properties.strategies.schedules`); a guarantee about a class of schedules
    # (zero-delay, synchronous) restricts the adversary to it instead of filtering runs
    adversary: Callable[[object], object] | None = None
    # whether a run meets the statement's premise (None: every run does); see the module docstring
    applies: Callable[[RunResult], bool] | None = None


def property_modules() -> list[str]:
    """The modules declaring guarantees and broken variants: the cross-cutting ones, the kernels',
    then ``properties/<family>/<algorithm>.py`` beside ``reference/<family>/<algorithm>.py``."""
    here = __name__.rsplit(".", 1)[0]
    return [f"{here}.every_algorithm", f"{here}.kernels", *modules_of(here)]


def _cover_every_algorithm(registry) -> None:
    from .every_algorithm import cover_every_algorithm
    cover_every_algorithm(registry.all())


#: every guarantee, by name, in the order :func:`property_modules` declares them (the verify order)
GUARANTEES: Registry = Registry("property", property_modules, after_load=_cover_every_algorithm)


def register(g: Guarantee) -> Guarantee:
    return GUARANTEES.add(g.name, g)


def guarantees() -> list[Guarantee]:
    return GUARANTEES.all()


def get_guarantee(name: str) -> Guarantee:
    return GUARANTEES.lookup(name)


@dataclass
class SearchStats:
    guarantee: str
    algorithm: str
    examples: int = 0
    hard: int = 0
    violation: PropertyViolation | None = None
    found_at: int | None = None        # the example at which the first violation was met
    diverged: int = 0                  # drawn cases whose run diverged: discarded, not checked

    @property
    def path(self) -> str | None:
        return self.violation.path if self.violation else None


def _hypothesis_internal(e: BaseException) -> bool:
    """Hypothesis steers a test with exceptions of its own (a draw past the end of its buffer, a
    frozen data object): those must reach it, never be reported as a violation."""
    from hypothesis.errors import HypothesisException
    return isinstance(e, HypothesisException) or type(e).__module__.startswith("hypothesis")


def crash_message(e: BaseException, where: str) -> str:
    """One line for an exception met in a run or a check: a violation, not a traceback."""
    text = " ".join(str(e).split()) or "(no message)"
    return f"{where} raised {type(e).__name__}: {text}"


def run_case(g: Guarantee, case: Case, adversary, capture: FailureCapture, stats: SearchStats) -> RunResult:
    """Run one drawn case, check it, count it; save and raise on a violation.

    An exception inside the run (an internal assertion, an index out of range) is a violation
    too: the schedule up to the step that raised is saved and replays the exception; so is an
    exception inside the check (the run left records the check cannot read).

    A run that diverged (``trace.stopped == "diverged"``: its iterates overflowed, the engine
    ended it) is neither a violation nor a passing example: the guarantees are statements
    about the runs their draws promise (``strategies.step_sizes`` keeps every small problem
    finite), and their checks read finished runs, so a check of a diverged run would report a
    bogus violation (no output, a serial reference that overflows).  The case is discarded
    (Hypothesis ``reject``) and counted in ``stats.diverged``; it cannot make a suite pass
    unseen: the examples counted and the vacuity check (the hard case met) are over checked
    runs only, and a search whose every case diverges is reported unsatisfiable by Hypothesis."""
    try:
        result = run_algorithm(case.algorithm, problem=case.problem, params=case.params, seed=case.seed,
                               adversary=adversary, model=case.model)
    except Exception as e:
        if _hypothesis_internal(e) or getattr(e, "partial_schedule", None) is None:
            raise
        stats.examples += 1
        stats.found_at = stats.found_at or stats.examples
        sched = e.partial_schedule
        capture.fail(sched, crash_message(e, f"the run (step {len(sched.events) - 1}, {sched.events[-1]!r})"
                                          if sched.events else "the run"),
                     {"algorithm_under_test": case.algorithm, "raised": type(e).__name__})
    if result.trace.stopped == "diverged":
        stats.diverged += 1
        reject()
    stats.examples += 1
    if g.hard(result):
        stats.hard += 1
    try:
        msg = g.check(result)
    except Exception as e:
        if _hypothesis_internal(e):
            raise
        msg = crash_message(e, "the check")
    if msg:
        if stats.found_at is None:
            stats.found_at = stats.examples
        capture.fail(result.schedule, msg, {"algorithm_under_test": case.algorithm})
    return result


def search(g: Guarantee, algorithm: str, budget: str = "ci", failures: str | Path = "failures",
           examples: int | None = None, variant: str | None = None) -> SearchStats:
    """Let Hypothesis search for a violation of ``g`` on ``algorithm``.

    With ``variant``, the cases are drawn as for ``algorithm`` but run on the
    (broken) variant.  Returns the statistics; ``stats.violation`` holds the
    (shrunk, saved) counterexample if one was found.
    """
    under_test = variant or algorithm
    stats = SearchStats(g.name, under_test)
    capture = FailureCapture(f"{g.name}.{under_test}", failures)

    @budget_settings(budget, examples)
    @given(st.data())
    def prop(data):
        case = g.draw(data, algorithm)
        if variant is not None:
            case = replace(case, algorithm=variant)
        run_case(g, case, (g.adversary or schedules)(data), capture, stats)

    try:
        prop()
    except PropertyViolation as v:
        stats.violation = v
    except BaseExceptionGroup as eg:   # several distinct failures: keep the first violation
        vs = [e for e in eg.exceptions if isinstance(e, PropertyViolation)]
        if not vs:
            raise
        stats.violation = vs[0]
    finally:
        capture.keep_only(stats.path)
    return stats


def recheck(schedule: Schedule) -> tuple[bool, str]:
    """Replay a counterexample and re-run its property: ``(still violated, message)``."""
    if not schedule.property:
        raise InputError("this schedule records no property to re-check")
    g = get_guarantee(schedule.property["name"].split(".")[0])
    raised = schedule.property.get("raised")
    try:
        rep = replay(schedule)
    except Exception as e:
        if raised and type(e).__name__ == raised:
            return True, crash_message(e, "the replayed run") + " again"
        raise
    if raised:
        return False, f"the recorded run raised {raised}, the replay did not"
    if not rep.reproduced:
        return True, f"the run does not reproduce: {rep.report()}"
    from ..reference.schedule import prepare
    alg, params, problem = prepare(schedule.algorithm, schedule.problem, schedule.params, schedule.seed)
    result = RunResult(rep.trace, schedule, problem, params, rep.metrics or {})
    msg = g.check(result)
    return (msg is not None), (msg or f"{g.name} holds on this schedule")
