"""Figures of agreement runs (seed 000): values per round in the plane, diameters against the bound.

:func:`plane_figure` -- for d = 2: the inputs (black dots, labelled with their process),
the boundary of their convex hull (grey), and each process's values round by round as a
path of its own colour: its input, then (MDAA) the y it aggregated in each round, or (a
cluster alone) the value it wrote in each round, ending at its output (a star).  A
process that skipped jumps: its path has fewer points.  Validity is the picture of every
path staying inside the grey polygon; agreement, of the stars coming together.

:func:`diameter_figure` -- the diameter of each round's values (MDAA: the y's of round r,
Y_1 the inputs; a cluster alone: the values written with round k, one line per cluster)
on a log scale, against the proven bound diam(Y_1) κ^(r−1) (dashed): κ(ε) per MDAA round
(``mdaa.kappa_round``), √(6/7) per in-cluster round.  A diameter of exactly 0 (the values
agree bit for bit) is drawn on the axis' floor with an open marker.

:func:`run_figure` -- both panels for one run, what ``asyncproof run mdaa --plot FILE.png``
should draw for these algorithms (the plane panel only when d = 2).

The pure helpers :func:`paths_of`, :func:`hull_of` and :func:`diameters_of` compute what is
drawn from a trace; the tests check the pictures' content against the trace through them.

Command line (the figures of ``docs/agreement.md``)::

    python -m asyncproof.agreement_plots --out docs/agreement          # the documented run
    python -m asyncproof.agreement_plots --out /tmp/figs --quick       # a smaller one
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from .plots import _check_path, _figure, _save
from .reference.errors import InputError

__all__ = ["diameter_figure", "diameters_of", "hull_of", "main", "paths_of", "plane_figure", "run_figure"]


def _is_mdaa(result) -> bool:
    return "K" in result.params


def _inputs(trace) -> dict[int, np.ndarray]:
    from .reference.agreement.cluster_agreement import INPUT
    xs = {}
    for _, pid, _, v in trace.stepwise(INPUT):
        xs.setdefault(pid, np.asarray(v, dtype=np.float64))
    return xs


def paths_of(result) -> dict[int, list[tuple[int, np.ndarray]]]:
    """Per process, its values in step order as (round, value): round 1 is its input; then, for
    MDAA, each aggregate of round r as round r + 1; for a cluster alone, each value it wrote."""
    from .reference.agreement.cluster_agreement import Written
    from .reference.agreement.mdaa import Aggregated
    trace = result.trace
    paths = {pid: [(1, x)] for pid, x in sorted(_inputs(trace).items())}
    if _is_mdaa(result):
        for _, pid, _, a in trace.stepwise(Aggregated):
            paths[pid].append((a.r + 1, np.asarray(a.y)))
    else:
        for _, pid, _, w in trace.stepwise(Written):
            if w.view is not None:
                paths[pid].append((w.round, np.asarray(w.x)))
    return paths


def _cross(u, v) -> float:
    return float(u[0] * v[1] - u[1] * v[0])


def hull_of(points) -> np.ndarray:
    """The vertices of the convex hull of 2-D points, in order (one or two points for degenerate sets)."""
    P = np.unique(np.asarray(points, dtype=np.float64).reshape(-1, 2), axis=0)
    if len(P) <= 2:
        return P
    # Andrew's monotone chain: exact on collinear sets, where scipy's Qhull would refuse
    def half(pts):
        out = []
        for p in pts:
            while len(out) >= 2 and _cross(out[-1] - out[-2], p - out[-2]) <= 0:
                out.pop()
            out.append(p)
        return out
    lower, upper = half(P), half(P[::-1])
    return np.array(lower[:-1] + upper[:-1])


def diameters_of(result) -> dict[str, list[tuple[int, float]]]:
    """Per curve (``"MDAA"``, or ``"cluster c"``), the diameter of each round's values: (round, diameter)."""
    from .reference.agreement.cluster_agreement import in_cluster_values
    from .reference.agreement.mdaa import mdaa_values
    from .reference.agreement.midextremes import diameter
    if _is_mdaa(result):
        Y = mdaa_values(result.trace)
        return {"MDAA": [(r, diameter(Y[r])) for r in sorted(Y)]}
    curves: dict[str, list[tuple[int, float]]] = {}
    for (inst, c, k), vals in sorted(in_cluster_values(result.trace).items()):
        curves.setdefault(f"cluster {c}", []).append((k, diameter(vals)))
    return curves


def _bound_factor(result) -> tuple[float, str]:
    from .reference.agreement.cluster_agreement import KAPPA_CLUSTER
    from .reference.agreement.cluster_model import Clusters
    from .reference.agreement.mdaa import cluster_precision, kappa_round, resolve
    if not _is_mdaa(result):
        return KAPPA_CLUSTER, "√(6/7)"
    n = Clusters.parse(result.params["clusters"]).n
    R, K = resolve(result.params, n)
    kappa = kappa_round(result.params["rule"], cluster_precision(K), n)
    return (kappa if kappa is not None else 1.0), f"κ(ε) = {kappa:.4f} (K = {K})" if kappa else "no known κ"


def _check_result(result) -> None:
    if not hasattr(result, "trace") or not hasattr(result, "params"):
        raise InputError(f"expected a run result (run_algorithm's), got {type(result).__name__}")
    if "clusters" not in result.params:
        raise InputError("this figure is for the agreement algorithms (cluster-agreement, mdaa); "
                         f"the run is of {getattr(result.schedule, 'algorithm', '?')}")
    if not _inputs(result.trace):
        raise InputError("the trace records no inputs: there is nothing to plot")


_COLORS = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown", "tab:pink", "tab:olive",
           "tab:cyan", "tab:gray"]


def draw_plane(ax, result, title: str | None = None) -> dict:
    """Fill ``ax`` with the plane picture; returns what was drawn (paths, hull, outputs)."""
    _check_result(result)
    X = np.array([x for _, x in sorted(_inputs(result.trace).items())])
    if X.shape[1] != 2:
        raise InputError(f"the plane figure needs d = 2, the run has d = {X.shape[1]}")
    hull = hull_of(X)
    closed = np.vstack([hull, hull[:1]])
    ax.fill(closed[:, 0], closed[:, 1], color="0.92", zorder=0)
    ax.plot(closed[:, 0], closed[:, 1], color="0.55", lw=1, zorder=1, label="convex hull of the inputs")
    paths = paths_of(result)
    outputs = {p: np.asarray(o[-1]) for p, o in result.trace.outputs.items() if o}
    for pid, path in paths.items():
        col = _COLORS[pid % len(_COLORS)]
        P = np.array([x for _, x in path])
        ax.plot(P[:, 0], P[:, 1], "-o", color=col, ms=3.5, lw=1.2, alpha=0.85, zorder=2, label=f"p{pid}")
        for (r, x) in path[1:]:
            ax.annotate(str(r), x, textcoords="offset points", xytext=(3, 3), fontsize=6, color=col)
        if pid in outputs:
            ax.plot(*outputs[pid], marker="*", ms=13, color=col, mec="black", mew=0.6, zorder=4)
    ax.scatter(X[:, 0], X[:, 1], s=30, color="black", zorder=3)
    for pid, x in enumerate(X):
        ax.annotate(f"x{pid}", x, textcoords="offset points", xytext=(-10, -10), fontsize=7)
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xlabel("coordinate 1")
    ax.set_ylabel("coordinate 2")
    ax.legend(fontsize=7, loc="best", ncol=2)
    ax.set_title(title or "inputs, their hull, each process's values per round (★ output)", loc="left", fontsize=10)
    return {"paths": paths, "hull": hull, "outputs": outputs}


def draw_diameters(ax, result, title: str | None = None) -> dict:
    """Fill ``ax`` with the diameters per round against the bound; returns the curves drawn."""
    _check_result(result)
    curves = diameters_of(result)
    kappa, what = _bound_factor(result)
    top = max((d for c in curves.values() for _, d in c), default=1.0) or 1.0
    floor = top * 1e-17
    for k, (name, pts) in enumerate(curves.items()):
        col = _COLORS[k % len(_COLORS)]
        rs = np.array([r for r, _ in pts], dtype=float)
        ds = np.array([d for _, d in pts])
        ax.plot(rs, np.maximum(ds, floor), "-", color=col, lw=1.2, label=f"{name}: measured")
        ax.plot(rs[ds > 0], ds[ds > 0], "o", color=col, ms=4)
        ax.plot(rs[ds == 0], np.full(int(np.sum(ds == 0)), floor), "o", mfc="white", color=col, ms=4)
        d1 = pts[0][1]
        if d1 > 0:
            r_all = np.arange(pts[0][0], max(rs) + 1)
            ax.plot(r_all, d1 * kappa ** (r_all - pts[0][0]), "--", color=col, lw=1,
                    label=f"{name}: bound diam₁·κ^(r−1), κ = {what}")
    ax.set_yscale("log")
    ax.set_xlabel("round r" + (" (MDAA)" if _is_mdaa(result) else " (in the cluster)"))
    ax.set_ylabel("diameter of the round's values")
    ax.legend(fontsize=7)
    ax.set_title(title or "diameter per round against the proven bound (open: exactly 0)", loc="left", fontsize=10)
    return {"curves": curves, "kappa": kappa, "floor": floor}


def _one_panel(draw, size, result, path, title) -> Path:
    p = _check_path(path)
    fig = _figure(*size)
    draw(fig.add_subplot(), result, title)
    fig.tight_layout()
    return _save(fig, p)


def plane_figure(result, path, title: str | None = None) -> Path:
    """The plane picture of a d = 2 run, written to ``path`` (.png, .svg or .pdf)."""
    return _one_panel(draw_plane, (6.5, 6.0), result, path, title)


def diameter_figure(result, path, title: str | None = None) -> Path:
    """The diameters per round against the bound, written to ``path``."""
    return _one_panel(draw_diameters, (7.0, 4.2), result, path, title)


def run_figure(result, path, title: str | None = None) -> Path:
    """Both panels (the plane one only for d = 2): what ``asyncproof run --plot`` should draw here."""
    p = _check_path(path)
    _check_result(result)
    two_d = next(iter(_inputs(result.trace).values())).shape[0] == 2
    fig = _figure(13.0 if two_d else 7.0, 6.0)
    axes = fig.subplots(1, 2) if two_d else [fig.add_subplot()]
    if two_d:
        draw_plane(axes[0], result)
    draw_diameters(axes[-1], result)
    alg = getattr(getattr(result, "schedule", None), "algorithm", "agreement")
    fig.suptitle(title or f"{alg} under the {result.schedule.adversary.get('name', '?')} adversary", fontsize=11)
    fig.tight_layout()
    return _save(fig, p)


# --------------------------------------------------------------------------------------
# the documented figures

#: the run of docs/agreement.md: five processes in three clusters, six MDAA rounds of three in-cluster
#: rounds, under a PCT schedule that makes processes skip and the round's views differ
DOC_RUN = {"algorithm": "mdaa", "problem": {"name": "quadratic", "params": {"d": 2}},
           "params": {"clusters": [2, 2, 1], "T": 6, "K": 3}, "seed": 4,
           "adversary": "pct:seed=21,d=5,horizon=400", "model": None}
QUICK_RUN = {**DOC_RUN, "params": {"clusters": [2, 1], "T": 3, "K": 2}}


def documented_run(quick: bool = False):
    from .reference.schedule import run_algorithm
    spec = QUICK_RUN if quick else DOC_RUN
    return run_algorithm(spec["algorithm"], problem=spec["problem"], params=spec["params"], seed=spec["seed"],
                         adversary=spec["adversary"], model=spec["model"])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m asyncproof.agreement_plots",
                                 description="Draw the agreement figures of docs/agreement.md: the 2-D picture of "
                                             "an MDAA run and its diameter per round against the bound.")
    ap.add_argument("--out", metavar="DIR", default="docs/agreement", help="folder for the PNGs (default docs/agreement)")
    ap.add_argument("--quick", action="store_true", help="a smaller run (for tests)")
    args = ap.parse_args(argv)
    try:
        res = documented_run(args.quick)
        out = Path(args.out)
        a = plane_figure(res, out / "mdaa-plane.png")
        b = diameter_figure(res, out / "mdaa-diameter.png")
    except InputError as e:
        print(f"agreement_plots: error: {e}", file=sys.stderr)
        return 2
    m = res.metrics
    print(f"mdaa, clusters {res.params['clusters']}, R = {m['R']}, K = {m['K']}: diameter {m['diameter_in']:.4g} -> "
          f"{m['diameter_out']:.4g}, worst round factor {m['worst_round']:.4f} (bound {m['kappa_round']:.4f}), "
          f"skips {m['skips']}, crashes {m['crashes']}")
    print(f"saved {a}")
    print(f"saved {b}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
