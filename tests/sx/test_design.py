"""Tests for magcycle.sx.design: short-cut cascade design formulas.

Every asserted number comes from an oracle independent of design.py:

* published tables: ``shared/validation/sx-public-cases.md`` (cases file)
  sections 1-3, ``shared/design/sx-numerics.md`` section 3 (worked example
  table), ``shared/data/reference-data.md`` sections 3c, 3d and 7;
* hand calculations written out below (exact rationals where possible);
* mpmath evaluations at 50 digits;
* an exact stage-by-stage balance solved in rational arithmetic
  (:class:`fractions.Fraction`), and the exact engine
  :func:`magcycle.sx.solve` (constant_d closed form, constant_beta Newton).

The constant_beta engine is run at the published cases and at flows close
to them (the Newton solver is being hardened separately).
"""

from __future__ import annotations

import math
from fractions import Fraction

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from magcycle.errors import InputError
from magcycle.sx import CascadeSpec, solve
from magcycle.sx.design import (
    fenske_min_stages,
    kremser_unextracted_fraction,
    minimum_extractant,
    product_split,
    two_section_extract_fraction,
    xu_optimum_ratios,
    xu_stage_estimates,
)

# Published constant_beta cases (cases file section 2; reference-data section 7 V1):
# (A, B, beta, f_A, S, W, n, m, extract purity of A, raffinate purity of B)
ND_PR = ("Nd", "Pr", 1.5, 0.75, 3.30, 2.547475, 24, 24, 0.99516281, 0.99549406)
DY_TB = ("Dy", "Tb", 2.0, 0.85, 2.22, 1.366465, 14, 11, 0.99505191, 0.99530009)
TARGET = 0.995  # both purities, cases file section 2 / reference-data section 3c


# ------------------------------------------------------------------ helpers
def constant_d_spec(D, D_scrub, n, m, *, organic=1.0, feed=1.0, scrub=1.0):
    return CascadeSpec.from_dict({
        "cascade": {"model": "constant_d", "extraction_stages": n, "scrub_stages": m},
        "flows": {"organic": organic, "feed": feed, "scrub": scrub},
        "feed": {"Nd": 0.1},
        "model": {"D": {"Nd": D}, "D_scrub": {"Nd": D_scrub}},
    })


def beta_purities(A, B, beta, f_A, S, W, n, m):
    """(extract purity of A, raffinate purity of B) from the constant_beta engine.

    Feed 1 L/h, organic_loading 1, scrub_acid 3: organic L/h = S, scrub L/h = W
    (cases file section 2).
    """
    spec = CascadeSpec.from_dict({
        "cascade": {"model": "constant_beta", "extraction_stages": n, "scrub_stages": m},
        "flows": {"organic": S, "feed": 1.0, "scrub": W},
        "feed": {A: f_A, B: 1.0 - f_A},
        "model": {"beta": {A: beta, B: 1.0}, "organic_loading": 1.0, "scrub_acid": 3.0},
    })
    res = solve(spec)
    iA, iB = spec.components.index(A), spec.components.index(B)
    return float(res.purity_of("extract")[iA]), float(res.purity_of("raffinate")[iB])


def exact_extract_fraction(e, e_scrub, n, m):
    """Stage-by-stage linear balance solved exactly in rational arithmetic.

    Aqueous a_j and organic o_j = e_j a_j leave stage j; stage j balance
    a_{j+1} + o_{j-1} + F [j = n] - a_j - o_j = 0, barren organic (o_0 = 0)
    and barren scrub (a_{N+1} = 0); the extract is o_N. Thomas elimination in
    Fractions has no rounding at all.
    """
    e, e_scrub = Fraction(e), Fraction(e_scrub)
    N = n + m
    ex = [e if j <= n else e_scrub for j in range(1, N + 1)]
    sub = [Fraction(0)] + [ex[j - 1] for j in range(1, N)]  # coefficient of a_{j-1}
    diag = [-(1 + x) for x in ex]
    sup = [Fraction(1)] * N  # coefficient of a_{j+1}
    rhs = [Fraction(0)] * N
    rhs[n - 1] = Fraction(-1)  # F = 1
    for j in range(1, N):
        w = sub[j] / diag[j - 1]
        diag[j] -= w * sup[j - 1]
        rhs[j] -= w * rhs[j - 1]
    a_last = rhs[N - 1] / diag[N - 1]
    return ex[-1] * a_last


# ------------------------------------------------------------------ Kremser
def test_kremser_published_values():
    # cases file section 1 (and sx-numerics section 3.1)
    assert kremser_unextracted_fraction(1.2, 5) == pytest.approx(0.1007057458670362, rel=1e-12, abs=0)
    assert kremser_unextracted_fraction(1.0, 5) == pytest.approx(1 / 6, rel=1e-12, abs=0)


def test_kremser_hand_values():
    # 1 / sum_{i=0..n} e^i by hand: e = 2, n = 3 -> 1/15; e = 1/2, n = 2 -> 4/7
    assert kremser_unextracted_fraction(2.0, 3) == pytest.approx(1 / 15, rel=1e-15, abs=0)
    assert kremser_unextracted_fraction(0.5, 2) == pytest.approx(4 / 7, rel=1e-15, abs=0)
    assert kremser_unextracted_fraction(3.0, 0) == 1.0  # no stage, nothing extracted
    assert kremser_unextracted_fraction(0.0, 4) == 1.0  # no extraction


@pytest.mark.parametrize("e", [0.3, 0.999, 1.0, 1.2, 3.7, 15.0])
@pytest.mark.parametrize("n", [1, 5, 17, 40])
def test_kremser_matches_constant_d_engine(e, n):
    # cases file section 1: extraction_stages = n, scrub_stages = 0, feed 1 L/h,
    # organic 1 L/h, scrub 0, D = e
    spec = constant_d_spec(e, e, n, 0, scrub=0.0)
    engine = float(solve(spec).fraction_to_raffinate[0])
    assert kremser_unextracted_fraction(e, n) == pytest.approx(engine, rel=1e-12, abs=0)


@pytest.mark.parametrize(
    "e, n",
    [
        (1.0 + 1e-12, 5), (1.0 - 1e-12, 40), (1.0 + 1e-8, 100), (1.0 - 3e-7, 7),
        (1.0 + 3e-5, 60), (0.999, 300), (1e-3, 50), (50.0, 150), (1e3, 100),
        (1e200, 1),  # e^(n+1) overflows a float, the fraction (~1e-200) does not
    ],
)
def test_kremser_stable_against_mpmath(e, n):
    with mp.workdps(50):
        x = mp.mpf(e)  # the float e exactly
        oracle = (x - 1) / (x ** (n + 1) - 1)
        assert kremser_unextracted_fraction(e, n) == pytest.approx(float(oracle), rel=1e-13, abs=0)


def test_kremser_broadcasts():
    e = np.array([0.5, 1.0, 2.0])
    got = kremser_unextracted_fraction(e[:, None], np.array([1, 3]))
    assert got.shape == (3, 2)
    for i, ei in enumerate(e):
        for j, nj in enumerate([1, 3]):
            assert got[i, j] == kremser_unextracted_fraction(float(ei), nj)


# -------------------------------------------------------------- two section
def test_two_section_hand_values():
    # sx-numerics section 3.2 check: e = 0.5, e' = 2, n = m = 1:
    # Phi_E = 0.5, Phi_S = 1 + 1/2 -> theta = 0.5 / 2 = 1/4 exactly
    assert two_section_extract_fraction(0.5, 2.0, 1, 1) == 0.25
    # e = 2, e' = 4, n = 2, m = 1: Phi_E = 2 + 4 = 6, Phi_S = 1 + 1/4 -> 24/29
    assert two_section_extract_fraction(2.0, 4.0, 2, 1) == pytest.approx(24 / 29, rel=1e-15, abs=0)
    # m = 0 is Kremser: 1 - theta = 1/(1 + 1.2 + ... + 1.2^5), cases file section 1
    theta = two_section_extract_fraction(1.2, 9.0, 5, 0)
    unextracted = 1.0 - theta
    assert unextracted == pytest.approx(0.1007057458670362, rel=1e-12, abs=0)


def test_two_section_extreme_factors_against_mpmath():
    # sums of 1e4^60 overflow a float; theta must still be right (log branch)
    cases = [(1e4, 1e-3, 60, 60), (1e-4, 1e4, 60, 60), (1e-4, 1e-4, 80, 80), (30.0, 0.01, 200, 200)]
    with mp.workdps(50):
        for e, es, n, m in cases:
            E, Es = mp.mpf(e), mp.mpf(es)
            phi_E = mp.fsum(E**j for j in range(1, n + 1))
            phi_S = mp.fsum(Es ** (-j) for j in range(m + 1))
            oracle = phi_E / (phi_E + phi_S)
            assert two_section_extract_fraction(e, es, n, m) == pytest.approx(float(oracle), rel=1e-12, abs=0)


factor = st.floats(min_value=math.log(0.05), max_value=math.log(20.0)).map(math.exp)


@settings(max_examples=120, deadline=None)
@given(e=factor, es=factor, n=st.integers(1, 60), m=st.integers(0, 60))
def test_two_section_matches_constant_d_engine(e, es, n, m):
    # organic 1, feed 1, scrub 1 L/h: e = D*1/(1+1), e' = D_scrub*1/1
    res = solve(constant_d_spec(2.0 * e, es, n, m))
    theta = two_section_extract_fraction(e, es, n, m)
    assert theta == pytest.approx(float(res.fraction_to_extract[0]), rel=1e-12, abs=0)


@settings(max_examples=40, deadline=None)
@given(e=factor, es=factor, n=st.integers(1, 25), m=st.integers(0, 25))
def test_two_section_matches_exact_rational_balance(e, es, n, m):
    oracle = exact_extract_fraction(e, es, n, m)
    assert two_section_extract_fraction(e, es, n, m) == pytest.approx(float(oracle), rel=1e-12, abs=0)


# ------------------------------------------------------------------- Fenske
def test_fenske_published_values():
    # cases file section 3: Nd/Pr beta 1.5, f_Nd 0.75, P = 0.995/0.995 -> 26.11
    assert abs(fenske_min_stages(1.5, 0.75, 0.995, 0.995) - 26.11) < 0.005
    # reference-data sections 3c and 7: Dy/Tb beta 2, f_Dy 0.85 -> 15.3
    assert abs(fenske_min_stages(2.0, 0.85, 0.995, 0.995) - 15.3) < 0.05
    # sx-numerics section 3 worked example: P_Nd 0.995, P_Pr 0.99 -> 24.388
    assert abs(fenske_min_stages(1.5, 0.75, 0.995, 0.99) - 24.388) < 0.0005


def test_fenske_hand_values_mpmath():
    with mp.workdps(50):
        # equal purities: a*b = (P/(1-P))^2 = 199^2 for P = 0.995, whatever f
        for beta, f_A in [(1.5, 0.75), (2.0, 0.85), (1.3, 0.2)]:
            oracle = 2 * mp.log(199) / mp.log(mp.mpf(beta))
            assert fenske_min_stages(beta, f_A, 0.995, 0.995) == pytest.approx(float(oracle), rel=1e-12, abs=0)
        # worked example written out: a = 199/3 = 66.333, b = 99*3 = 297
        a, b = mp.mpf(199) / 3, mp.mpf(297)
        oracle = mp.log(a * b) / mp.log(mp.mpf("1.5"))
    assert fenske_min_stages(1.5, 0.75, 0.995, 0.99) == pytest.approx(float(oracle), rel=1e-12, abs=0)
    # log-form accuracy for purities near 1: P = 1 - 1e-12 on both sides, f = 1/2
    with mp.workdps(50):
        P = mp.mpf(1 - 1e-12)
        oracle = 2 * mp.log(P / (1 - P)) / mp.log(2)
    assert fenske_min_stages(2.0, 0.5, 1 - 1e-12, 1 - 1e-12) == pytest.approx(float(oracle), rel=1e-12, abs=0)


def test_fenske_broadcasts():
    got = fenske_min_stages(np.array([1.5, 2.0]), np.array([0.75, 0.85]), 0.995, 0.995)
    assert got == pytest.approx([fenske_min_stages(1.5, 0.75, 0.995, 0.995),
                                 fenske_min_stages(2.0, 0.85, 0.995, 0.995)], rel=1e-15, abs=0)


@pytest.mark.parametrize("case", [ND_PR, DY_TB], ids=["Nd/Pr", "Dy/Tb"])
def test_engine_never_beats_fenske(case):
    A, B, beta, f_A = case[:4]
    N_min = fenske_min_stages(beta, f_A, TARGET, TARGET)
    P = (TARGET - (1 - f_A)) / (2 * TARGET - 1)  # product split, written out
    W = 1e4  # near total reflux; S = W + P
    N = math.floor(N_min)
    for n in range(1, N + 1):  # every split of floor(N_min) stages, m = N - n >= 0
        xA, xB = beta_purities(A, B, beta, f_A, W + P, W, n, N - n)
        assert not (xA >= TARGET and xB >= TARGET), (n, N - n, xA, xB)
        # the separation achieved never exceeds Fenske's total-reflux beta^N ...
        separation = xA / (1 - xA) * xB / (1 - xB)
        assert separation <= beta**N * (1 + 1e-9)
        # ... and approaches it at this reflux for balanced splits
        if 3 <= n <= N - 3:
            assert separation > 0.98 * beta**N
    # one more stage (ceil(N_min)) is enough at near-total reflux: the bound is tight
    N = math.ceil(N_min)
    xA, xB = beta_purities(A, B, beta, f_A, W + P, W, N // 2, N - N // 2)
    assert xA >= TARGET and xB >= TARGET


# --------------------------------------------------- split, minimum extractant
def test_product_split_published_and_hand():
    # sx-numerics worked example: f'_A = 0.751269
    assert abs(product_split(0.75, 0.995, 0.99) - 0.751269) < 5e-7
    # reference-data section 7 V1: P = 0.752525 (Nd/Pr), 0.853535 (Dy/Tb)
    assert abs(product_split(0.75, 0.995, 0.995) - 0.752525) < 5e-7
    assert abs(product_split(0.85, 0.995, 0.995) - 0.853535) < 5e-7
    # hand: (0.995 - 0.25)/(0.99) = 0.745/0.99 exactly; sharp split gives f_A
    assert product_split(0.75, 0.995, 0.995) == pytest.approx(0.745 / 0.99, rel=1e-15, abs=0)
    assert product_split(0.3, 1.0, 1.0) == pytest.approx(0.3, rel=1e-15, abs=0)


@settings(max_examples=100, deadline=None)
@given(f_A=st.floats(0.05, 0.95), u=st.floats(0.01, 0.99), v=st.floats(0.01, 0.99))
def test_product_split_closes_balances(f_A, u, v):
    # purities between the feed fraction and 1; extract P and raffinate 1 - P must
    # close both the total and the A balance: P P_A + (1 - P)(1 - P_B) = f_A
    P_A = f_A + u * (1 - f_A)
    P_B = (1 - f_A) + v * f_A
    P = product_split(f_A, P_A, P_B)
    assert 0 < P < 1
    assert P * P_A + (1 - P) * (1 - P_B) == pytest.approx(f_A, rel=1e-12, abs=0)


def test_minimum_extractant_published_values():
    # sx-numerics section 3 worked example: S_min 2.69956, W_min 1.94829
    S, W = minimum_extractant(1.5, 0.75, 0.995, 0.99)
    assert abs(S - 2.69956) < 5e-6 and abs(W - 1.94829) < 5e-6
    # recoveries in the same table: Y_A 0.996684, Y_B 0.984975 -> hand Underwood
    # (each recovery rounded to 1e-6, so the hand value is good to 2.75e-6)
    hand = (1.5 * 0.75 + 0.25) * (0.996684 + 0.984975 - 1) / 0.5
    assert abs(S - hand) < 3e-6
    split = product_split(0.75, 0.995, 0.99)
    assert abs(0.995 * split / 0.75 - 0.996684) < 5e-7  # Y_A = P_A f'_A / f_A
    assert abs(0.99 * (1 - split) / 0.25 - 0.984975) < 5e-7  # Y_B = P_B f'_B / f_B
    # cases file section 3 / reference-data section 7: sharp split S_min = f_A + 1/(beta-1)
    # -> 2.75 (Nd/Pr) and 1.85 (Dy/Tb), W_min = 1/(beta-1)
    assert minimum_extractant(1.5, 0.75) == pytest.approx((2.75, 2.0), rel=1e-15, abs=0)
    assert minimum_extractant(2.0, 0.85) == pytest.approx((1.85, 1.0), rel=1e-15, abs=0)
    # the published cases run at 1.2 S_min: 3.30 and 2.22 (cases file section 2)
    assert minimum_extractant(1.5, 0.75)[0] * 1.2 == pytest.approx(3.30, rel=1e-12, abs=0)
    assert minimum_extractant(2.0, 0.85)[0] * 1.2 == pytest.approx(2.22, rel=1e-12, abs=0)


@settings(max_examples=100, deadline=None)
@given(beta=st.floats(1.05, 20.0), f_A=st.floats(0.05, 0.95),
       u=st.floats(0.05, 1.0), v=st.floats(0.05, 1.0))
def test_minimum_extractant_equals_feed_pinch(beta, f_A, u, v):
    # McCabe-Thiele by hand: at S_min the extraction and scrub operating lines meet
    # on the equilibrium curve at the feed composition (aqueous feed, q = 1). The
    # scrub-section line S y = W x + P P_A through (x, y) = (f_A, y*_F) gives
    # S_min = P (P_A - f_A) / (y*_F - f_A), y*_F = beta f_A/(beta f_A + f_B).
    P_A = f_A + u * (1 - f_A)
    P_B = (1 - f_A) + v * f_A
    P = (P_B - (1 - f_A)) / (P_A + P_B - 1)
    y_F = beta * f_A / (beta * f_A + 1 - f_A)
    S_pinch = P * (P_A - f_A) / (y_F - f_A)
    S, W = minimum_extractant(beta, f_A, P_A, P_B)
    assert S == pytest.approx(S_pinch, rel=1e-10, abs=0)
    assert W == pytest.approx(S_pinch - P, rel=1e-10, abs=1e-12)


def test_below_minimum_extractant_purity_plateaus():
    # worked example (sx-numerics section 3): beta 1.5, f_Nd .75, targets .995/.99
    beta, f_A, P_A, P_B = 1.5, 0.75, 0.995, 0.99
    S_min, _ = minimum_extractant(beta, f_A, P_A, P_B)
    P = (P_B - 0.25) / (P_A + P_B - 1)
    S = 0.95 * S_min
    W = S - P
    x80 = beta_purities("Nd", "Pr", beta, f_A, S, W, 80, 80)
    x200 = beta_purities("Nd", "Pr", beta, f_A, S, W, 200, 200)
    for xA, xB in (x80, x200):
        assert xA < P_A and xB < P_B
    assert abs(x200[0] - x80[0]) < 1e-4  # plateau: 240 more stages buy nothing
    # hand pinch value: infinite stages pinch at the feed, so the scrub-section
    # balance S y*_F = W f_A + P x_P gives the plateau extract purity
    y_F = beta * f_A / (beta * f_A + 1 - f_A)
    x_pinch = (S * y_F - W * f_A) / P
    assert x200[0] == pytest.approx(x_pinch, abs=1e-6)
    assert x_pinch < P_A


@pytest.mark.parametrize("factor", [1.05, 1.2])
def test_above_minimum_extractant_finite_stages_suffice(factor):
    beta, f_A, P_A, P_B = 1.5, 0.75, 0.995, 0.99
    S_min, _ = minimum_extractant(beta, f_A, P_A, P_B)
    P = (P_B - 0.25) / (P_A + P_B - 1)
    S = factor * S_min
    found = None
    for N in range(10, 46):  # symmetric N/N cascades
        xA, xB = beta_purities("Nd", "Pr", beta, f_A, S, S - P, N, N)
        if xA >= P_A and xB >= P_B:
            found = N
            break
    assert found is not None
    assert 2 * found >= fenske_min_stages(beta, f_A, P_A, P_B)


# ----------------------------------------------------------------------- Xu
def test_xu_optimum_worked_example():
    # sx-numerics section 3 worked example: f'_A = 0.751269 > 1/(1+sqrt 1.5) = 0.4495,
    # so E'_M = sqrt(beta) = 1.2247 -> S = 4.0940, W = 3.3428, E_M = 0.9427
    split = product_split(0.75, 0.995, 0.99)
    assert split > 1 / (1 + math.sqrt(1.5)) and abs(1 / (1 + math.sqrt(1.5)) - 0.4495) < 5e-5
    E, Es = xu_optimum_ratios(1.5, split)
    W = split / (Es - 1)  # from S - W = f'_A and S = E'_M W
    S = Es * W
    assert abs(Es - 1.2247) < 5e-5 and abs(E - 0.9427) < 5e-5
    assert abs(S - 4.0940) < 5e-5 and abs(W - 3.3428) < 5e-5
    assert E == pytest.approx(S / (1 + W), rel=1e-12, abs=0)
    S_min = minimum_extractant(1.5, 0.75, 0.995, 0.99)[0]
    assert abs(S / S_min - 1.52) < 0.005  # "= 1.52 S_min"


def test_xu_optimum_low_branch_and_switch():
    # f'_A = 0.3 <= 1/(1+sqrt 2) = 0.414: E_M = 1/sqrt 2; by hand from S/(1+W) = E_M
    # and S - W = 0.3: S = 0.7/(sqrt 2 - 1), W = S - 0.3, E'_M = S/W
    E, Es = xu_optimum_ratios(2.0, 0.3)
    S = 0.7 / (math.sqrt(2) - 1)
    W = S - 0.3
    assert E == pytest.approx(1 / math.sqrt(2), rel=1e-14, abs=0)
    assert Es == pytest.approx(S / W, rel=1e-13, abs=0)
    assert E == pytest.approx(S / (1 + W), rel=1e-13, abs=0)
    # continuity at the switch point: both ratios at their optimum values
    for beta in (1.5, 2.0, 5.0):
        r = math.sqrt(beta)
        s = 1 / (1 + r)
        for split in (s * (1 - 1e-12), s * (1 + 1e-12)):
            E, Es = xu_optimum_ratios(beta, split)
            assert E == pytest.approx(1 / r, rel=1e-9, abs=0) and Es == pytest.approx(r, rel=1e-9, abs=0)
    # the optimum always satisfies Xu's constraints beta E_M > 1 > E_M, E'_M > 1 > E'_M/beta
    splits = np.linspace(0.01, 0.99, 99)
    E, Es = xu_optimum_ratios(1.5, splits)
    assert np.all((1.5 * E > 1) & (E < 1) & (Es > 1) & (Es < 1.5))


def test_xu_stage_estimates_published():
    # sx-numerics worked example: n = 16.43, m = 19.69 at S = 4.0940, W = 3.3428
    n, m = xu_stage_estimates(1.5, 0.75, 0.995, 0.99, 4.0940, 3.3428)
    assert abs(n - 16.43) < 0.005 and abs(m - 19.69) < 0.005
    # reference-data section 3d: beta 1.5, S 3.30: "n = 19.2, m = 28.6, total 47.8".
    # Its "m" is lg a / lg(beta/E'_M), i.e. m + 1 in the sx-numerics form.
    n, m = xu_stage_estimates(1.5, 0.75, 0.995, 0.995, 3.30, 2.547475)
    assert abs(n - 19.2) < 0.05 and abs((m + 1) - 28.6) < 0.05
    assert abs(n + m + 1 - 47.8) < 0.05


def test_xu_stage_estimates_hand_mpmath():
    with mp.workdps(50):
        beta, S, W = mp.mpf("1.5"), mp.mpf("3.30"), mp.mpf("2.547475")
        a = (mp.mpf("0.995") / mp.mpf("0.005")) / 3  # [P/(1-P)] / (f_A/f_B)
        b = (mp.mpf("0.995") / mp.mpf("0.005")) * 3
        n_hand = mp.log(b) / mp.log(beta * S / (1 + W))
        m_hand = mp.log(a) / mp.log(beta / (S / W)) - 1
    n, m = xu_stage_estimates(1.5, 0.75, 0.995, 0.995, 3.30, 2.547475)
    assert n == pytest.approx(float(n_hand), rel=1e-12, abs=0)
    assert m == pytest.approx(float(m_hand), rel=1e-12, abs=0)


def exact_min_total(case, n_range):
    """Smallest n + m meeting both target purities, by engine brute force.

    Both purities rise with n and with m at fixed flows, so the least m for
    each n is non-increasing in n: walk n downward, m upward (a staircase).
    """
    A, B, beta, f_A, S, W = case[:6]
    best = {}
    m = 0
    for n in sorted(n_range, reverse=True):
        while m <= 60:
            xA, xB = beta_purities(A, B, beta, f_A, S, W, n, m)
            if xA >= TARGET and xB >= TARGET:
                best[n] = m
                break
            m += 1
        else:
            break  # this n cannot reach the targets with any m <= 60; fewer n cannot either
    return best


@pytest.mark.parametrize("case, published_total", [(ND_PR, 48), (DY_TB, 25)], ids=["Nd/Pr", "Dy/Tb"])
def test_xu_estimates_near_engine_minimum(case, published_total):
    A, B, beta, f_A, S, W, n_pub, m_pub, pA, pB = case
    # the published cascade reproduces (cases file section 2, tolerance 1e-7)
    xA, xB = beta_purities(A, B, beta, f_A, S, W, n_pub, m_pub)
    assert xA == pytest.approx(pA, abs=1e-7) and xB == pytest.approx(pB, abs=1e-7)
    n_est, m_est = xu_stage_estimates(beta, f_A, TARGET, TARGET, S, W)
    lo, hi = round(n_est) - 3, round(n_est) + 10
    best = exact_min_total(case, range(lo, hi + 1))
    total = min(n + m for n, m in best.items())
    argmins = [n for n, m in best.items() if n + m == total]
    assert lo < min(argmins) and max(argmins) < hi  # the minimum is inside the search window
    # exact minimum stage count = the published one (cases file section 2,
    # reference-data section 3c: 48 for Nd/Pr, 25 for Dy/Tb) ...
    assert total == published_total
    assert n_pub in argmins and best[n_pub] == m_pub
    # ... never below Fenske, and Xu's estimate is within ~2-3 stages of it
    assert total >= fenske_min_stages(beta, f_A, TARGET, TARGET)
    assert abs(n_est + m_est - total) < 2.5


# ---------------------------------------------------------------- bad input
BAD = [
    (kremser_unextracted_fraction, (-0.1, 5), "e"),
    (kremser_unextracted_fraction, (float("nan"), 5), "e"),
    (kremser_unextracted_fraction, ("abc", 5), "e"),
    (kremser_unextracted_fraction, (1.2, -1), "n"),
    (kremser_unextracted_fraction, (1.2, 2.5), "n"),
    (two_section_extract_fraction, (0.0, 2.0, 1, 1), "e_extraction"),
    (two_section_extract_fraction, (0.5, -2.0, 1, 1), "e_scrub"),
    (two_section_extract_fraction, (0.5, 2.0, 0, 1), "n"),
    (two_section_extract_fraction, (0.5, 2.0, 1, -1), "m"),
    (fenske_min_stages, (1.0, 0.75, 0.995, 0.995), "beta"),
    (fenske_min_stages, (0.8, 0.75, 0.995, 0.995), "beta"),
    (fenske_min_stages, (1.5, 0.0, 0.995, 0.995), "feed_fraction_A"),
    (fenske_min_stages, (1.5, 1.2, 0.995, 0.995), "feed_fraction_A"),
    (fenske_min_stages, (1.5, 0.75, 0.70, 0.995), "purity_A"),  # below the feed fraction
    (fenske_min_stages, (1.5, 0.75, 1.0, 0.995), "purity_A"),   # needs infinite stages
    (fenske_min_stages, (1.5, 0.75, 0.995, 0.2), "purity_B"),   # below f_B = 0.25
    (product_split, (0.75, 0.75, 0.99), "purity_A"),
    (product_split, (0.75, 0.995, 1.01), "purity_B"),
    (product_split, (-0.1, 0.995, 0.99), "feed_fraction_A"),
    (minimum_extractant, (1.0, 0.75), "beta"),
    (minimum_extractant, (1.5, 1.0), "feed_fraction_A"),
    (minimum_extractant, (1.5, 0.75, 0.6, 0.99), "purity_A"),
    (minimum_extractant, (1.5, 0.75, 0.995, 0.1), "purity_B"),
    (xu_optimum_ratios, (0.5, 0.5), "beta"),
    (xu_optimum_ratios, (1.5, 1.0), "product_fraction_A"),
    (xu_stage_estimates, (1.0, 0.75, 0.995, 0.995, 3.3, 2.547475), "beta"),
    (xu_stage_estimates, (1.5, 0.75, 0.995, 1.0, 3.3, 2.547475), "purity_B"),
    (xu_stage_estimates, (1.5, 0.75, 0.995, 0.995, -1.0, 2.547475), "S"),
    (xu_stage_estimates, (1.5, 0.75, 0.995, 0.995, 3.3, 0.0), "W"),
    (xu_stage_estimates, (1.5, 0.75, 0.995, 0.995, 3.6, 2.547475), "S"),  # E_M > 1
    (xu_stage_estimates, (1.5, 0.75, 0.995, 0.995, 1.2, 1.0), "S"),       # beta E_M < 1
    (xu_stage_estimates, (1.5, 0.75, 0.995, 0.995, 1.6, 1.0), "W"),       # E'_M > beta
    (xu_stage_estimates, (1.5, 0.75, 0.995, 0.995, 2.9, 3.0), "W"),       # E'_M < 1
]


@pytest.mark.parametrize("func, args, field", BAD, ids=[f"{f.__name__}-{fld}-{i}" for i, (f, _, fld) in enumerate(BAD)])
def test_bad_arguments_raise_input_error(func, args, field):
    with pytest.raises(InputError) as info:
        func(*args)
    assert info.value.field == field
    assert "\n" not in str(info.value)


def test_bad_array_element_is_caught():
    with pytest.raises(InputError) as info:
        fenske_min_stages(np.array([1.5, 1.0]), 0.75, 0.995, 0.995)
    assert info.value.field == "beta"
