"""Deliberately broken FedBuff, Rennala, Malenia and Ringleader (see :mod:`.variants`).

Each variant is the real algorithm with one of its named steps replaced (two for Malenia's one
mistake), a single realistic mistake; the guarantees of :mod:`.server_properties` must catch
each of them.

==============================================  =====================================================
variant                                         the mistake (the steps it replaces)
==============================================  =====================================================
``broken-fedbuff-divides-by-weights``           its parameters say ``normalization="K"`` but it
                                                divides by Σ_i w_i (design notes, "Known
                                                deviations"; ``normalise``)
``broken-fedbuff-round-before-publish``         a starting client downloads the model before the one
                                                just published (``downloaded``)
``broken-fedbuff-queued-model``                 a client that waited in a busy worker's queue trains
                                                on the model current when it was sampled
                                                (``downloaded``)
``broken-rennala-uses-stale``                   a result one round old (computed at x^{k-1}) still
                                                counts toward the S of round k (``fresh``)
``broken-malenia-all-but-one``                  a round ends when n − 1 workers contributed (the
                                                batch rule taken over their rows), the average is
                                                over the rows present (``enough``, ``aggregate``)
``broken-ringleader-n-minus-one``               phase 1 ends when n − 1 rows of the table are
                                                filled; updates average the rows present
                                                (``phase1_done``)
``broken-ringleader-drops-stored``              an already-updated worker's arrival in phase 2 is
                                                recorded as stored but never put in the temporary
                                                table: it is lost (``store``)
``broken-<alg>-other-workers-data``             worker k's jobs compute on worker k + 1's local
(fedbuff, rennala, malenia, ringleader)         data (the splits indexed from 1; ``split_of``)
==============================================  =====================================================
"""

from __future__ import annotations

from fractions import Fraction

from ..reference.parameter_server import fedbuff
from ..reference.parameter_server.malenia import rows_of, table_average
from .variants import variant

# --- FedBuff: the model a client downloads; the normalisation ------------------------------------


def _model_before_the_last(published, job) -> int:
    return max(len(published) - 2, 0)       # the mistake: the model before the one just published


def _model_when_sampled(published, job) -> int:
    return job.assigned                     # the mistake: current when sampled, not when the client starts


def _divided_by_weights(buffer, normalization: str, K: int):
    return fedbuff.normalise(buffer, "weights", K)      # the mistake: Σ_i w_i, whatever the parameters say


variant("broken-fedbuff-round-before-publish", of="fedbuff",
        mistake="a starting client downloads the model before the one just published",
        replace={"downloaded": _model_before_the_last})
variant("broken-fedbuff-queued-model", of="fedbuff",
        mistake="a client that waited in a queue trains on the model current when it was sampled",
        replace={"downloaded": _model_when_sampled})
variant("broken-fedbuff-divides-by-weights", of="fedbuff",
        mistake="normalization='K', but the weighted sum is divided by the sum of the weights",
        replace={"normalise": _divided_by_weights})


# --- Rennala: stale gradients count -------------------------------------------------------------


def _fresh_enough(job, k: int) -> bool:
    return job.pi >= k - 1          # the mistake: "fresh enough", a gradient one round old still counts


variant("broken-rennala-uses-stale", of="rennala-sgd",
        mistake="a gradient computed at x_{k-1} still counts toward the S of round k",
        replace={"fresh": _fresh_enough})


# --- Malenia: n - 1 workers end a round -----------------------------------------------------------


def _all_but_one_enough(S: int):
    def enough(counts):
        filled = [b for b in counts if b >= 1]
        # the mistake: "straggler-tolerant", the rule over the rows present once n - 1 are
        return len(filled) >= len(counts) - 1 and \
            Fraction(len(filled) ** 2) >= S * sum(Fraction(1, b) for b in filled)
    return enough


def _aggregate_rows_present(fresh, n):
    rows = rows_of(fresh, n)
    g = table_average([[g for _, g in row] for row in rows if row])
    return g, {"counts": [len(r) for r in rows], "members": [[s for s, _ in row] for row in rows]}


variant("broken-malenia-all-but-one", of="malenia-sgd", mistake="a round ends when n - 1 workers contributed",
        replace={"enough": _all_but_one_enough, "aggregate": _aggregate_rows_present})


# --- Ringleader: phase 1 with n - 1 rows; stored arrivals lost ------------------------------------


def _n_minus_one_rows(table) -> bool:
    return sum(1 for row in table if row) >= len(table) - 1     # the mistake: one row may still be empty


def _dropped(stored, worker: int, entry) -> None:
    return None                                                 # the mistake: never put in the temporary table


variant("broken-ringleader-n-minus-one", of="ringleader-asgd",
        mistake="phase 1 ends when n - 1 rows of the table are filled", replace={"phase1_done": _n_minus_one_rows})
variant("broken-ringleader-drops-stored", of="ringleader-asgd",
        mistake="arrivals of already-updated workers are recorded as stored, then lost", replace={"store": _dropped})


# --- every algorithm: worker k computes on worker k + 1's data ----------------------------------


def _next_workers_split(splits, worker: int):
    return splits[(worker + 1) % len(splits)]     # the mistake: workers numbered from 1 in the lookup


for _base in ("fedbuff", "rennala-sgd", "malenia-sgd", "ringleader-asgd"):
    variant(f"broken-{_base.split('-')[0]}-other-workers-data", of=_base,
            mistake="worker k computes on worker k + 1's local data", replace={"split_of": _next_workers_split})
