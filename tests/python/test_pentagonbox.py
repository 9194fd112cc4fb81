"""The pentagon-box, a second family with a shipped policy: found by the family's content hash when
the family is given as its Kira project, good on fresh scrambles, and reducing with no fallback."""

from __future__ import annotations

from pathlib import Path

import pytest

import sailir
from sailir.policy.evaluate import evaluate

PROJECT = Path(__file__).resolve().parent / "data" / "kira_pentagonbox"
POINT = "d=41/3,s12=31/7,s23=47/11,s34=53/13,s45=59/17,s51=67/19"


def test_shipped_policy_is_found_and_ranks_fresh_scrambles() -> None:
    r = evaluate(str(PROJECT), None, 100, 2027, 2)
    assert r["family"] == "TA" and r["samples"] > 500
    assert r["top1"] >= 0.9  # issue 16: top-1 >= 90% on fresh scrambles
    assert r["top1"] > r["ranking_top1"]  # and better than the weight ranking alone


@pytest.mark.slow  # about 3 minutes, most of it setting up the learned run's context (opt-in: -m slow)
def test_learned_reduction_with_the_shipped_policy() -> None:
    integrals = ["TA[2,0,1,0,1,1,0,0,0,0,0]", "TA[1,0,1,0,1,1,0,0,-1,0,0]"]
    kw = {"point": POINT, "masters": str(PROJECT / "masters"), "check": False}
    learned = sailir.reduce(integrals, str(PROJECT), method="learned", verify=True, **kw)
    laporta = sailir.reduce(integrals, str(PROJECT), **kw)
    assert learned["verified"] is True and learned.stats["fallbacks"] == 0
    assert learned.masters == laporta.masters and learned.reductions == laporta.reductions
    assert any(learned.reductions[t] for t in learned.reductions)
