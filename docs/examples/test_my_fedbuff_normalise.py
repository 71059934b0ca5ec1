"""My own FedBuff normalisation (line L11 of the server), checked against FedBuff's aggregation guarantee.

FedBuff's server sums a buffer of K client updates, each weighted by its staleness w(s), and
divides by K before the step: x^(v+1) = x^(v) − η_g (Σ_i w(s_i) Δ_i) / K.  This port divides by
the number of clients in the buffer instead: the planted bug, which the check below catches
(a client may send two updates into one buffer).
"""

from hypothesis import given, settings

from asyncproof.strategies import assert_holds, runs, with_steps


def normalise(buffer, normalization, K):
    """The buffer's staleness-weighted sum over K, summed in (worker, serial) order from its first term."""
    entries = sorted(buffer, key=lambda e: (e["worker"], e["serial"]))
    total = entries[0]["weight"] * entries[0]["delta"]
    for e in entries[1:]:
        total = total + e["weight"] * e["delta"]
    Z = float(len({e["worker"] for e in entries}))      # the planted bug: the clients, not the K updates
    return total / Z, entries, Z


MY_FEDBUFF = with_steps("fedbuff", "my-fedbuff", normalise=normalise)


@settings(max_examples=30, derandomize=True, database=None, deadline=None)
@given(runs(MY_FEDBUFF, normalization="K"))
def test_my_normalise_is_fedbuffs(run):
    assert_holds(run, "fedbuff-aggregation")
