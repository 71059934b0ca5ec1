"""Check your own step of an algorithm against its guarantees: Hypothesis strategies and checkers.

A small flat API, in the style of Hypothesis's own, for tests in *your* repository:

* :func:`with_steps` makes an algorithm with one of its named steps replaced by yours (MDAA's
  ``aggregate``, FedBuff's ``normalise``, ...), without registering anything globally;
* :func:`runs` is a strategy of finished runs (:class:`Run`, a
  :class:`~asyncproof.reference.schedule.RunResult`) under schedules an adversary draws from
  Hypothesis, cases drawn as the property suites draw them (:func:`problems`, :func:`models`,
  :func:`adversaries` are the pieces, for tests that call ``run_algorithm`` themselves);
* the checkers return ``None`` or a one-line message: :func:`check_validity`,
  :func:`check_contraction` (over inputs and outputs, or a run), :func:`check_serial_equivalence`,
  :func:`check_delays` and :func:`check_guarantee` (any registered guarantee, by name) over a run;
* :func:`assert_holds` runs checks on a run and, on a violation, saves the run's schedule
  *before* raising :class:`Violation`, whose message says where the file is and how to replay it
  (:func:`replay_run`; under pytest, the plugin :mod:`asyncproof.pytest_plugin` re-runs the
  failing test on the saved schedule).

The checkers are the property suites' own (:mod:`asyncproof.properties`), not copies.
``docs/user-checks.md`` has two complete examples.

>>> check_validity([[0.0, 0.0], [2.0, 0.0], [0.0, 2.0]], [[0.5, 0.5], [1.0, 1.0]]) is None
True
>>> check_validity([[1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0]], {0: [0.5, 0.5, 0.5]})
"p0's output [0.5, 0.5, 0.5] is outside the convex hull of the inputs (LP distance 0.167)"
>>> check_validity([[1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0]], {0: [0.5, 0.5, 0.5]}, box=True) is None
True
>>> check_contraction([[0.0], [4.0]], [[1.0], [3.0]], q=0.25) is None      # 2² <= 0.25 × 4²
True
>>> check_contraction([[0.0], [4.0]], [[1.0], [3.0]], q=0.2)
'the outputs are not q-contracted: max||y_i − y_j||² = 4 > q × max||x_i − x_j||² = 0.2 × 16'
"""

from __future__ import annotations

import dataclasses
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from .properties import strategies as _pst
from .properties.capture import FailureCapture
from .properties.guarantees import (Guarantee, SearchStats, _hypothesis_internal, crash_message, get_guarantee,
                                    guarantees, run_case)
from .reference.adversaries import HypothesisAdversary
from .reference.errors import InputError, PropertyViolation, ReplayDivergence
from .reference.registry import ALGORITHMS, Algorithm, get_algorithm
from .reference.schedule import RunResult, Schedule, replay

__all__ = ["Run", "Violation", "adversaries", "assert_holds", "check_contraction", "check_delays",
           "check_guarantee", "check_serial_equivalence", "check_validity", "failures_dir", "models",
           "problems", "replay_run", "runs", "schedules", "with_steps"]

#: where :func:`assert_holds` saves counterexamples when pytest's ``--asyncproof-failures`` does not say
DEFAULT_FAILURES = "asyncproof-failures"

_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")       # a schedule file's algorithm name (the schema's pattern)


# --------------------------------------------------------------------------------------------------
# your step in a real algorithm


def with_steps(of: str, name: str, **steps: Callable) -> Algorithm:
    """Algorithm ``of`` with the named ``steps`` replaced by your functions, called ``name``.

    It is built by the real algorithm's own ``build`` (only the steps differ), runs with
    :func:`runs` or :func:`~asyncproof.reference.schedule.run_algorithm`, and is registered
    nowhere: its schedule files carry ``name``, and replay with :func:`replay_run` given this object.
    ``name`` is lower-case letters, digits and ``-`` and is not a registered algorithm's.
    An unknown step is one line naming the steps there are (``sorted(get_algorithm(of).steps)``).

    >>> alg = with_steps("fedbuff", "my-fedbuff", normalise=lambda buffer, normalization, K: (0.0, buffer, 1.0))
    >>> alg.name, alg.variant_of, alg.steps.normalise([], "K", 2)
    ('my-fedbuff', 'fedbuff', (0.0, [], 1.0))
    >>> with_steps("fedbuff", "my-fedbuff", normalize=abs)
    Traceback (most recent call last):
    ...
    asyncproof.reference.errors.InputError: with_steps('fedbuff'): no step 'normalize' to replace; the steps are: normalise, ...
    """
    base = get_algorithm(of)
    if base.broken or base.variant_of is not None:
        raise InputError(f"with_steps: {of!r} is itself a variant (of {base.variant_of!r}); start from a real algorithm")
    if not isinstance(name, str) or not _NAME.match(name) or len(name) > 100:
        raise InputError(f"with_steps: name must be lower-case letters, digits and '-' (it goes in schedule files), "
                         f"got {name!r}")
    if name in ALGORITHMS or name.startswith("broken-"):
        raise InputError(f"with_steps: {name!r} is the name of a registered algorithm or variant; choose another "
                         f"(a schedule file of yours must not replay as theirs)")
    if not steps:
        raise InputError(f"with_steps({of!r}): give the steps to replace, e.g. {next(iter(base.steps), 'step')}=fn; "
                         f"the steps are: {', '.join(base.steps) or '(none)'}")
    bad = [k for k, fn in steps.items() if not callable(fn)]
    if bad:
        raise InputError(f"with_steps({of!r}): step {bad[0]!r} must be a function, got {steps[bad[0]]!r}")
    try:
        replaced = base.steps.replace(**steps)
    except InputError as e:
        raise InputError(f"with_steps({of!r}): {e}") from None
    return dataclasses.replace(base, name=name, summary=f"{of} with your {', '.join(steps)}", steps=replaced,
                               variant_of=of)


# --------------------------------------------------------------------------------------------------
# strategies


def problems(names: Sequence[str] | None = None, min_m: int = 1) -> SearchStrategy[dict]:
    """Small problem specs ``{"name": ..., "params": {...}}`` (every name by default), shrinking to the smallest.

    >>> sorted(n for n in ("quadratic", "least-squares", "logistic") if n in _pst.SMALL_PROBLEMS)
    ['least-squares', 'logistic', 'quadratic']
    """
    return _pst.problems(list(names) if names else None, min_m)


def models(n: int, recovery: bool = False, majority: bool = True) -> SearchStrategy:
    """Fault models (:class:`~asyncproof.reference.engine.Model`) of ``n`` processes: at most f crashes,
    a correct majority kept unless ``majority=False``; shrinks to no fault."""
    return _pst.fault_models(n, recovery, majority)


class _Draws:
    """``draw`` (a composite's, or a ``st.data()``'s conjecture data) with the ``.draw(strategy, label)``
    the adversaries and the guarantees' case draws call.  Draws of a schedule are not echoed one per
    line in Hypothesis's report (the saved schedule holds them)."""

    def __init__(self, draw: Callable):
        self._draw = draw

    def draw(self, strategy, label=None):
        return self._draw(strategy)


def adversaries(max_faults: int | None = None) -> SearchStrategy:
    """Adversaries that draw every choice of a run from the test's Hypothesis data (choice 0, the
    oldest enabled event, first: shrinks toward round-robin); pass one to ``run_algorithm``.
    :func:`runs` uses the adversary of the guarantee it draws for instead."""
    return _adversaries(max_faults)


@st.composite
def _adversaries(draw, max_faults: int | None) -> HypothesisAdversary:
    data = draw(st.data())              # drawn from during the run, in the test's body
    return HypothesisAdversary(_Draws(data.conjecture_data.draw), max_faults)


#: the same strategy: a schedule is what an adversary chooses
schedules = adversaries


@dataclass(repr=False)
class Run(RunResult):
    """A finished run drawn by :func:`runs` (or replayed by :func:`replay_run`): a
    :class:`~asyncproof.reference.schedule.RunResult` (``trace``, ``schedule``, ``problem``,
    ``params``, ``metrics``) with the :class:`~asyncproof.reference.registry.Algorithm` it ran,
    the guarantee whose draw made the case, and, for agreement, :attr:`inputs` and :attr:`outputs`."""
    algorithm: Algorithm | None = None
    drawn_as: str | None = None

    @property
    def inputs(self) -> np.ndarray:
        """The n × d inputs of an agreement run (rebuilt from its parameters and seed)."""
        from .reference.agreement.cluster_model import agreement_inputs
        if "clusters" not in self.params:
            raise InputError(f"{self.schedule.algorithm} is not an agreement algorithm: its run has no inputs")
        return agreement_inputs(self.problem, self.params, self.schedule.seed)

    @property
    def outputs(self) -> dict[int, np.ndarray]:
        """The last output of every process that output, by pid."""
        return {p: np.asarray(o[-1]) for p, o in sorted(self.trace.outputs.items()) if o}

    def __repr__(self) -> str:
        alg = self.algorithm or get_algorithm(self.schedule.algorithm)
        defaults = {k: p.default for k, p in alg.params.items()}
        shown = {k: v for k, v in self.params.items() if defaults.get(k, object()) != v}
        prob = self.schedule.problem
        return (f"Run({alg.name}, problem={prob['name']} {prob.get('params') or {}}, params={shown}, "
                f"seed={self.schedule.seed}, {len(self.trace.events)} events, {self.trace.stopped})")

    def _repr_pretty_(self, p, cycle):        # what Hypothesis prints for a failing test case
        p.text(repr(self))


def _guarantee_for(alg: Algorithm, name: str | None) -> Guarantee:
    base = alg.variant_of or alg.name
    if name is not None:
        g = get_guarantee(name)
        if base not in g.algorithms:
            raise InputError(f"runs: guarantee {name!r} is about {', '.join(g.algorithms)}, not {base!r}")
        return g
    found = [g for g in guarantees() if base in g.algorithms and g.name != "replay-determinism"]
    if not found:
        raise InputError(f"runs: no guarantee draws cases of {base!r}; give guarantee=...")
    return found[0]


def runs(algorithm: "str | Algorithm", *, guarantee: str | None = None, **params: Any) -> SearchStrategy[Run]:
    """Finished runs of ``algorithm`` (a name, or yours from :func:`with_steps`), as :class:`Run` s.

    Each case (problem, parameters, seed, fault model) is drawn as the guarantee ``guarantee``
    draws it for the algorithm ``algorithm`` varies (default: the first guarantee of that
    algorithm, e.g. ``agreement-validity`` for MDAA, ``fedbuff-aggregation`` for FedBuff), and the
    run is made under that guarantee's adversary: every choice of the schedule is drawn by
    Hypothesis, and shrinks toward the benign one.  ``params`` pin parameters (a value, or a
    strategy to draw it from).  As in the property suites, a run that raises is a violation (its
    schedule up to the step that raised is saved, see :func:`assert_holds`), and a run whose
    iterates diverged is not an example (Hypothesis ``reject``).

    Under pytest with ``--asyncproof-replay FILE`` (a schedule of this algorithm), the strategy
    gives that run instead (:func:`replay_run`), so the test re-checks the saved counterexample.
    """
    alg = get_algorithm(algorithm)
    g = _guarantee_for(alg, guarantee)
    for k in params:
        if k not in alg.params:
            raise InputError(f"runs: {k!r} is not a parameter of {alg.name}; its parameters are "
                             f"{', '.join(sorted(alg.params))}")
    return _runs(_Spec(alg, g, dict(params)))


@dataclass(frozen=True, eq=False)
class _Spec:
    """What :func:`runs` draws (its repr is what Hypothesis names the strategy by)."""
    alg: Algorithm
    g: Guarantee
    fixed: dict

    def __repr__(self) -> str:
        pinned = "".join(f", {k}={v!r}" for k, v in self.fixed.items())
        return f"runs({self.alg.name!r}, guarantee={self.g.name!r}{pinned})"

    def _repr_pretty_(self, p, cycle):
        p.text(repr(self))


#: the guarantee ``runs`` draws for, with nothing checked: :func:`assert_holds` checks
def _unchecked(g: Guarantee) -> Guarantee:
    return dataclasses.replace(g, check=lambda result: None, hard=lambda result: False)


@st.composite
def _runs(draw, spec: _Spec) -> Run:
    __tracebackhide__ = True
    alg, g, fixed = spec.alg, spec.g, spec.fixed
    replayed = _replay_requested(alg)
    if replayed is not None:
        return replayed
    data = _Draws(draw)
    case = g.draw(data, alg.variant_of or alg.name)
    pinned = {k: draw(v) if isinstance(v, SearchStrategy) else v for k, v in fixed.items()}
    case = dataclasses.replace(case, algorithm=alg, params={**case.params, **pinned})
    capture = _Capture("runs-cleanly", alg)           # a run that raises; the checks are assert_holds's
    result = run_case(_unchecked(g), case, (g.adversary or _pst.schedules)(data), capture,
                      SearchStats(g.name, alg.name))
    run = Run(result.trace, result.schedule, result.problem, result.params, result.metrics, algorithm=alg,
              drawn_as=g.name)
    _plugin_note_run(run)
    return run


# --------------------------------------------------------------------------------------------------
# checkers: None, or one line saying what broke


def _is_run(x) -> bool:
    return isinstance(x, RunResult)


def _points(outputs) -> list[tuple[str, np.ndarray]]:
    items = outputs.items() if isinstance(outputs, Mapping) else enumerate(outputs)
    return [(f"p{k}" if isinstance(outputs, Mapping) else f"output {k}", np.asarray(y, dtype=np.float64).reshape(-1))
            for k, y in items]


def _show(y) -> str:
    return "[" + ", ".join(f"{float(v):.6g}" for v in y) + "]"


def _inputs(inputs, checker: str) -> np.ndarray:
    """The inputs as an n × d float64 array, finite (else a one-line InputError: bad input)."""
    try:
        X = np.asarray(inputs, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"{checker}: inputs must be an n × d array of numbers, got {inputs!r}") from None
    if X.ndim != 2 or X.shape[0] == 0:
        raise InputError(f"{checker}: inputs must be n × d (n >= 1), got shape {X.shape}")
    if not np.all(np.isfinite(X)):
        raise InputError(f"{checker}: the inputs hold a non-finite value (row {int(np.argwhere(~np.isfinite(X))[0][0])})")
    return X


def _not_finite(points) -> str | None:
    """A violation for an output that is not finite (an algorithm's NaN or inf is a result, not input)."""
    for who, y in points:
        if not np.all(np.isfinite(y)):
            return f"{who}'s output {_show(y)} is not finite"
    return None


def check_validity(inputs, outputs=None, *, box: bool = False) -> str | None:
    """Every output lies in the convex hull of the inputs (``box=True``: in their bounding box,
    coordinate by coordinate: the validity coordinate-wise rules have).

    ``check_validity(inputs, outputs)``: inputs n × d, outputs a list of points or ``{pid: point}``;
    the hull by an LP (scipy's HiGHS, :func:`~asyncproof.reference.agreement.provenance.hull_distance`).
    ``check_validity(run)``: an agreement run; the hull check is the ``agreement-validity`` guarantee's,
    which also certifies each output by its exact provenance weights when the run keeps them
    (``provenance=True``, the default: a step that returns values without weights then fails it; run
    such a step with ``provenance=False``).
    """
    from .properties.agreement import common as agreement_common
    from .properties.agreement import provenance as ap
    if _is_run(inputs) and outputs is None:
        run = inputs
        if not box:
            return ap.check_validity(run)
        inputs, outputs = Run.inputs.fget(run), Run.outputs.fget(run)
    X = _inputs(inputs, "check_validity")
    scale = float(np.max(np.abs(X)))
    lo, hi = X.min(axis=0), X.max(axis=0)
    points = _points(outputs)
    bad = _not_finite(points)
    if bad:
        return bad
    for who, y in points:
        if y.shape != (X.shape[1],):
            return f"{who}'s output has {y.size} coordinates, the inputs {X.shape[1]}"
        if box:
            slack = agreement_common.rounding_slack(scale)
            out = [c for c in range(y.size) if not lo[c] - slack <= y[c] <= hi[c] + slack]
            if out:
                c = out[0]
                return (f"{who}'s output {_show(y)} is outside the box of the inputs: coordinate {c} is "
                        f"{y[c]:.6g}, the inputs span [{lo[c]:.6g}, {hi[c]:.6g}]")
            continue
        dist = ap.hull_distance(X, y)
        if dist > ap.LP_TOL * (1.0 + scale):
            return f"{who}'s output {_show(y)} is outside the convex hull of the inputs (LP distance {dist:.3g})"
    return None


def check_contraction(inputs, outputs=None, *, q: float | None = None) -> str | None:
    """q-contraction: max ||y_i − y_j||² <= q max ||x_i − x_j||² over the outputs y and the inputs x.

    ``check_contraction(inputs, outputs, q=...)``: the statement itself, for your q.
    ``check_contraction(run)``: the ``agreement-contraction`` guarantee of the run's own algorithm and
    rule (every in-cluster round by √(6/7), every MDAA round by κ(ε) of its ``rule``, the outputs by
    its q, and every MidExtremes value recomputed exactly): for the real steps.  For a step of yours,
    give the q it promises: ``check_contraction(run, q=...)`` checks the outputs of the run against it.
    """
    from .properties.agreement import cluster_agreement as ap
    from .properties.agreement import common as agreement_common
    from .reference.agreement.midextremes import diameter
    if _is_run(inputs) and outputs is None:
        run = inputs
        if q is None:
            return ap.check_contraction(run)
        inputs, outputs = Run.inputs.fget(run), Run.outputs.fget(run)
    if q is None or not q >= 0:
        raise InputError(f"check_contraction: give q >= 0 (the promised contraction), got {q!r}")
    X = _inputs(inputs, "check_contraction")
    points = _points(outputs)
    bad = _not_finite(points)
    if bad:
        return bad
    ys = [y for _, y in points]
    din, dout = diameter(X), (diameter(np.array(ys)) if ys else 0.0)
    if dout ** 2 > q * din ** 2 + agreement_common.rounding_slack(din ** 2):
        return (f"the outputs are not q-contracted: max||y_i − y_j||² = {dout ** 2:.6g} > q × max||x_i − x_j||² = "
                f"{q:.6g} × {din ** 2:.6g}")
    return None


def _base(run) -> str:
    alg = getattr(run, "algorithm", None)
    if alg is not None:
        return alg.variant_of or alg.name
    try:
        a = get_algorithm(run.schedule.algorithm)
    except InputError:
        return run.schedule.algorithm
    return a.variant_of or a.name


def check_serial_equivalence(run) -> str | None:
    """A_parallel(S, π) = A_serial(S, π) bit for bit: the ``serial-equivalence`` guarantee (a run of
    ``serially-equivalent-sgd`` or a variant of it)."""
    return check_guarantee(run, "serial-equivalence")


def check_delays(run) -> str | None:
    """The delays of a parameter-server run are the paper's, recomputed from its records, and within
    their bounds: AsGrad's π_t, τ_t, τ_C, τ_max, τ̃_max and queue places (``asgrad-delays``; on a run
    with compute times also τ̃ <= q + (n − 1)(1 + ⌊(q + 1)ρ⌋), ``asgrad-delay-bound``); Ringleader's
    update delays <= 2n − 2 and FedBuff's staleness s, within the guarantees that rebuild them
    (``ringleader-phases``, ``fedbuff-aggregation``)."""
    from .properties.parameter_server import asgrad as ag
    base = _base(run)
    if base in ag.ASGRAD:
        return ag.check_delays(run) or ag.check_delay_bound(run)
    owner = {"ringleader-asgd": "ringleader-phases", "fedbuff": "fedbuff-aggregation"}.get(base)
    if owner is None:
        raise InputError(f"check_delays: {base!r} is not a parameter-server algorithm with delays "
                         f"(AsGrad's, ringleader-asgd, fedbuff)")
    return check_guarantee(run, owner)


def check_guarantee(run, name: str) -> str | None:
    """The check of the registered guarantee ``name`` (``asyncproof verify --list`` lists them) on ``run``,
    whose algorithm (or the one it varies) must be one the guarantee is about."""
    g = get_guarantee(name)
    base = _base(run)
    if base not in g.algorithms:
        raise InputError(f"guarantee {name!r} is about {', '.join(g.algorithms)}, not {base!r}")
    return g.check(run)


# --------------------------------------------------------------------------------------------------
# failing: the schedule on disk first, then the error naming it and the way to replay it


class Violation(PropertyViolation):
    """A check failed on a run of ``algorithm``; ``path`` is the saved schedule (None while Hypothesis
    is still shrinking: only the example it reports is saved), ``replay`` how to re-run it."""

    def __init__(self, check: str, algorithm: str, message: str, path: str | None = None,
                 replay: str | None = None):
        self.prop, self.algorithm, self.message, self.path, self.replay = check, algorithm, message, path, replay
        text = f"{check} violated by {algorithm}: {message}"
        if path:
            text += f"\n  counterexample saved to {path}\n  replay with: {replay}"
        AssertionError.__init__(self, text)


def failures_dir() -> Path:
    """Where counterexamples go: pytest's ``--asyncproof-failures``, else ``asyncproof-failures/``."""
    plugin = sys.modules.get("asyncproof.pytest_plugin")
    configured = plugin.failures_dir() if plugin is not None else None
    return Path(configured) if configured is not None else Path(DEFAULT_FAILURES)


def _final_example() -> bool:
    """Is this the example Hypothesis reports (after shrinking), or a run outside any Hypothesis test?"""
    try:
        from hypothesis.control import current_build_context
        return bool(current_build_context().is_final)
    except Exception:           # not inside a Hypothesis test (or another Hypothesis layout): save it
        return True


class _Capture(FailureCapture):
    """:class:`~asyncproof.properties.capture.FailureCapture` for a run of ``alg``: saves only the final
    example, and raises :class:`Violation` with a replay recipe that works for an unregistered algorithm."""

    def __init__(self, check: str, alg: Algorithm, checker=None):
        super().__init__(f"{check}.{alg.name}", failures_dir())
        self.check, self.alg, self.checker = check, alg, checker

    def fail(self, schedule, message: str, extra: dict | None = None):
        __tracebackhide__ = True
        extra = {k: (v.name if isinstance(v, Algorithm) else v) for k, v in (extra or {}).items()}
        path = recipe = None
        if _final_example():
            try:
                super().fail(schedule, message, extra)
            except PropertyViolation as saved:
                path = _shown(saved.path)
            recipe = _recipe(path, self.alg, self.checker)
        raise Violation(self.check, self.alg.name, message, path, recipe)     # one raise: one failure to Hypothesis


def _shown(path) -> str:
    """``path`` relative to the working directory when it is below it."""
    p = Path(path)
    try:
        return str(p.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(p)


def _recipe(path: str, alg: Algorithm, checker=None) -> str:
    """A command that re-checks the saved schedule: under pytest the failing test (the plugin's
    ``--asyncproof-replay``); else a Python one-liner replaying it with your algorithm object (and
    re-running the check when it has an importable name)."""
    plugin = sys.modules.get("asyncproof.pytest_plugin")
    command = plugin.replay_command(path) if plugin is not None else None
    if command:
        return command
    home = _home_of(alg)
    if home is None:
        return f"asyncproof.strategies.replay_run({path!r}, <your Algorithm {alg.name!r}>)"
    mod, attr = home
    run = f"s.replay_run({path!r}, m.{attr})"
    check = repr(checker) if isinstance(checker, str) else None
    if check is None and checker is not None:
        where = _home_of(checker)
        if where is not None and where[0] == mod:
            check = f"m.{where[1]}"
        elif where is not None:
            check = f"__import__({where[0]!r}).{where[1]}" if "." not in where[0] else None
    body = f"s.assert_holds({run}, {check})" if check else f"print({run})"
    return f"python -c \"import asyncproof.strategies as s, {mod} as m; {body}\""


def _home_of(obj) -> tuple[str, str] | None:
    """(module, attribute) of a module-level name bound to ``obj`` (a module run as a script is
    named by its file), if there is one."""
    for mod_name, mod in list(sys.modules.items()):
        if mod is None or mod_name.startswith(("asyncproof", "hypothesis", "_pytest", "pytest")):
            continue
        if mod_name == "__main__":
            mod_name = Path(getattr(mod, "__file__", "") or "").stem
            if not mod_name.isidentifier():
                continue
        for attr, value in list(getattr(mod, "__dict__", {}).items()):
            if value is obj and attr.isidentifier() and not attr.startswith("_"):
                return mod_name, attr
    return None


def _check_name(check) -> str:
    if isinstance(check, str):
        return check
    fn = getattr(check, "func", check)          # functools.partial
    name = getattr(fn, "__name__", "")
    if name and name != "<lambda>":
        return name
    plugin = sys.modules.get("asyncproof.pytest_plugin")
    test = plugin.current_test_name() if plugin is not None else None
    return test or "check"


def assert_holds(run: RunResult, *checks: "Callable[[RunResult], str | None] | str") -> None:
    """Run each check (a function of the run returning None or a message, or a guarantee's name) on
    ``run``; at the first violation, save the run's schedule under :func:`failures_dir` and then
    raise :class:`Violation` (an ``AssertionError``) saying where the file is and how to replay it.
    Only the example Hypothesis finally reports is saved (not every one met while shrinking).  A
    check that raises is a violation too ("the check ... raised ...")."""
    __tracebackhide__ = True
    alg = getattr(run, "algorithm", None) or get_algorithm(run.schedule.algorithm)
    if not checks:
        raise InputError("assert_holds: give at least one check")
    for check in checks:
        name = _check_name(check)
        fn = (lambda r, n=check: check_guarantee(r, n)) if isinstance(check, str) else check
        try:
            msg = fn(run)
        except Exception as e:
            if _hypothesis_internal(e) or isinstance(e, InputError):
                raise
            msg = crash_message(e, f"the check {name}")
        if msg:
            schedule = dataclasses.replace(run.schedule)
            _Capture(name, alg, check).fail(schedule, msg, {"algorithm_under_test": alg.name})


# --------------------------------------------------------------------------------------------------
# replaying a schedule of your algorithm


def _load(path, alg: Algorithm) -> Schedule:
    """The schedule file at ``path``, of algorithm ``alg`` (checked as ``load_schedule`` checks a file;
    a step of yours has the parameters of the algorithm it varies, which resolve them)."""
    from .reference.schedule import read_schedule_file, schedule_from_json
    d, where = read_schedule_file(path)
    recorded = d.get("algorithm") if isinstance(d, dict) else None
    if isinstance(d, dict) and recorded != alg.name:
        raise InputError(f"{where} is a schedule of {recorded!r}, not of {alg.name!r}")
    base = alg.variant_of if alg.name not in ALGORITHMS and alg.variant_of else alg.name
    sched = schedule_from_json({**d, "algorithm": base} if isinstance(d, dict) else d, where)
    sched.algorithm = alg.name
    return sched


def replay_run(path, algorithm: "str | Algorithm", *, strict: bool = True) -> Run:
    """Replay the schedule file ``path`` of ``algorithm`` (yours from :func:`with_steps`, or a registered
    one) event by event, and return the run.  With ``strict`` (the default) it must reproduce the
    recorded digest bit for bit (else :class:`~asyncproof.reference.errors.ReplayDivergence`); with
    ``strict=False`` the events must replay and the run end as recorded, but its values may differ
    (your step changed since the file was saved: the same schedule, re-checked with the new code).
    A recorded run that raised raises again."""
    from .reference.schedule import prepare
    alg = get_algorithm(algorithm)
    sched = _load(path, alg)
    rep = replay(dataclasses.replace(sched, algorithm=alg))
    if not rep.reproduced and (strict or rep.divergence is not None or rep.ended or rep.trace is None):
        if rep.divergence is not None:
            raise rep.divergence
        raise _NotReproduced(len(sched.events), f"schedule file {str(path)!r}: {rep.report()}")
    _, params, problem = prepare(alg, sched.problem, sched.params, sched.seed)
    return Run(rep.trace, sched, problem, params, rep.metrics or {}, algorithm=alg,
               drawn_as=(sched.property or {}).get("name"))


class _NotReproduced(ReplayDivergence):
    """Every event replayed, but the run ended otherwise or reached another digest (``rep.report()``)."""

    def __init__(self, step: int, text: str):
        self.step, self.expected, self.enabled = step, "", []
        Exception.__init__(self, text)


def _replay_requested(alg: Algorithm) -> Run | None:
    """Under pytest's ``--asyncproof-replay FILE`` of this algorithm: the replayed run (once per session)."""
    plugin = sys.modules.get("asyncproof.pytest_plugin")
    path = plugin.replay_file() if plugin is not None else None
    if path is None:
        return None
    from .reference.schedule import read_schedule_file
    d, _ = read_schedule_file(path)
    if not isinstance(d, dict) or d.get("algorithm") != alg.name:
        return None
    cached = plugin.replayed(path, alg.name)
    if cached is not None:
        return cached
    try:
        run = replay_run(path, alg, strict=False)
    except Exception as e:
        if _hypothesis_internal(e) or isinstance(e, InputError) or getattr(e, "step", None) is not None:
            raise
        prop = ((d.get("property") or {}).get("name") or f"run.{alg.name}").split(".")[0]
        _Capture(prop, alg).fail(_load(path, alg), crash_message(e, "the replayed run"), {"raised": type(e).__name__})
    plugin.replayed(path, alg.name, run)
    return run


def _plugin_note_run(run: Run) -> None:
    plugin = sys.modules.get("asyncproof.pytest_plugin")
    if plugin is not None and _final_example():
        plugin.note_final_run(run)


def _save_for_plugin(run: Run, name: str, message: str) -> str:
    """Save ``run``'s schedule (a test failed in a plain ``assert`` after drawing it); the path shown."""
    alg = run.algorithm or get_algorithm(run.schedule.algorithm)
    capture = FailureCapture(f"{name}.{alg.name}", failures_dir())
    try:
        capture.fail(dataclasses.replace(run.schedule), message, {"algorithm_under_test": alg.name})
    except PropertyViolation as saved:
        return _shown(saved.path)
    raise AssertionError("unreachable")     # pragma: no cover
