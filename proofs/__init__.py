"""Proofs: the papers' claims as executable statements (``asyncproof prove``).

Each claim (:class:`Claim`) cites its seed file and slide, states the claim, and
carries checks: sympy derivations, Monte Carlo estimates on runs of the reference
engine, Hypothesis properties, and counterexample searches.  The builtin claims
live in :mod:`asyncproof.proofs.claims`, one module per claim, loaded on first use.

Layering: imports :mod:`asyncproof.reference` and :mod:`asyncproof.budgets` only.
"""

from .registry import (BUDGETS, CLAIMS, KINDS, Check, CheckResult, Claim, all_claims, get_claim,
                       hypothesis_settings, register, run_claim)

__all__ = ["BUDGETS", "CLAIMS", "KINDS", "Check", "CheckResult", "Claim", "all_claims", "get_claim",
           "hypothesis_settings", "register", "run_claim"]
