"""Numbers in the docs, from their sources: ``python -m asyncproof.docnumbers --check | --update``.

Every number that README.md and docs/*.md quote in prose (the executed ``>>>`` examples are
checked by ``tests/test_docs.py`` instead) comes from one of these sources:

* **the registries** (algorithms, guarantees, claims, broken variants, mutants, budgets):
  counted when the check runs; and a few runs cheap enough to do then (Rennala's and
  Malenia's rounds, gradient descent on the experiments' data set: seconds);
* **the committed experiment outputs** ``docs/experiments/NAME.md``, which
  ``python -m asyncproof.experiments NAME`` writes byte for byte the same on every run;
* **recorded command outputs** ``docs/numbers/NAME.json``, written by
  ``python -m asyncproof.docnumbers --measure NAME`` (see :mod:`asyncproof._measure`): the
  exact command, the date, the commit, the machine and its load, the wall-clock and CPU time
  and the output of ``asyncproof verify --budget quick``, ``asyncproof prove``, each experiment
  and the mutation runs.  Durations are quoted only from these files (a test cannot compare
  a duration with the clock); deterministic parts of the outputs are compared with a fresh
  computation by ``tests/test_docnumbers.py`` where that is affordable.

The docs carry them in two forms:

* **regions**, ``<!-- numbers: NAME -->`` ... ``<!-- /numbers -->``: a block (a table, a code
  block, an excerpt) rendered entirely by :data:`REGIONS` ``NAME``; ``--update`` rewrites it;
* **quotes**, phrases of the prose with ``[[key]]`` placeholders (:data:`QUOTES`), found in
  the file up to white space; ``--check`` compares every placeholder's text with its value,
  ``--update`` rewrites the placeholders' text in place (the wording stays the author's).
  A :class:`Fact` is a phrase without a number whose truth is a condition on the sources
  (e.g. "is the only method to reach the target").

``--check`` exits 1 and says, for each difference, the file, what the text says, what the
source gives and which source; a phrase reworded in the file is reported as not found (then
change its template here).  It also scans every page for numbers that look like results
(decimals, "k of n", durations, percentages, "13×", "12 claims") outside code, regions,
quotes and facts: each must be quoted, or be listed in :data:`NOT_RESULTS` as an input, a
name or history.  ``tests/test_docnumbers.py`` runs the same check.

>>> _fill("in [[n]] of [[of]]", {"n": "3", "of": "4"})
'in 3 of 4'
>>> duration(132.4), duration(58.2), duration(7.9), minutes(492)
('2 min 12 s', '58 s', '7.9 s', '8.2 min')
>>> sig(4.43), sig(12.77), sig(885.0), sig(0.0492, 3), sci(0.00127), sci(1.52e-4)
('4.4', '13', '890', '0.0492', '1.3e-3', '1.5e-4')
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import re
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
NUMBERS = "docs/numbers"
EXPERIMENTS_DIR = "docs/experiments"
#: the files whose numbers are under control (relative to the checkout): the README and every page of docs/
FILES = ("README.md", "DEVELOPERS.md", *sorted(f"docs/{p.name}" for p in (ROOT / "docs").glob("*.md")))
HINT = "python -m asyncproof.docnumbers --update"


class SourceError(Exception):
    """A source the docs quote is missing or does not have the expected form."""


# ------------------------------------------------------------------------------------------
# formatting


def duration(seconds: float) -> str:
    """``2 min 12 s`` from a minute on, ``58 s`` from 10 s on, else ``7.9 s``."""
    s = float(seconds)
    if s >= 59.5:
        m, r = divmod(int(round(s)), 60)
        return f"{m} min {r} s" if r else f"{m} min"
    return f"{s:.0f} s" if s >= 9.95 else f"{s:.1f} s"


def minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min"


def sig(x: float, digits: int = 2) -> str:
    """``x`` to ``digits`` significant digits (halves rounded up, as its printed decimal reads), no exponent."""
    from decimal import ROUND_HALF_UP, Decimal
    if x == 0:
        return "0"
    d = Decimal(repr(float(x)))
    r = d.quantize(Decimal(1).scaleb(d.adjusted() - digits + 1), rounding=ROUND_HALF_UP)
    text = format(r, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def sci(x: float, digits: int = 2) -> str:
    """``1.3e-3``: two significant digits, the exponent without a leading zero."""
    mant, exp = f"{x:.{digits - 1}e}".split("e")
    return f"{mant}e{int(exp)}"


def thousands(x: float) -> str:
    return f"{x:,.0f}"


WORDS = {0: "no", 1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight",
         9: "nine", 10: "ten"}


def fraction(x: float) -> str:
    """``1/16`` for a power of two below 1, else the number."""
    if 0 < x < 1 and abs(math.log2(x) - round(math.log2(x))) < 1e-12:
        return f"1/{round(1 / x)}"
    return sig(x, 3)


# ------------------------------------------------------------------------------------------
# sources


def _num(s: str) -> float | None:
    s = s.strip()
    if s in ("not reached", "diverged", "-", ""):
        return None
    return float(s.replace(",", ""))


def experiment_file(name: str, root: Path = ROOT) -> str:
    path = root / EXPERIMENTS_DIR / f"{name}.md"
    if not path.is_file():
        raise SourceError(f"{path.relative_to(root)} is missing: run python -m asyncproof.experiments {name} "
                          f"--out {EXPERIMENTS_DIR}")
    return path.read_text()


def experiment_table(name: str, root: Path = ROOT) -> list[dict[str, str]]:
    """The table of ``docs/experiments/NAME.md``: one dict of cell texts per row."""
    lines = [l for l in experiment_file(name, root).splitlines() if l.startswith("| ")]
    cells = [[c.strip() for c in l.strip().strip("|").split(" | ")] for l in lines]
    head = cells[0]
    return [dict(zip(head, c)) for c in cells[2:]]


def experiment_runs(name: str, root: Path = ROOT) -> int:
    """The number of runs the file's last line reports: ``(12 rows from 84 runs, full mode; ...)``."""
    m = re.search(r"\(\d+ rows from (\d+) runs, (\w+) mode", experiment_file(name, root))
    if not m or m.group(2) != "full":
        raise SourceError(f"{EXPERIMENTS_DIR}/{name}.md is not a full-mode run")
    return int(m.group(1))


def experiment_note(name: str, pattern: str, root: Path = ROOT) -> re.Match:
    m = re.search(pattern, experiment_file(name, root))
    if not m:
        raise SourceError(f"{EXPERIMENTS_DIR}/{name}.md has no text matching {pattern!r}")
    return m


def recorded(name: str, root: Path = ROOT) -> dict:
    """``docs/numbers/NAME.json``, written by ``--measure NAME``."""
    path = root / NUMBERS / f"{name}.json"
    if not path.is_file():
        raise SourceError(f"{NUMBERS}/{name}.json is missing: run python -m asyncproof.docnumbers --measure {name}")
    rec = json.loads(path.read_text())
    bad = [r["label"] for r in rec["runs"] if r["exit"] != 0]
    if bad:
        raise SourceError(f"{NUMBERS}/{name}.json: run(s) {bad} exited non-zero; measure again")
    return rec


def load_during(run: dict) -> str:
    return f"{run['load_during_1min']['mean']:.1f}"


# ------------------------------------------------------------------------------------------
# values: each group is a function of the checkout's root returning {key: text}


def _asgrad(root: Path) -> dict[str, str]:
    rows = experiment_table("asgrad-figure1", root)
    settings = list(dict.fromkeys(r["setting"] for r in rows))
    per = {s: {r["method"]: r for r in rows if r["setting"] == s} for s in settings}
    final = {s: {m: _num(r["final_grad_norm2"]) for m, r in per[s].items()} for s in settings}
    ttt = {s: {m: _num(r["time_to_target"]) for m, r in per[s].items()} for s in settings}
    lowest = {s: min(final[s], key=final[s].get) for s in settings}
    first = {s: min((t, m) for m, t in ttt[s].items() if t is not None)[1] if any(
        t is not None for t in ttt[s].values()) else None for s in settings}
    wins = [s for s in settings if lowest[s] == "shuffled"]
    margins = [sorted(v for m, v in final[s].items() if m != "shuffled")[0] / final[s]["shuffled"] for s in wins]
    label_sorted_i = next(s for s in settings if s.startswith("s_i = i+1") and "label-sorted" in s)
    iid_i = next(s for s in settings if s.startswith("s_i = i+1") and "iid" in s)
    pure_finals = [final[s]["pure"] for s in settings]
    nobody = [s for s in settings if first[s] is None]
    return {
        "asgrad_settings": str(len(settings)),
        "asgrad_lowest": str(len(wins)),
        "asgrad_first": str(sum(first[s] == "shuffled" for s in settings)),
        "asgrad_margin_lo": sig(min(margins)), "asgrad_margin_hi": sig(max(margins)),
        "asgrad_nobody": str(len(nobody)),
        "asgrad_plateau": sci(final[label_sorted_i]["pure"]),
        "asgrad_plateau_x": sig(final[label_sorted_i]["pure"] / final[label_sorted_i]["shuffled"], 1),
        "asgrad_shuffled_iters": per[iid_i]["shuffled"]["iterations"],
        "asgrad_pure_iters": per[iid_i]["pure"]["iterations"],
        "asgrad_rate_pure": f"{sum(1 / (i + 1) for i in range(10)):.2f}",
        "asgrad_dip": per[label_sorted_i]["shuffled"]["time_to_target"],
        "asgrad_pure_lo": sci(min(pure_finals)), "asgrad_pure_hi": sci(max(pure_finals)),
        "_asgrad_only_shuffled_reaches": str(all(t is None for s in settings for m, t in ttt[s].items()
                                                 if m != "shuffled")),
        "_asgrad_claim": experiment_note("asgrad-figure1", r"outperforms pure and random asynchronous SGD is "
                                                           r"([\w ]+) here", root).group(1),
        "asgrad_target": sci(float(experiment_note("asgrad-figure1", r"target: \|\|∇f\(x\)\|\|² <= ([\d.e+-]+)",
                                                   root).group(1)), 3),
    }


HETERO_SHORT = {"asynchronous SGD": "async", "Rennala SGD": "rennala", "Malenia SGD": "malenia",
                "mini-batch SGD": "minibatch", "Ringleader ASGD": "ringleader"}


def _hetero(root: Path) -> dict[str, str]:
    name = "heterogeneous-compute"
    rows = experiment_table(name, root)
    settings = list(dict.fromkeys(r["setting"] for r in rows))
    per = {s: {r["method"]: r for r in rows if r["setting"] == s} for s in settings}
    out: dict[str, str] = {}
    for method, short in HETERO_SHORT.items():
        out[f"h_{short}"] = " / ".join(per[s][method]["time_to_target"] for s in settings)
    ttt = {s: {m: _num(r["time_to_target"]) for m, r in per[s].items()} for s in settings}
    final = {s: {m: _num(r["final_grad_norm2"]) for m, r in per[s].items()} for s in settings}
    order = {s: sorted((t, m) for m, t in ttt[s].items() if t is not None) for s in settings}
    fastest = {s: order[s][0][1] for s in settings}
    lowest = {s: min(final[s], key=final[s].get) for s in settings}
    lead = "asynchronous SGD"
    ring = "Ringleader ASGD"
    ratios = [_num(r["time_to_target / t_star"]) for r in rows if _num(r["time_to_target / t_star"]) is not None]
    ring_ratios = [_num(r["time_to_target / t_star"]) for r in rows if r["method"] == ring]
    margins = [order[s][1][0] / order[s][0][0] for s in settings if fastest[s] == lead]
    not_lowest = [s for s in settings if lowest[s] != ring]
    times = [t for s in settings for t in ttt[s].values() if t is not None]
    fixed_iid = settings[0]
    horizon = float(experiment_note(name, r"H = (\d+)", root).group(1))
    gam = lambda ms: sorted({_num(per[s][m]["gamma"]) for s in settings for m in ms})  # noqa: E731
    ring_g, server_g = gam([ring]), gam(["Malenia SGD", "Rennala SGD"])
    floor = sorted(v for s in settings for m, v in final[s].items()
                   if not (m == "mini-batch SGD" and s.startswith("stragglers")))
    mb_strag = {final[s]["mini-batch SGD"] for s in settings if s.startswith("stragglers")}
    ring_lowest_vals = [final[s][ring] for s in settings if lowest[s] == ring]
    last_k = int(experiment_note(name, r"geometric mean of \|\|∇f\|\|² at the last (\d+) of them", root).group(1))
    points = int(experiment_note(name, r"evaluated at (\d+) evenly spaced", root).group(1))
    out.update({
        "h_settings": str(len(settings)),
        "h_lead_first": str(sum(fastest[s] == lead for s in settings)),
        "h_margin_lo": sig(min(margins)), "h_margin_hi": sig(max(margins)),
        "h_ring_first": str(sum(fastest[s] == ring for s in settings)),
        "h_ring_lowest": str(sum(lowest[s] == ring for s in settings)),
        "h_other_below_ring": ", ".join(f"{(1 - final[s][lowest[s]] / final[s][ring]):.0%}" for s in not_lowest),
        "h_ratio_lo": sig(min(ratios)), "h_ratio_hi": sig(max(ratios)),
        "h_ring_ratio_lo": sig(min(ring_ratios)), "h_ring_ratio_hi": sig(max(ring_ratios)),
        "h_faster_lo": "(t* below)", "h_faster_hi": "(t* below)",
        "h_time_lo": sig(min(times)), "h_time_hi": sig(max(times)),
        "h_async_rate": sig(_num(per[fixed_iid][lead]["iterations"]) / horizon),
        "h_async_iters": per[fixed_iid][lead]["iterations"],
        "h_ring_rate": sig(_num(per[fixed_iid][ring]["iterations"]) / horizon),
        "h_ring_iters": per[fixed_iid][ring]["iterations"],
        "h_rennala_iters": per[fixed_iid]["Rennala SGD"]["iterations"],
        "h_malenia_iters": per[fixed_iid]["Malenia SGD"]["iterations"],
        "h_ring_g_lo": fraction(ring_g[0]), "h_ring_g_hi": fraction(ring_g[-1]),
        "h_server_g_lo": fraction(server_g[0]), "h_server_g_hi": fraction(server_g[-1]),
        "h_ring_slowest": WORDS[sum(max(ttt[s], key=lambda m: ttt[s][m] or -1) == ring for s in settings)],
        "h_floor_lo": sig(floor[0] * 1e3), "h_floor_hi": sci(floor[-1]),
        "h_mb_strag": sci(max(mb_strag)),
        "h_ring_low_lo": sci(min(ring_lowest_vals)), "h_ring_low_hi": sci(max(ring_lowest_vals)),
        "_h_runner_up": " / ".join(order[s][1][1] for s in settings),
        "_h_lowest_other": " / ".join(lowest[s] for s in not_lowest),
        "h_final_points": str(last_k),
        "h_final_share": f"{(last_k - 1) / (points - 1):.0%}",      # the last k of the evaluation times
        "_h_all_reached": str(all(t is not None for s in settings for t in ttt[s].values())),
        "_h_claim": experiment_note(name, r"read as time to the target, ([\w ]+) here", root).group(1),
        "h_target": sci(float(experiment_note(name, r"target: \|\|∇f\(x\)\|\|² <= ([\d.e+-]+)", root).group(1)), 3),
        "_h_highest": " / ".join(max(final[s], key=final[s].get) for s in settings),
    })
    # t*'s inputs, as the experiment's notes state them
    note = lambda p: experiment_note(name, p, root)  # noqa: E731
    L = float(note(r"L = ([\d.]+) \(the problem's smoothness bound\)").group(1))
    f0, fstar, delta = (float(x) for x in note(r"Δ = f\(x_0\) − f\* = ([\d.]+) − ([\d.]+) = ([\d.]+)").groups())
    eps = float(note(r"ε = the target ([\d.e-]+)").group(1))
    sigma2 = float(note(r"σ² = ([\d.]+), the variance").group(1))
    at_xhat = float(note(r"([\d.]+) at s = 1;").group(1))
    tstars = note(r"t\* per setting \(τ_n LΔ/ε \+ the σ² term\): (.*)").group(1)
    parts = re.findall(r"([\d,]+) \(([\d.,]+) \+ ([\d,]+)\)", tstars)
    homog = re.findall(r"([\d,]+) \(m = (\d+)\)", note(r"for the i.i.d. splits: (.*)").group(1))
    t_fixed, first_fixed, second_fixed = (float(x.replace(",", "")) for x in parts[0])
    t_strag, first_strag, _ = (float(x.replace(",", "")) for x in parts[-1])
    # how many times faster than t* (the notes' t*, not the table's 3-digit rounding)
    t_of = dict(zip(settings, (float(p[0].replace(",", "")) for p in parts)))
    faster = [t_of[s] / t for s in settings for t in ttt[s].values() if t is not None]
    out.update({
        "t_L": note(r"; L = ([\d.]+); \|\|∇f\(x_0\)\|\|² = ").group(1),
        "t_f0": f"{f0:.4f}", "t_fstar": f"{fstar:.4f}", "t_delta": f"{delta:.4f}",
        "t_grad_xhat": note(r"\|\|∇f\(x̂\)\|\|² = ([\d.e-]+)").group(1),
        "t_eps": sci(eps, 3), "t_sigma2": f"{sigma2:.3g}", "t_sigma2_xhat": f"{at_xhat:.2g}",
        "t_fixed": thousands(t_fixed), "t_fixed_first": f"{first_fixed:.0f}",
        "t_strag": thousands(t_strag), "t_strag_first": f"{first_strag:.0f}",
        "t_homog_fixed": homog[0][0], "t_homog_strag": homog[-1][0], "t_homog_m": homog[0][1],
        "t_sigma_share": f"{second_fixed / t_fixed:.0%}", "t_sigma_x": sig(sigma2 / at_xhat),
        "t_L_delta_eps": f"{L * delta / eps:.0f}",
        "h_faster_lo": sig(min(faster)), "h_faster_hi": sig(max(faster)),
    })
    return out


def _decentralized(root: Path) -> dict[str, str]:
    """decentralized-sgd's and asgd-kmeans' tables: how close the averaging algorithms keep the models,
    how far apart the others end on the double well, and ASGD's margin over silent in seeds' spreads."""
    rows = experiment_table("decentralized-sgd", root)
    averaging = [_num(r["max_Δcw"]) for r in rows if r["method"] in ("Attiya–Schiller", "General Algorithm")]
    apart = [_num(r["final_Δcw"]) for r in rows if r["setting"].startswith("nonconvex")
             and r["method"] in ("Keuper–Pfreundt ASGD", "SimuParallelSGD")]
    km = experiment_file("asgd-kmeans", root)
    spreads = re.findall(r"n = (\d+): ASGD ends .*?, ([\d.]+) spreads over the seeds", km)
    return {"dz_avg_dcw": sig(max(averaging)), "dz_apart_lo": f"{min(apart):.2g}", "dz_apart_hi": f"{max(apart):.2g}",
            "dz_km_n1": spreads[0][0], "dz_km_s1": spreads[0][1], "dz_km_n2": spreads[-1][0],
            "dz_km_s2": spreads[-1][1]}


def _hogwild(root: Path) -> dict[str, str]:
    name = "hogwild-sparsity"
    rows = experiment_table(name, root)
    text = experiment_file(name, root)
    taus = sorted({int(r["tau"]) for r in rows})
    nnzs = sorted({int(r["nnz"]) for r in rows}, key=int)
    top = [r for r in rows if int(r["tau"]) == taus[-1]]
    ratios = [_num(r["mean_noise"]) / _num(r["noise_bound"]) for r in rows if _num(r["noise_bound"])]
    below = [r for r in rows if _num(r["mean_noise"]) <= _num(r["noise_bound"])]
    lossy = [r for r in rows if int(r["tau"]) > 0 and _num(r["lost_updates_racy"]) > 0]
    worst = max(top, key=lambda r: _num(r["lost_updates_racy"]))
    T = int(re.search(r"T = (\d+) samples", text).group(1))
    flat = [nz for nz in nnzs if any(_num(a["dist_to_serial"]) > _num(b["dist_to_serial"]) for a, b in zip(
        [r for r in rows if int(r["nnz"]) == nz], [r for r in rows if int(r["nnz"]) == nz][1:]))]
    # where the distance stops growing: the values from the first τ > 0 whose successors are within 10% of it
    plateau, plateau_from = [], None
    if flat:
        d = [(int(r["tau"]), _num(r["dist_to_serial"])) for r in rows if int(r["nnz"]) == flat[-1]]
        for i, (tau, v) in enumerate(d):
            if tau > 0 and all(abs(w - v) <= 0.1 * v for _, w in d[i:]):
                plateau, plateau_from = [w for _, w in d[i:]], tau
                break
    grows = [nz for nz in nnzs if [_num(r["dist_to_serial"]) for r in rows if int(r["nnz"]) == nz]
             == sorted(_num(r["dist_to_serial"]) for r in rows if int(r["nnz"]) == nz)]
    return {
        "hw_top_tau": str(taus[-1]),
        "hw_dist_top": " / ".join(r["dist_to_serial"] for r in top),
        "hw_dist_top_commas": ", ".join(r["dist_to_serial"] for r in top),
        "hw_nnz": " / ".join(str(n) for n in nnzs), "hw_nnz_commas": ", ".join(str(n) for n in nnzs),
        "hw_below": str(len(below)), "hw_settings": str(len(rows)),
        "hw_ratio_lo": sig(min(r for r in ratios)), "hw_ratio_hi": sig(max(ratios)),
        "hw_loss_gap": re.search(r"within ([\d.]+%) of serial SGD's", text).group(1),
        "hw_lossy": str(len(lossy)), "hw_positive_tau": str(sum(1 for r in rows if int(r["tau"]) > 0)),
        "hw_worst_lost": worst["lost_updates_racy"], "hw_writes": f"{T * int(worst['nnz']):,}".replace(",", " "),
        "hw_worst_nnz": worst["nnz"],
        "hw_grows": " and ".join(str(n) for n in grows),
        "hw_lost_8_8": next(r["lost_updates_racy"] for r in top if r["nnz"] == "8"),
        "_hw_tau0_serial": str(all(_num(r["dist_to_serial"]) == 0 for r in rows if int(r["tau"]) == 0)),
        "hw_not_growing": " and ".join(str(n) for n in nnzs if n not in grows),
        "hw_plateau": sig(statistics.mean(plateau), 2) if plateau else "-",
        "hw_plateau_from": str(plateau_from),
    }


def _registries(root: Path) -> dict[str, str]:
    from . import properties  # noqa: F401  (registers the guarantees and the broken variants)
    from .properties import guarantees
    from .properties.profiles import BROKEN_FACTOR, EXAMPLES
    from .proofs.registry import all_claims
    from .reference.registry import algorithms

    algs = [a.name for a in algorithms()]
    gs = guarantees()
    rows = sum(1 for g in gs for a in algs if a in g.algorithms)
    agreement_variants = {v for g in gs for base, v in g.broken.items()
                          if base in ("cluster-agreement", "mdaa", "midextremes")}
    sys.path.insert(0, str(root / "tests" / "mutation"))
    try:
        import catalogue
        mutants = len(catalogue.MUTANTS)
    finally:
        sys.path.remove(str(root / "tests" / "mutation"))
    return {"n_algorithms": str(len(algs)), "n_guarantees": str(len(gs)), "n_rows": str(rows),
            "n_claims": str(len(all_claims())), "n_mutants": str(mutants),
            "n_agreement_variants": WORDS.get(len(agreement_variants), str(len(agreement_variants))),
            "ex_quick": str(EXAMPLES["quick"]), "ex_ci": str(EXAMPLES["ci"]), "ex_deep": str(EXAMPLES["deep"]),
            "broken_factor": WORDS[BROKEN_FACTOR]}


def _edges(root: Path) -> dict[str, str]:
    """The README's issue-10 section: the schedule reader's limits, the corpus, and three cheap runs."""
    from .reference.registry import GiB, check_memory, get_algorithm, resolve_params
    from .reference.problems import make_problem
    from .reference.errors import InputError
    from .reference.schedule import run_algorithm
    from .reference import schedule_schema as sch

    corpus = [p for p in (root / "tests" / "data" / "bad-schedules").glob("*.json") if p.name != "expected.json"]
    tour = run_algorithm("minibatch-sgd", problem={"name": "least-squares"}, params={"b": 4, "n": 2, "T": 30},
                         adversary="random:seed=1")
    div = run_algorithm("sgd", problem={"name": "quadratic"}, params={"gamma": 1.5, "T": 2000})
    p = resolve_params("minibatch-sgd", {"b": 100000, "T": 1000})
    try:
        check_memory(get_algorithm("minibatch-sgd"), make_problem("least-squares"), p, limit=4 * GiB)
        need = cap = "none"
    except InputError as e:
        m = re.search(r"about ([\d.]+) GiB .*more than the ([\d.]+) GiB limit", str(e))
        need, cap = m.group(1), m.group(2)
    return {"e_max_mib": str(sch.MAX_FILE_BYTES // 2 ** 20), "e_max_depth": str(sch.MAX_DEPTH),
            "e_max_digits": str(sch.MAX_INT_DIGITS), "e_corpus": str(len(corpus)),
            "e_tour_events": str(len(tour.trace.events)), "e_tour_T": str(tour.params["T"]),
            "e_div_events": str(len(div.trace.events)), "e_div_iter": str(div.trace.divergence.iteration),
            "e_div_step": str(div.trace.divergence.step), "e_mem_need": need, "e_mem_cap": cap}


def _w7a(root: Path) -> dict[str, str]:
    """The experiments' data set and gradient descent on it (γ = 1, 400 steps: a second)."""
    import numpy as np
    from .experiments.common import build_problem as _problem, problem_spec as _problem_key

    prob = _problem(_problem_key(None, 0, False))
    A, y = prob.arrays[0], prob.arrays[1]
    x = np.zeros(prob.d)
    f, g2 = [], []
    for _ in range(401):
        g = prob.grad(x)
        f.append(float(prob.value(x)))
        g2.append(float(g @ g))
        x = x - 1.0 * g
    target = 1e-2 * g2[0]
    lo, hi = min(g2[10:51]), max(g2[10:51])
    # the registry's logistic generator at the same size and density: regulariser-dominated
    from .reference.problems import make_problem
    reg = make_problem("logistic", seed=0, m=prob.m, d=prob.d, density=round(float((A != 0).mean()), 3), lam=0.1)
    B = reg.arrays[0]
    eig = np.linalg.eigvalsh(B.T @ B / (4 * reg.m) + 2 * 0.1 * np.eye(reg.d))    # the Hessian at x_0 = 0
    z = np.zeros(reg.d)
    r0 = float(reg.grad(z) @ reg.grad(z))
    steps = 0
    while float(reg.grad(z) @ reg.grad(z)) > 1e-10 * r0 and steps < 1000:
        z, steps = z - reg.grad(z) / reg.L, steps + 1
    return {"w_L": f"{prob.L:.2f}", "w_f0": f"{f[0]:.3f}", "w_g0": f"{g2[0]:.3f}", "w_f400": f"{f[400]:.4f}",
            "w_g400": f"{g2[400]:.0e}".replace("e-", "e-").replace("e-0", "e-"),
            "w_linger_lo": f"{lo:.0e}".split("e")[0], "w_linger_hi": f"{hi:.0e}".replace("e-0", "e-"),
            "w_steps_below": str(next(k for k, v in enumerate(g2) if v <= target)),
            "w_positives": str(int((y > 0).sum())), "w_m": str(prob.m),
            "w_reg_cond": f"{eig[-1] / eig[0]:.2g}", "w_reg_steps": str(steps),
            "w_density": f"{float((A != 0).mean()):.3f}", "w_nnz": f"{float((A != 0).sum(axis=1).mean()):.1f}"}


def _rounds(root: Path) -> dict[str, str]:
    """Rennala's and Malenia's rounds with n = 10, S = 10, τ_i = i, T = 10, both branches of line 12 (run here)."""
    from .proofs.claims.parameter_server.rennala_malenia_round_time import malenia_bound, rennala_bound, round_times
    from .reference.schedule import run_algorithm

    ten = "timed:model=fixed,s=" + "/".join(str(i) for i in range(1, 11))
    out = {}
    for alg, short in (("rennala-sgd", "r"), ("malenia-sgd", "m")):
        for stale in ("stop", "ignore"):
            res = run_algorithm(alg, params={"n": 10, "S": 10, "T": 10, "stale": stale}, adversary=ten)
            times = round_times(res.trace, 10)
            key = f"rd_{short}_{stale}"
            out[f"{key}_lo"], out[f"{key}_hi"] = f"{min(times):g}", f"{max(times):g}"
            out[f"{key}_later"] = f"{max(times[1:]):g}" if len(set(times[1:])) == 1 else "(varies)"
            out[f"{key}_sum"] = f"{sum(times):g}"
            out[f"{key}_end"] = f"{res.metrics['time']:g}"
            out[f"{key}_const"] = str(len(set(times)) == 1)
    out["rd_r_bound"] = f"{rennala_bound(10, range(1, 11)):.2f}"
    out["rd_m_bound"] = f"{malenia_bound(10, range(1, 11)):g}"
    return out


GROUPS: dict[str, Callable[[Path], dict[str, str]]] = {
    "rounds": _rounds, "w7a": _w7a, "edges": _edges,
    "asgrad": _asgrad, "hetero": _hetero, "hogwild": _hogwild, "decentralized": _decentralized,
    "registries": _registries,
    "verify": lambda root: _verify(root), "measured": lambda root: _measured(root),
    "mutation": lambda root: _mutation(root), "prove": lambda root: _prove(root),
}


class Values:
    """The values of every placeholder, each group computed when one of its keys is first asked for."""

    def __init__(self, root: Path = ROOT):
        self.root, self._cache = root, {}

    def group(self, name: str) -> dict[str, str]:
        if name not in self._cache:
            fn = GROUPS[name]
            self._cache[name] = _from_code(name, fn) if name in FROM_CODE else fn(self.root)
        return self._cache[name]

    def __getitem__(self, key: str) -> str:
        for name, prefixes in PREFIX.items():
            if key.startswith(prefixes):
                return self.group(name)[key]
        raise KeyError(key)


#: groups computed from the code alone (runs, registries), not from files: once per process
FROM_CODE = ("rounds", "w7a", "registries", "edges")


@functools.lru_cache(maxsize=None)
def _from_code(name: str, fn) -> dict[str, str]:
    return fn(ROOT)


#: the keys' prefixes, per group
PREFIX = {"rounds": "rd_", "w7a": "w_", "asgrad": ("asgrad_", "_asgrad"), "hetero": ("h_", "t_", "_h_"),
          "hogwild": ("hw_", "_hw_"), "decentralized": "dz_",
          "registries": ("n_", "ex_", "broken_"), "verify": ("v_", "_v_"), "measured": ("d_", "_d_"),
          "mutation": "m_", "prove": ("p_", "_p_"), "edges": "e_"}


def _fill(template: str, values) -> str:
    return re.sub(r"\[\[(\w+)\]\]", lambda m: values[m.group(1)], template)


# ------------------------------------------------------------------------------------------
# quotes and facts


@dataclass(frozen=True)
class Quote:
    """A phrase of ``file`` with ``[[key]]`` placeholders; its numbers must be the values."""

    file: str
    template: str
    source: str = ""

    def __post_init__(self):
        if re.match(r"\s*\[\[", self.template) or re.search(r"\]\]\s*$", self.template):
            raise ValueError(f"a quote begins and ends with words, not a placeholder: {self.template!r}")

    def keys(self) -> list[str]:
        return re.findall(r"\[\[(\w+)\]\]", self.template)

    def pattern(self) -> re.Pattern:
        """The template as a regular expression: any white space for white space, a group per placeholder."""
        out = []
        pieces = re.split(r"(\[\[\w+\]\])", self.template)
        for i, piece in enumerate(pieces):
            if re.fullmatch(r"\[\[\w+\]\]", piece):
                follows = pieces[i + 1] if i + 1 < len(pieces) else ""
                # "6.05e-6." is one value, not "6"; "1.6c" is the value 1.6 and the word's c
                out.append(r"(.{1,120}?)" + ("" if follows[:1].isalnum() else r"(?!\w|[.,]\w)"))
            else:
                out.append("".join(r"\s+" if p.isspace() else re.escape(p) for p in re.split(r"(\s+)", piece) if p))
        return re.compile("".join(out), re.S)


@dataclass(frozen=True)
class Fact:
    """A phrase of ``file`` whose truth is ``key``'s value being ``expected`` (a condition on the sources)."""

    file: str
    phrase: str
    key: str
    expected: str
    source: str = ""


def _norm(s: str) -> str:
    return " ".join(s.split())


def _respace(old: str, new: str) -> str:
    r"""``new`` with the white space of ``old`` (a line break stays a line break) where they have as many words.

    >>> _respace("16 / 18 /\n  19.4", "17 / 18 / 19.4")
    '17 / 18 /\n  19.4'
    """
    gaps, words = re.findall(r"\s+", old), new.split(" ")
    if len(gaps) != len(words) - 1:
        return new
    return "".join(w + (gaps[i] if i < len(gaps) else "") for i, w in enumerate(words))


# ------------------------------------------------------------------------------------------
# regions


@dataclass(frozen=True)
class Region:
    file: str
    render: Callable[[Values], str]
    source: str = ""


REGION = re.compile(r"(?<!`)(<!-- numbers: ([\w.-]+) -->)(.*?)(<!-- /numbers -->)", re.S)   # not in `code`


# ------------------------------------------------------------------------------------------
# check and update


@dataclass
class Problem:
    file: str
    what: str

    def __str__(self) -> str:
        return f"{self.file}: {self.what}"


def _texts(root: Path, texts: dict[str, str] | None) -> dict[str, str]:
    out = {}
    for f in FILES:
        out[f] = texts[f] if texts and f in texts else (root / f).read_text()
    return out


def _check_text(file: str, text: str, values: Values, problems: list[Problem]) -> str:
    """Check ``text`` of ``file``; return it with every quote and region rewritten from the sources."""
    # regions
    found = {}

    def region(m: re.Match) -> str:
        name = m.group(2)
        spec = REGIONS.get(name)
        if spec is None or spec.file != file:
            problems.append(Problem(file, f"unknown region <!-- numbers: {name} -->"))
            return m.group(0)
        found[name] = True
        try:
            want = spec.render(values)
        except SourceError as e:
            problems.append(Problem(file, f"region {name}: {e}"))
            return m.group(0)
        have = m.group(3)
        if have.startswith("\n"):               # a block: the closing marker keeps its indentation
            want = "\n" + want.strip("\n") + "\n" + have[len(have.rstrip(" ")):]
        if have != want:
            problems.append(Problem(file, f"region {name} differs from its source ({spec.source}):\n"
                                          + _diff(have, want)))
        return m.group(1) + want + m.group(4)

    text = REGION.sub(region, text)
    for name, spec in REGIONS.items():
        if spec.file == file and name not in found:
            problems.append(Problem(file, f"region <!-- numbers: {name} --> ... <!-- /numbers --> is missing"))
    # quotes
    for q in QUOTES:
        if q.file != file:
            continue
        pat = q.pattern()
        matches = list(pat.finditer(text))
        if not matches:
            problems.append(Problem(file, f"phrase not found (reworded? then change its template in "
                                          f"asyncproof/docnumbers.py): {_norm(q.template)!r}"))
            continue
        try:
            want = {k: values[k] for k in q.keys()}
        except SourceError as e:
            problems.append(Problem(file, f"{_norm(q.template)!r}: {e}"))
            continue
        pieces, last = [], 0
        for m in matches:
            for i, k in enumerate(q.keys(), start=1):
                have = m.group(i)
                if _norm(have) != want[k]:
                    shown = _norm(_fill(q.template, {**{kk: "…" for kk in q.keys()}, k: have}))
                    problems.append(Problem(file, f"{shown!r}: the text says {_norm(have)!r}, "
                                                  f"{q.source or 'the source'} gives {want[k]!r}"))
                pieces.append(text[last:m.start(i)])
                pieces.append(have if _norm(have) == want[k] else _respace(have, want[k]))
                last = m.end(i)
        pieces.append(text[last:])
        text = "".join(pieces)
    for fact in FACTS:
        if fact.file != file:
            continue
        if _norm(fact.phrase) not in _norm(text):
            problems.append(Problem(file, f"phrase not found (reworded? then change its template in "
                                          f"asyncproof/docnumbers.py): {_norm(fact.phrase)!r}"))
            continue
        try:
            have = values[fact.key]
        except SourceError as e:
            problems.append(Problem(file, f"{fact.phrase!r}: {e}"))
            continue
        if have != fact.expected:
            problems.append(Problem(file, f"{_norm(fact.phrase)!r} no longer holds: {fact.key} is {have!r} "
                                          f"({fact.source or 'the source'}), the text assumes {fact.expected!r}; "
                                          "reword it by hand"))
    return text


def _diff(have: str, want: str) -> str:
    import difflib
    return "\n".join(difflib.unified_diff(have.splitlines(), want.splitlines(), "in the file", "from the source",
                                          lineterm="", n=1))


#: result-like numbers: decimals, "k of n", durations, percentages, ratios like "13×", counts of things
RESULT_LIKE = re.compile(r"(?<![\w.^_/-])(\d+(?:\.\d+)? (?:min|s)\b|\d+(?:\.\d+)?%|\d+(?:\.\d+)?×|\d+ of \d+"
                         r"|\d+ (?:claims|guarantees|algorithms|rows|mutants|variants|settings|runs|schedules)\b"
                         r"|\d+\.\d+)")

#: phrases whose result-like numbers are inputs, names or history, not results (file: regexes)
NOT_RESULTS: dict[str, list[str]] = {
    "*": [r"arXiv:\d+\.\d+", r"\| `\w+` \| [\d.]+ \|",        # references; a parameter table's defaults
          r"n [−-] 1 rows"],
    "docs/fedbuff.md": [r"exponent 0\.5"],
    "README.md": [r"Python >= 3\.11", r"λ = 0\.5", r"Exp\(0\.25\)", r"ε = 0\.25", r"ε = 0\.1", r"γ = 0\.1",
                  r"Theorem 3\.4", r"hogwild-theorem-3\.4",
                  r"The first run killed 40 of 44",          # history: the mutation check's first run
                  ],
    "docs/experiments.md": [r"Seed 001 runs", r"about 11\.6 nonzeros",  # w7a's statistic: the generator's input
                            r"and 3% positive labels", r"λ = 0\.1", r"Exp\(λ = 0\.25\)", r"ε = 0\.2, b = 10"],
    "docs/properties.md": [r"The first run at `quick` killed 40 of 44",   # history
                           r"<!-- guarantees: generated.*?<!-- guarantees: end -->"],   # tests/test_properties_table.py
    "docs/hogwild.md": [r"\(1\.5R \+ r\)²",
                        r"a consistent problem gives ≈ 0\.13"],    # the claim's docstring; prove does not print it
    "docs/agreement.md": [r"`q` \(0\.1\)", r"`eps` \(0\.25"],
    "docs/rennala-sgd.md": [r"Line 8 runs"],
}


def _spans(file: str, text: str) -> list[tuple[int, int]]:
    """Where ``text`` is code, a region, a quote or a fact: the numbers there are accounted for."""
    spans = [(m.start(), m.end()) for m in re.finditer(r"```.*?```|`[^`\n]+`", text, re.S)]   # code
    spans += [(m.start(), m.end()) for m in REGION.finditer(text)]
    spans += [(m.start(), m.end()) for q in QUOTES if q.file == file for m in q.pattern().finditer(text)]
    for f in FACTS:
        if f.file == file:
            pat = re.compile(r"\s+".join(re.escape(w) for w in f.phrase.split()))
            spans += [(m.start(), m.end()) for m in pat.finditer(text)]
    for p in NOT_RESULTS.get(file, []) + NOT_RESULTS["*"]:
        spans += [(m.start(), m.end()) for m in re.finditer(p.replace(" ", r"\s+"), text, re.S)]
    return spans


def unaccounted(file: str, text: str) -> list[str]:
    """Result-like numbers of ``text`` outside code, regions, quotes, facts and :data:`NOT_RESULTS`."""
    spans = _spans(file, text)
    out = []
    for m in RESULT_LIKE.finditer(text):
        if not any(a <= m.start() and m.end() <= b for a, b in spans):
            line = text.count("\n", 0, m.start()) + 1
            out.append(f"{file}:{line}: {m.group()!r} in {_norm(text[max(0, m.start() - 40):m.end() + 20])!r}")
    return out


def check(root: Path = ROOT, texts: dict[str, str] | None = None) -> list[Problem]:
    """Every difference between the numbers the docs quote and their sources (empty: all current).

    ``texts`` replaces files' contents (keys as in :data:`FILES`), e.g. to check an edited copy.
    """
    values, problems = Values(root), []
    for file, text in _texts(root, texts).items():
        _check_text(file, text, values, problems)
        problems += [Problem(file, f"{u}: a result with no source (quote it in docnumbers.QUOTES; an input, a name "
                                   "or history goes in docnumbers.NOT_RESULTS)") for u in unaccounted(file, text)]
    return problems


def update(root: Path = ROOT) -> tuple[list[str], list[Problem]]:
    """Rewrite every region and quoted number from its source; the files changed and what remains."""
    from .reference.schedule import write_atomically
    values, changed, remaining = Values(root), [], []
    for file, text in _texts(root, None).items():
        problems: list[Problem] = []
        new = _check_text(file, text, values, problems)
        if new != text:
            write_atomically(root / file, new)
            changed.append(file)
    for file, text in _texts(root, None).items():
        _check_text(file, text, values, remaining)
    return changed, remaining


# ------------------------------------------------------------------------------------------
# the numbers under control

_A, _H, _W = ("docs/experiments/asgrad-figure1.md", "docs/experiments/heterogeneous-compute.md",
              "docs/experiments/hogwild-sparsity.md")
_EXP = "docs/experiments.md"

QUOTES: list[Quote] = [
    # README.md, issue 10
    Quote("README.md", "after bounded parsing: at most [[e_max_mib]] MiB, nested at most [[e_max_depth]] deep "
                       "(measured before parsing), integers of at most [[e_max_digits]] digits", "schedule_schema.py"),
    Quote("README.md", "`tests/data/bad-schedules/` keeps [[e_corpus]] bad files", "the corpus, counted"),
    Quote("README.md", "(`diverged at step [[e_tour_events]]: the schedule expects", "the tour's run"),
    Quote("README.md", "this run would need about [[e_mem_need]] GiB (...), more than the [[e_mem_cap]] GiB limit",
          "check_memory, run here"),
    Quote("README.md", "engine events       [[e_div_events]] (diverged)\n  diverged at iteration [[e_div_iter]] "
                       "(|x| = inf, step [[e_div_step]], p0)", "sgd, γ = 1.5, run here"),
    Quote("README.md", "prints `iterations T = [[e_tour_T]]` and the engine's count as `engine events "
                       "[[e_tour_events]]`", "the tour's run"),
    # docs/experiments.md, the data set
    Quote(_EXP, "(density [[w_density]]) with a few very frequent features", "w7a_like, built here"),
    Quote(_EXP, "L = [[w_L]], f(x_0) = [[w_f0]], ||∇f(x_0)||² = [[w_g0]], and gradient descent (γ = 1) reaches "
                "f = [[w_f400]], ||∇f||² = [[w_g400]] in 400 steps after lingering at ||∇f||² ≈ "
                "[[w_linger_lo]]–[[w_linger_hi]] from step 10 to step 50.", "gradient descent on w7a_like, run here"),
    Quote(_EXP, "so with [[w_positives]] positive labels in [[w_m]] samples", "w7a_like, built here"),
    Quote(_EXP, "condition number about [[w_reg_cond]] at x_0, and gradient descent (γ = 1/L) takes ||∇f||² "
                "below 1e-10 of its start in [[w_reg_steps]] steps,", "the registry's logistic problem, built here"),
    Quote(_EXP, "descent too lingers at ||∇f||² ≈ [[w_linger_lo]]–[[w_linger_hi]] for 40 steps)",
          "gradient descent on w7a_like, run here"),
    Quote(_EXP, "(gradient descent with γ = 1 gets below it in [[w_steps_below]] steps,",
          "gradient descent on w7a_like, run here"),
    Quote(_EXP, "the last [[h_final_points]] of those times (the last ~[[h_final_share]] of the horizon)", _H),
    Quote(_EXP, "an i.i.d. and a label-sorted split: [[asgrad_settings]] settings.", _A),
    Quote(_EXP, "i.i.d. and label-sorted splits: [[h_settings]] settings.", _H),
    # docs/experiments.md, decentralized-sgd and asgd-kmeans
    Quote(_EXP, "the averaging algorithms keep the models together (Δ^cw at most [[dz_avg_dcw]] over the whole run)",
          "docs/experiments/decentralized-sgd.md"),
    Quote(_EXP, "processes end in different wells (Δ^cw ≈ [[dz_apart_lo]]–[[dz_apart_hi]], the distance",
          "docs/experiments/decentralized-sgd.md"),
    Quote(_EXP, "silent variant at both sizes, by [[dz_km_s1]] (n = [[dz_km_n1]]) and [[dz_km_s2]] (n = [[dz_km_n2]]) "
                "of the spread", "docs/experiments/asgd-kmeans.md"),
    # docs/experiments.md, asgrad-figure1
    Quote(_EXP, "target ||∇f||² <= 10^-5 ||∇f(x_0)||² = [[asgrad_target]].", _A),
    Quote(_EXP, "lowest ||∇f||² in **[[asgrad_lowest]] of [[asgrad_settings]]** settings, [[asgrad_margin_lo]]× "
                "to [[asgrad_margin_hi]]× below the next method", _A),
    Quote(_EXP, "(in [[asgrad_first]] of [[asgrad_settings]] settings; in the fourth nobody does by H = 800)", _A),
    Quote(_EXP, "the plateau is [[asgrad_plateau]] for s_i = i + 1, [[asgrad_plateau_x]]× above shuffled.", _A),
    Quote(_EXP, "it makes only [[asgrad_shuffled_iters]] updates by H = 800 against pure's [[asgrad_pure_iters]]:",
          _A),
    Quote(_EXP, "Σ_i 1/s_i = [[asgrad_rate_pure]] for pure", "s_i = i + 1, i = 0 .. 9"),
    Quote(_EXP, "its first crossing of the target at s_i = i + 1 (t = [[asgrad_dip]]) is a dip.", _A),
    # docs/experiments.md, heterogeneous-compute
    Quote(_EXP, "target ||∇f||² <= 10^-2 ||∇f(x_0)||² = [[h_target]].", _H),
    Quote(_EXP, r"Its inputs: L = [[t_L]] (the problem's smoothness bound); Δ = f(x_0) − f\* = [[t_f0]] − "
                r"[[t_fstar]] = [[t_delta]], with f\* at the stationary point x̂ that L-BFGS reaches from x_0 "
                r"(||∇f(x̂)||² = [[t_grad_xhat]];", _H),
    Quote(_EXP, "ε = [[t_eps]], the target; σ² = [[t_sigma2]], the variance", _H),
    Quote(_EXP, "attained at x_0 (it falls to [[t_sigma2_xhat]] at x̂;", _H),
    Quote(_EXP, r"So **t\* = [[t_fixed]]** with s_i = i + 1 ([[t_fixed_first]] from the first term) and "
                r"**t\* = [[t_strag]]** with stragglers ([[t_strag_first]] from the first term).", _H),
    Quote(_EXP, "gives [[t_homog_fixed]] (s_i = i + 1) and [[t_homog_strag]] (stragglers), both at m = "
                "[[t_homog_m]].", _H),
    Quote(_EXP, "asynchronous SGD reaches the target first in **[[h_lead_first]] of [[h_settings]]** settings "
                "([[h_margin_lo]]× to [[h_margin_hi]]× before the next method:", _H),
    Quote(_EXP, "Ringleader ASGD is the fastest in **[[h_ring_first]] of [[h_settings]]** and ends lowest in "
                "**[[h_ring_lowest]] of [[h_settings]]** (asynchronous SGD, [[h_other_below_ring]] below it, in the "
                "fourth)", _H),
    Quote(_EXP, r"target at **[[h_ratio_lo]] × t\* to [[h_ratio_hi]] × t\*** (Ringleader ASGD: [[h_ring_ratio_lo]] "
                r"to [[h_ring_ratio_hi]] × t\*).", _H),
    Quote(_EXP, "every method reaches the target in [[h_time_lo]]–[[h_time_hi]] time units", _H),
    Quote(_EXP, "([[h_async_rate]] per unit of time with s_i = i + 1, [[h_async_iters]] updates by H), Ringleader "
                "about [[h_ring_rate]] ([[h_ring_iters]]), Rennala one per S = 10 gradients ([[h_rennala_iters]];", _H),
    Quote(_EXP, "paced by the slowest worker ([[h_malenia_iters]]).", _H),
    Quote(_EXP, "tuned γ is the smallest of the three server methods ([[h_ring_g_lo]] to [[h_ring_g_hi]], against "
                "[[h_server_g_lo]] to [[h_server_g_hi]] for Malenia and Rennala), and it is the slowest to the "
                "target in [[h_ring_slowest]] settings.", _H),
    Quote(_EXP, "floor of ||∇f||² ≈ [[h_floor_lo]]–[[h_floor_hi]] (mini-batch SGD: [[h_mb_strag]] with "
                "stragglers)", _H),
    Quote(_EXP, "(σ² ≈ [[t_sigma2_xhat]] at the stationary point)", _H),
    Quote(_EXP, "There Ringleader ends lowest in [[h_ring_lowest]] of [[h_settings]] settings ([[h_ring_low_lo]] "
                "to [[h_ring_low_hi]]), mini-batch SGD or Rennala highest.", _H),
    Quote(_EXP, r"**Against t\*** every method is [[h_faster_lo]] to [[h_faster_hi]] times faster than the "
                r"expression.", _H),
    Quote(_EXP, "where LΔ/ε = [[t_L_delta_eps]]), and the", _H),
    Quote(_EXP, r"σ² term, [[t_sigma_share]] of t\*, uses σ² at x_0, [[t_sigma_x]] times its value near x̂.", _H),
    Quote(_EXP, "(τ_n LΔ/ε = [[t_fixed_first]] or [[t_strag_first]]), would", _H),
    Quote(_EXP, "(pure asynchronous SGD's plateaus in `asgrad-figure1`: [[asgrad_pure_lo]] to [[asgrad_pure_hi]])",
          _A),
    # docs/hogwild.md, hogwild-sparsity
    Quote("docs/hogwild.md", "grows with τ for [[hw_grows]] nonzeros per sample (with [[hw_not_growing]] it stays "
                             "near [[hw_plateau]] from τ = [[hw_plateau_from]] on)", _W),
    Quote("docs/hogwild.md", "(at τ = [[hw_top_tau]]: [[hw_dist_top_commas]] for [[hw_nnz_commas]] nonzeros)", _W),
    Quote("docs/hogwild.md", "stays below γ²·2τ·M²·(Δ_av + 1)/n in [[hw_below]] of [[hw_settings]] settings, "
                             "at "
                             "[[hw_ratio_lo]] to [[hw_ratio_hi]] times it,", _W),
    Quote("docs/hogwild.md", "the final loss is within [[hw_loss_gap]] of serial SGD's.", _W),
    Quote("docs/hogwild.md", "The racy mode loses updates in [[hw_lossy]] of the [[hw_positive_tau]] settings "
                             "with τ > 0, up to [[hw_worst_lost]] of [[hw_writes]] writes at nnz = "
                             "[[hw_worst_nnz]],", _W),
    Quote("docs/hogwild.md", "where the table now says [[hw_lost_8_8]] and [[hw_worst_lost]])", _W),
    # README.md
    Quote("README.md", "shuffled asynchronous SGD ends lowest in [[asgrad_lowest]] of [[asgrad_settings]] settings "
                       "(two delay patterns, two data splits) and reaches the target first in [[asgrad_first]] of "
                       "[[asgrad_settings]].", _A),
    Quote("README.md", "asynchronous SGD [[h_async]], Rennala [[h_rennala]], Malenia [[h_malenia]], mini-batch SGD "
                       "[[h_minibatch]], Ringleader [[h_ringleader]]; Ringleader ends with the lowest ||∇f||² in "
                       "[[h_ring_lowest]] of [[h_settings]] settings", _H),
    Quote("README.md", "every method is [[h_faster_lo]]–[[h_faster_hi]] times faster than it here", _H),
    Quote("README.md", "(distance to serial SGD 0 at τ = 0, [[hw_dist_top]] at τ = [[hw_top_tau]] for [[hw_nnz]] "
                       "nonzeros per sample; measured noise below its bound in [[hw_below]] of [[hw_settings]] "
                       "settings)", _W),
    Quote("README.md", "recovery by skipping; [[n_agreement_variants]] broken variants caught",
          "the registries: broken variants of cluster-agreement and mdaa"),
    Quote("README.md", "`docs/properties.md` tables what each of the [[n_guarantees]] guarantees would catch",
          "the registries"),
    Quote("README.md", "**Mutation check** (outside CI): [[n_mutants]] realistic one-line mutants",
          "tests/mutation/catalogue.py"),
    Quote("docs/hogwild.md", "hogwild-sparsity --out docs/experiments` ([[d_hogwild_sparsity]] on 2 cores, load "
                             "average [[d_hogwild_sparsity_load]];", f"{NUMBERS}/experiment-hogwild-sparsity.json"),
    # asyncproof prove, as recorded in docs/numbers/prove.json
    Quote("README.md", "`asyncproof prove` checks [[n_claims]] claims and prints the same on every run (measured on "
                       "the same machine, `docs/numbers/prove.json`: [[p_first_wall]] wall-clock, [[p_first_cpu]] of "
                       "CPU with an empty Numba cache, [[p_next_wall]] on the next run; load average [[p_load]]),",
          f"{NUMBERS}/prove.json"),
    Quote("README.md", "(n = 10, [[p_so_runs]] runs: E[X_(10)] measured [[p_so_mean]] ± [[p_so_se]] vs "
                       "[[p_so_formula]]; largest |z| over all i [[p_so_maxz]]), and shows the slowest/fastest ratio "
                       "grows as ln n / λ ([[p_so_r10]] = [[p_so_r10_ln]] ln n at n = 10, [[p_so_r1e4]] = "
                       "[[p_so_r1e4_ln]] ln n at n = 10⁴, λ = 0.5);", f"{NUMBERS}/prove.json"),
    Quote("README.md", "γ*(τ) = (2/L) sin(π/(2(2τ+1))): [[p_gammas]] for τ = [[p_gamma_taus]]; pure asynchronous "
                       "SGD with [[p_held_n]] workers under the FIFO schedule is held at delay [[p_held_delay]],",
          f"{NUMBERS}/prove.json"),
    Quote("README.md", "κ = √(6/7) ≈ [[p_kappa3]] (reached by a 3-D configuration;", f"{NUMBERS}/prove.json"),
    Quote("README.md", "(q = 1e-3: R = [[p_R025]] at ε = 0.25, [[p_R01]] at ε = 0.1; measured runs needed "
                       "[[p_needed]]);", f"{NUMBERS}/prove.json"),
    Quote("README.md", "round: worst measured/bound [[p_rt_stop_lo]]–[[p_rt_stop_hi]] with stops, [[p_rt_r_ignore]] "
                       "(Rennala, the supremum 2/3 for two workers) and [[p_rt_m_ignore]] (Malenia) when ignored, "
                       "[[p_rt_sharp]] against the sharp stop bound", f"{NUMBERS}/prove.json"),
    Quote("README.md", "(O-constant fitted, c = [[p_c]]; held-out runs within [[p_heldout]]c; pure asynchronous SGD "
                       "held at delay [[p_held_delay]] with γ = 0.1 diverges, at [[p_outside]]c).",
          f"{NUMBERS}/prove.json"),
    Quote("README.md", "Pure asynchronous SGD with [[p_held_n]] workers under the FIFO schedule is the delayed "
                       "recurrence x_{t+1} = x_t − γ∇f(x_{t−[[p_held_delay]]}) bit for bit", f"{NUMBERS}/prove.json"),
    Quote("README.md", "(per-sample noise ratio [[p_hw_per_sample]]).", f"{NUMBERS}/prove.json"),
    Quote("docs/hogwild.md", "per sample measured/bound = [[p_hw_per_sample]], mean [[p_hw_lockstep_mean]] (the "
                             "window's", f"{NUMBERS}/prove.json"),
    Quote("docs/hogwild.md", "generated instances [[p_hw_gen_lo]]–[[p_hw_gen_hi]].", f"{NUMBERS}/prove.json"),
    Quote("docs/hogwild.md", "measured/bound ≈ [[p_t34]] (a run can reach at most ≈ 3/8:", f"{NUMBERS}/prove.json"),
    Quote("docs/agreement.md", "κ = √(6/7) ≈ [[p_kappa4]] (derivation with sympy;", f"{NUMBERS}/prove.json"),
    # Rennala's and Malenia's rounds (run when checked: milliseconds)
    Quote("README.md", "Rennala [[rd_r_stop_hi]] per round ([[rd_r_stop_sum]] in all), Malenia [[rd_m_stop_hi]] per "
                       "round ([[rd_m_stop_sum]], as mini-batch SGD); ignoring instead, Rennala's x^10 comes at "
                       "[[rd_r_ignore_sum]] and Malenia's at [[rd_m_ignore_sum]].", "runs of rennala-sgd, malenia-sgd"),
    Quote("docs/rennala-sgd.md", "every round takes [[rd_r_stop_hi]] with stops (x^10 at time [[rd_r_stop_sum]]); "
                                 "when ignored, rounds take [[rd_r_ignore_lo]] to [[rd_r_ignore_hi]] (x^10 at time "
                                 "[[rd_r_ignore_sum]]).", "a run of rennala-sgd"),
    Quote("docs/rennala-sgd.md", "from the trace): [[rd_r_stop_hi]] per round with stops, [[rd_r_ignore_lo]] to "
                                 "[[rd_r_ignore_hi]] when "
                                 "the old calculations are ignored, all within the paper's bound 2 min_m "
                                 "[(Σ_{i<=m} 1/τ_i)^{-1} (S + m)] ≈ [[rd_r_bound]].", "a run of rennala-sgd"),
    Quote("docs/rennala-sgd.md", "finish first ([[rd_r_ignore_end]], not [[rd_r_ignore_sum]]):",
          "a run of rennala-sgd"),
    Quote("docs/malenia-sgd.md", "every round takes τ_10 = [[rd_m_stop_hi]] with stops ([[rd_m_stop_sum]] for T = 10, "
                                 "as mini-batch SGD); when ignored, every round after the first takes 2 τ_10 = "
                                 "[[rd_m_ignore_later]] ([[rd_m_ignore_sum]]),", "a run of malenia-sgd"),
    Quote("docs/malenia-sgd.md", "every round takes τ_10 = [[rd_m_stop_hi]] with stops, as mini-batch SGD, and "
                                 "[[rd_m_ignore_later]] after the first when the old calculations are ignored, both "
                                 "within the paper's bound t̄ = 2(τ_n + (1/n Σ_i τ_i) S/n) = [[rd_m_bound]].  With "
                                 "`\"ignore\"` the run ends at [[rd_m_ignore_end]],", "a run of malenia-sgd"),
    Quote("DEVELOPERS.md", "# everything (about [[d_all]] min on 2 cores)", f"{NUMBERS}/*.json: every run's time"),
    # docs/properties.md
    Quote("docs/properties.md", "`tests/mutation/catalogue.py` lists [[n_mutants]] one-line mutants",
          "tests/mutation/catalogue.py"),
    Quote("docs/properties.md", "Budgets (`--budget`): `quick` ([[ex_quick]] examples per guarantee and algorithm, "
                                "derandomized), `ci` ([[ex_ci]], derandomized), `deep` ([[ex_deep]], randomized,",
          "properties/profiles.py"),
    Quote("docs/properties.md", "Broken variants get [[broken_factor]] times as many examples to be found.",
          "properties/profiles.py"),
]

FACTS: list[Fact] = [
    Fact("README.md", "With n = 10, S = 10, τ_i = i, T = 10: Rennala", "rd_r_stop_const", "True",
         "a run of rennala-sgd: every round equally long with stops"),
    Fact("README.md", "Malenia 10 per round", "rd_m_stop_const", "True", "a run of malenia-sgd"),
    Fact("docs/rennala-sgd.md", "every round takes 5 with stops", "rd_r_stop_const", "True", "a run of rennala-sgd"),
    Fact("docs/malenia-sgd.md", "every round takes τ_10 = 10 with stops", "rd_m_stop_const", "True",
         "a run of malenia-sgd"),
    Fact("README.md", "claims and prints the same on every run", "_p_same_output", "True", f"{NUMBERS}/prove.json"),
    Fact("README.md", "Seed 001's Figure 1 reproduces:", "_asgrad_claim", "reproduced", _A),
    Fact("README.md", "but is not the fastest to this target", "h_ring_first", "0", _H),
    Fact("README.md", "so the seed's \"outperforms\" is not reproduced at this target", "_h_claim", "is not reproduced",
         _H),
    Fact("README.md", "(distance to serial SGD 0 at τ = 0,", "_hw_tau0_serial", "True", _W),
    Fact(_EXP, "and is the only method to reach the target", "_asgrad_only_shuffled_reaches", "True", _A),
    Fact(_EXP, "**the poster's claim is reproduced here.**", "_asgrad_claim", "reproduced", _A),
    Fact(_EXP, "in the fourth nobody does by", "asgrad_nobody", "1", _A),
    Fact(_EXP, "Malenia SGD with s_i = i + 1 and the i.i.d. split, Rennala SGD in the other three", "_h_runner_up",
         "Malenia SGD / Rennala SGD / Rennala SGD / Rennala SGD", _H),
    Fact(_EXP, "(asynchronous SGD,", "_h_lowest_other", "asynchronous SGD", _H),
    Fact(_EXP, "Every method reaches the target at", "_h_all_reached", "True", _H),
    Fact(_EXP, "is not reproduced here.**", "_h_claim", "is not reproduced", _H),
    Fact(_EXP, "mini-batch SGD or Rennala highest", "_h_highest",
         "Rennala SGD / mini-batch SGD / mini-batch SGD / mini-batch SGD", _H),
    Fact("docs/hogwild.md", "τ = 0 is serial SGD exactly", "_hw_tau0_serial", "True", _W),
]


# ------------------------------------------------------------------------------------------
# recorded measurements: verify, prove, experiments, mutation runs


def _cpu(run: dict) -> float:
    return run["cpu_user_s"] + run["cpu_sys_s"]


def _machine(rec: dict) -> str:
    return f"{rec['machine']['nproc']}-core"


def verify_table(stdout: str) -> tuple[list[str], list[list[str]], list[str]]:
    """The recorded ``verify`` output split into its header, its rows (cells) and the lines after the table."""
    lines = stdout.rstrip("\n").splitlines()
    dash = next(i for i, l in enumerate(lines) if l.startswith("---"))
    spans, pos = [], 0
    for m in re.finditer(r"-+", lines[dash]):
        spans.append((m.start(), m.end()))
    cut = lambda l: [l[a:(spans[i + 1][0] if i + 1 < len(spans) else None)].strip()  # noqa: E731
                     for i, (a, _) in enumerate(spans)]
    body = [l for l in lines[dash + 1:] if l[:1] not in ("", " ") and not re.match(r"^[a-z ,]+: ", l)
            and not l.startswith("replay in a fresh process") and not l.startswith("all guarantees hold")]
    tail = lines[dash + 1 + len(body):]
    return cut(lines[dash - 1]), [cut(l) for l in body], tail


#: the rows the README's excerpt shows, and how wide its "hard case seen" column may be
VERIFY_EXCERPT = [("batch-gd", "batch-gd-full-gradient"), ("fedbuff", "fedbuff-clients"),
                  ("hogwild-lock", "hogwild-lock-mutual-exclusion"), ("mdaa", "agreement-correct-majority"),
                  ("random-async-sgd", "asgrad-delay-bound"), ("rennala-sgd", "rennala-fresh-only"),
                  ("shuffled-async-sgd", "asgrad-assignment-rule")]
HARD_WIDTH = 48


def _narrow(text: str, width: int) -> str:
    """``5 (n >= 2 unequal shards whose unweighted ...)``: cut at a word, the parenthesis kept."""
    if len(text) <= width:
        return text
    head = text[:width - 5].rsplit(" ", 1)[0]
    return head + " ...)"


def _verify(root: Path) -> dict[str, str]:
    rec = recorded("verify-quick", root)
    first, nxt = rec["runs"][0], rec["runs"][-1]
    head, rows, tail = verify_table(first["stdout"])
    same = all(verify_table(r["stdout"])[1] == rows and verify_table(r["stdout"])[2][:-1] == tail[:-1]
               for r in rec["runs"])
    return {"v_rows": str(len(rows)), "v_guarantees": str(len({r[1] for r in rows})),
            "v_algorithms": str(len({r[0] for r in rows})),
            "v_first_wall": duration(first["wall_s"]), "v_first_cpu": duration(_cpu(first)),
            "v_next_wall": duration(nxt["wall_s"]), "v_next_cpu": duration(_cpu(nxt)),
            "v_load": load_during(first), "v_load_next": load_during(nxt), "v_machine": _machine(rec),
            "v_date": rec["date"][:10], "_v_same_output": str(same), "_v_runs": str(len(rec["runs"]))}


def render_verify(values) -> str:
    rec = recorded("verify-quick", values.root)
    head, rows, tail = verify_table(rec["runs"][0]["stdout"])
    if values["v_rows"] != values["n_rows"] or values["v_guarantees"] != values["n_guarantees"] \
            or values["v_algorithms"] != values["n_algorithms"]:
        raise SourceError(f"{NUMBERS}/verify-quick.json has {values['v_rows']} rows of {values['v_guarantees']} "
                          f"guarantees over {values['v_algorithms']} algorithms, the registries "
                          f"{values['n_rows']}, {values['n_guarantees']}, {values['n_algorithms']}: run "
                          "python -m asyncproof.docnumbers --measure verify-quick")
    if values["_v_same_output"] != "True":
        raise SourceError(f"{NUMBERS}/verify-quick.json: the runs printed different tables; the README quotes "
                          "the table as the same on every run")
    by_key = {(r[0], r[1]): r for r in rows}
    shown = []
    for key in VERIFY_EXCERPT:
        if key not in by_key:
            raise SourceError(f"the excerpt's row {key} is not in {NUMBERS}/verify-quick.json")
        r = list(by_key[key])
        r[3] = _narrow(r[3], HARD_WIDTH)
        shown.append(r)
    cols = [head] + shown
    widths = [max(len(c[i]) for c in cols) for i in range(len(head))]
    fmt = lambda c: "  ".join(x.ljust(w) for x, w in zip(c, widths)).rstrip()  # noqa: E731
    text = (f"`asyncproof verify --budget quick` checks {values['n_rows']} (algorithm, guarantee) rows of "
            f"{values['n_guarantees']} guarantees over the {values['n_algorithms']} algorithms and prints the "
            "same table on every run of the same code (derandomized), all but the time in its last line, "
            "from a checkout or an installed copy alike (Hypothesis's pool of constants taken from loaded modules "
            "is emptied: `properties/profiles.py`).  Measured on a "
            f"{values['v_machine']} machine shared with other jobs (`{NUMBERS}/verify-quick.json`, "
            f"{values['v_date']}): {values['v_first_wall']} wall-clock, {values['v_first_cpu']} of CPU, on the "
            "first run, which also compiles the kernels (an empty Numba cache, as in a fresh clone; load average "
            f"{values['v_load']}); {values['v_next_wall']} wall-clock, {values['v_next_cpu']} of CPU, on the "
            f"next (load {values['v_load_next']}).  `failures/broken/` keeps the broken variants' "
            "counterexamples, so you can replay them.  An excerpt of the recorded output (commit "
            f"{rec['commit']}, columns narrowed):")
    import textwrap
    return "\n".join([textwrap.fill(text, 90, break_on_hyphens=False, break_long_words=False), "", "```",
                      fmt(head), *(fmt(r) for r in shown), "...", *tail, "```"])


def prove_checks(stdout: str) -> dict[tuple[str, str], str]:
    """The recorded ``prove`` output as {(claim, check): detail}."""
    out, claim = {}, None
    for line in stdout.splitlines():
        m = re.match(r"^(\S+)  \[", line)
        if m:
            claim = m.group(1)
            continue
        m = re.match(r"^  (?:checked|FAILED)\s+\S+\s+([\w.-]+): (.*)$", line)
        if m and claim:
            out[(claim, m.group(1))] = m.group(2)
    return out


def _superscript(x: float) -> str:
    """``2·10⁷`` for 2e+07."""
    mant, exp = f"{x:.0e}".split("e")
    return f"{mant}·10{str(int(exp)).translate(str.maketrans('-0123456789', '⁻⁰¹²³⁴⁵⁶⁷⁸⁹'))}"


def _prove(root: Path) -> dict[str, str]:
    rec = recorded("prove", root)
    first, nxt = rec["runs"][0], rec["runs"][-1]
    checks = prove_checks(first["stdout"])

    def find(claim: str, check: str, pattern: str) -> re.Match:
        detail = checks.get((claim, check))
        m = re.search(pattern, detail or "")
        if not m:
            raise SourceError(f"{NUMBERS}/prove.json: {claim} / {check} has no text matching {pattern!r}; "
                              "measure again (python -m asyncproof.docnumbers --measure prove) or change the template")
        return m

    out = {"p_claims": re.search(r"(\d+) claim\(s\)", first["stdout"]).group(1),
           "p_first_wall": duration(first["wall_s"]), "p_first_cpu": duration(_cpu(first)),
           "p_next_wall": duration(nxt["wall_s"]), "p_next_cpu": duration(_cpu(nxt)), "p_load": load_during(first),
           "p_date": rec["date"][:10], "p_machine": _machine(rec),
           "_p_same_output": str(all(r["stdout"] == first["stdout"] for r in rec["runs"]))}
    so = "straggler-order-statistics"
    m = find(so, "timed-adversary-order-stats", r"n = 10 \((\d+) runs\): .*?i = 10: ([\d.]+) ± ([\d.]+) vs ([\d.]+) "
                                              r".*?max \|z\| over i = 1\.\.10: ([\d.]+)")
    out.update({"p_so_runs": m.group(1), "p_so_mean": f"{float(m.group(2)):.3f}", "p_so_se": f"{float(m.group(3)):.3f}",
                "p_so_formula": f"{float(m.group(4)):.3f}", "p_so_maxz": m.group(5)})
    m = find(so, "slowest-over-fastest", r"n = 10: ([\d.]+) = ([\d.]+) ln n, .*n = 10000: ([\d.]+) = ([\d.]+) ln n")
    out.update({"p_so_r10": m.group(1), "p_so_r10_ln": m.group(2), "p_so_r1e4": m.group(3), "p_so_r1e4_ln": m.group(4)})
    m = find("delayed-gd-quadratic", "largest-stable-step", r"table: (.*)$")
    gammas = [float(v) for v in re.findall(r"τ = \d+: [^;]*= ([\d.]+)(?:;|$)", m.group(1))]
    out["p_gammas"] = ", ".join(f"{g:.3g}" for g in gammas)
    out["p_gamma_taus"] = f"0..{len(gammas) - 1}"
    m = find("delayed-gd-quadratic", "engine-held-at-delay-5", r"n = (\d+), FIFO schedule: delays min\(t, (\d+)\)")
    out.update({"p_held_n": m.group(1), "p_held_delay": m.group(2)})
    m = find("asgrad-theorem1", "rate-on-runs", r"c = ([\d.]+) fitted.*largest ratio [\d.]+ = ([\d.]+)c; "
                                                r"outside .*?: ([\de.+-]+)c")
    out.update({"p_c": sig(float(m.group(1))), "p_heldout": sig(float(m.group(2))),
                "p_outside": _superscript(float(m.group(3)))})
    m = find("rennala-malenia-round-time", "worst-rounds",
             r"rennala-sgd stop: worst round / paper's bound = ([\d.]+); rennala-sgd ignore: worst round / paper's "
             r"bound = ([\d.]+); malenia-sgd stop: worst round / paper's bound = ([\d.]+); malenia-sgd ignore: worst "
             r"round / paper's bound = ([\d.]+); rennala-sgd stop: worst round / sharp \(S \+ m\)/H_m bound = ([\d.]+)")
    stops = sorted(float(m.group(i)) for i in (1, 3))
    out.update({"p_rt_stop_lo": sig(stops[0]), "p_rt_stop_hi": sig(stops[1]),
                "p_rt_r_ignore": sig(float(m.group(2))), "p_rt_m_ignore": sig(float(m.group(4))),
                "p_rt_sharp": sig(float(m.group(5)))})
    m = find("hogwild-noise-bound", "per-sample", r"lockstep: .*?max measured/bound = ([\d.]+)")
    out["p_hw_per_sample"] = f"{float(m.group(1)):.2f}"
    m = find("hogwild-noise-bound", "measured-noise", r"lockstep: .*?\(measured/bound = ([\d.]+)\)")
    out["p_hw_lockstep_mean"] = m.group(1)
    gen = [float(x) for x in re.findall(r"\(measured/bound = ([\d.]+)\)",
                                        checks[("hogwild-noise-bound", "measured-noise")])[1:]]
    out.update({"p_hw_gen_lo": sig(min(gen)), "p_hw_gen_hi": sig(max(gen))})
    m = find("hogwild-theorem-3.4", "runs", r"measured/bound = ([\d.]+) \(at most ≈ ([\d.]+)")
    out.update({"p_t34": sig(float(m.group(1))), "p_t34_max": m.group(2)})
    m = find("agreement-cluster-contraction", "derivation", r"= √\(6/7\) = ([\d.]+)")
    out.update({"p_kappa3": f"{float(m.group(1)):.3f}", "p_kappa4": f"{float(m.group(1)):.4f}"})
    m = find("agreement-q-rounds", "rounds-from-q", r"ε = 0\.25: K = \d+, κ = [\d.]+, R = (\d+).*ε = 0\.1: K = \d+, "
                                                    r"κ = [\d.]+, R = (\d+)")
    out.update({"p_R025": m.group(1), "p_R01": m.group(2)})
    m = find("agreement-q-rounds", "rounds-needed-1e-3", r"needed \[([\d, ]+)\] rounds")
    needed = [int(x) for x in m.group(1).split(",")]
    out["p_needed"] = f"{min(needed)}–{max(needed)}" if min(needed) != max(needed) else str(needed[0])
    return out


def _measured(root: Path) -> dict[str, str]:
    out = {}
    for name, _ in EXPERIMENT_ROWS:
        rec = recorded(f"experiment-{name}", root)
        run = rec["runs"][0]
        key = name.replace("-", "_")
        out[f"d_{key}"] = minutes(run["wall_s"])
        out[f"d_{key}_cpu"] = minutes(_cpu(run))
        out[f"d_{key}_load"] = load_during(run)
        out[f"_d_{key}_same"] = str(all(rec["same_as_committed"].values()))
    from ._measure import MEASUREMENTS
    total = sum(r["wall_s"] for name in MEASUREMENTS for r in recorded(name, root)["runs"])
    out["d_all"] = f"{5 * round(total / 300):.0f}"         # minutes, to the nearest 5
    return out


def _mutation(root: Path) -> dict[str, str]:
    out = {}
    for b in ("quick", "ci"):
        rec = recorded(f"mutation-{b}", root)
        run = rec["runs"][0]
        res = rec["outputs"][f"tests/mutation/results-{b}.json"]
        out[f"m_{b}_killed"] = f"{res['killed']} of {res['mutants']}"
        out[f"m_{b}_pct"] = f"{res['killed'] / res['mutants']:.0%}"
        out[f"m_{b}_wall"] = minutes(run["wall_s"])
        out[f"m_{b}_cpu"] = minutes(_cpu(run))
        out[f"m_{b}_load"] = load_during(run)
        out[f"m_{b}_date"] = rec["date"][:10]
    return out


EXPERIMENT_ROWS = [("asgrad-figure1", "001, AsGrad poster, Figure 1"), ("hogwild-sparsity", "002, HOGWILD!"),
                   ("heterogeneous-compute", "004, Ringleader ASGD"),
                   ("decentralized-sgd", "000 and 003, Attiya–Schiller and Keuper–Pfreundt"),
                   ("asgd-kmeans", "003, Keuper–Pfreundt, Figure 14")]


def render_durations(values) -> str:
    import textwrap
    intro = ("The durations were measured by `python -m asyncproof.docnumbers --measure experiment-NAME`, which "
             "runs the command below with `--jobs 2` into a scratch folder, compares the files it writes with the "
             f"committed ones, and records the command, date, machine, load average and times in `{NUMBERS}/"
             "experiment-NAME.json`.  The machine had 2 cores and was shared with other jobs: the wall-clock time "
             "grows with the load average (the mean of the 1-minute load during the run), the CPU time much less; "
             "the runs are spread over 2 processes, so on two idle cores the wall-clock time approaches half the "
             "CPU time.")
    lines = [textwrap.fill(intro, 88, break_on_hyphens=False, break_long_words=False), "",
             "| experiment | seed | one command | measured (2 cores, `--jobs 2`) | files |",
             "| --- | --- | --- | --- | --- |"]
    for name, seed in EXPERIMENT_ROWS:
        rec, key = recorded(f"experiment-{name}", values.root), name.replace("-", "_")
        lines.append(f"| `{name}` | {seed} | `python -m asyncproof.experiments {name} --out docs/experiments` | "
                     f"{values[f'd_{key}']} wall-clock, {values[f'd_{key}_cpu']} of CPU, load average "
                     f"{values[f'd_{key}_load']} ({experiment_runs(name, values.root)} runs; {rec['date'][:10]}) | "
                     f"[table](experiments/{name}.md), [figure](experiments/{name}.png) |")
    return "\n".join(lines)


def render_mutation_table(values) -> str:
    lines = ["| budget | killed | measured (2 cores, `--jobs 2`) | results |", "| --- | --- | --- | --- |"]
    for b in ("quick", "ci"):
        lines.append(f"| `{b}` | {values[f'm_{b}_killed']} ({values[f'm_{b}_pct']}) | {values[f'm_{b}_wall']} "
                     f"wall-clock, {values[f'm_{b}_cpu']} of CPU, load average {values[f'm_{b}_load']} "
                     f"({values[f'm_{b}_date']}; `{NUMBERS}/mutation-{b}.json`) | `tests/mutation/results-{b}.json` |")
    return "\n".join(lines)


def render_mutation_readme(values) -> str:
    rows = []
    for b in ("quick", "ci"):
        cmd = f"python tests/mutation/run.py --budget {b} --jobs 2"
        rows.append(f"{cmd:<57}# {values[f'm_{b}_killed']} killed, {values[f'm_{b}_wall']}")
    return "\n".join(["  ```", *(f"  {r}" for r in rows), "  ```"])


def render_table(name: str, columns: dict[str, str] | None = None, rows: Callable[[dict], bool] | None = None):
    """A renderer of the table of ``docs/experiments/NAME.md``: all of it, or ``columns`` (file's name: shown
    name) of the ``rows`` that pass."""
    def render(values) -> str:
        table = [r for r in experiment_table(name, values.root) if rows is None or rows(r)]
        cols = columns or {c: c for c in experiment_table(name, values.root)[0]}
        lines = ["| " + " | ".join(cols.values()) + " |", "| " + " | ".join("---" for _ in cols) + " |"]
        lines += ["| " + " | ".join(r[c] for c in cols) + " |" for r in table]
        return "\n".join(lines)
    return render


def render_bench(values) -> str:
    """The recorded ``asyncproof bench`` output, as printed, and where and when it was measured."""
    rec = recorded("bench", values.root)
    run = rec["runs"][0]
    import textwrap
    text = (f"Measured on a {_machine(rec)} machine with nothing else running (load average "
            f"{load_during(run)} during the run), {rec['date'][:10]}, commit {rec['commit']}, in "
            f"{duration(run['wall_s'])} (`{NUMBERS}/bench.json`; `python -m asyncproof.docnumbers --measure bench` "
            "measures again and rewrites this block):")
    return "\n".join([textwrap.fill(text, 90, break_on_hyphens=False, break_long_words=False), "", "```text",
                      "$ asyncproof bench", *run["stdout"].rstrip("\n").splitlines(), "```"])


REGIONS: dict[str, Region] = {
    "table-asgrad-figure1": Region(_EXP, render_table("asgrad-figure1"), _A),
    "table-heterogeneous-compute": Region(_EXP, render_table("heterogeneous-compute"), _H),
    "table-hogwild-sparsity": Region("docs/hogwild.md", render_table(
        "hogwild-sparsity", {"nnz": "nnz", "Δ_av": "Δ_av", "tau": "τ", "n/(2Δ_av)": "n/(2Δ_av)",
                             "dist_to_serial": "distance to serial", "final_loss": "final loss",
                             "serial_loss": "serial loss", "mean_noise": "mean noise", "noise_bound": "noise bound",
                             "lost_updates_racy": "lost updates (racy)"},
        lambda r: r["tau"] in ("0", "2", "8")), _W),
    "verify-quick": Region("README.md", render_verify, f"{NUMBERS}/verify-quick.json and the registries"),
    "bench": Region("README.md", render_bench, f"{NUMBERS}/bench.json"),
    "experiment-durations": Region(_EXP, render_durations, f"{NUMBERS}/experiment-*.json"),
    "mutation-table": Region("docs/properties.md", render_mutation_table,
                             f"{NUMBERS}/mutation-*.json and tests/mutation/results-*.json"),
    "mutation-readme": Region("README.md", render_mutation_readme,
                              f"{NUMBERS}/mutation-*.json and tests/mutation/results-*.json"),
}


def main(argv: list[str] | None = None) -> int:
    from ._measure import MEASUREMENTS, measure

    ap = argparse.ArgumentParser(prog="python -m asyncproof.docnumbers",
                                 description="Check or rewrite the numbers README.md and docs/*.md quote, "
                                             "from the registries, docs/experiments/*.md and docs/numbers/*.json.")
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--check", action="store_true", help="exit 1 if a quoted number differs from its source")
    g.add_argument("--update", action="store_true", help="rewrite the quoted numbers and regions from the sources")
    g.add_argument("--measure", metavar="NAME", nargs="+", choices=[*MEASUREMENTS, "all"],
                   help="run the command(s) and record docs/numbers/NAME.json (minutes each, one at a time), then "
                        f"rewrite the docs as --update does: {', '.join(MEASUREMENTS)}, or all")
    ap.add_argument("--worktree", action="store_true",
                    help="with --measure: run the checkout with its uncommitted changes (default: a copy of HEAD)")
    args = ap.parse_args(argv)
    if args.measure:
        for name in (list(MEASUREMENTS) if "all" in args.measure else args.measure):
            print(f"wrote {measure(name, worktree=args.worktree)}")
    if args.check:
        problems = check()
        for p in problems:
            print(p)
        print(f"{len(problems)} difference(s)" + (f"; rewrite with {HINT}" if problems else ""))
        return 1 if problems else 0
    changed, remaining = update()
    for f in changed:
        print(f"rewrote {f}")
    for p in remaining:
        print(p)
    return 1 if remaining else 0


if __name__ == "__main__":
    sys.exit(main())
