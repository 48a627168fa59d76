"""constant_d cascades of up to 1000 stages per section: finite and exact.

Oracles, independent of the code under test: the Kremser formula
phi = (e - 1) / (e^(n+1) - 1) and a Gaussian elimination of the stage
balances (the tridiagonal system of every component), both in mpmath at 80
digits, whose exponent range is unbounded (4^1000 and 1e-600 are ordinary
numbers there). Exact values below the double range must come out as the
nearest double (0 or a subnormal number), values inside it to 1e-10.
"""

from importlib.resources import files

import mpmath
import numpy as np
import pytest

from magcycle.errors import ConvergenceError
from magcycle.schema import MAX_STAGES
from magcycle.sx import CascadeSpec, load_cascade, solve

DPS = 80
#: relative tolerance where the exact value is a normal double; below the
#: normal range, an absolute one of a few units of the last subnormal place
RTOL, ATOL = 1e-10, 1e-320


def assert_exact(got, exact, what):
    """``got`` (float array) against ``exact`` (mpf values of the same shape)."""
    got = np.asarray(got, dtype=float)
    want = np.array([float(v) for v in np.ravel(exact)]).reshape(got.shape)
    assert np.all(np.isfinite(got)), what
    err = np.abs(got - want)
    ok = err <= RTOL * np.abs(want) + ATOL
    assert ok.all(), (what, np.argwhere(~ok)[:3].tolist(), got[~ok][:3], want[~ok][:3])


def stage_flows(e, n, m, k, F):
    """Aqueous flows a_j (mpf) leaving each stage of one component, extraction factors e_j.

    Stage j (0-based) balances a_{j+1} + e_{j-1} a_{j-1} + F [j = n-1] = (1 + e_j) a_j,
    except that no aqueous flows from the first strip stage (n + m) into the scrub.
    """
    N = n + m + k
    lower = [e[j - 1] if j else mpmath.mpf(0) for j in range(N)]
    diag = [-(1 + e[j]) for j in range(N)]
    upper = [mpmath.mpf(1) if j < N - 1 and j != n + m - 1 else mpmath.mpf(0) for j in range(N)]
    rhs = [mpmath.mpf(0)] * N
    rhs[n - 1] = -F
    for j in range(1, N):  # the matrix is column diagonally dominant: no pivoting needed
        w = lower[j] / diag[j - 1]
        diag[j] -= w * upper[j - 1]
        rhs[j] -= w * rhs[j - 1]
    a = [mpmath.mpf(0)] * N
    a[N - 1] = rhs[N - 1] / diag[N - 1]
    for j in range(N - 2, -1, -1):
        a[j] = (rhs[j] - upper[j] * a[j + 1]) / diag[j]
    return a


def oracle(spec):
    """Outlet flows [mol/h] and stage concentrations [mol/L] of a constant_d spec, in mpmath."""
    mpf = mpmath.mpf
    n, m, k = spec.extraction_stages, spec.scrub_stages, spec.strip_stages
    Qo, Qf, Qs, Qt = (mpf(v) for v in (spec.organic, spec.feed_flow, spec.scrub, spec.strip))
    p = spec.params
    outlets = {"raffinate": [], "extract": [], "stripped_organic": []}
    aq, org = [], []
    qa = [Qf + Qs] * n + [Qs] * m + [Qt] * k
    for i in range(len(spec.components)):
        e = [mpf(p.D[i]) * Qo / (Qf + Qs)] * n + [mpf(p.D_scrub[i]) * Qo / Qs if m else mpf(1)] * m
        e += [mpf(p.D_strip[i]) * Qo / Qt if k else mpf(1)] * k
        F = Qf * mpf(spec.feed[i])
        a = stage_flows(e, n, m, k, F)
        outlets["raffinate"].append(a[0])
        if k:
            outlets["extract"].append(a[n + m])
            outlets["stripped_organic"].append(e[-1] * a[-1])
        else:
            outlets["extract"].append(e[-1] * a[-1])
        aq.append([a[j] / qa[j] for j in range(n + m + k)])
        org.append([e[j] * a[j] / Qo for j in range(n + m + k)])
    return outlets, np.array(aq, dtype=object).T, np.array(org, dtype=object).T


def check_against_oracle(spec):
    r = solve(spec)
    with mpmath.workdps(DPS):
        outlets, aq, org = oracle(spec)
    for name, o in r.outlets.items():
        assert_exact(o.mol_per_h, outlets[name], name)
    assert_exact(r.aqueous, aq, "aqueous profile")
    assert_exact(r.organic, org, "organic profile")
    assert np.isfinite(r.residual) and r.residual < 1e-10
    # closure from the outlet flows against the feed flows, recomputed here
    total = sum(o.mol_per_h for o in r.outlets.values())
    assert np.max(np.abs(total - spec.feed_mol_per_h) / spec.feed_mol_per_h) <= 1e-11
    return r


def single_section(D, n, flow=1.0, conc=1.0):
    return CascadeSpec.from_dict({
        "cascade": {"model": "constant_d", "extraction_stages": n},
        "flows": {"organic": flow, "feed": flow}, "feed": {"Nd": conc}, "model": {"D": {"Nd": D}}})


@pytest.mark.parametrize("D, n, flow, conc", [
    (4.0, 520, 1e9, 100.0),    # raffinate e^-722 of a feed of 1e11 mol/h: 3e-303 mol/h, a normal double
    (4.0, 520, 1.0, 1.0),      # the same fraction of 1 mol/h: a subnormal number
    (4.0, MAX_STAGES, 1.0, 1.0),   # 4^-1001: below the double range, exactly 0
    (1e12, MAX_STAGES, 1.0, 1.0),
    (0.25, MAX_STAGES, 1.0, 1.0),
    (1.0, MAX_STAGES, 1.0, 1.0),   # e = 1: phi = 1 / (n + 1)
])
def test_kremser_section_of_up_to_the_most_stages(D, n, flow, conc):
    spec = single_section(D, n, flow, conc)
    r = solve(spec)
    with mpmath.workdps(DPS):
        e = mpmath.mpf(D)  # O/A = 1
        phi = (e - 1) / (e ** (n + 1) - 1) if D != 1.0 else mpmath.mpf(1) / (n + 1)
        F = mpmath.mpf(flow) * mpmath.mpf(conc)
        # a_j = R (e^j - 1) / (e - 1) (R sum_{i<j} e^i), o_j = e a_j, both over Q = flow
        R = F * phi
        rho = [(e ** j - 1) / (e - 1) if D != 1.0 else mpmath.mpf(j) for j in range(1, n + 1)]
        assert_exact(r.outlets["raffinate"].mol_per_h, [R], "raffinate")
        assert_exact(r.outlets["extract"].mol_per_h, [F - R], "extract")
        assert_exact(r.aqueous[:, 0], [R * x / flow for x in rho], "aqueous profile")
        assert_exact(r.organic[:, 0], [e * R * x / flow for x in rho], "organic profile")
    assert np.isfinite(r.residual) and r.residual < 1e-10


@pytest.mark.parametrize("stages", [(520, 8, 6), (MAX_STAGES, 8, 6), (MAX_STAGES, MAX_STAGES, MAX_STAGES)])
def test_long_ndpr_dy_split_is_finite_and_exact(stages):
    # the example that returned NaN profiles and residual from about 500 extraction stages on
    spec = load_cascade(files("magcycle") / "examples" / "ndpr_dy_split.toml")
    n, m, k = stages
    r = check_against_oracle(spec.with_stages(extraction=n, scrub=m, strip=k))
    doc = r.to_dict()
    assert doc["converged"] and np.isfinite(doc["residual"])


def test_two_section_cascade_with_wide_factors_matches_the_oracle():
    spec = CascadeSpec.from_dict({
        "cascade": {"model": "constant_d", "extraction_stages": 700, "scrub_stages": 300, "strip_stages": 50},
        "flows": {"organic": 2.0, "feed": 1.0, "scrub": 1.0, "strip": 3.0},
        "feed": {"La": 0.2, "Nd": 0.3, "Dy": 1e-6},
        "model": {"D": {"La": 0.05, "Nd": 1.5, "Dy": 40.0}, "D_scrub": {"La": 0.05, "Nd": 0.4, "Dy": 40.0},
                  "D_strip": {"La": 1e-3, "Nd": 1e-2, "Dy": 0.5}}})
    check_against_oracle(spec)


def test_internal_flows_beyond_the_double_range_raise():
    # extraction factor 5e11 below the feed, 1e-12 above it: the scrub returns all of the Nd,
    # which the extraction section takes up again; the exact internal flows exceed 1e308
    spec = CascadeSpec.from_dict({
        "cascade": {"model": "constant_d", "extraction_stages": 400, "scrub_stages": 400},
        "flows": {"organic": 1.0, "feed": 1.0, "scrub": 1.0}, "feed": {"Nd": 0.1},
        "model": {"D": {"Nd": 1e12}, "D_scrub": {"Nd": 1e-12}}})
    with mpmath.workdps(DPS):
        _, aq, _ = oracle(spec)
        assert max(aq[:, 0]) > mpmath.mpf("1e308")
    with pytest.raises(ConvergenceError) as info:
        solve(spec)
    assert "\n" not in str(info.value) and "not finite" in str(info.value)
