"""asyncproof: a verification-focused reference implementation of asynchronous distributed SGD.

The public API, in the order a newcomer meets it:

* :func:`run_algorithm` runs a registered algorithm under an adversary and returns
  its trace, its schedule (saveable, replayable) and its metrics;
* :func:`replay` and :func:`load_schedule` replay a schedule file bit for bit;
* :func:`make_problem` and :func:`make_adversary` build problems and adversaries by name;
* :func:`verify` (property suites) and :func:`run_claim` (the papers' claims).

Sub-packages: ``asyncproof.reference`` (engine, adversaries, problems, algorithms),
``asyncproof.properties``, ``asyncproof.proofs``, ``asyncproof.fast``.
"""

__version__ = "0.1.0"

import importlib.abc as _abc
import importlib.util as _util
import os as _os
import sys as _sys

_SUBPACKAGES = ("reference", "properties", "proofs", "fast")


class _CheckoutFinder(_abc.MetaPathFinder):
    """Finds ``asyncproof.reference`` etc. in the top-level folders of a source checkout.

    setuptools maps the folders reference/, properties/, proofs/ and fast/ into this
    namespace when installing; this finder does the same for an uninstalled checkout,
    so ``python -m asyncproof`` and ``python -m pytest`` work before ``pip install``.
    """

    def __init__(self, root: str):
        self.root = root

    def find_spec(self, fullname, path=None, target=None):
        top, _, sub = fullname.partition(".")
        if top != __name__ or sub not in _SUBPACKAGES:
            return None
        folder = _os.path.join(self.root, sub)
        return _util.spec_from_file_location(fullname, _os.path.join(folder, "__init__.py"),
                                             submodule_search_locations=[folder])


_here = _os.path.dirname(_os.path.abspath(__file__))
_root = _os.path.dirname(_here)
if (not _os.path.isdir(_os.path.join(_here, "reference"))           # not an installed copy
        and _os.path.isfile(_os.path.join(_root, "reference", "__init__.py"))
        and _os.path.isfile(_os.path.join(_root, "pyproject.toml"))):
    _sys.meta_path.insert(0, _CheckoutFinder(_root))

# The public names are imported on first use (PEP 562), so importing asyncproof (as the pytest
# plugin does in every session of anyone who installed it) costs no numpy or numba.
_LAZY = {"make_adversary": "reference.adversaries", "Model": "reference.engine",
         "InputError": "reference.errors", "PropertyViolation": "reference.errors",
         "ReplayDivergence": "reference.errors", "make_problem": "reference.problems",
         "Schedule": "reference.schedule", "load_schedule": "reference.schedule",
         "replay": "reference.schedule", "run_algorithm": "reference.schedule"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib
        value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))


def verify(*args, **kwargs):
    """Run the property suites; see :func:`asyncproof.properties.suite.verify`."""
    from .properties import verify as _verify
    return _verify(*args, **kwargs)


def run_claim(*args, **kwargs):
    """Check one claim of the proofs registry; see :func:`asyncproof.proofs.registry.run_claim`."""
    from .proofs import run_claim as _run_claim
    return _run_claim(*args, **kwargs)


__all__ = ["InputError", "Model", "PropertyViolation", "ReplayDivergence", "Schedule", "__version__",
           "load_schedule", "make_adversary", "make_problem", "replay", "run_algorithm", "run_claim", "verify"]
