"""Figures of runs: space-time diagrams of schedules, convergence curves, delay histograms.

Every function writes one file (``.png``, ``.svg`` or ``.pdf``, chosen by the suffix),
creates its parent folders, and returns its :class:`~pathlib.Path`.  Bad input (an
empty trace, an unknown suffix, curves of mismatched lengths) is an
:class:`~asyncproof.reference.errors.InputError` with a one-line message.  Figures are
drawn on a private :class:`matplotlib.figure.Figure` with the Agg canvas, so plotting
never touches pyplot's global state or the user's interactive backend.

How to read each figure
-----------------------
:func:`space_time` -- the **space-time diagram** of a schedule (Lamport's picture of a
run).  Each horizontal *lane* is one process (``p0``, ``p1``, ... on top) or one
worker (``w0``, ``w1``, ... below, on a grey band); the x-axis is the step index of
the schedule, or the simulated clock when the timed adversary ran.  Each event the
adversary chose is a marker on the lane it happened on: a dot for a process step,
a diamond for the delivery of a message, a square for the finish of a job, a red X
for a crash and a green plus for a recovery.  A thin arrow goes from the step that
sent a message to the step that delivered it, so a long slanted arrow is a message
the adversary held back.  A job is a translucent bar on its worker's lane, from the
step its owner started it to the step it finished, with a thin arrow from the owner
down to the worker at the start and one from the worker back to the owner at the
finish (the result lands in the owner's inbox then).  A red band on a lane is the
time a process was down, from its crash to its recovery (or to the end).  A long
schedule is cut to its first ``max_events`` events, and the title says so.

:func:`convergence` -- loss curves ``f(x_t)`` against the iteration, one per run, on a
log scale when every value is positive.  Values that are not finite (a run that
diverged) are left out and the curve's legend entry says ``diverged``.

:func:`delay_histogram` -- how long messages waited to be delivered and jobs to
finish (``trace.delays``), counted in process steps taken meanwhile (the engine's
delay clock, the unit of the model's bound τ), one colour per kind, with the
largest delay of each kind marked by a dashed line: that maximum is what a
bounded-delay guarantee ``τ_t <= τ_max`` must cover.

:func:`run_figure` -- what ``asyncproof run --plot FILE.png`` draws: the space-time
diagram on top and, when the processes recorded iterates ``"x"``, the loss ``f(x_t)``
below.

The pure helpers :func:`lanes_of`, :func:`marks_of`, :func:`arrows_of`, :func:`jobs_of`,
:func:`downtimes_of` and :func:`delays_by_kind` compute *what* is drawn from a trace; the
drawing only places them, so tests check the picture's content against the trace.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .reference.engine import event_kind
from .reference.errors import InputError

__all__ = ["Link", "SpaceTime", "arrows_of", "convergence", "delay_histogram", "delays_by_kind", "downtimes_of",
           "draw_space_time", "jobs_of", "lanes_of", "marks_of", "run_figure", "space_time"]

DPI = 120
SUFFIXES = (".png", ".svg", ".pdf")
MAX_LOSS_POINTS = 60
MAX_LOSS_CURVES = 8

# One look per event kind, shared by markers and legend.
_MARK = {
    "step": dict(marker="o", color="tab:blue", ms=4, label="process step"),
    "deliver": dict(marker="D", color="tab:purple", ms=4.5, label="delivery"),
    "finish": dict(marker="s", color="tab:orange", ms=5, label="job finish"),
    "crash": dict(marker="X", color="red", ms=10, label="crash"),
    "recover": dict(marker="P", color="tab:green", ms=10, label="recover"),
    "other": dict(marker=".", color="grey", ms=5, label="other event"),
}
_MESSAGE_COLOR = "tab:blue"
_JOB_COLOR = "tab:orange"
_DOWN_COLOR = "red"


# --------------------------------------------------------------------------------------
# What is drawn: pure functions of a trace
# --------------------------------------------------------------------------------------


class Link(NamedTuple):
    """A message (send → delivery) or a job (start → finish) between two steps."""
    kind: str        # "message" | "job"
    from_step: int
    to_step: int
    from_lane: str
    to_lane: str


_LANE = re.compile(r"([A-Za-z_]*)(\d*)(.*)")


def _lane_key(lane: str):
    """Processes, then workers, then anything else; numbers compared as numbers (p2 < p10)."""
    prefix, digits, rest = _LANE.fullmatch(lane).groups()
    group = {"p": 0, "w": 1}.get(prefix, 2)
    return (group, prefix, int(digits) if digits else -1, rest)


def _lane_of_event(name: str) -> str:
    # Traces rebuilt from schedule files before lanes were recorded have only names.
    m = re.match(r"deliver #\d+ \S+->(p\d+)", name) or re.match(r"finish #\d+ (\S+)", name) \
        or re.match(r"(?:crash |recover )?(p\d+)", name)
    return m.group(1) if m else "?"


def _event_lanes(trace) -> list[str]:
    lanes = list(getattr(trace, "lanes", []) or [])
    if len(lanes) < len(trace.events):
        lanes += [_lane_of_event(e) for e in trace.events[len(lanes):]]
    return lanes


def _limit(trace, limit: int | None) -> int:
    n = len(trace.events)
    return n if limit is None else min(n, limit)


def _links(trace, kind: str, limit: int | None) -> list[Link]:
    k = _limit(trace, limit)
    out = [Link(kind, int(a), int(b), fl, tl) for (a, b, fl, tl, kd) in getattr(trace, "links", []) or []
           if kd == kind and b < k]
    return sorted(out, key=lambda l: (l.to_step, l.from_step))


def arrows_of(trace, limit: int | None = None) -> list[Link]:
    """The messages drawn as arrows: one per ``deliver`` event among the first ``limit`` steps.

    A message still in flight at the cut (or at the end of the run) has no delivery
    point and is not drawn.
    """
    return _links(trace, "message", limit)


def jobs_of(trace, limit: int | None = None) -> list[Link]:
    """The jobs drawn as bars: one per ``finish`` event among the first ``limit`` steps."""
    return _links(trace, "job", limit)


def marks_of(trace, limit: int | None = None) -> list[tuple[int, str, str]]:
    """``(step, lane, kind)`` of each event shown; kind as :func:`event_kind` names it."""
    k = _limit(trace, limit)
    lanes = _event_lanes(trace)
    return [(i, lanes[i], event_kind(trace.events[i]) or "other") for i in range(k)]


def downtimes_of(trace, limit: int | None = None) -> list[tuple[str, int, int | None]]:
    """``(lane, crash step, recover step or None)`` for each crash among the first ``limit`` steps."""
    down: dict[str, int] = {}
    spans: list[tuple[str, int, int | None]] = []
    for step, lane, kind in marks_of(trace, limit):
        if kind == "crash":
            down[lane] = step
        elif kind == "recover" and lane in down:
            spans.append((lane, down.pop(lane), step))
    spans += [(lane, s, None) for lane, s in down.items()]
    return sorted(spans, key=lambda s: (s[1], _lane_key(s[0])))


def lanes_of(trace, limit: int | None = None) -> list[str]:
    """The lanes of the diagram, top to bottom: processes p0, p1, ..., then workers w0, w1, ...

    Every lane an event happened on or a message or job touched, among the first
    ``limit`` steps, in natural numeric order (``p2`` before ``p10``).

    >>> from asyncproof.reference.engine import Trace
    >>> lanes_of(Trace(events=["finish #0 w1 grad", "p10 output", "p2 output"], lanes=["w1", "p10", "p2"]))
    ['p2', 'p10', 'w1']
    """
    k = _limit(trace, limit)
    seen = set(_event_lanes(trace)[:k])
    for l in arrows_of(trace, k) + jobs_of(trace, k):
        seen.update((l.from_lane, l.to_lane))
    return sorted(seen, key=_lane_key)


def _times(trace, k: int) -> np.ndarray | None:
    """The simulated clock at each of the first ``k`` steps, or None when there is none."""
    ann = getattr(trace, "annotations", None) or {}
    if not any(isinstance(v, dict) and "time" in v for v in ann.values()):
        return None
    t, out = 0.0, np.empty(k)
    for i in range(k):
        a = ann.get(i, ann.get(str(i)))   # keys are strings in a trace rebuilt from JSON
        if isinstance(a, dict) and "time" in a:
            t = float(a["time"])
        out[i] = t                       # a step without a clock reading happened at the last one
    return out


# --------------------------------------------------------------------------------------
# Checks and files
# --------------------------------------------------------------------------------------


def check_plot_path(path) -> Path:
    """The plot path checked before any work: its suffix, and that it can be written."""
    from .reference.schedule import check_output_path
    return check_output_path(_check_path(path), "plot file")


def _check_path(path) -> Path:
    try:
        p = Path(path)
    except TypeError:
        raise InputError(f"plot path must be a file name ending in .png, .svg or .pdf, got {path!r}") from None
    if p.suffix.lower() not in SUFFIXES:
        raise InputError(f"plot path {str(p)!r} must end in .png, .svg or .pdf, not {p.suffix or 'no suffix'!r}")
    return p


def _check_trace(trace) -> None:
    if not hasattr(trace, "events"):
        raise InputError(f"expected a Trace, got {type(trace).__name__}")
    if len(trace.events) == 0:
        raise InputError("the trace is empty (0 events): there is nothing to plot")


def _save(fig, path: Path) -> Path:
    import io
    from .reference.schedule import write_atomically
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    fig.savefig(buf, dpi=DPI, format=path.suffix.lower()[1:], bbox_inches="tight")
    return write_atomically(path, buf.getvalue())


def _figure(width: float, height: float):
    # A private Figure with its own Agg canvas: no pyplot, no global backend switch.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig


# --------------------------------------------------------------------------------------
# Space-time diagram
# --------------------------------------------------------------------------------------


@dataclass
class SpaceTime:
    """What :func:`draw_space_time` put on its Axes."""
    lanes: list[str]
    shown: int                 # events drawn
    total: int                 # events in the trace
    axis: str                  # "step" | "time"
    messages: list[Link] = field(default_factory=list)
    jobs: list[Link] = field(default_factory=list)
    downtimes: list[tuple[str, int, int | None]] = field(default_factory=list)
    title: str = ""

    @property
    def truncated(self) -> bool:
        return self.shown < self.total


def _check_space_time_args(trace, x, max_events) -> None:
    _check_trace(trace)
    if x not in ("auto", "step", "time"):
        raise InputError(f"x must be 'auto', 'step' or 'time', got {x!r}")
    if isinstance(max_events, bool) or not isinstance(max_events, int) or max_events < 1:
        raise InputError(f"max_events must be a positive integer, got {max_events!r}")
    if x == "time" and _times(trace, 0) is None:
        raise InputError("x = 'time' needs the simulated clock in trace.annotations "
                         "(run with the timed adversary); this trace has none")


def _space_time_size(n_lanes: int, n_events: int) -> tuple[float, float]:
    width = min(20.0, max(8.0, 6.0 + n_events / 30.0))
    height = 1.4 + 0.5 * min(n_lanes, 20) + 0.25 * max(0, n_lanes - 20)
    return width, min(height, 40.0)


def draw_space_time(ax, trace, x: str = "auto", max_events: int = 400, title: str | None = None,
                    legend: bool = True) -> SpaceTime:
    """Draw the space-time diagram of ``trace`` into the matplotlib Axes ``ax``.

    The one drawing routine behind :func:`space_time` and :func:`run_figure`.
    Returns what was drawn; artists carry a ``gid`` (``"message"``, ``"job"``,
    ``"job-start"``, ``"job-result"``, ``"down"``) so their number can be checked.
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import FancyArrowPatch, Patch, Rectangle

    _check_space_time_args(trace, x, max_events)
    total = len(trace.events)
    k = min(total, max_events)
    times = _times(trace, k) if x in ("auto", "time") else None
    axis = "time" if times is not None else "step"
    xs = times if times is not None else np.arange(k, dtype=float)

    lanes = lanes_of(trace, k)
    y = {lane: i for i, lane in enumerate(lanes)}
    marks = marks_of(trace, k)
    messages, jobs, downs = arrows_of(trace, k), jobs_of(trace, k), downtimes_of(trace, k)
    x_lo, x_hi = float(xs.min()), float(xs.max())
    pad = max((x_hi - x_lo) * 0.02, 0.5 if axis == "step" else 1e-3)
    x_lo, x_hi = x_lo - pad, x_hi + pad

    # Lanes: a line per lane, workers on a grey band so the two kinds of lane read apart.
    for lane, i in y.items():
        ax.axhline(i, color="0.8", lw=0.8, zorder=0)
        if lane.startswith("w"):
            ax.axhspan(i - 0.5, i + 0.5, color="0.95", zorder=-1, lw=0)

    for lane, s, r in downs:
        end = xs[r] if r is not None else x_hi
        ax.add_patch(Rectangle((xs[s], y[lane] - 0.4), end - xs[s], 0.8, color=_DOWN_COLOR, alpha=0.15,
                               lw=0, zorder=1, gid="down"))

    for j in jobs:
        x0, x1, yw, yo = xs[j.from_step], xs[j.to_step], y[j.to_lane], y[j.from_lane]
        ax.add_patch(Rectangle((x0, yw - 0.18), x1 - x0, 0.36, color=_JOB_COLOR, alpha=0.3, lw=0,
                               zorder=1, gid="job"))
        for (xa, ya), (xb, yb), gid in (((x0, yo), (x0, yw), "job-start"), ((x1, yw), (x1, yo), "job-result")):
            ax.add_patch(FancyArrowPatch((xa, ya), (xb, yb), arrowstyle="-|>", mutation_scale=7, lw=0.6,
                                         color=_JOB_COLOR, alpha=0.8, shrinkA=2, shrinkB=3, zorder=2, gid=gid))

    for m in messages:
        a, b = (xs[m.from_step], y[m.from_lane]), (xs[m.to_step], y[m.to_lane])
        # A message to oneself (a broadcast includes the sender) would lie on the lane line: bend it.
        style = "arc3,rad=0.35" if m.from_lane == m.to_lane else "arc3"
        ax.add_patch(FancyArrowPatch(a, b, arrowstyle="-|>", mutation_scale=8, lw=0.7, color=_MESSAGE_COLOR,
                                     alpha=0.55, shrinkA=2, shrinkB=3, connectionstyle=style, zorder=2,
                                     gid="message"))

    kinds_present = []
    for kind in _MARK:
        pts = [(xs[s], y[lane]) for s, lane, kd in marks if kd == kind]
        if not pts:
            continue
        kinds_present.append(kind)
        st = _MARK[kind]
        px, py = zip(*pts)
        ax.plot(px, py, ls="none", marker=st["marker"], color=st["color"], ms=st["ms"],
                mec="white" if kind in ("crash", "recover") else st["color"], mew=0.5, zorder=3, gid=f"mark-{kind}")

    ax.set_yticks(range(len(lanes)), lanes)
    ax.set_ylim(len(lanes) - 0.5, -0.5)          # p0 on top
    ax.set_xlim(x_lo, x_hi)
    ax.set_xlabel("simulated time" if axis == "time" else "step")
    ax.tick_params(axis="y", length=0)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)

    count = f"first {k} of {total} events" if k < total else f"{total} event{'s' if total != 1 else ''}"
    head = title if title else "space-time diagram"
    full = f"{head} ({count})"
    ax.set_title(full, loc="left", fontsize=11)

    if legend:
        handles = [Line2D([], [], ls="none", marker=_MARK[kd]["marker"], color=_MARK[kd]["color"],
                          ms=_MARK[kd]["ms"] + 1, label=_MARK[kd]["label"]) for kd in kinds_present]
        if messages:
            handles.append(Line2D([], [], color=_MESSAGE_COLOR, lw=1, alpha=0.7, marker=">", ms=4,
                                  label="message (send → delivery)"))
        if jobs:
            handles.append(Patch(color=_JOB_COLOR, alpha=0.35, label="job (start → finish)"))
        if downs:
            handles.append(Patch(color=_DOWN_COLOR, alpha=0.2, label="down (crash → recover)"))
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)

    return SpaceTime(lanes=lanes, shown=k, total=total, axis=axis, messages=messages, jobs=jobs,
                     downtimes=downs, title=full)


def space_time(trace, path, title: str | None = None, x: str = "auto", max_events: int = 400) -> Path:
    """Write the space-time diagram of ``trace`` to ``path`` (see the module docstring)."""
    p = _check_path(path)
    _check_space_time_args(trace, x, max_events)
    k = min(len(trace.events), max_events)
    fig = _figure(*_space_time_size(len(lanes_of(trace, k)), k))
    draw_space_time(fig.add_subplot(), trace, x=x, max_events=max_events, title=title)
    return _save(fig, p)


# --------------------------------------------------------------------------------------
# Convergence curves
# --------------------------------------------------------------------------------------


def _check_curves(curves) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    if not isinstance(curves, dict) or not curves:
        raise InputError(f"curves must be a non-empty dict {{name: (xs, ys)}}, got {curves!r:.80}")
    out = {}
    for name, c in curves.items():
        try:
            xs, ys = c
            xs, ys = np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64)
        except (TypeError, ValueError):
            raise InputError(f"curve {name!r} must be a pair (xs, ys) of number lists") from None
        if xs.ndim != 1 or ys.ndim != 1 or len(xs) != len(ys):
            raise InputError(f"curve {name!r} has {xs.size} x values and {ys.size} y values; they must pair up")
        out[str(name)] = (xs, ys)
    if all(len(xs) == 0 for xs, _ in out.values()):
        raise InputError("every curve is empty: there is nothing to plot")
    return out


def _draw_curves(ax, curves: dict[str, tuple[np.ndarray, np.ndarray]], xlabel: str, ylabel: str,
                 logy: bool) -> None:
    finite_ys = []
    for name, (xs, ys) in curves.items():
        ok = np.isfinite(xs) & np.isfinite(ys)
        label = name if ok.all() else f"{name} (diverged)"
        ax.plot(xs[ok], ys[ok], marker="o" if ok.sum() <= 30 else None, ms=3, lw=1.4, label=label)
        finite_ys.append(ys[ok])
    allys = np.concatenate(finite_ys) if finite_ys else np.array([])
    # A log scale cannot show f(x_t) <= 0 (e.g. an objective whose minimum is 0, reached exactly).
    if logy and allys.size and (allys > 0).all():
        with np.errstate(over="ignore"):
            ax.set_yscale("log")
        if allys.max() > 1e250:    # a diverging run's f(x_t) near 1e308: the axis's margins and ticks
            ax.set_ylim(float(allys.min()), 1e250)     # would overflow, so the curve leaves at the top
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8, frameon=False)


def convergence(curves: dict[str, tuple[list, list]], path, ylabel: str = "f(x_t)", xlabel: str = "iteration",
                logy: bool = True, title: str | None = None) -> Path:
    """Plot loss curves ``{name: (xs, ys)}`` of one or several runs and write them to ``path``."""
    p = _check_path(path)
    cs = _check_curves(curves)
    fig = _figure(7.0, 4.2)
    ax = fig.add_subplot()
    _draw_curves(ax, cs, xlabel, ylabel, logy)
    if title:
        ax.set_title(title, loc="left", fontsize=11)
    return _save(fig, p)


# --------------------------------------------------------------------------------------
# Delay histogram
# --------------------------------------------------------------------------------------


def delays_by_kind(trace) -> dict[str, list[int]]:
    """The delays of ``trace.delays`` in step order, by kind: ``{"deliver": [...], "finish": [...]}``."""
    by_kind: dict[str, list[int]] = {"deliver": [], "finish": []}
    for _, kind, age in getattr(trace, "delays", []) or []:
        by_kind.setdefault(kind, []).append(int(age))
    return by_kind


def delay_histogram(trace, path, title: str | None = None) -> Path:
    """Histogram of ``trace.delays`` (process steps while pending), deliveries and job finishes apart."""
    p = _check_path(path)
    _check_trace(trace)
    by_kind = delays_by_kind(trace)
    names = {"deliver": "message delivery", "finish": "job finish"}
    colors = {"deliver": "tab:purple", "finish": "tab:orange"}
    fig = _figure(7.0, 4.2)
    ax = fig.add_subplot()
    present = {k: v for k, v in by_kind.items() if v}
    if not present:
        ax.text(0.5, 0.5, "no delays: no message was delivered and no job finished",
                ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
    else:
        top = max(max(v) for v in present.values())
        # Integer ages: one bin per age while that stays readable, else integer-wide bins.
        width = max(1, math.ceil((top + 1) / 60))
        bins = np.arange(0, top + width + 1, width) - 0.5
        ax.hist(list(present.values()), bins=bins,
                label=[f"{names.get(k, k)} ({len(v)})" for k, v in present.items()],
                color=[colors.get(k, "grey") for k in present], alpha=0.8)
        for kind, ages in present.items():
            m = max(ages)
            ax.axvline(m, color=colors.get(kind, "grey"), ls="--", lw=1.2,
                       label=f"max {names.get(kind, kind)} delay = {m}")
        ax.set_xlabel("delay (process steps taken while the message or job was pending)")
        ax.set_ylabel("count")
        ax.set_xlim(-0.5 - width * 0.5, top + width + 0.5)
        ax.legend(fontsize=8, frameon=False)
        ax.grid(True, axis="y", alpha=0.3)
    n = sum(len(v) for v in by_kind.values())
    ax.set_title(title or f"delays of {n} deliveries and job finishes", loc="left", fontsize=11)
    return _save(fig, p)


# --------------------------------------------------------------------------------------
# The figure of one run
# --------------------------------------------------------------------------------------


def _loss_curves(trace, problem, key: str = "x") -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """f at up to MAX_LOSS_POINTS evenly spaced iterates of each process that recorded ``key``."""
    if problem is None or not hasattr(problem, "value"):
        return {}
    pids = sorted({pid for (_, pid, k, _) in trace.observations if k == key})[:MAX_LOSS_CURVES]
    curves = {}
    for pid in pids:
        xs = trace.observed(key, pid)
        idx = sorted(set(np.linspace(0, len(xs) - 1, min(MAX_LOSS_POINTS, len(xs))).astype(int).tolist()))
        # Iteration t+1 is the iterate after t updates, matching x_1, x_2, ... of the papers.
        curves[f"p{pid}"] = (np.array([i + 1 for i in idx], dtype=float),
                             np.array([_value_or_nan(problem, xs[i]) for i in idx]))
    return curves


def _value_or_nan(problem, x) -> float:
    """f(x), or NaN at a non-finite iterate (a run that diverged: its curve says so)."""
    x = np.asarray(x, dtype=np.float64)
    if not np.all(np.isfinite(x)):
        return math.nan
    with np.errstate(over="ignore", invalid="ignore"):
        return float(problem.value(x))


def received_delays(trace) -> list[int]:
    """The delays τ_t = t − π_t of the gradients a parameter server received (seed 001's notation)."""
    return [int(r["tau"]) for r in trace.observed("received") if isinstance(r, dict) and "tau" in r]


def _draw_tau_histogram(ax, taus: list[int]) -> None:
    top = max(taus)
    ax.hist(taus, bins=np.arange(-0.5, top + 1.5, 1.0), color="#4c72b0", edgecolor="white")
    ax.axvline(top, color="#c44e52", linestyle="--", linewidth=1)
    ax.set_xlabel("delay τ_t = t − π_t (iterations)")
    ax.set_ylabel("received gradients")
    ax.set_title(f"delays of the received gradients (max {top}, mean {np.mean(taus):.2f})", loc="left", fontsize=10)


def run_figure(result, path, max_events: int = 400, title: str | None = None) -> Path:
    """The figure of one run (``asyncproof run --plot``): space-time diagram, loss curve, delays.

    ``result`` is a :class:`~asyncproof.reference.schedule.RunResult`.  The loss panel
    appears when the trace holds ``"x"`` observations; one curve per process that
    recorded iterates (at most 8), each at most 60 evenly spaced iterates.  The delay
    histogram appears for parameter-server runs (``"received"`` observations with τ_t).
    Agreement runs (parameters with ``clusters``) get :func:`asyncproof.agreement_plots.run_figure`:
    the values per round in the plane (d = 2) and the diameter per round against the bound.
    """
    if "clusters" in (getattr(result, "params", None) or {}):
        from . import agreement_plots
        return agreement_plots.run_figure(result, path, title)
    p = _check_path(path)
    trace = result.trace
    _check_space_time_args(trace, "auto", max_events)
    curves = _loss_curves(trace, getattr(result, "problem", None))
    if title is None:
        sched = getattr(result, "schedule", None)
        alg = getattr(sched, "algorithm", "") or "run"
        adv = (getattr(sched, "adversary", None) or {}).get("name", "")
        title = f"{alg} under the {adv} adversary" if adv else alg
    k = min(len(trace.events), max_events)
    width, height = _space_time_size(len(lanes_of(trace, k)), k)
    taus = received_delays(trace)
    extra = (["loss"] if curves else []) + (["delays"] if taus else [])
    fig = _figure(width, height + 2.8 * len(extra))
    axes = fig.subplots(1 + len(extra), 1, gridspec_kw={"height_ratios": [height] + [2.8] * len(extra)}) \
        if extra else [fig.add_subplot()]
    draw_space_time(axes[0], trace, max_events=max_events, title=title)
    for ax, panel in zip(axes[1:], extra):
        if panel == "loss":
            _draw_curves(ax, curves, "iteration t", "f(x_t)", logy=True)
            ax.set_title("loss of the iterates", loc="left", fontsize=10)
            if len(curves) == 1 and ax.get_legend() is not None:
                ax.get_legend().remove()
        else:
            _draw_tau_histogram(ax, taus)
    fig.tight_layout()
    return _save(fig, p)
