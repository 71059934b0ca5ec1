"""My own MDAA Aggregate: the coordinate-wise midrange, checked for validity and contraction.

MDAA (seed 000) ends each round r with y_{r+1} = Aggregate(received values).  The midrange of
the values, coordinate by coordinate, is not a convex combination of them, so it can leave their
convex hull (for d >= 3); it stays in their box, the validity coordinate-wise rules have.

Contraction: two processes' views of a round share a cluster (each represents a majority), and
two members of one cluster hold values within ε = √(6/7)^(K−1) of its spread after K in-cluster
rounds.  So each coordinate of two midranges differs by at most half the coordinate's spread plus
that gap, and the y's' diameter shrinks by κ = (√d + ε)/2 per round: q = κ^(2R).
"""

import math

import numpy as np
from hypothesis import given, settings

from asyncproof.reference.agreement.mdaa import cluster_precision
from asyncproof.reference.agreement.provenance import Point
from asyncproof.strategies import assert_holds, check_contraction, check_validity, runs, with_steps


def midrange(rule, values):
    """Aggregate: the middle of the values' range in every coordinate (``rule`` is not used)."""
    X = np.array([v.x for v in values])
    return Point((X.min(axis=0) + X.max(axis=0)) / 2)


MY_MDAA = with_steps("mdaa", "my-midrange-mdaa", aggregate=midrange)


def in_the_box(run):
    return check_validity(run, box=True)


def contracted(run):
    kappa = (math.sqrt(run.problem.d) + cluster_precision(run.params["K"])) / 2
    return check_contraction(run, q=kappa ** (2 * run.params["T"]))


# the values carry no provenance weights (midrange is not a convex combination of them)
@settings(max_examples=15, derandomize=True, database=None, deadline=None)
@given(runs(MY_MDAA, provenance=False))
def test_midrange_is_valid_and_contracts(run):
    assert_holds(run, in_the_box, contracted)
