"""constant_d against exact oracles: Kremser, and a 50-digit mpmath solve.

The oracle builds the same stage balances as a tridiagonal system and solves
it by Gaussian elimination in 50-digit arithmetic, so cancellation that would
ruin a float64 Thomas solve cannot reach 1e-12.
"""

import math

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from magcycle.sx import CascadeSpec, solve

# Extraction factors span up to about 4e-4..3e2 over 40 + 40 stages: intermediate terms of the
# balances reach ~1e140 against ~1, so the oracle carries 300 digits (at 50 digits hypothesis found
# D=17, D_scrub=0.01, n=28, m=26 where the oracle, not the engine, was off at 2e-12: the engine
# agrees with a 120-digit solve to 4e-15).
mpmath.mp.dps = 300


def cascade(D, n, m=0, k=0, organic=1.0, feed_flow=1.0, scrub=0.0, strip=0.0, D_scrub=None,
            D_strip=None, feed=None):
    feed = feed or {el: 0.1 for el in D}
    model = {"D": D}
    if D_scrub:
        model["D_scrub"] = D_scrub
    if D_strip:
        model["D_strip"] = D_strip
    return CascadeSpec.from_dict({
        "cascade": {"model": "constant_d", "extraction_stages": n, "scrub_stages": m,
                    "strip_stages": k},
        "flows": {"organic": organic, "feed": feed_flow, "scrub": scrub, "strip": strip},
        "feed": feed,
        "model": model,
    })


def mp_cascade(eE, eS, eT, n, m, k):
    """Outlet fractions (raffinate, extract, stripped organic) in 50 digits.

    Unknowns a_j (aqueous leaving stage j); o_j = e_j a_j. Balance of stage j:
    a_{j+1} [same circuit] + o_{j-1} + F delta_{jn} - a_j - o_j = 0, F = 1.
    """
    N = n + m + k
    e = [mpmath.mpf(eE)] * n + [mpmath.mpf(eS)] * m + [mpmath.mpf(eT)] * k
    lower = [mpmath.mpf(0)] * N
    diag = [mpmath.mpf(0)] * N
    upper = [mpmath.mpf(0)] * N
    rhs = [mpmath.mpf(0)] * N
    for j in range(N):
        diag[j] = -(1 + e[j])
        if j > 0:
            lower[j] = e[j - 1]
        if j < N - 1 and j != n + m - 1:
            upper[j] = mpmath.mpf(1)
    rhs[n - 1] = mpmath.mpf(-1)
    # Gaussian elimination of the tridiagonal system (exact enough at 50 digits)
    for j in range(1, N):
        w = lower[j] / diag[j - 1]
        diag[j] -= w * upper[j - 1]
        rhs[j] -= w * rhs[j - 1]
    a = [mpmath.mpf(0)] * N
    a[N - 1] = rhs[N - 1] / diag[N - 1]
    for j in range(N - 2, -1, -1):
        a[j] = (rhs[j] - upper[j] * a[j + 1]) / diag[j]
    raff = a[0]
    if k:
        return raff, a[n + m], e[N - 1] * a[N - 1], a
    return raff, e[n + m - 1] * a[n + m - 1], None, a


# ---------------------------------------------------------------- Kremser
@pytest.mark.parametrize("e, n, expected", [
    (1.2, 5, 0.1007057458670362),  # sx-public-cases.md §1
    (1.0, 5, 0.1666666666666667),  # sx-public-cases.md §1: 1/(n+1)
])
def test_kremser_public_cases(e, n, expected):
    r = solve(cascade({"Nd": e}, n))
    assert r.fraction_to_raffinate[0] == pytest.approx(expected, rel=1e-12)
    # hand formula (e-1)/(e^(n+1)-1) written out
    hand = 1 / (n + 1) if e == 1.0 else (e - 1) / (e ** (n + 1) - 1)
    assert r.fraction_to_raffinate[0] == pytest.approx(hand, rel=1e-12)


def test_two_section_hand_case():
    # sx-numerics.md §3.2: (e, e', n, m) = (0.5, 2, 1, 1) gives theta = 0.25 exactly:
    # Phi_E = 0.5, Phi_S = 1 + 1/2 = 1.5, theta = 0.5 / 2.0.
    # Flows 1/1/1 L/h: e = D Qo/(Qf+Qs) = 1.0 * 1/2 = 0.5; e' = D_scrub Qo/Qs = 2.0.
    r = solve(cascade({"Nd": 1.0}, 1, 1, scrub=1.0, D_scrub={"Nd": 2.0}))
    assert r.fraction_to_extract[0] == pytest.approx(0.25, rel=1e-15)


# ---------------------------------------------------------------- mpmath oracle
@settings(max_examples=60, deadline=None)
@given(
    D=st.floats(0.01, 20), Ds=st.floats(0.01, 20), Dt=st.floats(0.01, 20),
    n=st.integers(1, 40), m=st.integers(0, 40), k=st.integers(0, 10),
    organic=st.floats(0.2, 5), feed_flow=st.floats(0.2, 5), scrub=st.floats(0.1, 5),
    strip=st.floats(0.1, 5),
)
def test_matches_50_digit_solve(D, Ds, Dt, n, m, k, organic, feed_flow, scrub, strip):
    spec = cascade({"Nd": D}, n, m, k, organic=organic, feed_flow=feed_flow, scrub=scrub,
                   strip=strip, D_scrub={"Nd": Ds}, D_strip={"Nd": Dt})
    r = solve(spec)
    eE = mpmath.mpf(D) * mpmath.mpf(organic) / (mpmath.mpf(feed_flow) + mpmath.mpf(scrub))
    eS = mpmath.mpf(Ds) * mpmath.mpf(organic) / mpmath.mpf(scrub)
    eT = mpmath.mpf(Dt) * mpmath.mpf(organic) / mpmath.mpf(strip)
    raff, ext, stripped, a = mp_cascade(eE, eS, eT, n, m, k)
    assert r.fraction_to_raffinate[0] == pytest.approx(float(raff), rel=1e-12, abs=0)
    assert r.fraction_to_extract[0] == pytest.approx(float(ext), rel=1e-12, abs=0)
    if k:
        assert r.fractions("stripped_organic")[0] == pytest.approx(float(stripped), rel=1e-12)
    # stage profile: aqueous concentration = a_j * F / Q_aq,j with F = c_feed Q_feed
    qa = spec.aqueous_flows()
    F = 0.1 * feed_flow
    expected = np.array([float(a[j]) * F / qa[j] for j in range(len(a))])
    np.testing.assert_allclose(r.aqueous[:, 0], expected, rtol=1e-11, atol=0)
    assert r.closure <= 1e-12


def test_trace_fractions_keep_relative_precision():
    # e far from 1 on both sides: fractions of 1e-40 and below, where a float64
    # Thomas solve returns noise (sx-numerics.md §2a)
    spec = cascade({"Nd": 20.0, "La": 0.01}, 40, 40, scrub=1.0, D_scrub={"Nd": 20.0, "La": 0.01})
    r = solve(spec)
    for i, D in enumerate((20.0, 0.01)):
        eE = mpmath.mpf(D) / 2
        eS = mpmath.mpf(D)
        raff, ext, _, _ = mp_cascade(eE, eS, 1, 40, 40, 0)
        assert r.fraction_to_raffinate[i] == pytest.approx(float(raff), rel=1e-12)
        assert r.fraction_to_extract[i] == pytest.approx(float(ext), rel=1e-12)
    assert r.fraction_to_raffinate[0] < 1e-40
    assert r.fraction_to_extract[1] < 1e-40


# ---------------------------------------------------------------- properties
@settings(max_examples=40, deadline=None)
@given(D=st.floats(0.01, 20), n=st.integers(1, 60), m=st.integers(0, 60),
       scrub=st.floats(0.1, 5))
def test_equal_D_gives_equal_fractions(D, n, m, scrub):
    r = solve(cascade({"Nd": D, "Pr": D}, n, m, scrub=scrub, feed={"Nd": 0.3, "Pr": 0.01}))
    assert r.fraction_to_extract[0] == pytest.approx(r.fraction_to_extract[1], rel=1e-14)


@settings(max_examples=40, deadline=None)
@given(D=st.floats(0.01, 20), Ds=st.floats(0.01, 20), n=st.integers(1, 40),
       m=st.integers(0, 40), scrub=st.floats(0.1, 5))
def test_more_extraction_stages_extract_more_and_scrub_stages_less(D, Ds, n, m, scrub):
    base = solve(cascade({"Nd": D}, n, m, scrub=scrub, D_scrub={"Nd": Ds}))
    more_e = solve(cascade({"Nd": D}, n + 1, m, scrub=scrub, D_scrub={"Nd": Ds}))
    more_s = solve(cascade({"Nd": D}, n, m + 1, scrub=scrub, D_scrub={"Nd": Ds}))
    assert more_e.fraction_to_extract[0] >= base.fraction_to_extract[0] * (1 - 1e-14)
    assert more_s.fraction_to_extract[0] <= base.fraction_to_extract[0] * (1 + 1e-14)
    for r in (base, more_e, more_s):
        total = r.fraction_to_extract + r.fraction_to_raffinate
        assert total[0] == pytest.approx(1.0, abs=1e-14)


def test_stage_balances_hold_on_every_stage():
    spec = cascade({"Nd": 1.8, "Pr": 1.2}, 7, 5, 4, scrub=2.0, strip=1.5,
                   D_strip={"Nd": 0.01, "Pr": 0.02}, feed={"Nd": 0.75, "Pr": 0.25})
    r = solve(spec)
    a = r.aqueous * spec.aqueous_flows()[:, None]
    o = r.organic * spec.organic
    n, m, k = 7, 5, 4
    for j in range(n + m + k):
        inflow = o[j - 1] if j > 0 else 0.0
        if j < n + m + k - 1 and j != n + m - 1:
            inflow = inflow + a[j + 1]
        if j == n - 1:
            inflow = inflow + spec.feed_mol_per_h
        np.testing.assert_allclose(inflow, a[j] + o[j], rtol=1e-13)
    assert r.residual < 1e-13
    assert math.isclose(sum(r.fractions(x)[0] for x in r.outlets), 1.0, rel_tol=1e-14)
