"""One registry mechanism for every named thing: algorithms, problems, broken variants, guarantees, claims, experiments.

A :class:`Registry` is a dict of one kind of thing, by name, filled by the modules that declare
them; those modules are imported the first time the registry is read (:meth:`Registry.load`),
never at import time, so reading one registry does not import another's dependencies (the
reference does not import Hypothesis).  The modules are found by walking packages laid out by
family, in one order (:data:`FAMILIES`), so a file added at ``<package>/<family>/<name>.py`` is
registered without being listed anywhere:

==========================  =========================================================
registry                    walks
==========================  =========================================================
algorithms                  ``reference/<family>/``
problems                    ``reference/problems/`` (the seeds' order first, then by name)
guarantees and variants     ``properties/every_algorithm.py``, ``properties/kernels.py``,
                            ``properties/<family>/``
claims                      ``proofs/claims/<family>/``
experiments                 ``asyncproof/experiments/``
==========================  =========================================================

>>> r = Registry("widget", lambda: [])
>>> r.add("gear", 1, origin="demo") and r.lookup("gear")
1
>>> r.lookup("cog")
Traceback (most recent call last):
...
asyncproof.reference.errors.InputError: unknown widget 'cog'; known: gear
>>> r.add("gear", 2, origin="elsewhere")
Traceback (most recent call last):
...
asyncproof.reference.errors.InputError: widget 'gear' is already registered (from demo)
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import sys
from typing import Callable, Iterable

from .errors import InputError

#: the families, in the order every registry lists them (the order of the seeds' algorithms:
#: the baselines first, the agreement algorithms, then the decentralized SGD built on them)
FAMILIES = ("baselines", "parameter_server", "shared_memory", "agreement", "decentralized")


def modules_of(package: str, families: Iterable[str] | None = FAMILIES) -> list[str]:
    """The modules under ``package`` (by family, in :data:`FAMILIES` order, when ``families`` is
    given, a family the package lacks skipped; then by name); sub-packages' ``__init__``, private
    modules (``_common``) and ``__main__`` left out."""
    roots = [package] if families is None else [f"{package}.{f}" for f in families]
    found = []
    for root in roots:
        if importlib.util.find_spec(root) is None:       # a family without claims (or experiments)
            continue
        pkg = importlib.import_module(root)
        found += sorted(info.name for info in pkgutil.walk_packages(pkg.__path__, f"{root}.")
                        if not info.ispkg and not info.name.rsplit(".", 1)[-1].startswith("_"))
    return found


class Registry(dict):
    """The things of one ``kind`` by name, declared by the modules ``modules()`` names.

    ``add`` refuses a name already declared elsewhere (the same origin may declare it again: a
    reloaded module); ``lookup`` loads the modules first and names the known ones in its error;
    ``on_error(module, exception)``, when given, turns a module that fails to import into an
    entry of its own instead of an error (a claim that reports it); ``after_load(registry)``
    runs once every module is in (a cross-cutting guarantee extending its coverage).
    """

    def __init__(self, kind: str, modules: Callable[[], Iterable[str]],
                 on_error: Callable[[str, Exception], None] | None = None,
                 after_load: Callable[["Registry"], None] | None = None):
        super().__init__()
        self.kind = kind
        self._modules = modules
        self._on_error = on_error
        self._after_load = after_load
        self._origins: dict[str, str] = {}
        self.loaded = False
        self._order: list[str] = []

    def add(self, name: str, item, origin: str | None = None):
        """Declare ``item`` as ``name``; ``origin`` (default: the module whose top level is running,
        the declaring module) orders it in :meth:`all` and tells a clash from a reloaded module."""
        origin = origin or _declaring_module()
        old = self._origins.get(name)
        if name in self and old != origin and self[name] is not item:
            raise InputError(f"{self.kind} {name!r} is already registered (from {old})")
        self[name] = item
        self._origins[name] = origin
        return item

    def __copy__(self) -> "Registry":
        """An independent copy (a test may register into it and throw it away)."""
        other = Registry(self.kind, self._modules, self._on_error, self._after_load)
        other.update(self)
        other._origins = dict(self._origins)
        other.loaded, other._order = self.loaded, list(self._order)
        return other

    def origin(self, name: str) -> str | None:
        """Where ``name`` was declared (a module or a source line)."""
        return self._origins.get(name)

    def load(self) -> "Registry":
        """Import every declaring module, once (a module's failure propagates unless ``on_error``)."""
        if self.loaded:
            return self
        self.loaded = True          # first: a declaring module may read the registry while it loads
        self._order = list(self._modules())
        for module in self._order:
            try:
                importlib.import_module(module)
            except Exception as e:
                if self._on_error is None:
                    self.loaded = False
                    raise
                self._on_error(module, e)
        if self._after_load is not None:
            self._after_load(self)
        return self

    def lookup(self, name: str):
        """The thing called ``name``; an :class:`InputError` naming the known ones otherwise."""
        self.load()
        if name not in self:
            raise InputError(f"unknown {self.kind} {name!r}; known: {', '.join(sorted(self)) or '(none)'}")
        return self[name]

    def all(self) -> list:
        """Every thing in the modules' order, then each module's: the same order whichever module a
        process happened to import first (one declared outside those modules comes last)."""
        self.load()
        rank = {m: i for i, m in enumerate(self._order)}
        names = sorted(self, key=lambda n: rank.get(self._origins.get(n), len(rank)))   # stable: a module's own order
        return [self[n] for n in names]


def _declaring_module() -> str:
    """The module whose top-level code is running: the one declaring what is being registered
    (through however many helper functions it calls)."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_name != "<module>":
        frame = frame.f_back
    return frame.f_globals.get("__name__", "?") if frame is not None else "?"
