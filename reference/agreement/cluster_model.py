"""The cluster-based model: disjoint clusters with shared registers, messages between all processes.

Seed 000 (``000_3f5163bcd896752f.txt``), slide "Cluster-Based Model" (Raynal and Cao,
ICDCS 2019): "Disjoint clusters, each with shared **read/write registers**"; "All
processes can send **asynchronous messages** to each other"; slide "Multi-Dimensional
AA in the Cluster-Based Model": "A process **represents** all processes in its cluster";
slide "Recovery through Skipping": "**Non-volatile memory** can be used to checkpoint
the current status".

==========================================  ================================================
the model                                   here
==========================================  ================================================
processes partitioned into disjoint         :class:`Clusters`: from sizes (``[2, 2, 1]``: p0 p1 |
clusters                                    p2 p3 | p4) or pid lists (``[[0, 3], [1, 2]]``);
                                            empty, overlapping or missing pids are InputErrors
shared read/write registers per cluster     one array A per cluster (and per instance), named
                                            ``c1.A[0]`` (``c1.r2.A[0]`` in MDAA round 2): the
                                            engine's registers, read one at a time
asynchronous messages to every process      the engine's ``Broadcast`` / ``Send`` /``Receive``
a message represents its sender's cluster   :meth:`Clusters.represented`, :meth:`Clusters.majority`
crash-stop of the processes the model       :func:`fault_model`: the engine's :class:`Model` with
allows                                      ``crashable`` pids and at most ``f`` crashes, checked
                                            against the clusters (below)
crash-recovery from non-volatile memory     ``recovery=True``: a crashed process restarts from
                                            its last ``Checkpoint``; registers are shared
                                            memory and survive; its inbox does not
==========================================  ================================================

**Which crash sets the model allows.**  A process represents its whole cluster, so the
processes that stay up represent a majority as long as the clusters keeping at least
one process up hold more than n/2 processes, even if most *processes* crash (clusters
[4, 1, 1]: three crashes in the first cluster still leave 4 of 6 represented).  The
engine's ``majority`` filter counts processes, which is stricter, so the fault patterns
here are its ``crashable`` set and crash budget ``f``: :func:`fault_model` computes the
worst ``f`` crashes among ``crashable`` (the clusters it can wipe out) and, where the run
needs a correct majority, rejects a pattern that can leave none with a one-line
:class:`InputError`.  :func:`fault_model` with ``need_majority=False`` builds the patterns
of the "no majority" property (safety without liveness).

**Inputs.**  The registered algorithms (``cluster-agreement``, ``mdaa``) take their
inputs from the parameter ``inputs`` (n vectors, one per process, all of the problem's
dimension d) or, without it, draw x_i uniformly from [-1, 1]^d with the generator keyed
``(seed, STREAM_INPUTS, i)``; d is the problem's dimension (the default problem,
``quadratic``, has d = 2; ``--problem-param d=3`` changes it).  The problem plays no other
part: agreement has no objective.

>>> c = Clusters.parse([2, 2, 1])
>>> c.members, c.cluster_of(3), c.index_of(3), c.represented([0, 4]), c.majority([0, 4])
(((0, 1), (2, 3), (4,)), 1, 1, 3, True)
>>> Clusters.parse([[0, 1], [1, 2]])
Traceback (most recent call last):
...
asyncproof.reference.errors.InputError: clusters overlap: p1 is in cluster 0 and in cluster 1
>>> fault_model(c, crashable=[2, 3, 4], f=3)
Traceback (most recent call last):
...
asyncproof.reference.errors.InputError: fault pattern leaves no correct majority: crashing p2, p3, p4 (f = 3 of crashable [2, 3, 4]) leaves clusters [0] up, representing 2 of n = 5 processes
>>> fault_model(c, crashable=[1, 2, 4], f=3).to_json()["crashable"]
[1, 2, 4]
"""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass
from typing import Iterable

import numpy as np

from ..engine import Model
from ..errors import InputError
from ..registry import MAX_AGREEMENT, Param
from ..rng import generator

#: the stream of the drawn inputs (distinct from every stream of ``reference.rng``)
STREAM_INPUTS = 2_000_003


@dataclass(frozen=True)
class Clusters:
    """A partition of the processes 0 .. n-1 into disjoint, non-empty clusters."""
    members: tuple[tuple[int, ...], ...]

    @classmethod
    def parse(cls, spec) -> "Clusters":
        if isinstance(spec, Clusters):
            return spec
        try:
            return _parse_cached(_frozen_spec(spec))
        except TypeError:          # not hashable: let _parse name what is wrong
            return cls._parse(spec)

    @classmethod
    def _parse(cls, spec) -> "Clusters":
        if not isinstance(spec, (list, tuple)) or not spec:
            raise InputError(f"clusters must be a non-empty list of sizes or of pid lists, got {spec!r}")
        if all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in spec):
            bad = [s for s in spec if s < 1]
            if bad:
                k = list(spec).index(bad[0])
                raise InputError(f"cluster {k} is empty (size {bad[0]}): every cluster needs a process")
            pids = iter(range(sum(int(s) for s in spec)))
            return cls(tuple(tuple(next(pids) for _ in range(int(s))) for s in spec))
        members = []
        for k, c in enumerate(spec):
            if not isinstance(c, (list, tuple)):
                raise InputError(f"clusters must be all sizes or all pid lists; cluster {k} is {c!r}")
            if not c:
                raise InputError(f"cluster {k} is empty: every cluster needs a process")
            if not all(isinstance(p, (int, np.integer)) and not isinstance(p, bool) and p >= 0 for p in c):
                raise InputError(f"cluster {k} = {list(c)!r} must list non-negative integer pids")
            members.append(tuple(int(p) for p in c))
        seen: dict[int, int] = {}
        for k, c in enumerate(members):
            for p in c:
                if p in seen:
                    raise InputError(f"clusters overlap: p{p} is in cluster {seen[p]} and in cluster {k}")
                seen[p] = k
        n = len(seen)
        missing = sorted(set(range(n)) - set(seen))
        if missing:
            raise InputError(f"clusters must cover the pids 0 .. {n - 1} exactly; p{missing[0]} is in no cluster "
                             f"(pids given: {sorted(seen)})")
        return cls(tuple(members))

    @property
    def n(self) -> int:
        return sum(len(c) for c in self.members)

    @property
    def sizes(self) -> list[int]:
        return [len(c) for c in self.members]

    def cluster_of(self, pid: int) -> int:
        for k, c in enumerate(self.members):
            if pid in c:
                return k
        raise InputError(f"p{pid} is not a process of these clusters (n = {self.n})")

    def index_of(self, pid: int) -> int:
        return self.members[self.cluster_of(pid)].index(pid)

    def represented(self, pids: Iterable[int]) -> int:
        """How many processes the senders ``pids`` represent: the sizes of their clusters."""
        hit = {self.cluster_of(p) for p in pids}
        return sum(len(self.members[k]) for k in hit)

    def majority(self, pids: Iterable[int]) -> bool:
        """Do messages from ``pids`` represent a majority (more than n/2) of the processes?"""
        return 2 * self.represented(pids) > self.n

    def array(self, cluster: int, instance: int | None = None) -> tuple[str, ...]:
        """The register names of cluster ``cluster``'s array A (of one MDAA round, if given)."""
        tag = f"c{cluster}." + (f"r{instance}." if instance is not None else "")
        return tuple(f"{tag}A[{j}]" for j in range(len(self.members[cluster])))

    def to_json(self) -> list:
        return [list(c) for c in self.members]


def _frozen_spec(spec):
    if isinstance(spec, (list, tuple)):
        return tuple(_frozen_spec(v) for v in spec)
    hash(spec)
    return spec


@functools.lru_cache(maxsize=256)
def _parse_cached(spec) -> Clusters:
    # parsing is on every step's path (builds, checks): the same few specs, parsed once each
    return Clusters._parse(spec)


@dataclass(frozen=True)
class Member:
    """A process as the cluster model knows it: its pid, its cluster and its index in it."""
    pid: int
    cluster: int
    index: int

    @classmethod
    def of(cls, clusters: Clusters, pid: int) -> "Member":
        return cls(pid, clusters.cluster_of(pid), clusters.index_of(pid))


# --------------------------------------------------------------------------------------
# fault patterns


def worst_crashes(clusters: Clusters, crashable: Iterable[int], f: int) -> tuple[int, ...]:
    """The at most ``f`` crashes among ``crashable`` that leave the fewest processes represented.

    Only crashing a whole cluster lowers the count, so this is a subset sum over the
    clusters that lie inside ``crashable``; ties go to the smaller pids.
    """
    crashable = set(crashable)
    whole = [k for k, c in enumerate(clusters.members) if set(c) <= crashable]
    best: tuple[int, tuple[int, ...]] = (0, ())
    for r in range(len(whole) + 1):
        for ks in itertools.combinations(whole, r):
            pids = tuple(sorted(p for k in ks for p in clusters.members[k]))
            if len(pids) <= f and (len(pids) > best[0] or (len(pids) == best[0] and pids < best[1])):
                best = (len(pids), pids)
    return best[1]


def fault_model(clusters, crashable=None, f: int | None = None, recovery: bool = False,
                fairness: int | None = None, need_majority: bool = True) -> Model:
    """The engine :class:`Model` of a fault pattern of the cluster model.

    ``crashable`` (default: every process) may crash, at most ``f`` times in all
    (default: ``len(crashable)``); ``recovery`` makes crashes crash-recovery.  With
    ``need_majority`` the pattern must leave a correct majority represented whatever
    ``f`` crashes happen (else InputError naming the worst crashes).
    """
    clusters = Clusters.parse(clusters)
    n = clusters.n
    crashable = list(range(n)) if crashable is None else list(crashable)
    bad = [p for p in crashable if isinstance(p, bool) or not isinstance(p, (int, np.integer)) or not 0 <= p < n]
    if bad:
        raise InputError(f"crashable pids {bad} are not processes of these clusters (n = {n})")
    crashable = sorted({int(p) for p in crashable})
    f = len(crashable) if f is None else f
    if isinstance(f, bool) or not isinstance(f, (int, np.integer)) or f < 0:
        raise InputError(f"f must be a non-negative integer number of crashes, got {f!r}")
    if need_majority:
        dead = worst_crashes(clusters, crashable, min(int(f), len(crashable)))
        up = [k for k, c in enumerate(clusters.members) if not set(c) <= set(dead)]
        if not clusters.majority([clusters.members[k][0] for k in up]):
            raise InputError(
                f"fault pattern leaves no correct majority: crashing {', '.join(f'p{p}' for p in dead)} "
                f"(f = {f} of crashable {crashable}) leaves clusters {up} up, representing "
                f"{sum(len(clusters.members[k]) for k in up)} of n = {n} processes")
    return Model(f=int(f), crashable=tuple(crashable), recovery=bool(recovery), majority=False, fairness=fairness)


# --------------------------------------------------------------------------------------
# parameters and inputs shared by the registered algorithms


def _check_clusters(v) -> str | None:
    try:
        Clusters.parse(v)
    except InputError as e:
        return str(e)
    return None


def _check_inputs(v) -> str | None:
    return None if v is None else check_inputs_shape(v)


def check_inputs_shape(v) -> str | None:
    """The error text for inputs that are not n vectors of one dimension of finite numbers."""
    if not isinstance(v, (list, tuple)) or not v:
        return f"inputs must be a non-empty list of vectors (one per process), got {v!r}"
    dims = []
    for i, x in enumerate(v):
        if not isinstance(x, (list, tuple)) or not x:
            return f"input x_{i} must be a non-empty list of numbers, got {x!r}"
        for c, t in enumerate(x):
            if isinstance(t, bool) or not isinstance(t, (int, float)):
                return f"input x_{i}[{c}] = {t!r} is not a number"
            if not math.isfinite(t):
                return f"input x_{i}[{c}] = {t!r} is not finite"
        dims.append(len(x))
    if len(set(dims)) > 1:
        j = next(i for i, k in enumerate(dims) if k != dims[0])
        return f"inputs have different dimensions: x_0 has {dims[0]} coordinates, x_{j} has {dims[j]}"
    return None


def _check_processes(v) -> str | None:
    """``_check_clusters``, and at most MAX_AGREEMENT processes in all."""
    err = _check_clusters(v)
    if err is None and Clusters.parse(v).n > MAX_AGREEMENT:
        return f"clusters must have at most {MAX_AGREEMENT} processes in all, got n = {Clusters.parse(v).n}"
    return err


def cluster_params(default_clusters) -> dict[str, Param]:
    # sizes (or pids) up to MAX_AGREEMENT, and at most MAX_AGREEMENT processes in all (_check_processes)
    return {
        "clusters": Param("clusters", "list", default_clusters,
                          f"cluster sizes ([2,2,1]) or pid lists ([[0,3],[1,2]]): disjoint, non-empty, covering "
                          f"0..n-1, n <= {MAX_AGREEMENT}", _check_processes,
                          max_len=MAX_AGREEMENT, items=(0, MAX_AGREEMENT), what="clusters (sizes or pids)"),
        "inputs": Param("inputs", "list", None,
                        "one input vector per process (default: x_i uniform in [-1,1]^d, d = the problem's)",
                        _check_inputs, max_len=MAX_AGREEMENT),
        "provenance": Param("provenance", bool, True, "carry exact convex-combination weights (Fractions)"),
    }


def agreement_inputs(problem, params: dict, seed: int) -> np.ndarray:
    """The n × d inputs of a run (see the module docstring); InputError if they do not fit."""
    clusters = Clusters.parse(params["clusters"])
    n, d = clusters.n, problem.d
    given = params.get("inputs")
    if given is None:
        return np.array([generator(seed, STREAM_INPUTS, i).uniform(-1.0, 1.0, size=d) for i in range(n)])
    err = check_inputs_shape(given)
    if err:
        raise InputError(err)
    if len(given) != n:
        raise InputError(f"inputs gives {len(given)} vectors, but the clusters have n = {n} processes")
    if len(given[0]) != d:
        raise InputError(f"inputs are {len(given[0])}-dimensional but the problem {problem.name!r} has d = {d} "
                         f"(pass --problem-param d={len(given[0])})")
    return np.array(given, dtype=np.float64)
