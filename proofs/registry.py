"""The proofs registry: the papers' claims as executable statements.

Design notes (``design.md``, section "Proofs (proofs/)"): each :class:`Claim` has an
id, its source (seed file and slide title), a statement, and checks of four kinds:

==================  ==================================================================
kind                what it does
==================  ==================================================================
``symbolic``        sympy algebra: an expectation derived, a bound expanded, a limit
``monte-carlo``     a sample estimate on runs of the reference engine, with a z-test
``property``        Hypothesis (or seeded random) examples of the claim's conclusion
``counterexample``  a search that finds the failure when a hypothesis is dropped
==================  ==================================================================

A :class:`Check` is a name, a kind and a function ``fn(budget, **overrides)`` that
returns ``(passed, detail)``: ``detail`` is one line with the numbers compared.  The
overrides let a test hand a check a *wrong* formula and see it fail (every claim
needs such a broken-variant test, as every property does).  :meth:`Check.run` never
lets an exception escape: a check that raises is a failed check whose detail is the
exception's text, so ``asyncproof prove`` prints a table, never a traceback.

The budget scales sample sizes and numbers of examples: ``quick`` (a few seconds per
claim), ``ci`` (under about 30 s per claim, derandomized), ``deep`` (long local runs).
Every budget is deterministic except ``deep``'s Hypothesis examples, which are
randomized on purpose to explore further.

>>> def broken(budget):
...     raise ZeroDivisionError("boom")
>>> Check("demo", "symbolic", broken).run("quick")
CheckResult(name='demo', kind='symbolic', passed=False, detail='raised ZeroDivisionError: boom')
>>> get_claim("no-such-claim")
Traceback (most recent call last):
...
asyncproof.reference.errors.InputError: unknown claim 'no-such-claim'; known: ...
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from ..budgets import BUDGETS, check_budget, strategies_alone
from ..budgets import CLAIM_EXAMPLES as EXAMPLES
from ..reference.errors import InputError
from ..reference.registries import Registry, modules_of

strategies_alone()      # derandomized searches depend on the code and the seed only (see budgets)

#: the kinds of checks
KINDS = ("symbolic", "monte-carlo", "property", "counterexample")

Budget = str   # one of BUDGETS


def hypothesis_settings(budget: str, max_examples: int | None = None):
    """Hypothesis settings for a property check run inside a check function.

    ``quick`` and ``ci`` are derandomized (the same examples every run, so the table
    of ``asyncproof prove`` is reproducible); ``deep`` is randomized.  No example
    database (a claim is not a test suite with a history), no deadline (shared,
    noisy machines), quiet (the check reports through its detail line).

    >>> hypothesis_settings("quick").derandomize
    True
    """
    from hypothesis import HealthCheck, Verbosity, settings

    check_budget(budget)
    return settings(max_examples=max_examples if max_examples is not None else EXAMPLES[budget],
                    derandomize=budget != "deep", database=None, deadline=None,
                    suppress_health_check=list(HealthCheck), verbosity=Verbosity.quiet,
                    print_blob=False, report_multiple_bugs=False)


@dataclass
class CheckResult:
    """The outcome of one check: ``detail`` is one line with the numbers that were compared."""
    name: str
    kind: str
    passed: bool
    detail: str


def _one_line(text: Any) -> str:
    return " ".join(str(text).split())


@dataclass(frozen=True)
class Check:
    """One check of a claim: ``fn(budget, **overrides) -> (passed, detail)``."""
    name: str
    kind: str
    fn: Callable[..., tuple[bool, str]]

    def __post_init__(self):
        if self.kind not in KINDS:
            raise InputError(f"check {self.name!r}: kind must be one of {', '.join(KINDS)}, got {self.kind!r}")

    def run(self, budget: str = "quick", **overrides) -> CheckResult:
        """Run the check; an exception becomes a failed result carrying its message."""
        check_budget(budget)
        try:
            out = self.fn(budget, **overrides)
            if isinstance(out, CheckResult):
                return CheckResult(self.name, self.kind, bool(out.passed), _one_line(out.detail))
            passed, detail = out
        except Exception as e:   # a check is a report line, never a traceback
            msg = _one_line(e)
            return CheckResult(self.name, self.kind, False, f"raised {type(e).__name__}" + (f": {msg}" if msg else ""))
        return CheckResult(self.name, self.kind, bool(passed), _one_line(detail))

    __call__ = run


@dataclass
class Claim:
    """A claim of a seed: id, source (seed file and slide title), statement, checks."""
    id: str
    source: str
    statement: str
    checks: list[Check] = field(default_factory=list)

    def check(self, name: str) -> Check:
        """The check called ``name`` (:class:`InputError` naming the known ones otherwise)."""
        for c in self.checks:
            if c.name == name:
                return c
        raise InputError(f"claim {self.id!r} has no check {name!r}; its checks: "
                         f"{', '.join(c.name for c in self.checks)}")


def _claim_modules() -> list[str]:
    # proofs/claims/<family>/<claim>.py, the family as in reference/<family>/
    return modules_of(f"{__package__}.claims")


def _failed_import(module: str, e: Exception) -> None:
    """A claim module that fails to import is a claim with one failing check carrying the error,
    so one broken module cannot take ``asyncproof prove`` down and cannot go unnoticed either."""
    err = f"module {module} failed to import: {type(e).__name__}: {_one_line(e)}"
    register(Claim(module.rsplit(".", 1)[-1].replace("_", "-"), f"{module} (not loaded)", err,
                   [Check("import", "property", lambda budget, err=err: (False, err))]))


#: every registered claim, by id (the modules of proofs/claims/ are imported on first use)
CLAIMS: Registry = Registry("claim", _claim_modules, on_error=_failed_import)


def register(claim: Claim) -> Claim:
    """Add ``claim`` to :data:`CLAIMS` and return it.

    Registering the same id again from the same source replaces it (a reloaded
    module); the same id from another source is an error, since ids name claims
    on the command line.
    """
    if not isinstance(claim, Claim):
        raise InputError(f"register expects a Claim, got {type(claim).__name__}")
    if not claim.id or claim.id != claim.id.strip() or " " in claim.id:
        raise InputError(f"a claim id must be a non-empty word such as 'straggler-order-statistics', got {claim.id!r}")
    names = [c.name for c in claim.checks]
    if len(set(names)) != len(names):
        raise InputError(f"claim {claim.id!r} has two checks with the same name: {names}")
    return CLAIMS.add(claim.id, claim, origin=claim.source)


def all_claims() -> list[Claim]:
    """All claims (the builtin claim modules are imported on first use), by id.

    Not called ``claims``: that name is the sub-package of claim modules.
    """
    CLAIMS.load()
    return [CLAIMS[k] for k in sorted(CLAIMS)]


def get_claim(id: str) -> Claim:
    """The claim with this id; :class:`InputError` naming the unknown id and the known ones."""
    return CLAIMS.lookup(id)


def run_claim(id: str, budget: str = "quick", progress: Callable[[str], None] | None = None) -> list[CheckResult]:
    """Run every check of claim ``id`` on ``budget``; ``progress(text)`` hears of each check."""
    check_budget(budget)
    claim = get_claim(id)
    results = []
    for i, check in enumerate(claim.checks):
        if progress is not None:
            progress(f"{claim.id}: check {i + 1}/{len(claim.checks)} {check.name} ({check.kind}, {budget})")
        results.append(check.run(budget))
    return results
