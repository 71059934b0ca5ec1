"""Compute-time models of workers, for the timed adversary.

Seed 002 (002_34168ee93540180b.txt), slide "Stragglers": "What if time per node is a
random variable: X = constant + Exp(λ)"; seed 001 (001_c6590ddcd2705154.txt),
"Experiments": "Each worker has a parameter s_i and spends r seconds to compute a
gradient"; seed 004: "Client Compute Heterogeneity is Real" (heavy tails).

A model draws the duration of the k-th job of a worker from the generator keyed
``(seed, STREAM_TIMING + worker, k)``, so a worker's compute times never depend on
the interleaving.

>>> import numpy as np
>>> ShiftedExponential(c=1.0, lam=0.5).mean
3.0
>>> parse_timing("exp:c=1,lam=0.5")
ShiftedExponential(c=1.0, lam=0.5)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .errors import InputError
from .params import parse_pairs


def _positive(name: str, v, allow_zero: bool = False) -> float:
    try:
        v = float(v)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number, got {v!r}") from None
    if math.isnan(v):
        raise InputError(f"{name} must be a number, got NaN")
    if math.isinf(v):
        raise InputError(f"{name} = inf: a compute model that never finishes a job")
    if v < 0 or (v == 0 and not allow_zero):
        raise InputError(f"{name} must be {'>= 0' if allow_zero else '> 0'} (a compute time), got {v!r}")
    return v


@dataclass(frozen=True)
class Fixed:
    """Every job of the worker takes exactly ``s`` (seed 001: worker i takes s_i)."""
    s: float

    def __post_init__(self):
        object.__setattr__(self, "s", _positive("s (fixed compute time)", self.s))

    def sample(self, rng: np.random.Generator) -> float:
        return self.s

    @property
    def mean(self) -> float:
        return self.s

    def to_json(self) -> dict:
        return {"model": "fixed", "s": self.s}


@dataclass(frozen=True)
class ShiftedExponential:
    """``c + Exp(λ)``: the straggler model of seed 002's "Stragglers" slide (rate λ)."""
    c: float = 1.0
    lam: float = 1.0

    def __post_init__(self):
        object.__setattr__(self, "c", _positive("c (constant part of the compute time)", self.c, allow_zero=True))
        object.__setattr__(self, "lam", _positive("lam (rate λ of the exponential part)", self.lam))

    def sample(self, rng: np.random.Generator) -> float:
        return self.c + rng.exponential(1.0 / self.lam)

    @property
    def mean(self) -> float:
        return self.c + 1.0 / self.lam

    def to_json(self) -> dict:
        return {"model": "exp", "c": self.c, "lam": self.lam}


_LOG_FINITE = 700.0      # exp(700) ~ 1e304 is a float; exp(710) is inf


@dataclass(frozen=True)
class LogNormal:
    """Heavy-tailed times ``c + exp(N(mu, sigma²))``."""
    mu: float = 0.0
    sigma: float = 1.0
    c: float = 0.0

    def __post_init__(self):
        try:
            mu = float(self.mu)
        except (TypeError, ValueError):
            raise InputError(f"mu must be a number, got {self.mu!r}") from None
        if not math.isfinite(mu):
            raise InputError(f"mu must be finite, got {self.mu!r}")
        object.__setattr__(self, "mu", mu)
        object.__setattr__(self, "sigma", _positive("sigma (lognormal shape)", self.sigma, allow_zero=True))
        object.__setattr__(self, "c", _positive("c (constant part of the compute time)", self.c, allow_zero=True))
        if mu + 10 * self.sigma > _LOG_FINITE:
            raise InputError(f"lognormal compute times exp(N(mu, sigma²)) with mu = {mu:g}, sigma = {self.sigma:g} "
                             f"overflow to infinity, a job that never finishes: need mu + 10 sigma <= {_LOG_FINITE}")
        if self.c == 0 and math.exp(mu) == 0:
            raise InputError("lognormal compute times are all 0: give c > 0 or a larger mu")

    def sample(self, rng: np.random.Generator) -> float:
        return self.c + float(np.exp(rng.normal(self.mu, self.sigma)))

    @property
    def mean(self) -> float:
        return self.c + math.exp(self.mu + self.sigma ** 2 / 2)

    def to_json(self) -> dict:
        return {"model": "lognormal", "mu": self.mu, "sigma": self.sigma, "c": self.c}


class Chosen:
    """Every job takes a time in [lo, hi] that ``pick()`` chooses (a number in [0, 1]): the fixed
    computation model read as "worker i needs at most τ_i" (lo > 0, hi = τ_i), or compute times
    with a ratio hi/lo, when the choice is the adversary's (a Hypothesis draw, in the property
    suites and claims).  Not a JSON model: a run under it is replayed from its recorded times."""

    def __init__(self, lo: float, hi: float, pick):
        self.lo, self.hi, self.pick = _positive("lo", lo), _positive("hi", hi), pick
        if self.lo > self.hi:
            raise InputError(f"compute times in [lo, hi] need lo <= hi, got lo = {lo}, hi = {hi}")

    def sample(self, rng) -> float:
        u = float(self.pick())
        if not 0.0 <= u <= 1.0:
            raise InputError(f"a chosen compute time must be picked in [0, 1], got {u!r}")
        return self.hi if u == 1.0 else self.lo + (self.hi - self.lo) * u      # the ends exactly

    def to_json(self) -> dict:
        return {"model": "chosen", "lo": self.lo, "hi": self.hi}


TIMING_MODELS = {"fixed": Fixed, "exp": ShiftedExponential, "lognormal": LogNormal}


def timing_from_json(d) -> Fixed | ShiftedExponential | LogNormal:
    if isinstance(d, str):
        return parse_timing(d)
    if not isinstance(d, dict) or "model" not in d:
        raise InputError(f"a compute-time model must be an object with a 'model' field, got {d!r}")
    d = dict(d)
    name = d.pop("model")
    if name not in TIMING_MODELS:
        raise InputError(f"unknown compute-time model {name!r}; known: {sorted(TIMING_MODELS)}")
    try:
        return TIMING_MODELS[name](**d)
    except TypeError as e:
        raise InputError(f"bad parameters for compute-time model {name!r}: {d} ({e})") from None


def parse_timing(text: str):
    """Parse ``"fixed:s=2"``, ``"exp:c=1,lam=0.5"``, ``"lognormal:mu=0,sigma=1"``."""
    name, _, rest = text.partition(":")
    return timing_from_json({"model": name.strip(), **parse_pairs(rest, "compute-time parameter", text)})
