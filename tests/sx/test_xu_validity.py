"""Where Xu's stage estimates fail and the exact design does not (issue 19, item 5).

A balanced Nd/Pr feed (f_Nd 0.5), beta 1.4, 99.5 % both ways, S = 1.2 S_min (S_min = f + 1/(beta - 1) = 3.0,
Underwood's minimum for a sharp split), W = S - the product split. Oracles: the exact cascade solve of each
stage count (the engine's full residual, not the design search), every split of Xu's total between the two
sections enumerated, and Underwood's S_min by hand.
"""

from __future__ import annotations

import math

from magcycle.sx import solve
from magcycle.sx.design import product_split, xu_stage_estimates
from magcycle.sx.optimise import design_problem, minimum_stages

BETA, F, P = 1.4, 0.5, 0.995
S_MIN = F + 1 / (BETA - 1)  # 3.0 by hand
S = 1.2 * S_MIN
DOC = {"cascade": {"model": "constant_beta"}, "flows": {"organic": S, "feed": 1.0, "scrub": None},
       "feed": {"Nd": F, "Pr": 1 - F}, "model": {"beta": {"Nd": BETA, "Pr": 1.0}, "organic_loading": 1.0,
                                                "scrub_acid": 3.0},
       "targets": {"extract": {"Nd": {"purity": P}}, "raffinate": {"Pr": {"purity": P}}}}


def _meets(spec, n: int, m: int) -> bool:
    res = solve(spec.replace({"cascade": {"extraction_stages": n, "scrub_stages": m}}))
    nd, pr = res.components.index("Nd"), res.components.index("Pr")
    return res.purity_of("extract")[nd] >= P and res.purity_of("raffinate")[pr] >= P


def test_xu_undershoots_a_balanced_low_beta_split_that_the_exact_design_meets():
    split = product_split(F, P, P)
    assert math.isclose(split, 0.5)  # symmetric targets on a balanced feed: half the feed to each product
    W = S - split
    doc = dict(DOC, flows=dict(DOC["flows"], scrub=W))
    n, m = xu_stage_estimates(BETA, F, P, P, S, W)
    xu_total = math.ceil(n + m + 1)  # Xu's total, rounded up in its favour
    assert xu_total == 54

    prob = design_problem(doc, source="xu-check")
    exact = minimum_stages(prob.spec, prob.targets, max_stages=300)
    total = exact.extraction_stages + exact.scrub_stages
    assert total == 60 and _meets(prob.spec, exact.extraction_stages, exact.scrub_stages)
    # no split of Xu's 54 stages between the sections meets the targets: Xu is 6 stages short
    assert not any(_meets(prob.spec, k, xu_total - k) for k in range(1, xu_total))
