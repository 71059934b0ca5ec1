"""The agreement figures: what they draw is what the trace holds; the documented command works."""

from __future__ import annotations

import numpy as np
import pytest

from asyncproof import agreement_plots as ap
from asyncproof.reference.agreement.cluster_agreement import INPUT, KAPPA_CLUSTER
from asyncproof.reference.agreement.mdaa import cluster_precision, kappa_round
from asyncproof.reference.errors import InputError
from asyncproof.reference.schedule import run_algorithm

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def doc_run():
    return ap.documented_run(quick=True)


def test_paths_start_at_the_inputs_and_end_at_the_outputs(doc_run):
    paths = ap.paths_of(doc_run)
    assert set(paths) == set(doc_run.trace.outputs)
    for pid, path in paths.items():
        assert path[0][0] == 1
        assert np.array_equal(path[0][1], doc_run.trace.records(INPUT.key, pid)[0])
        assert np.array_equal(path[-1][1], doc_run.trace.outputs[pid][-1])
        assert [r for r, _ in path] == sorted(r for r, _ in path)


def test_hull_of_is_the_convex_hull_also_when_degenerate():
    square = [[0, 0], [2, 0], [2, 2], [0, 2], [1, 1], [1, 0]]
    assert sorted(map(tuple, ap.hull_of(square).tolist())) == [(0, 0), (0, 2), (2, 0), (2, 2)]
    line = ap.hull_of([[0, 0], [1, 1], [2, 2]])
    assert sorted(map(tuple, line.tolist())) == [(0, 0), (2, 2)]
    assert ap.hull_of([[1, 1], [1, 1]]).tolist() == [[1.0, 1.0]]


def test_diameters_and_the_bound_drawn(doc_run):
    from matplotlib.figure import Figure
    curves = ap.diameters_of(doc_run)
    assert list(curves) == ["MDAA"] and curves["MDAA"][0][0] == 1 and len(curves["MDAA"]) == doc_run.params["T"] + 1
    drawn = ap.draw_diameters(Figure().add_subplot(), doc_run)
    assert drawn["kappa"] == kappa_round("midextremes", cluster_precision(doc_run.params["K"]), 3)
    ca = run_algorithm("cluster-agreement", params={"clusters": [2, 3], "T": 3}, adversary="pct:seed=2")
    assert set(ap.diameters_of(ca)) == {"cluster 0", "cluster 1"}
    assert ap.draw_diameters(Figure().add_subplot(), ca)["kappa"] == KAPPA_CLUSTER


def test_the_plane_picture_holds_every_path_and_the_hull(doc_run):
    from matplotlib.figure import Figure
    ax = Figure().add_subplot()
    drawn = ap.draw_plane(ax, doc_run)
    assert set(drawn["paths"]) == set(doc_run.trace.outputs)
    lines = [l for l in ax.get_lines() if l.get_label().startswith("p")]
    assert [l.get_label() for l in lines] == [f"p{p}" for p in sorted(drawn["paths"])]
    for line, (pid, path) in zip(lines, sorted(drawn["paths"].items())):
        assert np.allclose(np.column_stack(line.get_data()), np.array([x for _, x in path]))


def test_the_documented_command_writes_both_figures(tmp_path, capsys):
    assert ap.main(["--out", str(tmp_path), "--quick"]) == 0
    out = capsys.readouterr().out
    for name in ("mdaa-plane.png", "mdaa-diameter.png"):
        f = tmp_path / name
        assert f.read_bytes()[:8] == PNG and f.stat().st_size > 5000 and f"saved {f}" in out


def test_run_figure_for_the_cli_hook(tmp_path, doc_run):
    assert ap.run_figure(doc_run, tmp_path / "run.png").read_bytes()[:8] == PNG
    three = run_algorithm("mdaa", problem={"name": "quadratic", "params": {"d": 3}}, params={"T": 2, "K": 2})
    assert ap.run_figure(three, tmp_path / "run3.png").exists()       # no plane panel in 3-D


def test_bad_input(tmp_path, doc_run):
    three = run_algorithm("cluster-agreement", problem={"name": "quadratic", "params": {"d": 3}}, params={"T": 2})
    with pytest.raises(InputError, match="needs d = 2"):
        ap.plane_figure(three, tmp_path / "x.png")
    with pytest.raises(InputError, match="agreement algorithms"):
        ap.diameter_figure(run_algorithm("sgd", params={"T": 2}), tmp_path / "x.png")
    with pytest.raises(InputError, match="must end in .png"):
        ap.plane_figure(doc_run, tmp_path / "x.txt")
    with pytest.raises(InputError, match="run result"):
        ap.diameter_figure(object(), tmp_path / "x.png")
