"""Docs are executed: every docstring example, every ``>>>`` block in docs/, every ``$ asyncproof`` line."""

from __future__ import annotations

import doctest
import importlib
import os
import pkgutil
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

import asyncproof

ROOT = Path(__file__).resolve().parents[1]
DOCS = sorted((ROOT / "docs").glob("*.md"))


def _modules():
    """Every module of the package: asyncproof's own, and each sub-package's, recursively."""
    names = [f"asyncproof.{m.name}" for m in pkgutil.iter_modules(asyncproof.__path__)
             if m.name not in ("__main__",)]
    for sub in ("reference", "properties", "proofs", "fast", "experiments"):
        pkg = importlib.import_module(f"asyncproof.{sub}")
        names.append(pkg.__name__)
        names += [m.name for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + ".")
                  if not m.name.endswith(".__main__")]
    return sorted(set(names))


def test_docs_exist():
    assert {p.name for p in DOCS} >= {"index.md", "engine.md", "schedule-format.md", "worked-example.md"}


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples(name):
    mod = importlib.import_module(name)
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"


@pytest.mark.parametrize("page", DOCS, ids=lambda p: p.name)
def test_doc_page_examples(page):
    result = doctest.testfile(str(page), module_relative=False,
                              optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} example(s) failed in {page.name}"


def _console_commands():
    out = []
    for page in DOCS:
        for block in re.findall(r"```console\n(.*?)```", page.read_text(), re.S):
            out += [(page.name, line[2:].strip()) for line in block.splitlines() if line.startswith("$ asyncproof")]
    return out


@pytest.mark.parametrize("page, command", _console_commands())
def test_doc_shell_commands(tmp_path_factory, page, command):
    cwd = tmp_path_factory.getbasetemp() / "console"   # shared: later lines use files earlier ones wrote
    cwd.mkdir(exist_ok=True)
    argv = shlex.split(command)
    env = {**os.environ, "PYTHONPATH": str(Path(asyncproof.__file__).resolve().parents[1])}
    r = subprocess.run([sys.executable, "-m", "asyncproof", *argv[1:]], cwd=cwd, capture_output=True, text=True,
                       env=env)
    assert r.returncode == 0, f"{page}: {command}\n{r.stdout}\n{r.stderr}"
