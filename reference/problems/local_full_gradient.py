"""Seed 001's "full gradient computation" (AsGrad poster, Figure 1): a logistic problem whose batch
gradient is the **full local gradient** of the worker the batch comes from (:class:`LocalFullGradient`).

``make_problem(..., local_full_gradient={"n": ..., "zeta": ..., "seed": ...})`` (or the text
``"n=4,zeta=0,seed=0"``) wraps a logistic problem in it; its spec adds that key to the logistic
problem's params, with the split of ``local_splits(problem, n, zeta, seed)``, the one the
parameter-server algorithms use, so a saved run replays with the same split.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from ..params import Param, parse_pairs, resolve
from .base import Problem
from .logistic import Logistic


class LocalFullGradient(Logistic):
    """``base`` (a logistic problem) whose batch gradients are the **full local gradient**.

    Seed 001's Figure 1 uses "full gradient computation": a job of worker k returns
    ``grad f_k(x_pi)``, the mean over all of worker k's samples.  The AsGrad jobs
    compute ``problem.batch_grad(x, idx)`` over ``batch`` indices drawn from the
    worker's split (with replacement).  This problem answers such a call with the mean
    gradient over the whole split the indices come from (the split
    :func:`~asyncproof.reference.parameter_server.common.local_splits` gives for
    ``(n, zeta, seed)``, summed in ascending sample order), and refuses indices that
    straddle two splits.  Values, full gradients and single-sample gradients are
    ``base``'s.  Run the algorithms with ``batch >= 2`` so that they call ``batch_grad``.
    """

    def __init__(self, base: Logistic, n: int, zeta: float, seed: int):
        from ..parameter_server.common import local_splits     # here: that package registers its algorithms
        super().__init__(*base.arrays)
        self._splits = [np.ascontiguousarray(s, dtype=np.int64) for s in local_splits(base, n, zeta, seed)]
        self._owner = np.empty(self.m, dtype=np.int64)
        for k, split in enumerate(self._splits):
            self._owner[split] = k
        self._spec_params = {**base._spec_base(), "local_full_gradient": {"n": n, "zeta": zeta, "seed": seed}}

    def batch_grad(self, x, idx):
        idx = self.check_idx(idx)
        k = int(self._owner[idx[0]])
        if not np.all(self._owner[idx] == k):
            raise InputError(f"local_full_gradient: a batch's samples straddle two workers' splits "
                             f"(sample {int(idx[0])} is worker {k}'s)")
        return super().batch_grad(x, self._splits[k])

    def subset(self, idx):
        raise InputError("local_full_gradient: a subset of this problem is not defined (its splits are over the "
                         "whole data set)")


def _local_full_params() -> dict[str, Param]:
    # n and zeta as the parameter-server algorithms declare them: the split must be theirs
    from ..parameter_server.common import worker_params
    ps = worker_params()
    return {"n": ps["n"], "zeta": ps["zeta"],
            "seed": Param("seed", int, 0, "the run's seed (the split's)", lo=0, hi=2 ** 64 - 1)}


def wrap(name: str, base: Problem, given) -> Problem:
    """``base`` answering batch gradients with the full local gradient (:class:`LocalFullGradient`);
    ``given``: ``{"n": ..., "zeta": ..., "seed": ...}`` or its text ``"n=4,zeta=0,seed=0"``."""
    try:
        if isinstance(given, str):
            given = parse_pairs(given, "local_full_gradient parameter", given)
        p = resolve("local_full_gradient", _local_full_params(), given)
    except InputError as e:
        raise InputError(f"{name}: {e}") from None
    if not isinstance(base, Logistic):
        raise InputError(f"{name}: local_full_gradient: only the logistic problem has it")
    if p["n"] > base.m:
        raise InputError(f"{name}: local_full_gradient: n = {p['n']} workers need at least one sample each; "
                         f"the problem has m = {base.m}")
    return LocalFullGradient(base, p["n"], p["zeta"], p["seed"])
