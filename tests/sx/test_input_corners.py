"""Cascades at the corners of the input ranges: an answer that closes, or an error; never a NaN.

The schema (:mod:`magcycle.sx.schema`) bounds every input: D and beta in
[1e-12, 1e12], flows in [1e-12, 1e12] L/h, concentrations in [1e-40, 100] mol/L,
log10 K in [-30, 30], at most 1000 stages per section. At its corners each
model must either return a result whose every number is finite and whose
element closure, recomputed here from the outlet flows against the feed
flows, is within 1e-9, or raise ConvergenceError or MassBalanceError with a
one-line message; and it must do so in seconds.

constant_d is exact, so its expected outcome is known: a result, except
where the exact internal flows exceed the double range (a component that the
extraction section takes up with a factor of 5e11 and the scrub returns with
one of 1e-12 circulates at about e^27000 times its feed). The nonlinear
models may give up at these corners (their Newton may not reach the
solution); they may not return a NaN.
"""

import json
import signal
import time

import numpy as np
import pytest

from magcycle.errors import ConvergenceError, MassBalanceError
from magcycle.schema import MAX_STAGES
from magcycle.sx import CascadeSpec, solve
from magcycle.sx.spec import MAX_CONCENTRATION, MAX_FLOW_L_PER_H, RATIO_RANGE

LO, HI = RATIO_RANGE
N = MAX_STAGES
#: a case that takes longer than this is taken to hang (each takes at most a few seconds)
CASE_SECONDS = 30
BIG_ORGANIC = {"organic": MAX_FLOW_L_PER_H, "feed": 1e-3, "scrub": 1e-3, "strip": MAX_FLOW_L_PER_H}
BIG_AQUEOUS = {"organic": 1e-3, "feed": MAX_FLOW_L_PER_H, "scrub": MAX_FLOW_L_PER_H, "strip": 1e-3}
UNIT = {"organic": 1.0, "feed": 1.0, "scrub": 1.0, "strip": 1.0}
WIDE_FEED = {"Nd": MAX_CONCENTRATION, "Pr": 1e-30}


def constant_d(stages, flows, D, D_scrub, feed=WIDE_FEED):
    n, m, k = stages
    return {"cascade": {"model": "constant_d", "extraction_stages": n, "scrub_stages": m, "strip_stages": k},
            "flows": flows, "feed": feed, "model": {"D": D, "D_scrub": D_scrub, "D_strip": D_scrub}}


def constant_beta(stages, beta, case):
    n, m = stages
    if case == "big organic":  # S = 1, W = 0.95, F = 0.1 mol/h
        flows, feed = {"organic": MAX_FLOW_L_PER_H, "feed": 1e-3, "scrub": 1.0}, {"Nd": 50.0, "Pr": 50.0}
        model = {"organic_loading": 1.0 / MAX_FLOW_L_PER_H, "scrub_acid": 2.85}
    else:  # at the largest flow Q: S = 10 Q, W = 20 Q / 3, F = 10 Q mol/h, a trace of Pr
        flows, feed = {"organic": MAX_FLOW_L_PER_H, "feed": MAX_FLOW_L_PER_H, "scrub": MAX_FLOW_L_PER_H}, \
            {"Nd": 10.0, "Pr": 1e-30}
        model = {"organic_loading": 10.0, "scrub_acid": 20.0}
    return {"cascade": {"model": "constant_beta", "extraction_stages": n, "scrub_stages": m},
            "flows": flows, "feed": feed, "model": {"beta": beta} | model}


def mass_action(stages, log10_K, case):
    n, m, k = stages
    if case == "big organic":
        flows, feed = {"organic": MAX_FLOW_L_PER_H, "feed": 1e-3, "scrub": 1.0, "strip": 1.0}, WIDE_FEED
        model = {"extractant": 10.0, "saponification": 0.0, "feed_acid": 0.0, "scrub_acid": 20.0,
                 "strip_acid": 20.0}
    else:
        flows, feed = BIG_AQUEOUS, {"Nd": 1e-30, "Pr": MAX_CONCENTRATION}
        model = {"extractant": 1e-3, "saponification": 0.5, "feed_acid": 20.0, "scrub_acid": 1e-3,
                 "strip_acid": 1e-3}
    return {"cascade": {"model": "mass_action", "extraction_stages": n, "scrub_stages": m, "strip_stages": k},
            "flows": flows, "feed": feed, "model": {"log10_K": log10_K} | model}


MIXED = {"Nd": HI, "Pr": LO}
SWAPPED = {"Nd": LO, "Pr": HI}
CASES = [  # (id, document, expected outcome: "solved", "raised" or None for either)
    ("d-all-sections-big-organic", constant_d((N, N, N), BIG_ORGANIC, MIXED, SWAPPED), "solved"),
    ("d-all-sections-big-aqueous", constant_d((N, N, N), BIG_AQUEOUS, MIXED, SWAPPED), "solved"),
    ("d-all-sections-same-D", constant_d((N, N, N), UNIT, MIXED, MIXED), "solved"),
    ("d-extraction-only", constant_d((N, 0, 0), BIG_ORGANIC, MIXED, MIXED), "solved"),
    ("d-one-extraction-stage", constant_d((1, N, N), BIG_AQUEOUS, SWAPPED, MIXED), "solved"),
    ("d-trapped-component", constant_d((N, N, N), UNIT, MIXED, SWAPPED), "raised"),
    ("beta-extraction-only-1e24", constant_beta((N, 0), MIXED, "big organic"), None),
    ("beta-extraction-only-trace", constant_beta((N, 0), MIXED, "big aqueous"), None),
    ("beta-both-sections-1e24", constant_beta((N, N), MIXED, "big organic"), None),
    ("beta-both-sections-near-1", constant_beta((N, N), {"Nd": 1.0000001, "Pr": 1.0}, "big aqueous"), None),
    ("beta-short-1e12", constant_beta((10, 10), {"Nd": HI, "Pr": 1.0}, "big organic"), None),
    ("mass-action-long-K-30", mass_action((N, 0, 0), {"Nd": -30.0, "Pr": -30.0}, "big organic"), None),
    ("mass-action-long-K+30", mass_action((N, 0, 0), {"Nd": 30.0, "Pr": 30.0}, "big aqueous"), None),
    ("mass-action-long-K-mixed", mass_action((N, 0, 0), {"Nd": 30.0, "Pr": -30.0}, "big organic"), None),
    ("mass-action-short-K-mixed", mass_action((10, 10, 10), {"Nd": 30.0, "Pr": -30.0}, "big aqueous"), None),
    ("mass-action-short-K+30", mass_action((10, 10, 10), {"Nd": 30.0, "Pr": 30.0}, "big aqueous"), None),
]


class _Hang(Exception):
    pass


def _alarm(signum, frame):
    raise _Hang(f"no answer within {CASE_SECONDS} s")


def outcome(spec):
    """'solved' after checking every number of the result, or 'raised' after checking the error."""
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(CASE_SECONDS)
    try:
        try:
            r = solve(spec)
            profile = (r.aqueous, r.organic, r.residual)
        except (ConvergenceError, MassBalanceError) as exc:
            message = str(exc)
            assert message and "\n" not in message
            return "raised"
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert r.converged
    numbers = [r.closure, *profile, *(o.mol_per_h for o in r.outlets.values())]
    if r.pH is not None:
        numbers.append(r.pH)
    assert all(np.all(np.isfinite(v)) for v in numbers)
    feed = spec.feed_mol_per_h
    total = np.zeros_like(feed)
    for o in r.outlets.values():
        total = total + o.mol_per_h
    assert np.max(np.abs(feed - total) / feed) <= 1e-9
    assert r.closure <= 1e-9
    json.dumps(r.to_dict(), allow_nan=False)  # strict JSON: no NaN or Infinity token anywhere
    return "solved"


@pytest.mark.parametrize("doc, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_corner_gives_a_finite_answer_or_an_error(doc, expected):
    spec = CascadeSpec.from_dict(doc)
    t0 = time.perf_counter()
    got = outcome(spec)
    assert time.perf_counter() - t0 < CASE_SECONDS
    if expected is not None:
        assert got == expected


def test_long_cascades_go_to_the_block_newton(monkeypatch):
    # a dense reduced system of 2000 or 6000 unknowns takes seconds per LU: above
    # REDUCED_MAX_UNKNOWNS the block-tridiagonal Newton alone solves the cascade
    from magcycle.sx import solver

    def dense(*args, **kwargs):
        raise AssertionError("the dense reduced solver was called")

    monkeypatch.setattr(solver, "beta_multipliers", dense)
    monkeypatch.setattr(solver, "mass_action_multipliers", dense)
    for doc in (constant_beta((N, N), {"Nd": 1.0000001, "Pr": 1.0}, "big aqueous"),
                mass_action((N, 0, 0), {"Nd": -30.0, "Pr": -30.0}, "big organic")):
        assert outcome(CascadeSpec.from_dict(doc)) == "solved"
