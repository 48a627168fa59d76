"""constant_d with a Murphree efficiency, a loaded organic inlet and entrainment (issue 19, item 2).

Oracles: the linear stage equations (balance and Murphree relation per stage) written here and solved
with mpmath at 300 digits; one-stage hand calculations; the closed-form engine where no extra is set.
"""

from __future__ import annotations

import subprocess
import sys

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from magcycle.errors import InputError
from magcycle.sx import CascadeSpec, solve


def _doc(n=3, m=2, k=1, **cascade):
    return {"cascade": {"model": "constant_d", "extraction_stages": n, "scrub_stages": m, "strip_stages": k,
                        **cascade},
            "flows": {"organic": 1.5, "feed": 1.0, "scrub": 0.5, "strip": 0.6},
            "feed": {"Nd": 0.1, "Fe": 0.02},
            "model": {"D": {"Nd": 3.0, "Fe": 0.05}, "D_scrub": {"Nd": 2.0, "Fe": 0.02},
                      "D_strip": {"Nd": 0.02, "Fe": 0.01}}}


def _mp_cascade(spec, comp):
    """Aqueous and organic flows leaving every stage [mol/h] for component ``comp``, from a 300-digit solve
    of: balance a_{k+1} + o_{k-1} + s_k = a_k + o_k (no aqueous across the scrub/strip boundary) and
    o_k = (1 - E) o_{k-1} + E e_k a_k, o_0 the loaded organic."""
    with mpmath.workdps(300):
        n, m, k = spec.extraction_stages, spec.scrub_stages, spec.strip_stages
        N, Ne = n + m + k, n + m
        p, i = spec.params, comp
        Qo = mpmath.mpf(spec.organic)
        Qa = [mpmath.mpf(spec.feed_flow + spec.scrub)] * n + [mpmath.mpf(spec.scrub)] * m + [mpmath.mpf(spec.strip)] * k
        D = [p.D[i]] * n + [p.D_scrub[i]] * m + ([p.D_strip[i]] * k if k else [])
        E = mpmath.mpf(spec.murphree)
        g = Qo * (spec.organic_inlet[i] if spec.organic_inlet is not None else 0)
        A = mpmath.zeros(2 * N, 2 * N)
        b = mpmath.zeros(2 * N, 1)
        for s in range(N):
            A[s, s] = 1
            A[s, N + s] = 1
            if s + 1 < N and s != Ne - 1:
                A[s, s + 1] = -1
            if s:
                A[s, N + s - 1] = -1
            else:
                b[s] += g
            if s == n - 1:
                b[s] += mpmath.mpf(spec.feed_flow) * spec.feed[i]
            A[N + s, N + s] = 1
            A[N + s, s] = -E * mpmath.mpf(D[s]) * Qo / Qa[s]
            if s:
                A[N + s, N + s - 1] = -(1 - E)
            else:
                b[N + s] += (1 - E) * g
        x = mpmath.lu_solve(A, b)
        return [float(x[j]) for j in range(N)], [float(x[N + j]) for j in range(N)]


@settings(max_examples=25, deadline=None)
@given(E=st.floats(0.05, 1.0), n=st.integers(1, 6), m=st.integers(0, 5), k=st.integers(0, 4),
       D=st.floats(0.01, 30.0), Ds=st.floats(0.01, 30.0), Dt=st.floats(1e-3, 5.0), g=st.floats(0.0, 0.2))
def test_matches_a_300_digit_solve(E, n, m, k, D, Ds, Dt, g):
    doc = _doc(n, m, k, murphree_efficiency=E)
    doc["model"] = {"D": {"Nd": D, "Fe": D / 40}, "D_scrub": {"Nd": Ds, "Fe": Ds / 40},
                    "D_strip": {"Nd": Dt, "Fe": Dt / 3}}
    if g:
        doc["organic_inlet"] = {"Nd": g, "Fe": g / 100}
    spec = CascadeSpec.from_dict(doc)
    res = solve(spec)
    for i in range(2):
        a, o = _mp_cascade(spec, i)
        np.testing.assert_allclose(res.outlets["raffinate"].mol_per_h[i], a[0], rtol=1e-11)
        top = o[-1] if k else o[n + m - 1]
        np.testing.assert_allclose(res.outlets["stripped_organic" if k else "extract"].mol_per_h[i], top, rtol=1e-11)


def test_murphree_one_is_the_closed_form_engine():
    base = solve(CascadeSpec.from_dict(_doc()))
    loaded = _doc()
    loaded["organic_inlet"] = {"Nd": 1e-30}  # forces the general path; a negligible load
    general = solve(CascadeSpec.from_dict(loaded))
    for name in ("raffinate", "extract", "stripped_organic"):
        np.testing.assert_allclose(general.outlets[name].mol_per_h, base.outlets[name].mol_per_h, rtol=1e-12)


def test_one_stage_by_hand():
    """One stage, feed F = 0.1 mol/h of Nd, e = D Qo/Qa = 3 * 1.5 / 1 = 4.5.
    Murphree E = 0.6, barren organic: o = E e a and a + o = F, so a = F / (1 + E e) = 0.1 / 3.7.
    Entrainment phi = 0.1 (phi' = 1/9 L/L), E = 1: the upward stream (D + phi') Qo x, the raffinate
    Q_down = Qa - phi' Qo = 1 - 1.5/9; a = F Q_down / (Q_down + (D + phi') Qo)."""
    doc = {"cascade": {"model": "constant_d", "extraction_stages": 1, "murphree_efficiency": 0.6},
           "flows": {"organic": 1.5, "feed": 1.0}, "feed": {"Nd": 0.1}, "model": {"D": {"Nd": 3.0}}}
    res = solve(CascadeSpec.from_dict(doc))
    assert res.outlets["raffinate"].mol_per_h[0] == pytest.approx(0.1 / 3.7, rel=1e-14)
    doc["cascade"] = {"model": "constant_d", "extraction_stages": 1, "entrainment": 0.1}
    res = solve(CascadeSpec.from_dict(doc))
    qd = 1.0 - 1.5 / 9
    assert res.outlets["raffinate"].flow_L_per_h == pytest.approx(qd, rel=1e-14)
    assert res.outlets["raffinate"].mol_per_h[0] == pytest.approx(0.1 * qd / (qd + (3.0 + 1 / 9) * 1.5), rel=1e-14)
    assert res.outlets["extract"].flow_L_per_h == pytest.approx(1.5 * (1 + 1 / 9), rel=1e-14)


def test_a_loaded_organic_by_hand():
    """One stage, organic entering with g = Qo * 0.02 = 0.03 mol/h, feed 0.1 mol/h, e = 4.5 (E = 1):
    a = (F + g) / (1 + e)."""
    doc = {"cascade": {"model": "constant_d", "extraction_stages": 1}, "flows": {"organic": 1.5, "feed": 1.0},
           "feed": {"Nd": 0.1}, "organic_inlet": {"Nd": 0.02}, "model": {"D": {"Nd": 3.0}}}
    res = solve(CascadeSpec.from_dict(doc))
    assert res.outlets["raffinate"].mol_per_h[0] == pytest.approx(0.13 / 5.5, rel=1e-14)
    assert res.fraction_to_raffinate[0] + res.fraction_to_extract[0] == pytest.approx(1.0, rel=1e-14)


@pytest.mark.parametrize("cascade,field", [
    ({"murphree_efficiency": 0.0}, "cascade.murphree_efficiency"),
    ({"murphree_efficiency": 1.2}, "cascade.murphree_efficiency"),
    ({"murphree_efficiency": -0.5}, "cascade.murphree_efficiency"),
    ({"entrainment": -0.01}, "cascade.entrainment"),
    ({"entrainment": 1.0}, "cascade.entrainment"),
    ({"entrainment": 1.5}, "cascade.entrainment"),
    ({"entrainment": 0.6}, "cascade.entrainment"),  # 1.5 * 1.5 L/h entrained against 1.5 L/h coming down
    ({"entrainment": 0.05, "murphree_efficiency": 0.8}, "cascade.entrainment"),
])
def test_bad_stage_settings_name_the_field(cascade, field):
    with pytest.raises(InputError) as err:
        CascadeSpec.from_dict(_doc(**cascade))
    assert err.value.field == field


def test_a_murphree_efficiency_above_one_is_one_line_on_the_command_line(tmp_path):
    path = tmp_path / "beta.toml"
    path.write_text('[cascade]\nmodel = "constant_beta"\nextraction_stages = 3\nscrub_stages = 3\n'
                    'murphree_efficiency = 1.2\n[flows]\norganic = 3.3\nfeed = 1.0\nscrub = 2.5\n'
                    '[feed]\nNd = 0.75\nPr = 0.25\n[model]\nbeta = { Nd = 1.5, Pr = 1.0 }\n'
                    'organic_loading = 1.0\nscrub_acid = 3.0\n')
    proc = subprocess.run([sys.executable, "-m", "magcycle", "sx", "solve", str(path)], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "cascade.murphree_efficiency" in proc.stderr
