"""The proofs registry and its builtin claims (``proofs/``).

Every claim passes on the quick budget; every check fails when handed a wrong
formula (the broken-variant rule of DEVELOPERS.md); bad input is one-line
:class:`InputError`; a check that raises is a failed line, never a traceback.
"""

from __future__ import annotations

import itertools
import copy
import math
import pathlib

import numpy as np

import pytest
import sympy as sp

from asyncproof.proofs import CLAIMS, Check, Claim, all_claims, get_claim, register, run_claim
from asyncproof.proofs.claims.agreement import coordinatewise_diameter as cwd
from asyncproof.proofs.claims.parameter_server import straggler_order_statistics as so
from asyncproof.reference.errors import InputError
from asyncproof.reference.rng import STREAM_TIMING, generator

ROOT = pathlib.Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------------------
# the registry
# --------------------------------------------------------------------------------------


def test_builtin_claims_are_registered_with_their_seeds():
    ids = [c.id for c in all_claims()]
    assert ids == sorted(ids)
    assert {"straggler-order-statistics", "coordinatewise-diameter"} <= set(ids)
    assert "002_34168ee93540180b.txt" in get_claim("straggler-order-statistics").source
    assert "Stragglers" in get_claim("straggler-order-statistics").source
    assert "000_3f5163bcd896752f.txt" in get_claim("coordinatewise-diameter").source
    kinds = {ch.kind for c in all_claims() for ch in c.checks}
    assert kinds == {"symbolic", "monte-carlo", "property", "counterexample"}


@pytest.mark.parametrize("claim_id", [c.id for c in all_claims()])
def test_every_claim_passes_on_the_quick_budget(claim_id):
    results = run_claim(claim_id, budget="quick")
    assert len(results) == len(get_claim(claim_id).checks) >= 1
    for r in results:
        assert r.passed, f"{claim_id} / {r.name}: {r.detail}"
        assert r.detail and "\n" not in r.detail


def test_unknown_claim_is_a_one_line_input_error_listing_the_known_ids():
    with pytest.raises(InputError) as e:
        get_claim("no-such-claim")
    msg = str(e.value)
    assert "'no-such-claim'" in msg and "\n" not in msg
    assert "straggler-order-statistics" in msg and "coordinatewise-diameter" in msg
    with pytest.raises(InputError, match="no-such-claim"):
        run_claim("no-such-claim")


@pytest.mark.parametrize("budget", ["huge", "", None, 3, "Quick"])
def test_unknown_budget_is_an_input_error(budget):
    with pytest.raises(InputError, match="unknown budget"):
        run_claim("coordinatewise-diameter", budget=budget)
    with pytest.raises(InputError, match="unknown budget"):
        get_claim("coordinatewise-diameter").checks[0].run(budget)


def test_a_check_that_raises_is_reported_as_failed_and_the_others_still_run(monkeypatch):
    def raises(budget):
        raise ValueError("first line\n  second line")

    def fine(budget):
        return True, "ok"

    claim = Claim("demo-raises", "test", "a claim whose first check raises",
                  [Check("raises", "symbolic", raises), Check("fine", "property", fine)])
    monkeypatch.setitem(CLAIMS, claim.id, claim)
    heard = []
    results = run_claim("demo-raises", budget="quick", progress=heard.append)
    assert [(r.name, r.kind, r.passed) for r in results] == [("raises", "symbolic", False), ("fine", "property", True)]
    assert results[0].detail == "raised ValueError: first line second line"
    assert len(heard) == 2 and "raises" in heard[0]


def test_register_rejects_a_clash_and_bad_checks(monkeypatch):
    monkeypatch.setattr("asyncproof.proofs.registry.CLAIMS", copy.copy(CLAIMS.load()))
    from asyncproof.proofs import registry
    other = Claim("coordinatewise-diameter", "somewhere else", "x", [])
    with pytest.raises(InputError, match="already registered"):
        registry.register(other)
    with pytest.raises(InputError, match="kind"):
        Check("c", "vibes", lambda b: (True, ""))
    with pytest.raises(InputError, match="same name"):
        registry.register(Claim("demo-two", "t", "x", [Check("a", "symbolic", lambda b: (True, "")),
                                                       Check("a", "symbolic", lambda b: (True, ""))]))
    with pytest.raises(InputError, match="no check"):
        get_claim("coordinatewise-diameter").check("nope")
    assert register is registry.register


def test_proofs_import_only_the_reference():
    """Every import of proofs/ (absolute or relative, at any depth, inside functions too) resolves to
    the reference, the budgets, the standard library or a third-party package: never to properties,
    fast or the command line, which may import the proofs themselves."""
    import ast
    for path in (ROOT / "proofs").rglob("*.py"):
        package = ["asyncproof", "proofs", *path.relative_to(ROOT / "proofs").parent.parts]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                base = package[:len(package) - node.level + 1] if node.level else []
                names = [".".join(base + ([node.module] if node.module else []) + [a.name]) for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            for name in names:
                parts = name.split(".")
                assert not (parts[0] == "asyncproof" and parts[1:2] and parts[1] in ("properties", "fast", "cli")), \
                    (path, name)


# --------------------------------------------------------------------------------------
# straggler order statistics
# --------------------------------------------------------------------------------------


def test_slide_formula_numbers():
    half = sp.Rational(1, 2)
    h10 = sum(sp.Rational(1, j) for j in range(1, 11))
    assert so.slide_formula(10, 10, half) == 1 + 2 * h10          # the slowest of 10
    assert so.slide_formula(10, 1, half) == sp.Rational(6, 5)       # the fastest: 1 + 1/(nλ)
    assert so.renyi_expectation(3, 2) == so.C + sp.Rational(5, 6) / so.LAM


def test_the_monte_carlo_runs_the_engine_under_the_timed_adversary():
    n, seed = 10, 3
    trace = so.straggler_trace(n, seed)
    finishes = [s for s, e in enumerate(trace.events) if e.startswith("finish #")]
    assert len(finishes) == n
    times = [trace.annotations[s]["time"] for s in finishes]
    assert times == sorted(times) and times[0] > 1.0
    # independently: worker k's first job takes 1 + Exp(0.5) drawn from the key (seed, STREAM_TIMING + k, 0)
    drawn = [1.0 + generator(seed, STREAM_TIMING + k, 0).exponential(2.0) for k in range(n)]
    assert times == sorted(drawn)
    order = trace.outputs[0][0]
    assert [drawn[k] for k in order] == times                     # the master heard them in finish order
    np.testing.assert_array_equal(so.order_statistics(trace), times)
    assert so.simulate(n, 5)[seed].tolist() == times


WRONG_FORMULAS = {
    # the brief's off-by-one: one term too many (and 1/0 at i = n)
    "sum-from-n-minus-i": lambda n, i, lam, c=1: c + sp.Sum(1 / sp.Symbol("j", integer=True), (sp.Symbol("j", integer=True), n - i, n)).doit() / lam,
    # one term too few
    "sum-from-n-minus-i-plus-2": lambda n, i, lam, c=1: c + sp.Sum(1 / sp.Symbol("k", integer=True, positive=True), (sp.Symbol("k", integer=True, positive=True), n - i + 2, n)).doit() / lam,
    # 1/λ replaced by λ
    "lambda-for-one-over-lambda": lambda n, i, lam, c=1: c + lam * sp.Sum(1 / sp.Symbol("k", integer=True, positive=True), (sp.Symbol("k", integer=True, positive=True), n - i + 1, n)).doit(),
}


@pytest.mark.parametrize("wrong, check", list(itertools.product(
    WRONG_FORMULAS, ["expectation-two-derivations", "slowest-over-fastest", "timed-adversary-order-stats",
                     "measured-slowdown"])))
def test_straggler_checks_fail_on_a_wrong_formula(wrong, check):
    claim = get_claim("straggler-order-statistics")
    right = claim.check(check).run("quick")
    assert right.passed, right.detail
    r = claim.check(check).run("quick", formula=WRONG_FORMULAS[wrong])
    assert not r.passed, r.detail
    assert not r.detail.startswith("raised"), r.detail              # a failed comparison, not a crash


def test_the_monte_carlo_z_test_fails_on_a_small_shift():
    # the formula for c = 1.1 against runs with c = 1: the z-test must notice 0.1
    shifted = lambda n, i, lam, c=1: so.slide_formula(n, i, lam, c + sp.Rational(1, 10))
    r = get_claim("straggler-order-statistics").check("timed-adversary-order-stats").run("quick", formula=shifted)
    assert not r.passed and "z = " in r.detail


def test_straggler_system_rejects_bad_n():
    with pytest.raises(InputError, match="n .number of workers."):
        so.straggler_system(0)


# --------------------------------------------------------------------------------------
# coordinate-wise diameter
# --------------------------------------------------------------------------------------


def _brute_force(xs: np.ndarray) -> tuple[float, float]:
    diffs = xs[:, None, :] - xs[None, :, :]                     # k × k × d, every ordered pair
    cw = float(np.abs(diffs).max(axis=(0, 1)).sum())
    l2 = float(np.sqrt((diffs ** 2).sum(axis=2)).max())
    return cw, l2


def test_diameters_match_an_independent_brute_force():
    rng = np.random.default_rng(12345)
    for _ in range(300):
        k, d = int(rng.integers(1, 10)), int(rng.integers(1, 10))
        xs = rng.normal(size=(k, d)) * 10.0 ** rng.uniform(-3, 3)
        cw, l2 = _brute_force(xs)
        assert math.isclose(cwd.coordinatewise_diameter(xs), cw, rel_tol=1e-12, abs_tol=0.0)
        assert math.isclose(cwd.euclidean_diameter(xs), l2, rel_tol=1e-12, abs_tol=0.0)
        assert cwd.coordinatewise_diameter(xs.tolist()) == cwd.coordinatewise_diameter(xs)   # lists work too


def test_diameter_examples_from_the_claim():
    d = 5
    basis = np.vstack([np.zeros((1, d)), np.eye(d)])
    assert cwd.coordinatewise_diameter(basis) == d
    assert cwd.euclidean_diameter(basis) == math.sqrt(2)
    half = np.vstack([np.eye(d), -np.eye(d)]) / 2
    assert cwd.coordinatewise_diameter(half) == d * cwd.euclidean_diameter(half)


@pytest.mark.parametrize("xs, text", [
    ([], "2-D"),
    ([[]], "at least one coordinate"),
    (np.zeros((0, 3)), "at least one vector"),
    ([1.0, 2.0], "2-D"),
    (np.zeros((2, 2, 2)), "2-D"),
    ([[1.0, float("nan")]], "xs[0, 1] = nan"),
    ([[0.0], [float("-inf")]], "xs[1, 0] = -inf"),
    ([["a", "b"]], "real numbers"),
    ([[1.0, 2.0], [3.0]], "ragged"),
    ([[1 + 2j]], "complex"),
    (None, "real numbers"),
    ("abc", "real numbers"),
])
@pytest.mark.parametrize("fn", [cwd.coordinatewise_diameter, cwd.euclidean_diameter])
def test_bad_input_to_the_diameters_is_a_one_line_input_error(fn, xs, text):
    with pytest.raises(InputError) as e:
        fn(xs)
    assert text in str(e.value) and "\n" not in str(e.value)


def _linf_diameter(xs):
    """A wrong Δ^cw: the largest coordinate spread instead of their sum (the ℓ∞ diameter)."""
    a = np.asarray(xs, dtype=float)
    return float((a.max(axis=0) - a.min(axis=0)).max())


@pytest.mark.parametrize("check", ["cw-dominates-l2", "tightness", "reverse-fails"])
def test_diameter_checks_fail_on_a_wrong_diameter(check):
    r = get_claim("coordinatewise-diameter").check(check).run("quick", cw=_linf_diameter)
    assert not r.passed, r.detail
    assert not r.detail.startswith("raised"), r.detail
    if check == "cw-dominates-l2":
        assert "counterexample" in r.detail


def test_the_symbolic_diameter_check_fails_on_a_wrong_expansion():
    half = lambda a: cwd.cross_terms(a) / 2                      # forgot the factor 2
    r = get_claim("coordinatewise-diameter").check("l2-below-l1").run("quick", expansion=half)
    assert not r.passed and "d = 2" in r.detail


def test_the_property_check_reports_a_shrunk_counterexample():
    r = cwd.check_cw_dominates_l2("quick", cw=_linf_diameter)
    passed, detail = r
    assert not passed
    assert "Δ^cw" in detail and "xs = [[" in detail
