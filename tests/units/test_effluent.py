"""Effluent treatment (units.effluent) against hand calculations written out here."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from magcycle.errors import InputError
from magcycle.units import EffluentTreatment
from magcycle.units.effluent import salt_precipitated
from magcycle.units.leach import water_per_mol_solute
from magcycle.units.stream import WATER_L_PER_MOL, Stream, element_totals


def neutral(s: Stream) -> bool:
    return abs(s.net_charge()) <= 1e-9 * sum(s.mol_h.values())


# 2 mol/h HCl with Co, Al and Nd chlorides in 10,000 mol/h of water (about 180 L/h): Co 5.5e-3 mol/L,
# Nd 5.5e-4 mol/L, both above their solubility at pH 8.5 (10^-3.23 and 10^-4.2 mol/L)
ACID = {"H2O": 10000.0, "H+": 2.0, "Co+2": 1.0, "Al+3": 0.05, "Nd+3": 0.1, "Cl-": 2.0 + 2.0 + 0.15 + 0.3}


def test_caustic_treatment_hand_calculation():
    unit = EffluentTreatment("eff", reagent="NaOH", recover_hydroxide=True, discharge_pH=None,
                             cake_solids_wt_pct=100.0)
    r = unit.run({"in1": Stream("aqueous", ACID)})
    water, hyd, sludge = r.outlets["water"], r.outlets["hydroxide"], r.outlets["sludge"]
    V3 = water.volume_L_h                        # the last stage's volume: nothing is added after it
    # stage 3 at pH 9.5: [OH-] = 10^-4.5; Co2+ <= Ksp/[OH-]^2 = 10^(-14.23 + 9), Nd3+ <= 10^(-20.7 + 13.5)
    assert water.get("Co+2") == pytest.approx(10 ** -5.23 * V3, rel=1e-9)
    assert water.get("Nd+3") == pytest.approx(10 ** -7.2 * V3, rel=1e-9)
    assert water.get("H+") == pytest.approx(10 ** -9.5 * V3, rel=1e-9)
    assert water.get("OH-") == pytest.approx(10 ** -4.5 * V3, rel=1e-9)
    # stage 1 at pH 5: Al3+ <= 10^(-32.9 + 27) mol/L, all but ~2e-4 mol/h of Al goes to the sludge;
    # Co (10^3.77 mol/L) and Nd (10^6.3 mol/L) stay dissolved
    assert sludge.get("Al(OH)3") == pytest.approx(0.05 - 10 ** -5.9 * V3, rel=1e-3)
    # stage 3 takes what stage 2 left down to 10^-5.23 mol/L: 10^-3.23 V3 - 10^-5.23 V3 of Co
    assert sludge.get("Co(OH)2") == pytest.approx((10 ** -3.23 - 10 ** -5.23) * V3, rel=1e-3)
    # stage 2 at pH 8.5 keeps 10^(-14.23 + 11) mol/L Co and 10^(-20.7 + 16.5) mol/L Nd; stage 3 adds
    # well under 0.1 % of water, so V2 = V3 to 1e-3
    assert hyd.get("Co(OH)2") == pytest.approx(1.0 - 10 ** -3.23 * V3, rel=1e-3)
    assert hyd.get("Nd(OH)3") == pytest.approx(0.1 - 10 ** -4.2 * V3, rel=1e-3)
    # every OH- of the caustic neutralises acid, makes a hydroxide or stays free:
    # NaOH = (2 - H+_out) + 3 Al + 2 Co + 3 Nd precipitated + OH-_out
    precipitated = (3 * (0.05 - water.get("Al+3")) + 2 * (1.0 - water.get("Co+2"))
                    + 3 * (0.1 - water.get("Nd+3")))
    naoh = (2.0 - water.get("H+")) + precipitated + water.get("OH-")
    assert r.reagents["NaOH"] == pytest.approx(naoh, rel=1e-12)
    assert water.get("Na+") == pytest.approx(naoh, rel=1e-12)
    assert r.reagents["H2O"] == pytest.approx(naoh * water_per_mol_solute("NaOH", 50.0), rel=1e-12)
    # the water: feed + caustic's water + one H2O per acid neutralised
    assert water.get("H2O") == pytest.approx(10000.0 + r.reagents["H2O"] + 2.0 - water.get("H+"), rel=1e-12)
    assert neutral(water)
    assert r.closure <= 1e-12
    # the discharge check: Co in mg/L against the default 0.5 (AbwV Anhang 39)
    co_mg_l = 10 ** -5.23 * 58.933194 * 1000.0
    assert r.info["discharge"]["Co"]["mg_per_L"] == pytest.approx(co_mg_l, rel=1e-9)
    assert r.info["discharge"]["Co"]["pass"] is (co_mg_l <= 0.5)
    assert r.info["discharge"]["pH"] == {"value": 9.5, "limit": [6.0, 9.0], "pass": False}


def test_trim_back_to_the_discharge_pH_with_hydrochloric_acid():
    r = EffluentTreatment("eff", reagent="NaOH", discharge_pH=8.0, cake_solids_wt_pct=100.0).run(
        {"in1": Stream("aqueous", ACID)})
    water = r.outlets["water"]
    V = water.volume_L_h
    assert water.get("H+") == pytest.approx(1e-8 * V, rel=1e-9)
    assert water.get("OH-") == pytest.approx(1e-6 * V, rel=1e-9)
    # acid = OH- neutralised (10^-4.5 V' - 10^-6 V) + H+ made up (10^-8 V - 10^-9.5 V'), V' = V before the
    # acid's own water (32 % HCl): V' = V - HCl * 4.3005 * 0.018015 - neutralised * 0.018015
    hcl = r.reagents["HCl"]
    v_before = V - (hcl * water_per_mol_solute("HCl", 32.0) + (10 ** -4.5 * V - 1e-6 * V)) * WATER_L_PER_MOL
    expected = (10 ** -4.5 * v_before - 1e-6 * V) + (1e-8 * V - 10 ** -9.5 * v_before)
    assert hcl == pytest.approx(expected, rel=1e-6)
    assert r.info["discharge"]["pH"]["pass"] is True
    assert r.closure <= 1e-12


def test_lime_in_a_sulfate_liquor_makes_gypsum_down_to_its_solubility_product():
    # 10 mol/h H2SO4 in about 180 L/h: the lime's Ca (about 0.055 mol/L) far exceeds gypsum's solubility
    liq = Stream("aqueous", {"H2O": 10000.0, "H+": 20.0, "SO4-2": 10.0})
    r = EffluentTreatment("eff", reagent="lime", discharge_pH=None, cake_solids_wt_pct=100.0).run({"in1": liq})
    water, sludge = r.outlets["water"], r.outlets["sludge"]
    V = water.volume_L_h
    ca, so4 = water.get("Ca+2") / V, water.get("SO4-2") / V
    # the last gypsum step is solved on the liquor before its crystal water leaves (2 x 0.018 L per mol,
    # under 1e-3 of V here): [Ca][SO4] = 10^-4.5 to that order
    assert ca * so4 == pytest.approx(10 ** -4.5, rel=2e-3)
    # lime: Ca(OH)2 = (20 - H+) / 2 + OH-_out / 2 (no metal to precipitate)
    assert r.reagents["Ca(OH)2"] == pytest.approx((20.0 - water.get("H+") + water.get("OH-")) / 2, rel=1e-12)
    # calcium: all the lime's Ca is in the water or in the gypsum
    assert sludge.get("CaSO4.2H2O") + water.get("Ca+2") == pytest.approx(r.reagents["Ca(OH)2"], rel=1e-12)
    assert r.reagents["H2O"] == pytest.approx(r.reagents["Ca(OH)2"] * water_per_mol_solute("Ca(OH)2", 20.0))
    assert r.closure <= 1e-12


def test_lime_takes_the_bleeds_oxalic_acid_down_as_calcium_oxalate():
    liq = Stream("aqueous", {"H2O": 10000.0, "H+": 1.0, "Cl-": 1.0, "H2C2O4": 0.2})
    r = EffluentTreatment("eff", reagent="lime", discharge_pH=None, cake_solids_wt_pct=100.0).run({"in1": liq})
    water = r.outlets["water"]
    V = water.volume_L_h
    # oxalic acid gives up 2 H+: Ca(OH)2 = (1 + 0.4 - H+_out + OH-_out) / 2
    assert r.reagents["Ca(OH)2"] == pytest.approx((1.4 - water.get("H+") + water.get("OH-")) / 2, rel=1e-12)
    assert water.get("Ca+2") / V * water.get("C2O4-2") / V == pytest.approx(10 ** -8.63, rel=2e-3)
    assert r.outlets["sludge"].get("CaC2O4.H2O") == pytest.approx(0.2 - water.get("C2O4-2"), rel=1e-12)


def test_cakes_hold_liquor_in_proportion_and_no_hydroxide_without_recovery():
    r = EffluentTreatment("eff", reagent="NaOH", discharge_pH=None, cake_solids_wt_pct=40.0).run(
        {"in1": Stream("aqueous", ACID)})
    water, sludge, hyd = r.outlets["water"], r.outlets["sludge"], r.outlets["hydroxide"]
    assert not hyd.mol_h
    solids_kg = sum(Stream("solid", {k: v}).kg_h() for k, v in sludge.mol_h.items() if "(OH)" in k)
    held_kg = solids_kg * 0.6 / 0.4          # 40 % solids: 1.5 kg liquor per kg of dry solids
    phi = held_kg / (water.kg_h() + held_kg)
    # every dissolved species is shared in the same proportion between the cake and the water
    for sp in ("Na+", "Cl-", "H2O"):
        assert sludge.get(sp) / (sludge.get(sp) + water.get(sp)) == pytest.approx(phi, rel=1e-9)
    assert sludge.get("Co(OH)2") == pytest.approx(1.0 - 10 ** -5.23 * (water.volume_L_h / (1 - phi)), rel=1e-9)
    assert r.closure <= 1e-12


def test_salt_precipitated_closed_form():
    # (a - x)(b - x) = K solved by hand for a = 0.05, b = 0.02, K = 1e-4:
    # x^2 - 0.07 x + 0.001 - 0.0001 = 0 -> x = (0.07 - sqrt(0.0049 - 0.0036)) / 2
    x = (0.07 - math.sqrt(0.0049 - 0.0036)) / 2
    assert salt_precipitated(0.05, 0.02, -4.0) == pytest.approx(x, rel=1e-12)
    assert (0.05 - x) * (0.02 - x) == pytest.approx(1e-4, rel=1e-9)


@settings(max_examples=60, deadline=None)
@given(h=st.floats(0.0, 5.0), co=st.floats(0.0, 1.0), ni=st.floats(0.0, 1.0), so4=st.floats(0.0, 2.0),
       reagent=st.sampled_from(["lime", "NaOH"]), recover=st.booleans())
def test_every_liquor_closes_and_leaves_no_negative_flow(h, co, ni, so4, reagent, recover):
    flows = {"H2O": 20000.0, "H+": h, "Co+2": co, "Ni+2": ni, "SO4-2": so4}
    flows["Cl-"] = h + 2 * co + 2 * ni - 2 * so4 if h + 2 * co + 2 * ni >= 2 * so4 else 0.0
    flows["Na+"] = max(0.0, 2 * so4 - h - 2 * co - 2 * ni)
    r = EffluentTreatment("eff", reagent=reagent, recover_hydroxide=recover).run({"in1": Stream("aqueous", flows)})
    assert r.closure <= 1e-9
    for s in r.outlets.values():
        assert all(v >= 0 and math.isfinite(v) for v in s.mol_h.values())
    assert neutral(r.outlets["water"])
    totals = element_totals(r.outlets.values())
    assert totals.get("Co", 0.0) == pytest.approx(co, rel=1e-9, abs=1e-15)


@pytest.mark.parametrize("params, field", [
    ({"discharge_limits_mg_L": {"Co": -1.0}}, "units.eff.discharge_limits_mg_L.Co"),
    ({"discharge_limits_mg_L": {"Xx": 1.0}}, "units.eff.discharge_limits_mg_L"),
    ({"discharge_limits_mg_L": {"Co": "half"}}, "units.eff.discharge_limits_mg_L.Co"),
    ({"log_Ksp": {"Co": 3.0}}, "units.eff.log_Ksp.Co"),
    ({"gypsum_log_Ksp": float("nan")}, "units.eff.gypsum_log_Ksp"),
    ({"pre_pH": 9.0}, "units.eff.hydroxide_pH"),
    ({"discharge_pH": 10.0}, "units.eff.discharge_pH"),
    ({"discharge_pH_range": [9.0, 6.0]}, "units.eff.discharge_pH_range"),
    ({"reagent": "soda ash"}, "units.eff.reagent"),
    ({"cake_solids_wt_pct": 0.0}, "units.eff.cake_solids_wt_pct"),
])
def test_bad_parameters_name_their_field(params, field):
    with pytest.raises(InputError) as e:
        EffluentTreatment("eff", **params)
    assert e.value.field.startswith(field)


def test_a_solid_inlet_is_refused():
    with pytest.raises(InputError, match="aqueous"):
        EffluentTreatment("eff").run({"in1": Stream("solid", {"Fe": 1.0})})
