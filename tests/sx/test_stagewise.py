"""Stage efficiency, entrainment, a loaded organic, other charges, constant_beta's scrub factors and
strip section (magcycle.sx.stagewise).

Oracles: every stage equation of the model, written out here from its statement (per stage,
dense linear solves for the solutes that are not extracted) and evaluated on the profiles a
solve returns; each model's own solver where the extensions are absent; closed forms
(equal separation factors, one stage); a root found by brentq for one stage of divalent metal.
"""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from magcycle.errors import ConvergenceError, InputError
from magcycle.sx import solve
from magcycle.sx.empirical_ph import distribution_ratio
from magcycle.sx.sampling import random_cascade
from magcycle.sx.spec import CascadeSpec
from magcycle.sx.stagewise import needs_stagewise, solve_stagewise

BETA = {"cascade": {"model": "constant_beta", "extraction_stages": 6, "scrub_stages": 5},
        "flows": {"organic": 3.3, "feed": 1.0, "scrub": 2.5}, "feed": {"Pr": 0.25, "Nd": 0.75},
        "model": {"beta": {"Pr": 1.0, "Nd": 1.5}, "organic_loading": 1.0, "scrub_acid": 3.0}}


# ------------------------------------------------------------------ the oracle: every stage equation


def _solute(spec, sources, Qd, phi_Q):
    """Concentration of a solute that is not extracted (N,) [mol/L]: the stage balances
    Qd_k+1 c_k+1 [connected] + phi' Q_o c_k-1 + s_k = (Qd_k + phi' Q_o) c_k, solved densely."""
    N, Ne, k = spec.n_stages, spec.extraction_stages + spec.scrub_stages, spec.strip_stages
    A = np.zeros((N, N))
    for s in range(N):
        A[s, s] = Qd[s] + phi_Q
        if s + 1 < N and not (k and s == Ne - 1):
            A[s, s + 1] -= Qd[s + 1]
        if s > 0:
            A[s, s - 1] -= phi_Q
    return np.linalg.solve(A, sources)


def _equations(r) -> float:
    """Largest scaled residual of every stage equation of the model at the profiles of r."""
    spec, p = r.spec, r.spec.params
    n, m, k = spec.extraction_stages, spec.scrub_stages, spec.strip_stages
    N, Ne, C = n + m + k, n + m, len(spec.components)
    Qo, E = spec.organic, spec.murphree
    phi = spec.entrainment / (1.0 - spec.entrainment)
    Qd = spec.aqueous_flows()
    Qd[0] -= phi * Qo
    x, y = r.aqueous, r.organic
    y_in = np.zeros(C) if spec.organic_inlet is None else spec.organic_inlet
    a, up = Qd[:, None] * x, Qo * y + phi * Qo * x
    z = p.charge.astype(float) if hasattr(p, "charge") else np.full(C, 3.0)
    # distribution: y* = D x, the organic in equilibrium with the stage's aqueous
    if spec.model == "constant_beta":
        S = spec.organic * p.organic_loading
        lam = r.extra.get("multipliers")
        if lam is None:  # Xu's solver: lambda from the saturation of its aqueous (which then holds by definition)
            lam = 3.0 * S / np.sum(z * p.beta * a[:Ne], axis=1)
        ystar = np.empty((N, C))
        for s in range(Ne):
            beta = p.beta if s < n else p.beta_scrub
            ystar[s] = beta * lam[s] * a[s] / Qo
        for s in range(Ne, N):
            ystar[s] = p.D_strip * x[s]
    elif spec.model == "mass_action":
        zf, h = r.extra["free_extractant_mol_per_L"], 10.0 ** -r.pH
        ystar = 10.0 ** p.log10_K[None] * (zf / h)[:, None] ** z[None] * x
    else:
        f = r.extra["free_extractant_mol_per_L"]
        d = f * 100.0 * p.extractant_molar_mass / p.extractant_density
        D = np.where(p.correlated[None], distribution_ratio(r.pH[:, None], d[:, None], p.m0, p.m1, p.B0, p.B1),
                     p.D[None])
        ystar = D * x
    prev_y = np.vstack((y_in, y[:-1]))
    worst = float(np.max(np.abs(y - (1.0 - E) * prev_y - E * ystar) / (y + ystar)))  # Murphree
    # metal balances
    inflow = np.zeros((N, C))
    for s in range(N):
        if s + 1 < N and not (k and s == Ne - 1):
            inflow[s] += a[s + 1]
        inflow[s] += up[s - 1] if s > 0 else Qo * y_in
    inflow[n - 1] += spec.feed_flow * spec.feed
    if spec.model == "constant_beta":
        q = spec.scrub * p.scrub_acid / 3.0 / (spec.organic * p.organic_loading)  # W / S
        inflow[Ne - 1] += q * (a[Ne] if k else up[Ne - 1])
    worst = max(worst, float(np.max(np.abs(inflow - a - up) / (a + up))))
    return max(worst, _closures(r, spec, p, x, y, ystar, z, Qd, phi * Qo, y_in))


def _closures(r, spec, p, x, y, ystar, z, Qd, phi_Q, y_in) -> float:
    n, m, k = spec.extraction_stages, spec.scrub_stages, spec.strip_stages
    N, Ne = n + m + k, n + m

    def sources(feed, scrub, strip):
        s = np.zeros(N)
        s[n - 1] += feed
        s[Ne - 1] += scrub
        if k:
            s[N - 1] += strip
        return s

    if spec.model == "constant_beta":
        S = spec.organic * p.organic_loading
        sat = spec.organic * (ystar[:Ne] @ z)
        return float(np.max(np.abs(sat - 3.0 * S) / (3.0 * S)))
    if spec.model == "mass_action":
        zf, h = r.extra["free_extractant_mol_per_L"], 10.0 ** -r.pH
        cl = _solute(spec, sources(spec.feed_flow * (z @ spec.feed + p.feed_acid), spec.scrub * p.scrub_acid,
                                   spec.strip * p.strip_acid), Qd, phi_Q)
        cation = np.zeros(N)
        cation[0] = p.saponification * p.extractant * spec.organic
        cat = _solute(spec, cation, Qd, phi_Q)
        ext = np.abs(2.0 * zf + 2.0 * (y @ z) - p.extractant) / p.extractant
        charge = np.abs(h + x @ z + cat - cl) / cl
        return float(max(ext.max(), charge.max()))
    f, h = r.extra["free_extractant_mol_per_L"], 10.0 ** -r.pH
    sul = _solute(spec, sources(spec.feed_flow * p.feed_sulfate, spec.scrub * p.scrub_sulfate,
                                spec.strip * p.strip_sulfate), Qd, phi_Q)
    T = h + sul * h / (h + p.Ka2)
    sH = sources(spec.feed_flow * p.feed_acid, spec.scrub * p.scrub_acid, spec.strip * p.strip_acid)
    loaded = spec.organic * (y @ z)
    prev = np.concatenate(([spec.organic * float(y_in @ z)], loaded[:-1]))
    out = (Qd + phi_Q) * T
    inn = sH + loaded - prev
    for s in range(N):
        if s + 1 < N and not (k and s == Ne - 1):
            inn[s] += Qd[s + 1] * T[s + 1]
        if s > 0:
            inn[s] += phi_Q * T[s - 1]
    protons = np.abs(inn - out) / (np.abs(inn) + out)
    E_tot = p.extractant_mol_per_L + p.extractant_per_charge * float(y_in @ z)
    ext = np.abs(f + p.extractant_per_charge * (y @ z) - E_tot) / E_tot
    return float(max(protons.max(), ext.max()))


# ------------------------------------------------------------------ against each model's own solver


@pytest.mark.parametrize("model", ["constant_beta", "mass_action", "empirical_ph"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_without_the_extensions_the_general_solver_finds_each_models_own_answer(model, seed):
    stages = (5, 4, 0) if model == "constant_beta" else (5, 4, 3)
    spec = random_cascade(np.random.default_rng(seed), model, components=3, stages=stages)
    assert not needs_stagewise(spec)
    own, general = solve(spec), solve_stagewise(spec)
    for name, outlet in own.outlets.items():
        np.testing.assert_allclose(general.outlets[name].mol_per_h, outlet.mol_per_h, rtol=1e-9, atol=0)
    assert _equations(general) < 1e-9


def _extended(model, seed, change):
    stages = (6, 5, 0) if model == "constant_beta" else (6, 5, 3)
    spec = random_cascade(np.random.default_rng(seed), model, components=3, stages=stages)
    el = spec.components[0]
    changes = {"murphree": {"cascade": {"murphree_efficiency": 0.6}},
               "entrainment": {"cascade": {"entrainment": 0.03}},
               "inlet": {"organic_inlet": {el: 0.002}},
               "charge": {"model": {"charge": {el: 2}}}}
    return spec.replace(changes[change])


@pytest.mark.parametrize("model", ["constant_beta", "mass_action", "empirical_ph"])
@pytest.mark.parametrize("change", ["murphree", "entrainment", "inlet", "charge"])
def test_every_stage_equation_holds_with_each_extension(model, change):
    spec = _extended(model, 4, change)
    r = solve(spec)
    # empirical_ph's own solver takes an inlet and other charges; the rest go to the stagewise solver
    own = model == "empirical_ph" and change in ("inlet", "charge")
    assert needs_stagewise(spec) != own and ("stagewise_unknowns" in r.extra) != own
    assert _equations(r) < 1e-9
    assert r.closure < 1e-12


def test_scrub_factors_and_a_strip_section_of_constant_beta_hold_every_equation():
    spec = CascadeSpec.from_dict({**BETA, "cascade": {**BETA["cascade"], "strip_stages": 3},
                                  "flows": {**BETA["flows"], "strip": 1.0},
                                  "model": {**BETA["model"], "beta_scrub": {"Pr": 1.0, "Nd": 1.3},
                                            "D_strip": {"Pr": 0.1, "Nd": 0.12}}})
    r = solve(spec)
    assert set(r.outlets) == {"raffinate", "extract", "stripped_organic"}
    assert _equations(r) < 1e-9


def test_everything_at_once_on_twenty_stages_of_five_metals():
    spec = random_cascade(np.random.default_rng(11), "mass_action", components=4, stages=(8, 8, 4))
    spec = spec.replace({"feed": {"Ca": 0.01}, "model": {"log10_K": {"Ca": -3.0}},
                         "cascade": {"entrainment": 0.02}, "organic_inlet": {spec.components[1]: 0.001}})
    r = solve(spec)
    assert _equations(r) < 1e-9 and r.closure < 1e-12


# ------------------------------------------------------------------ closed forms


@pytest.mark.parametrize("E", [0.3, 0.75, 1.0 - 1e-9])
def test_equal_separation_factors_with_murphree_follow_the_closed_form(E):
    """All beta equal: every stream has the feed's composition, and the organic's total follows
    U_k = S (1 - (1 - E)^k) from a barren inlet; the extract is (P / S) U_Ne, P = S - W."""
    doc = {**BETA, "cascade": {**BETA["cascade"], "murphree_efficiency": E},
           "model": {**BETA["model"], "beta": {"Pr": 1.7, "Nd": 1.7}}}
    spec = CascadeSpec.from_dict(doc)
    r = solve(spec)
    S, W, Ne = 3.3 * 1.0, 2.5 * 3.0 / 3.0, 11
    U = S * (1.0 - (1.0 - E) ** Ne)
    extract = (S - W) / S * U
    comp = np.array([0.25, 0.75])
    np.testing.assert_allclose(r.outlets["extract"].mol_per_h, extract * comp, rtol=1e-11)
    np.testing.assert_allclose(r.outlets["raffinate"].mol_per_h, (1.0 - extract) * comp, rtol=1e-11)


def test_equal_strip_ratios_follow_kremser():
    """Equal beta and D_strip, E = 1: the organic leaves the scrub with S at the feed composition;
    the strip (extraction factor e = D Q_o / Q_strip, k stages) leaves S / sigma_0 on the organic,
    sigma_0 = sum_{j=0..k} e^-j (Kremser); the strip liquor takes T = 1 - 1/sigma_0 of S, of which
    W / S returns as reflux."""
    Ds, Qt, k = 0.2, 1.5, 4
    doc = {**BETA, "cascade": {**BETA["cascade"], "strip_stages": k}, "flows": {**BETA["flows"], "strip": Qt},
           "model": {**BETA["model"], "beta": {"Pr": 2.0, "Nd": 2.0}, "D_strip": {"Pr": Ds, "Nd": Ds}}}
    r = solve(CascadeSpec.from_dict(doc))
    S, W = 3.3, 2.5
    e = Ds * 3.3 / Qt
    sigma0 = sum(e ** -j for j in range(k + 1))
    T = 1.0 - 1.0 / sigma0
    comp = np.array([0.25, 0.75])
    np.testing.assert_allclose(r.outlets["stripped_organic"].mol_per_h, S / sigma0 * comp, rtol=1e-11)
    np.testing.assert_allclose(r.outlets["extract"].mol_per_h, (S - W) * T * comp, rtol=1e-11)
    np.testing.assert_allclose(r.outlets["raffinate"].mol_per_h, (1.0 - S / sigma0 - (S - W) * T) * comp,
                               rtol=1e-10)


def test_one_stage_with_murphree_by_hand():
    """empirical_ph, one stage, constant D, chloride: o = E D Q_o x, a = F / (1 + E D Q_o / Q_a); the
    released acid 3 o gives [H+] = (Q_f acid + 3 o) / Q_a."""
    E, D, Qo, Qf, c, acid = 0.4, 2.0, 1.5, 1.0, 0.1, 0.05
    spec = CascadeSpec.from_dict({"cascade": {"model": "empirical_ph", "extraction_stages": 1,
                                              "murphree_efficiency": E},
                                  "flows": {"organic": Qo, "feed": Qf}, "feed": {"Nd": c},
                                  "model": {"medium": "chloride", "extractant_vol_pct": 10.0, "feed_acid": acid,
                                            "D": {"Nd": D}}})
    r = solve(spec)
    a = Qf * c / (1.0 + E * D * Qo / Qf)
    o = Qf * c - a
    assert r.outlets["raffinate"].mol_per_h[0] == pytest.approx(a, rel=1e-12)
    assert r.pH[0] == pytest.approx(-math.log10((Qf * acid + 3.0 * o) / Qf), rel=1e-12)


def test_one_stage_of_a_divalent_metal_by_brentq():
    """mass_action, one stage, Ca2+: D = K z^2 / h^2, 2 z + 4 y = C_HA, h + 2 x = [Cl-]; the root in x
    by brentq."""
    from scipy.optimize import brentq

    K, CHA, Qo, Qf, c, acid = 10.0 ** -1.5, 1.0, 1.0, 1.0, 0.05, 0.02
    spec = CascadeSpec.from_dict({"cascade": {"model": "mass_action", "extraction_stages": 1},
                                  "flows": {"organic": Qo, "feed": Qf}, "feed": {"Ca": c},
                                  "model": {"log10_K": {"Ca": -1.5}, "extractant": CHA, "feed_acid": acid}})
    assert spec.params.charge.tolist() == [2.0]
    cl = 2.0 * c + acid

    def gap(x):
        y = (Qf * c - Qf * x) / Qo
        zf, h = (CHA - 4.0 * y) / 2.0, cl - 2.0 * x
        return y - K * x * zf ** 2 / h ** 2

    x = brentq(gap, 1e-12, c, xtol=1e-16, rtol=1e-15)
    r = solve(spec)
    assert r.aqueous[0, 0] == pytest.approx(x, rel=1e-10)


# ------------------------------------------------------------------ bad input, no steady state


@pytest.mark.parametrize("change,field", [
    ({"model": {"D_strip": {"Pr": 0.1, "Nd": 0.1}}}, "model.D_strip"),
    ({"cascade": {"strip_stages": 2}, "flows": {"strip": 1.0}}, "model.D_strip"),
    ({"organic_inlet": {"Nd": 1.2}}, "organic_inlet"),
    ({"model": {"charge": {"Dy": 2}}}, "model.charge.Dy"),
    ({"model": {"beta_scrub": {"Nd": 1.2}}}, "model.beta_scrub.Pr"),
    # a strip that leaves too much on the organic: the reflux cannot return enough (no steady state)
    ({"cascade": {"strip_stages": 2}, "flows": {"strip": 0.5}, "model": {"D_strip": {"Pr": 0.1, "Nd": 0.1}}},
     "flows.organic"),
])
def test_bad_extensions_of_constant_beta_name_the_field(change, field):
    base = CascadeSpec.from_dict(BETA)
    with pytest.raises(InputError) as err:
        base.replace(change)
    assert err.value.field == field


def test_a_mass_action_inlet_beyond_its_extractant_names_the_inlet():
    spec = random_cascade(np.random.default_rng(1), "mass_action", components=2, stages=(3, 2, 2))
    with pytest.raises(InputError) as err:
        spec.replace({"organic_inlet": {spec.components[0]: spec.params.extractant}})
    assert err.value.field == "organic_inlet"


def test_an_organic_that_must_take_more_than_the_feed_brings_is_bad_input():
    """constant_beta, Murphree 0.3 and a strip that leaves Pr on the organic (seeded case found by a
    random sweep): the organic carries U = 3S - 3S (1 - E)^(n+m) of charge out of the scrub, more than
    sum_i z_i F_i / (1 - (W/S) T_i), the most the feed can supply with no raffinate at all (T_i the
    share of i the strip strips, Kremser with Murphree: computed here by hand)."""
    rng = np.random.default_rng(1025)
    stages = (int(rng.integers(1, 25)), int(rng.integers(0, 20)), 0)
    rng.integers(0, 8)
    base = random_cascade(rng, "constant_beta", components=int(rng.integers(1, 6)), stages=stages)
    E, k, Qt = 0.298, 4, 1.905
    D = {"Ce": 0.0107, "Pr": 0.247, "Gd": 0.0103, "Tb": 0.00966}
    change = {"cascade": {"murphree_efficiency": E, "strip_stages": k}, "organic_inlet": {"Ce": 0.00166},
              "flows": {"strip": Qt}, "model": {"D_strip": D}}
    # the bound by hand: the strip run from the top, o_k = p sigma_k, sigma_k-1 = (sigma_k + E e)/(1 - E + E e)
    S, W = base.organic * base.params.organic_loading, base.scrub * base.params.scrub_acid / 3.0
    Ne = base.extraction_stages + base.scrub_stages
    U = 3 * S - (3 * S - 3 * base.organic * 0.00166) * (1 - E) ** Ne
    supply = 0.0
    for el, F in zip(base.components, base.feed_flow * base.feed):
        e = D[el] * base.organic / Qt
        sigma = 1.0
        for _ in range(k):
            sigma = (sigma + E * e) / (1 - E + E * e)
        T = 1 - 1 / sigma
        supply += 3 * (F + (base.organic * 0.00166 if el == "Ce" else 0.0)) / (1 - W / S * T)
    assert supply < U  # the case is infeasible by this bound
    with pytest.raises(InputError) as err:
        base.replace(change)
    assert err.value.field == "flows.organic" and "no steady state" in err.value.reason


def test_the_command_line_solves_a_constant_beta_file_with_a_strip_section(tmp_path):
    path = tmp_path / "beta.toml"
    path.write_text('[cascade]\nmodel = "constant_beta"\nextraction_stages = 4\nscrub_stages = 3\nstrip_stages = 2\n'
                    'murphree_efficiency = 0.9\n[flows]\norganic = 3.3\nfeed = 1.0\nscrub = 2.5\nstrip = 1.0\n'
                    '[feed]\nNd = 0.75\nPr = 0.25\n[model]\nbeta = { Nd = 1.5, Pr = 1.0 }\n'
                    'D_strip = { Nd = 0.01, Pr = 0.01 }\norganic_loading = 1.0\nscrub_acid = 3.0\n')
    proc = subprocess.run([sys.executable, "-m", "magcycle", "sx", "solve", str(path), "--json"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "stripped_organic" in proc.stdout


# ------------------------------------------------------------------ property: any combination


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), model=st.sampled_from(["constant_beta", "mass_action", "empirical_ph"]),
       E=st.floats(0.3, 1.0), phi=st.floats(0.0, 0.05), inlet=st.floats(0.0, 0.01), murphree=st.booleans())
def test_any_combination_solves_with_every_equation_or_says_why(seed, model, E, phi, inlet, murphree):
    rng = np.random.default_rng(seed)
    stages = (int(rng.integers(1, 8)), int(rng.integers(0, 6)), 0 if model == "constant_beta" else int(rng.integers(0, 4)))
    spec = random_cascade(rng, model, components=int(rng.integers(1, 4)), stages=stages)
    change = {"cascade": {"murphree_efficiency": E} if murphree else {"entrainment": phi}}
    if inlet and model != "empirical_ph":
        change["organic_inlet"] = {spec.components[-1]: inlet}
    try:
        spec = spec.replace(change)
    except InputError as exc:
        assert exc.field and exc.reason
        return
    try:
        r = solve(spec)
    except ConvergenceError as exc:  # it says what ran away, or that the plain cascade fails too
        assert "steady state" in str(exc) or "nor did the same cascade without them" in str(exc)
        return
    assert _equations(r) < 1e-9 and r.closure < 1e-12


@pytest.mark.parametrize("doc", [
    {"cascade": {"model": "constant_d", "extraction_stages": 3, "murphree_efficiency": 0.5},
     "flows": {"organic": 1.0, "feed": 1.0}, "feed": {"Nd": 0.1}, "model": {"D": {"Nd": 2.0}}},
    {**BETA, "cascade": {**BETA["cascade"], "murphree_efficiency": 0.8}},
    {**BETA, "organic_inlet": {"Nd": 0.01}},
])
def test_batches_of_extended_cascades_are_each_variants_own_solve(doc):
    """solve_many of a spec with the extensions: every variant as solve() of that variant (the batched
    solvers hold the plain equations only, so they must not be used)."""
    from magcycle.sx import solve_many

    spec = CascadeSpec.from_dict(doc)
    organic = np.array([1.0, 0.95]) * spec.organic
    batch = solve_many(spec, {"flows.organic": organic})
    for b, q in enumerate(organic):
        one = solve(spec.with_flows(organic=float(q)))
        for name, outlet in one.outlets.items():
            np.testing.assert_allclose(batch.outlets[name][b], outlet.mol_per_h, rtol=1e-12)
        np.testing.assert_allclose(batch.fraction_to_extract[b], one.outlets["extract"].mol_per_h
                                   / spec.with_flows(organic=float(q)).feed_mol_per_h, rtol=1e-12)


def test_warm_batches_do_not_join_an_extended_spec_to_xus_equations():
    """solve_warm_many groups constant_beta specs with the plain reduced solver; one with a Murphree
    efficiency, warm-started from a plain result, must get its own (stagewise) answer."""
    from magcycle.sx.solver import solve_warm_many

    plain = CascadeSpec.from_dict(BETA)
    warm = solve(plain)
    murphree = plain.replace({"cascade": {"murphree_efficiency": 0.7}})
    out = solve_warm_many([plain, murphree], [warm, warm])
    np.testing.assert_allclose(out[1].outlets["extract"].mol_per_h, solve(murphree).outlets["extract"].mol_per_h,
                               rtol=1e-12)
    assert _equations(out[1]) < 1e-9


def test_an_invalid_variant_of_an_extended_batch_names_the_variant():
    from magcycle.sx import solve_many

    spec = CascadeSpec.from_dict({**BETA, "cascade": {**BETA["cascade"], "murphree_efficiency": 0.8}})
    with pytest.raises(InputError) as err:
        solve_many(spec, {"flows.organic": np.array([3.3, 1.0])})  # S = 1 < W = 2.5
    assert err.value.field == "variants[1]" and "flows.organic" in err.value.reason


def test_design_with_a_strip_section_is_the_fewest_stages_by_enumeration(tmp_path):
    """sx design of a constant_beta cascade with a strip section and Murphree stages: the total it
    returns meets the targets at its split, and no split of one stage fewer does (each solved here)."""
    from magcycle.sx.optimise import achieved, minimum_stages, parse_targets

    spec = CascadeSpec.from_dict({**BETA, "cascade": {**BETA["cascade"], "strip_stages": 3,
                                                      "murphree_efficiency": 0.9},
                                  "flows": {**BETA["flows"], "strip": 1.0},
                                  "model": {**BETA["model"], "D_strip": {"Pr": 0.01, "Nd": 0.02}}})
    targets = parse_targets({"extract": {"Nd": {"purity": 0.9}}, "raffinate": {"Pr": {"purity": 0.95}}},
                            spec.components)
    design = minimum_stages(spec, targets, max_stages=60)
    assert design.feasible
    N = design.spec.extraction_stages + design.spec.scrub_stages
    got = achieved(solve(design.spec), targets)
    assert all(v >= t.minimum for v, t in zip(got, targets))
    for n in range(1, N - 1):
        r = solve(spec.with_stages(extraction=n, scrub=N - 1 - n))
        assert not all(v >= t.minimum for v, t in zip(achieved(r, targets), targets)), n


def test_a_scrub_the_reflux_cannot_feed_is_bad_input():
    """Murphree 0.05 on one extraction and ten scrub stages: the organic's charge grows as
    U_k = 3S (1 - 0.95^k) (barren inlet, whatever the composition), so across the scrub it takes up
    U_11 - U_1, while the reflux returns (W/S) U_11 at most: by hand 9.9 (0.431 - 0.05) = 3.77 against
    0.758 x 4.27 = 3.23 mol/h of charge, so no aqueous can leave the scrub's bottom stage."""
    S, W = 3.3, 2.5
    U = [3 * S * (1 - 0.95 ** k) for k in (1, 11)]
    assert W / S * U[1] < U[1] - U[0]
    with pytest.raises(InputError) as err:
        CascadeSpec.from_dict({**BETA, "cascade": {"model": "constant_beta", "extraction_stages": 1,
                                                   "scrub_stages": 10, "murphree_efficiency": 0.05}})
    assert err.value.field == "flows.scrub" and "no steady state" in err.value.reason
    # with E = 0.5 the scrub's gain (9.9 (0.5^1 - 0.5^11) = 4.95) is below the reflux (0.758 x 9.895 = 7.50)
    spec = CascadeSpec.from_dict({**BETA, "cascade": {"model": "constant_beta", "extraction_stages": 1,
                                                      "scrub_stages": 10, "murphree_efficiency": 0.5}})
    assert _equations(solve(spec)) < 1e-9


@pytest.mark.parametrize("change", [{"murphree_efficiency": 0.7}, {"entrainment": 0.005}])
def test_prommis_case_with_its_loaded_organic_and_an_extension_holds_every_equation(change):
    """PrOMMiS's D2EHPA case (a loaded organic, sulfate, twelve metals) with a Murphree efficiency or
    entrainment: every stage equation, written out here, holds."""
    from pathlib import Path

    from magcycle.sx import load_cascade

    spec = load_cascade(Path(__file__).resolve().parents[2] / "examples" / "prommis_d2ehpa_3stage.toml")
    r = solve(spec.replace({"cascade": change}))
    assert "stagewise_unknowns" in r.extra
    assert _equations(r) < 1e-9 and r.closure < 1e-12
