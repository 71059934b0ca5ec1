"""One registry mechanism (reference/registries.py) for algorithms, variants, guarantees, claims, experiments,
problems.

* a module dropped into ``<package>/<family>/`` is registered without being listed anywhere;
* the order is the families' order, then the modules' names, whichever module a process imported
  first (the verify table and the docs' table must not depend on a test's imports);
* a name declared by two modules is refused, naming the first; one module declaring it again
  (reloaded) is not a clash;
* every project registry is one of them.
"""

from __future__ import annotations

import importlib
import sys
import textwrap

import pytest

from asyncproof.reference.errors import InputError
from asyncproof.reference.registries import FAMILIES, Registry, modules_of

@pytest.fixture
def toy(tmp_path, monkeypatch):
    """A package ``toyreg`` with two families (one missing), whose modules declare widgets into a
    fresh registry, through a helper function (as the agreement family's ``_register`` does)."""
    root = tmp_path / "toyreg"
    for family, modules in {"baselines": ["zeta", "alpha"], "agreement": ["mid"]}.items():
        (root / family).mkdir(parents=True)
        (root / family / "__init__.py").write_text("")
        for m in modules:
            (root / family / f"{m}.py").write_text(textwrap.dedent(f"""
                from toyreg import declare
                declare("{family}-{m}-1")
                declare("{family}-{m}-2")
                """))
    (root / "__init__.py").write_text("REG = None\n\n\ndef declare(name):\n    REG.add(name, name.upper())\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    reg = Registry("widget", lambda: modules_of("toyreg"))
    importlib.import_module("toyreg").REG = reg
    yield reg
    for name in [n for n in sys.modules if n == "toyreg" or n.startswith("toyreg.")]:
        del sys.modules[name]


def test_modules_are_found_by_family_then_name_and_a_missing_family_is_skipped(toy):
    assert "parameter_server" in FAMILIES      # toyreg has none: skipped, not an error
    assert modules_of("toyreg") == ["toyreg.baselines.alpha", "toyreg.baselines.zeta", "toyreg.agreement.mid"]


def test_the_order_does_not_depend_on_what_was_imported_first(toy):
    importlib.import_module("toyreg.agreement.mid")         # a test imported one module directly
    importlib.import_module("toyreg.baselines.zeta")
    assert list(toy) == ["agreement-mid-1", "agreement-mid-2", "baselines-zeta-1", "baselines-zeta-2"]
    assert toy.all() == ["BASELINES-ALPHA-1", "BASELINES-ALPHA-2", "BASELINES-ZETA-1", "BASELINES-ZETA-2",
                         "AGREEMENT-MID-1", "AGREEMENT-MID-2"]
    assert toy.origin("baselines-zeta-2") == "toyreg.baselines.zeta"


def test_a_clash_names_the_first_module_and_a_reload_is_not_one(toy):
    toy.load()
    with pytest.raises(InputError, match=r"widget 'agreement-mid-1' is already registered \(from toyreg.agreement.mid\)"):
        toy.add("agreement-mid-1", "other")                 # declared here, in this test: another origin
    importlib.reload(sys.modules["toyreg.agreement.mid"])   # the same module again: replaces
    assert toy.lookup("agreement-mid-1") == "AGREEMENT-MID-1"
    with pytest.raises(InputError, match="unknown widget 'nope'; known: agreement-mid-1, agreement-mid-2, baselines"):
        toy.lookup("nope")


def test_a_module_that_fails_to_import_is_reported_or_handled(tmp_path, toy):
    (tmp_path / "toyreg" / "baselines" / "broken.py").write_text("raise RuntimeError('no such thing')\n")
    with pytest.raises(RuntimeError, match="no such thing"):
        toy.load()
    assert not toy.loaded                                     # a later read tries again, and fails again
    seen = []
    tolerant = Registry("widget", lambda: modules_of("toyreg"), on_error=lambda m, e: seen.append((m, str(e))))
    sys.modules["toyreg"].REG = tolerant
    tolerant.load()
    assert seen == [("toyreg.baselines.broken", "no such thing")]


def test_every_project_registry_is_one_registry():
    from asyncproof.proofs.registry import CLAIMS
    from asyncproof.properties.guarantees import GUARANTEES
    from asyncproof.properties.variants import VARIANTS
    from asyncproof.reference.problems import PROBLEMS
    from asyncproof.reference.registry import ALGORITHMS
    registries = [ALGORITHMS, VARIANTS, GUARANTEES, CLAIMS, PROBLEMS]
    try:
        from asyncproof.experiments import EXPERIMENTS
        registries.append(EXPERIMENTS)
    except ImportError:
        pass
    assert all(isinstance(r, Registry) for r in registries), [type(r).__name__ for r in registries]
    assert [r.kind for r in registries[:5]] == ["algorithm", "variant", "property", "claim", "problem"]
    # and each lists its things in the modules' order: the algorithms family by family
    fams = [a.family.replace("-", "_") for a in ALGORITHMS.all()]
    assert fams == sorted(fams, key=FAMILIES.index)


def test_every_folder_the_registries_walk_is_installed():
    """A registry finds a module by being there; an installed copy has only the packages that
    pyproject.toml lists, so a family folder missing from the list would silently drop its
    guarantees, claims or experiments from ``pip install .`` (the source checkout still has them)."""
    import tomllib
    from pathlib import Path
    root = Path(__file__).resolve().parents[1]
    listed = set(tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    mapped = {"asyncproof": "asyncproof", "reference": "asyncproof.reference", "properties": "asyncproof.properties",
              "proofs": "asyncproof.proofs", "fast": "asyncproof.fast"}
    present = set()
    for folder, name in mapped.items():
        for init in (root / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(root / folder)
            if "__pycache__" not in rel.parts:
                present.add(".".join([name, *rel.parts]))
    assert present - listed == set(), "add these to pyproject.toml's packages"
