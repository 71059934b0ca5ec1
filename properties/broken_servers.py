"""Deliberately broken FedBuff, Rennala, Malenia and Ringleader (see :mod:`.broken`).

Each variant is a registered algorithm (``broken=True``, hidden from ``asyncproof
list``) that differs from the real one by a single realistic mistake; the
guarantees of :mod:`.server_properties` must catch each of them.

==============================================  =====================================================
variant                                         the mistake
==============================================  =====================================================
``broken-fedbuff-divides-by-weights``           its parameters say ``normalization="K"`` but it
                                                divides by Σ_i w_i (design notes, "Known deviations")
``broken-fedbuff-round-before-publish``         a starting client downloads the model before the one
                                                just published
``broken-fedbuff-queued-model``                 a client that waited in a busy worker's queue trains
                                                on the model current when it was sampled
``broken-rennala-uses-stale``                   a result one round old (computed at x^{k-1}) still
                                                counts toward the S of round k
``broken-malenia-all-but-one``                  a round ends when n − 1 workers contributed (the
                                                batch rule taken over their rows), the average is
                                                over the rows present
``broken-ringleader-n-minus-one``               phase 1 ends when n − 1 rows of the table are
                                                filled; updates average the rows present
``broken-ringleader-drops-stored``              an already-updated worker's arrival in phase 2 is
                                                recorded as stored but never put in the temporary
                                                table: it is lost
``broken-<alg>-other-workers-data``             worker k's jobs compute on worker k + 1's local
(fedbuff, rennala, malenia, ringleader)         data (the splits indexed from 1)
==============================================  =====================================================

Every variant is built from the algorithms' own pieces: their server bodies,
:func:`~asyncproof.reference.parameter_server.rennala.round_server` with one step of its
:class:`~asyncproof.reference.parameter_server.rennala.RoundRule` replaced (Rennala's
``fresh``, Malenia's ``enough``/``aggregate``), Ringleader's ``ready``/``keep_stored``
hooks; no loop is copied.
"""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

from ..reference.baselines._common import start_point
from ..reference.engine import ProcessSpec, System
from ..reference.parameter_server import fedbuff, malenia, rennala, ringleader
from ..reference.parameter_server.common import local_splits
from ..reference.parameter_server.malenia import rows_of, table_average
from ..reference.parameter_server.rennala import RoundRule
from .broken import _variant


def _system(body_of, shift: bool = False):
    """A ``build`` running ``body_of(problem, splits, params, seed, x0)``; ``shift``: the
    data mix-up, worker k reads split k + 1."""
    def build(problem, params, seed):
        splits = list(local_splits(problem, params["n"], params["zeta"], seed))
        if shift:
            splits = splits[1:] + splits[:1]          # the mistake: workers numbered from 1 in the lookup
        return System([ProcessSpec(body_of(problem, splits, params, seed, start_point(problem, params)))], seed=seed)
    return build


def _rounds(rule_of):
    """Rennala's / Malenia's real round loop with ``rule_of(S)``'s rule."""
    def body_of(problem, splits, p, seed, x0):
        return rennala.round_server(problem, splits, p["gamma"], p["T"], p["n"], p["batch"], seed, x0,
                                    rule_of(p["S"]), p["stale"])
    return body_of


# --- FedBuff, synchronous schedule: the next round dispatched before the publish ------------------

_variant("fedbuff", "broken-fedbuff-round-before-publish",
         "BROKEN fedbuff: a starting client downloads the model before the one just published",
         _system(lambda problem, splits, p, seed, x0: fedbuff.server(
             problem, splits, p, seed, x0, downloaded=lambda published, job: max(len(published) - 2, 0))))
_variant("fedbuff", "broken-fedbuff-queued-model",
         "BROKEN fedbuff: a client that waited in a queue trains on the model current when it was sampled",
         _system(lambda problem, splits, p, seed, x0: fedbuff.server(
             problem, splits, p, seed, x0, downloaded=lambda published, job: job.assigned)))


_variant("fedbuff", "broken-fedbuff-divides-by-weights",
         "BROKEN fedbuff: normalization='K', but the weighted sum is divided by the sum of the weights",
         lambda problem, params, seed: fedbuff.build(problem, {**params, "normalization": "weights"}, seed))


# --- Rennala: stale gradients count -------------------------------------------------------------


def _fresh_enough(job, k: int) -> bool:
    return job.pi >= k - 1          # the mistake: "fresh enough", a gradient one round old still counts


_variant("rennala-sgd", "broken-rennala-uses-stale",
         "BROKEN rennala-sgd: a gradient computed at x_{k-1} still counts toward the S of round k",
         _system(_rounds(lambda S: replace(rennala.rennala_rule(S), fresh=_fresh_enough))))


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


_variant("malenia-sgd", "broken-malenia-all-but-one",
         "BROKEN malenia-sgd: a round ends when n - 1 workers contributed",
         _system(_rounds(lambda S: RoundRule(_all_but_one_enough(S), _aggregate_rows_present, "table"))))


# --- Ringleader: phase 1 with n - 1 rows; stored arrivals lost ------------------------------------


def _ringleader_server(problem, splits, p, seed, x0, **hooks):
    """The real Ringleader server with its hooks replaced (``ready``, ``keep_stored``)."""
    return ringleader.server(problem, splits, p["gamma"], p["T"], p["n"], p["batch"], seed, x0, **hooks)


def _n_minus_one_rows(table) -> bool:
    return sum(1 for row in table if row) >= len(table) - 1     # the mistake: one row may still be empty


_variant("ringleader-asgd", "broken-ringleader-n-minus-one",
         "BROKEN ringleader-asgd: phase 1 ends when n - 1 rows of the table are filled",
         _system(lambda *a: _ringleader_server(*a, ready=_n_minus_one_rows)))
_variant("ringleader-asgd", "broken-ringleader-drops-stored",
         "BROKEN ringleader-asgd: arrivals of already-updated workers are recorded as stored, then lost",
         _system(lambda *a: _ringleader_server(*a, keep_stored=False)))


# --- every algorithm: worker k computes on worker k + 1's data ----------------------------------

OTHER_WORKERS_DATA = {
    "fedbuff": _system(lambda problem, splits, p, seed, x0: fedbuff.server(problem, splits, p, seed, x0), shift=True),
    "rennala-sgd": _system(_rounds(rennala.rennala_rule), shift=True),
    "malenia-sgd": _system(_rounds(malenia.malenia_rule), shift=True),
    "ringleader-asgd": _system(_ringleader_server, shift=True),
}
for _base, _build in OTHER_WORKERS_DATA.items():
    _variant(_base, f"broken-{_base.split('-')[0]}-other-workers-data",
             f"BROKEN {_base}: worker k computes on worker k + 1's local data", _build)
