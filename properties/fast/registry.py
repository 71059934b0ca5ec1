"""What ``asyncproof verify --fast`` runs for each fast algorithm, and what every replayable run gets.

A :class:`FastSuite` is declared for a fast algorithm by ``properties/fast/<family>/<algorithm>.py``
(:func:`declare`; the modules are found by walking the families, as the reference's guarantees
are).  It names:

* ``checks``: :class:`FastCheck` s of the recorded run itself (its rows and ticket intervals), each
  ``check(run) -> str | None`` like a reference guarantee's ``check(result)``;
* ``measure(run, rebuilt)``: what the run reached (samples in flight at once, delays, lost updates),
  and ``dangerous(measures)``: ``None`` when the measures show the dangerous case, else what is
  missing (a stalled row that never reached it is *vacuous*, and fails);
* ``stalls(problem, seed)``: the named steps that inject stalls (``steps={...}`` of ``run_fast``);
* ``planted``: :class:`Planted` bugs, each a named step replaced by a realistic mistake, which the
  checks must catch; one that maps to a broken variant of the reference names it, and its run
  rebuilt as that variant is a counterexample of the reference guarantee that catches it there.

Whatever is declared, a fast run that is *replayable* (``FastRun.replayable``: its recorded orders
determine it) is also rebuilt through the reference (``run.rebuild()``), which must give its final
model bit for bit, and every guarantee the reference registers for its algorithm
(:data:`~asyncproof.properties.guarantees.GUARANTEES`, the same ``check`` functions ``asyncproof
verify`` runs) is checked on the rebuilt trace.  A fast algorithm nobody declared a suite for gets
exactly that (:func:`suite_of`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ...reference.registries import Registry, modules_of


@dataclass(frozen=True)
class FastCheck:
    """A check of a fast run's record: ``check(run)`` is ``None`` or what broke, in one line."""
    name: str
    statement: str
    check: Callable


@dataclass(frozen=True)
class Planted:
    """A planted bug: ``steps(problem, seed)`` are the named steps it replaces (compiled), one
    realistic mistake.  ``variant``: the reference's broken variant that makes the same mistake,
    ``guarantee``: the reference guarantee that catches it there, ``rebuild_as(run, variant)``:
    the fast run rebuilt as that variant (a :class:`~asyncproof.fast.run.Rebuilt`); without a
    variant, ``no_variant`` says why none maps to it."""
    name: str
    mistake: str
    steps: Callable
    variant: str | None = None
    guarantee: str | None = None
    rebuild_as: Callable | None = None
    no_variant: str = ""
    threads: int = 2
    tries: int = 8


@dataclass(frozen=True)
class FastSuite:
    algorithm: str
    checks: tuple = ()
    measure: Callable | None = None
    dangerous: Callable | None = None
    stalls: Callable | None = None
    problem: dict | None = None           # the runs' problem (None: the algorithm's default)
    replayed: bool = True                 # its runs are rebuilt through the reference: fewer samples
    planted: tuple = ()


def _modules() -> list[str]:
    return modules_of(__name__.rsplit(".", 1)[0])


#: the declared suites, by fast algorithm
FAST: Registry = Registry("fast suite", _modules)


def declare(suite: FastSuite) -> FastSuite:
    return FAST.add(suite.algorithm, suite)


def suite_of(algorithm: str) -> FastSuite:
    """The suite declared for ``algorithm``, or the one every fast algorithm gets (its replayable
    runs rebuilt and checked by the reference's guarantees)."""
    FAST.load()
    return FAST.get(algorithm) or FastSuite(algorithm)
