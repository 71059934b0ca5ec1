"""Objectives: finite sums ``f(x) = (1/m) sum_j f_j(x)`` with their samples, supports and constants.

Every problem evaluates through the kernels of :mod:`asyncproof.reference.kernels` (the same
compiled code ``fast/`` runs), validates every input (an :class:`InputError` naming the field
and the value, never a traceback from inside numpy), and can be rebuilt bit for bit from its
:meth:`Problem.spec`.

========================  ==========================================================================
name                      source and definition
========================  ==========================================================================
``"quadratic"``           seed 004 (004_5e02a306927ced0b.txt), slide "Asynchronous SGD can get wild:
                          delays can degrade performance": ``f(x, y) = x^2 + 5y^2`` -- the default
                          instance *is* that function; in general
                          ``f_j(x) = 1/2 (x - x*)^T H (x - x*) + <xi_j, x>``
``"least-squares"``       ``f_j(x) = 1/2 (a_j^T x - b_j)^2``, so ``f = (1/(2m)) ||A x - b||^2``
``"logistic"``            seed 001 (001_c6590ddcd2705154.txt), AsGrad poster, "Experiments":
                          logistic regression with a nonconvex regulariser on w7a (Figure 1:
                          ``lambda = 0.1, d = 300, m = 2505``).  The poster's text breaks off before
                          the regulariser; the design notes give it as ``lambda sum_i x_i^2/(1+x_i^2)``.
                          ``generator="w7a-like"``: on :func:`~asyncproof.reference.data.w7a_like`, a
                          synthetic stand-in with w7a's shape (the experiments ``asgrad-figure1``,
                          ``heterogeneous-compute``)
``"sparse-svm"``          seed 002 (002_34168ee93540180b.txt), slide "Sparse Support Vector Machines"
                          (under "Examples of Sparse Problems"), in HOGWILD!'s per-sample form;
                          ``rule="v03a"``: the original HOGWILD! code's SVM update as HOGWILD!'s step;
                          ``generator="hogwild-bench"``: the data of issue 12's benchmark workload
``"kmeans"``              seed 003 (003_64bc3d1a200f9b77.txt), Keuper & Pfreundt, "4. Performance"
                          (K-Means, Figures 1 and 8)
``"matrix-completion"``   seed 002, slide "Matrix Completion": ``f_j = (L_u R_v^T - M_uv)^2 +
                          mu_u ||L_u||^2 + mu_v ||R_v||^2`` for the observed entry ``j = (u, v)``
``"graph-cuts"``          seed 002, slide "Graph Cuts": ``f_j = w_uv ||x_u - x_v||_1`` for the edge
                          ``j = (u, v)``, subject to ``1_K^T x_a = 1, x_a >= 0`` (by projection)
``"double-well"``         seed 000, slide "Non Strongly Convex Functions Require a Majority":
                          ``f_j(x) = (x_1^2 - 1)^2/4 + 1/2 sum_{k>=2} x_k^2 + <xi_j, x>``, two minima
                          ``(+-1, 0, ...)``, the saddle ``0`` as x0
========================  ==========================================================================

Each problem is one module of this package -- ``quadratic``, ``least_squares``, ``logistic``
(with its ``w7a-like`` generator), ``sparse_svm``, ``kmeans``, ``matrix_completion``,
``graph_cuts``, ``double_well``, in the order of the table -- holding its class, its parameter tables and its
build function, and declaring itself into :data:`PROBLEMS`; :mod:`.base` has what they share,
:mod:`.local_full_gradient` the wrapper of the local full gradient (below).  A new problem is a
new module: registered by being there, listed after these.

The three sparse problems of seed 002 (sparse SVM, matrix completion, graph cuts) have
small per-sample supports: ``f = sum_e f_e(x_e)`` with hyperedge ``e`` = ``support(j)``.

Conventions every problem follows:

* ``batch_grad(x, idx)`` is ``(grad f_{idx[0]} + grad f_{idx[1]} + ...) / len(idx)``, the
  sample gradients summed in the order of ``idx`` (repeats count), then divided -- seed
  003's Algorithm 1 (BATCH: "aggregate", then divide by ``|X|``).  ``grad(x)`` and
  ``value(x)`` are that mean over ``0 .. m-1``.  Bit for bit, not just mathematically.
* ``support(j)``: the sorted coordinates ``f_j`` depends on.  All ``d`` for the dense
  problems; for least squares the nonzeros of ``a_j``; for the sparse SVM the stored
  entries of row ``z_j`` (an explicitly stored zero counts: its coordinate carries a
  share of the regulariser); for k-means all ``d`` (which centroid is nearest depends on x);
  for matrix completion the ``2 r`` coordinates of ``L_u`` and ``R_v``; for graph cuts the
  ``2 K`` coordinates of ``x_u`` and ``x_v``.
* ``constrained``: only graph cuts is; ``project(x)`` is its Euclidean projection onto the
  constraint set, ``check_feasible(x)`` refuses a point outside it (an :class:`InputError`);
  ``value``/``grad`` are the finite sum itself, defined everywhere.
* ``G``: a bound on every ``||grad f_j(x)||`` where one holds for all x (graph cuts), else None.
* ``subset(idx)`` keeps the *same* ``f_j`` (so ``f`` is the size-weighted mean of the
  workers' ``f_i``, and ``zeta^2`` of seed 001 is measurable), the same ``x0``, and
  recomputes the constants for the samples kept.
* ``L`` is the smoothness constant of ``f`` (not of each ``f_j``), ``mu`` its strong
  convexity constant; both come from ``numpy.linalg.eigvalsh`` of a Gram matrix summed
  in fixed order, and are meant for step-size bounds and claims, not for bit-exact data.

``spec()`` format (what a schedule file stores under ``"problem"``)::

    {"name": "least-squares", "params": {"seed": 0, "m": 40, "d": 5, "noise": 0.1}}

* built by name: every parameter, defaults resolved, so a later change of a default
  cannot change a replay;
* built from arrays (``LeastSquares(A, b)``): the arrays as nested lists (``float``'s
  ``repr`` round-trips exactly through JSON) -- fine for the small problems tests use;
* loaded from a LIBSVM file: ``{"path": ..., "lam": ..., "sha256": "sha256:<hex>"}``; a
  rebuild checks the digest and refuses a changed file;
* made by a named data generator: ``{"generator": "w7a-like", ...}`` and the generator's
  parameters, defaults resolved;
* a subset adds ``"subset": [original sample indices]`` to its parent's params;
* a logistic problem whose batch gradient is the **full local gradient** of the worker the
  batch comes from (seed 001's "full gradient computation", :class:`LocalFullGradient`)
  adds ``"local_full_gradient": {"n": ..., "zeta": ..., "seed": ...}`` (the split of
  ``local_splits(problem, n, zeta, seed)``, the one the parameter-server algorithms use).

``make_problem(**spec)`` (or ``make_problem(spec["name"], **spec["params"])``) rebuilds it.

>>> p = make_problem("quadratic")                  # seed 004: f(x, y) = x^2 + 5 y^2
>>> p.value([1.0, 1.0]), p.grad([1.0, 1.0]).tolist(), p.L, p.mu
(6.0, [2.0, 10.0], 10.0, 2.0)
>>> q = make_problem(**p.spec())
>>> q.spec() == p.spec()
True
"""

from __future__ import annotations

from typing import Any

from ..errors import InputError
from .base import PROBLEMS, Kernels, Problem, ProblemKind, _int_array, _short

# every module declares its problem now, in the registry's order: PROBLEMS (and so PROBLEM_HELP)
# lists them in that order whichever module the imports below happen to name first
PROBLEMS.load()

from . import local_full_gradient  # noqa: E402
from .double_well import DoubleWell  # noqa: E402
from .graph_cuts import SIMPLEX_TOL, GraphCuts  # noqa: E402
from .kmeans import KMeans  # noqa: E402
from .least_squares import LeastSquares  # noqa: E402
from .local_full_gradient import LocalFullGradient  # noqa: E402
from .logistic import Logistic  # noqa: E402
from .matrix_completion import MatrixCompletion  # noqa: E402
from .quadratic import Quadratic  # noqa: E402
from .sparse_svm import SparseSVM  # noqa: E402

__all__ = ["DoubleWell", "GraphCuts", "KMeans", "Kernels", "LeastSquares", "LocalFullGradient", "Logistic", "MatrixCompletion",
           "PROBLEMS", "PROBLEM_HELP", "Problem", "ProblemKind", "Quadratic", "SIMPLEX_TOL", "SparseSVM",
           "make_problem"]

#: name -> one-line description with the parameters and their defaults
PROBLEM_HELP: dict[str, str] = {n: k.help for n, k in PROBLEMS.items()}


def make_problem(name: str, seed: int | None = None, params: dict | None = None, **kwargs: Any) -> Problem:
    """Build a registered problem: ``make_problem("least-squares", seed=3, m=20)``.

    ``seed`` defaults to 0 for synthetic data (and must not be given for arrays or a
    file).  ``params`` (a dict) is merged with the keyword arguments, so that
    ``make_problem(**problem.spec())`` rebuilds a problem.  A ``subset`` parameter (a
    list of sample indices) restricts the result (``Problem.subset``).

    >>> make_problem("quadratic", dd=3)
    Traceback (most recent call last):
    ...
    asyncproof.reference.errors.InputError: quadratic: unknown parameter 'dd' = 3; known: seed, d, cond, sigma, m
    """
    if not isinstance(name, str) or name not in PROBLEMS:
        raise InputError(f"unknown problem {name!r}; known: {', '.join(sorted(PROBLEMS))}")
    merged = {}
    if params is not None:
        if not isinstance(params, dict):
            raise InputError(f"params must be a dict of problem parameters, got {_short(params)}")
        merged.update(params)
    for key, value in kwargs.items():
        if key in merged:
            raise InputError(f"{name}: parameter {key!r} given twice (in params and as a keyword)")
        merged[key] = value
    if seed is not None:
        if "seed" in merged:
            raise InputError(f"{name}: parameter 'seed' given twice")
        merged["seed"] = seed
    subset = merged.pop("subset", None)
    local_full = merged.pop("local_full_gradient", None)
    if subset is not None and local_full is not None:
        raise InputError(f"{name}: subset and local_full_gradient cannot be combined")
    prob = PROBLEMS[name](**merged)
    if subset is not None:
        prob = prob.subset(_int_array(subset, "subset") if isinstance(subset, (list, tuple)) else subset)
    if local_full is not None:
        prob = local_full_gradient.wrap(name, prob, local_full)
    return prob
