"""asyncproof's pytest plugin: where counterexamples of your checks go, and how to re-check one.

Installed with asyncproof (entry point ``pytest11``; without the entry point, ``-p
asyncproof.pytest_plugin``).  It adds two options and does nothing else in a session whose
tests do not use :mod:`asyncproof.strategies` (it imports only the standard library and pytest):

``--asyncproof-failures DIR``
    where :func:`asyncproof.strategies.assert_holds` saves the schedule of a failing run, before
    raising (default ``asyncproof-failures/`` in the directory pytest was started from).  Only the
    example Hypothesis finally reports is saved.  A test that drew runs with
    :func:`asyncproof.strategies.runs` and failed in a plain ``assert`` gets its final runs saved
    too, named in a report section "asyncproof".

``--asyncproof-replay FILE``
    every :func:`~asyncproof.strategies.runs` strategy of the algorithm FILE records gives the run
    FILE holds instead of drawing one: the failing test re-checks the saved counterexample (the
    ``replay with:`` line of the failure is this command).  The events must replay; the values may
    differ if your step changed since (a fix is re-checked on the very schedule that broke it).

>>> DEFAULT_FAILURES
'asyncproof-failures'
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

import pytest

DEFAULT_FAILURES = "asyncproof-failures"

_state: dict = {"failures": None, "replay": None, "invocation": None, "loaded_as": None, "test": None,
                "final_runs": [], "replayed": {}}


def pytest_addoption(parser):
    group = parser.getgroup("asyncproof", "asyncproof (your checks of asynchronous algorithms)")
    group.addoption("--asyncproof-failures", metavar="DIR", default=None,
                    help=f"save the schedule of a failing asyncproof check under DIR (default: {DEFAULT_FAILURES}/)")
    group.addoption("--asyncproof-replay", metavar="FILE", default=None,
                    help="re-check a saved schedule: asyncproof runs() of its algorithm give the run FILE holds")


def pytest_configure(config):
    here = Path(config.invocation_params.dir)
    given = config.getoption("asyncproof_failures", None)
    replay = config.getoption("asyncproof_replay", None)
    _state.update(invocation=here, failures=here / (given or DEFAULT_FAILURES), failures_given=given,
                  replay=(here / replay) if replay else None, replayed={}, final_runs=[], test=None,
                  loaded_as=_loaded_as(config))
    if replay and not (here / replay).is_file():
        raise pytest.UsageError(f"--asyncproof-replay: {replay!r} is not a file")


def pytest_unconfigure(config):
    _state.update(failures=None, replay=None, invocation=None, test=None, final_runs=[], replayed={})


def _loaded_as(config) -> str | None:
    """How this plugin came in: None (the entry point) or the ``-p`` name a replay command must repeat."""
    pm = config.pluginmanager
    this = sys.modules[__name__]
    for name, plugin in pm.list_name_plugin():
        if plugin is this:
            return None if name == "asyncproof" else name
    return None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    _state["test"] = item
    _state["final_runs"] = []
    try:
        return (yield)
    finally:
        _state["test"] = None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    runs = _state.get("final_runs") or []
    if call.when == "call" and report.failed and runs and call.excinfo is not None:
        if not _saved_already(call.excinfo.value):
            _save_plain_failure(item, call.excinfo.value, runs, report)
        _state["final_runs"] = []
    return report


def _saved_already(exc) -> bool:
    if getattr(exc, "path", None) and getattr(exc, "replay", None):
        return True
    return any(_saved_already(e) for e in getattr(exc, "exceptions", ()))


def _save_plain_failure(item, exc, runs, report) -> None:
    """A test drew runs and failed outside :func:`~asyncproof.strategies.assert_holds`: save its runs now."""
    from . import strategies
    message = " ".join((str(exc).strip().splitlines() or [type(exc).__name__])[0].split())
    lines = []
    _state["test"] = item
    try:
        for run in runs:
            path = strategies._save_for_plugin(run, item.name, message)
            lines.append(f"the failing run of {run.schedule.algorithm} is saved to {path}\n"
                         f"  replay with: {replay_command(path)}")
    finally:
        _state["test"] = None
    report.sections.append(("asyncproof", "\n".join(lines)))


# --- what asyncproof.strategies asks ---------------------------------------------------------------


def failures_dir() -> Path | None:
    return _state["failures"]


def replay_file() -> Path | None:
    return _state["replay"]


def replayed(path, name: str, run=None):
    """The run replayed from ``path`` for algorithm ``name`` in this session (stored when ``run`` is given)."""
    key = (str(path), name)
    if run is not None:
        _state["replayed"][key] = run
    return _state["replayed"].get(key)


def note_final_run(run) -> None:
    if _state["test"] is not None:
        _state["final_runs"].append(run)


def current_test_name() -> str | None:
    item = _state["test"]
    return None if item is None else getattr(item, "originalname", None) or item.name


def replay_command(path) -> str | None:
    """The pytest command that re-runs the current test on the schedule at ``path``."""
    item = _state["test"]
    if item is None:
        return None
    here = _state["invocation"] or Path.cwd()
    file = Path(str(item.path))
    try:
        file = file.relative_to(here)
    except ValueError:
        pass
    node = "::".join([str(file), *item.nodeid.split("::")[1:]])
    words = ["python", "-m", "pytest", node]
    if _state["loaded_as"]:
        words += ["-p", _state["loaded_as"]]
    if _state.get("failures_given"):
        words += ["--asyncproof-failures", _state["failures_given"]]
    words += ["--asyncproof-replay", os.path.relpath(path, here) if os.path.isabs(path) else str(path)]
    return " ".join(shlex.quote(w) for w in words)
