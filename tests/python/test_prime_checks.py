"""Prime artefacts are detected, never silently accepted.

The numeric points below are chosen so that a coefficient vanishes modulo the small prime
65537 but not over the rationals: d = 65537 + 6 makes (d - 6) = 0 mod p in the tadpole's
I(4) = (d-2)(d-4)(d-6) / (48 msq^3) I(1); d = 65537 + 2 makes the massless tadpole's IBP
(d - 2) I(1) = 0 vanish identically, so the one-line sectors look like they had masters.
"""

from __future__ import annotations

import pytest

import sailir

P = 65537


def test_accidental_zero_coefficient_is_reported():
    r = sailir.reduce(["I[4]", "I[2]"], "tadpole", prime=P, point={"d": P + 6, "msq": 7})
    assert r["prime"] == P
    assert r["reductions"]["I[4]"] == {}  # zero modulo P ...
    assert any("I[4]" in w and "accidental zero" in w for w in r["warnings"])  # ... and reported
    assert r["reductions"]["I[2]"] != {}


def test_rank_drop_is_retried_on_another_prime():
    r = sailir.reduce(["I[2,1]"], "bubble", prime=P, point={"d": P + 2, "s": 13})
    assert r["prime"] != P  # the unlucky prime was replaced ...
    assert r["masters"] == [[1, 1]]  # ... by one giving the true basis
    assert any("unlucky" in w and str(P) in w for w in r["warnings"])
    # The result is the correct reduction modulo the prime it reports.
    again = sailir.reduce(["I[2,1]"], "bubble", prime=r["prime"], point={"d": P + 2, "s": 13}, check=False)
    assert again["reductions"] == r["reductions"]


def test_without_check_the_artefact_is_not_detected():
    """What --no-check gives up: the spurious masters of the unlucky prime stand."""
    r = sailir.reduce(["I[2,1]"], "bubble", prime=P, point={"d": P + 2, "s": 13}, check=False)
    assert len(r["masters"]) == 3 and r["check_prime"] is None


def test_agreeing_primes_give_no_warning():
    r = sailir.reduce(["I[3]"], "tadpole", point={"d": 41, "msq": 7})
    assert r["warnings"] == [] and r["check_prime"] not in (None, r["prime"])


def test_python_api_rejects_positive_power_on_irreducible_numerator():
    with pytest.raises(ValueError, match="irreducible numerator"):
        sailir.reduce(["I[1,1,1,1,1,1,1]"], "trianglebox")
