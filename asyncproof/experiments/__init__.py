"""Reproducible experiments: the seeds' figures re-run in the reference engine.

One module per experiment, each reading like the experiment's description; what they share
(the result, timed runs measured against simulated time, tuning, the process pool, the
figure, the Markdown file, the saved schedules) is in :mod:`.common`.

=========================  ================================================================
``asgrad-figure1``         seed 001 (AsGrad poster), Figure 1: pure vs random vs shuffled
                           asynchronous SGD (:mod:`.asgrad_figure1`)
``heterogeneous-compute``  seed 004 (Ringleader ASGD): Ringleader vs Malenia vs Rennala vs
                           asynchronous SGD vs mini-batch SGD (:mod:`.heterogeneous_compute`)
``hogwild-sparsity``       seed 002 (HOGWILD!): sparse SVM as the overlap bound τ and the
                           sparsity vary (:mod:`.hogwild_sparsity`)
``decentralized-sgd``      seeds 000 and 003: Attiya–Schiller vs the General Algorithm vs
                           Keuper–Pfreundt ASGD vs SimuParallelSGD, with a crash and a recovery
                           (:mod:`.decentralized_sgd`)
``asgd-kmeans``            seed 003 (Keuper–Pfreundt), Figure 14: ASGD vs silent on k-means,
                           k = 10, d = 10 (:mod:`.asgd_kmeans`)
=========================  ================================================================

Each writes a PNG and a Markdown table into an output folder (the same bytes on every run of
the same command) and returns an :class:`ExperimentResult` whose ``rows`` are the table and
whose ``verdicts`` are computed from the rows.  Every run is a registered algorithm on a
problem ``make_problem`` rebuilds, so ``--schedules DIR`` saves each run's schedule under
``DIR/NAME/`` (``runs.json`` says which run each file holds) and
``asyncproof replay FILE`` reproduces it bit for bit.

Command line (``--help`` lists the options; exit 2 with a one-line message on bad input)::

    python -m asyncproof.experiments asgrad-figure1 --out docs/experiments [--quick] [--schedules DIR]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ..reference.data import w7a_like
from .asgd_kmeans import asgd_kmeans, asgd_kmeans_verdict
from .asgrad_figure1 import asgrad_figure1, asgrad_verdict
from .common import EXPERIMENTS, ExperimentResult, markdown_table, replay_hint
from .decentralized_sgd import decentralized_sgd, decentralized_verdict
from .heterogeneous_compute import (heterogeneous_compute, hetero_verdict, optimal_time_heterogeneous,
                                    optimal_time_homogeneous, reference_constants)
from .hogwild_sparsity import hogwild_sparsity, hogwild_verdict

__all__ = ["EXPERIMENTS", "ExperimentResult", "asgd_kmeans", "asgd_kmeans_verdict", "asgrad_figure1", "asgrad_verdict",
           "decentralized_sgd", "decentralized_verdict", "hetero_verdict",
           "heterogeneous_compute", "hogwild_sparsity", "hogwild_verdict", "main", "markdown_table",
           "optimal_time_heterogeneous", "optimal_time_homogeneous", "reference_constants", "run_experiment",
           "w7a_like"]

def run_experiment(name: str, out: str | os.PathLike = "docs/experiments", quick: bool = False,
                   **kwargs) -> ExperimentResult:
    """Run experiment ``name`` (a key of :data:`EXPERIMENTS`); InputError for an unknown name."""
    return EXPERIMENTS.lookup(name)(out=out, quick=quick, **kwargs)


# ------------------------------------------------------------------------------------------
# command line: python -m asyncproof.experiments, asyncproof experiment


class _Parser(argparse.ArgumentParser):
    def error(self, message):            # one line, exit status 2 (the CLI's "bad input")
        self.exit(2, f"{self.prog}: error: {message}\n")


def add_arguments(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The options of ``python -m asyncproof.experiments`` and ``asyncproof experiment``."""
    p.add_argument("name", metavar="NAME", help=f"the experiment: {', '.join(EXPERIMENTS)}")
    p.add_argument("--out", default="docs/experiments", help="output folder (default: docs/experiments)")
    p.add_argument("--quick", action="store_true", help="small sizes (seconds), as the tests run it")
    p.add_argument("--data", metavar="FILE", default=None,
                   help="a LIBSVM file (e.g. w7a) instead of the w7a-shaped synthetic data")
    p.add_argument("--seed", type=int, default=0, help="seed of data, splits, samples and compute times (default 0)")
    p.add_argument("--jobs", type=int, default=None,
                   help="processes for the runs (default: the number of cores, at most 2 in --quick)")
    p.add_argument("--schedules", metavar="DIR", default=None,
                   help="save every run's schedule in DIR/NAME/ (runs.json says which run each file holds; "
                        "asyncproof replay FILE reproduces one)")
    return p


def describe() -> str:
    """One line per experiment, for help texts."""
    return "experiments: " + "; ".join(f"{k}: {(v.__doc__ or '').strip().splitlines()[0]}"
                                       for k, v in EXPERIMENTS.items())


def _parser(prog: str = "python -m asyncproof.experiments") -> argparse.ArgumentParser:
    return add_arguments(_Parser(prog=prog, epilog=describe(),
                                 description="Run a reproducible experiment and write its PNG and Markdown table."))


def run_from_args(args, prog: str) -> int:
    """Run the experiment the parsed ``args`` name; print its table and verdicts; the exit status."""
    from ..reference.errors import InputError
    if args.name not in EXPERIMENTS:
        print(f"{prog}: error: unknown experiment {args.name!r}; known: {', '.join(EXPERIMENTS)}", file=sys.stderr)
        return 2
    if args.seed < 0:
        print(f"{prog}: error: --seed must be >= 0, got {args.seed}", file=sys.stderr)
        return 2
    jobs = args.jobs if args.jobs is not None else (os.cpu_count() or 1)
    if jobs < 1:
        print(f"{prog}: error: --jobs must be >= 1, got {jobs}", file=sys.stderr)
        return 2
    try:
        from ..reference.schedule import check_output_dir
        check_output_dir(args.out, "--out directory")        # before minutes of runs, not after
        schedules = None
        if args.schedules is not None:
            schedules = check_output_dir(Path(args.schedules) / args.name, "--schedules directory")
        res = run_experiment(args.name, out=args.out, quick=args.quick, data=args.data, seed=args.seed, jobs=jobs,
                             schedules=schedules)
    except InputError as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 2
    print(res.table_markdown())
    for v in res.verdicts:
        print(v)
    print(f"wrote {res.png} and {res.markdown} ({res.seconds:.0f} s)")
    if res.schedules is not None:
        print(replay_hint(res))
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m asyncproof.experiments NAME --out DIR [--quick] [--schedules DIR]``; returns the exit status."""
    parser = _parser()
    return run_from_args(parser.parse_args(argv), parser.prog)
