"""Broken variants: a real algorithm with one named step replaced, so every guarantee is shown able to fail.

A variant differs from the algorithm it breaks in one realistic mistake, written as the
replacement of one (or, for one mistake spread over two lines, two) of the algorithm's named
:class:`~asyncproof.reference.registry.Steps`.  It is built by the algorithm's own ``build``, so
no loop is copied, and it never enters the reference registry: it lives in :data:`VARIANTS`,
where :func:`~asyncproof.reference.registry.get_algorithm` finds it by name (a schedule of a
variant replays like any other).  The guarantees that must catch each variant name it in their
``broken`` table; ``tests/test_registry_rules.py`` checks every variant is caught by one.

>>> from asyncproof.reference.schedule import run_algorithm
>>> alg = VARIANTS["broken-minibatch-divides-by-workers"]
>>> alg.variant_of, alg.summary
('minibatch-sgd', 'BROKEN minibatch-sgd: divides by n, not b')
>>> run_algorithm(alg, params={"T": 3, "b": 4, "n": 2}).schedule.algorithm
'broken-minibatch-divides-by-workers'
"""

from __future__ import annotations

import copy
from dataclasses import replace as _replace
from typing import Callable

from ..reference.errors import InputError
from ..reference.registries import Registry
from ..reference.registry import Algorithm, get_algorithm, metrics_up_to_divergence

def _declaring_modules() -> list[str]:
    from .guarantees import property_modules
    return property_modules()


#: the broken variants, by name, declared beside the guarantees that must catch them (the
#: modules of :func:`~asyncproof.properties.guarantees.property_modules`, imported on first use)
VARIANTS: Registry = Registry("variant", _declaring_modules)


def variant(name: str, of: str, mistake: str, replace: dict[str, Callable] | None = None,
            kernels: dict[str, dict[str, Callable]] | None = None, metrics: Callable | None = None) -> Algorithm:
    """Declare the variant ``name`` of algorithm ``of``: its steps with ``replace`` put in, and/or
    the problem called ``p`` computing with ``kernels[p]`` (kernel name: function) instead of
    its own (a mistake in a problem's gradient, not in the algorithm), and/or ``metrics``
    measuring the run in place of the algorithm's own (a mistake in what a run reports, such as
    a miscounted statistic: the run itself is the real one).  ``mistake`` is one line.
    """
    if not name.startswith("broken-"):
        raise InputError(f"variant {name!r}: a broken variant's name starts with 'broken-'")
    if not replace and not kernels and metrics is None:
        raise InputError(f"variant {name!r} replaces nothing: give replace={{step: fn}}, kernels=... or metrics=...")
    base = get_algorithm(of)
    if base.broken:
        raise InputError(f"variant {name!r}: {of!r} is itself a broken variant")
    steps = base.steps.replace(**(replace or {}))
    build = base.build if not kernels else _with_kernels(base.build, kernels)
    alg = _replace(base, name=name, summary=f"BROKEN {of}: {mistake}", steps=steps, build=build,
                   broken=True, family="broken", variant_of=of,
                   metrics=base.metrics if metrics is None else metrics_up_to_divergence(metrics))
    return VARIANTS.add(name, alg)


def with_kernels(problem, **kernels: Callable):
    """A copy of ``problem`` computing with ``kernels`` (name: function) in place of its own."""
    buggy = copy.copy(problem)
    buggy.kernels = problem.kernels._replace(**kernels)
    return buggy


def _with_kernels(build: Callable, kernels: dict[str, dict[str, Callable]]) -> Callable:
    def built(problem, params, seed, steps):
        replaced = kernels.get(problem.name)
        return build(with_kernels(problem, **replaced) if replaced else problem, params, seed, steps)
    return built
