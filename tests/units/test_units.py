"""Each unit against a hand calculation written out here."""

import pytest

from magcycle.errors import InputError
from magcycle.units import (Calcination, ImpurityRemoval, Leach, Mixer, OxalatePrecipitation, Pretreatment,
                            Splitter, SXCascade, Stream)
from magcycle.units.leach import water_per_mol_solute
from magcycle.units.stream import WATER_L_PER_MOL


def neutral(s: Stream) -> bool:
    ions = sum(abs(v) for k, v in s.mol_h.items() if k[-1] in "+-" or k[-2:-1] in "+-")
    return abs(s.net_charge()) <= 1e-12 * max(ions, 1.0)


def test_pretreatment_roast():
    feed = Stream("solid", {"Fe": 1.0, "Nd": 1.0, "C": 0.5, "O": 0.1, "H2O": 2.0})
    r = Pretreatment("p", roast=True, dust_loss=0.0).run({"feed": feed})
    # oxides: Fe -> FeO1.5, Nd -> NdO1.5: 3 O needed, 0.1 present; C + O2 -> CO2
    assert r.reagents["O2"] == pytest.approx(0.5 + (3.0 - 0.1) / 2)
    assert r.outlets["product"].get("O") == pytest.approx(3.0)
    assert r.outlets["offgas"].mol_h == {"H2O": 2.0, "CO2": 0.5}


def test_pretreatment_dust():
    r = Pretreatment("p", dust_loss=0.01).run({"feed": Stream("solid", {"Nd": 2.0, "Fe": 8.0})})
    assert r.outlets["dust"].mol_h == pytest.approx({"Nd": 0.02, "Fe": 0.08})


def test_leach_hand_calculation():
    solids = Stream("solid", {"Nd": 1.0, "Fe": 2.0, "O": 0.5, "C": 0.1, "B": 0.2})
    u = Leach("l", excess=0.1, liquid_to_solid=6.0, dissolution={"Nd": 1.0, "Fe": 1.0, "B": 1.0})
    r = u.run({"solids": solids})
    liq = r.outlets["liquor"]
    # demand 3*1 + 2*2 = 7 H+; acid 1.1 * 7 = 7.7 HCl; free acid 0.7
    assert r.reagents["HCl"] == pytest.approx(7.7)
    assert liq.get("H+") == pytest.approx(0.7)
    assert liq.get("Cl-") == pytest.approx(7.7)
    assert liq.get("Nd+3") == 1.0 and liq.get("Fe+2") == 2.0 and liq.get("H3BO3") == pytest.approx(0.2)
    # O dissolves as water (0.5), H2 = (7 - 2*0.5)/2 + 1.5*0.2 (boron)
    assert r.outlets["offgas"].get("H2") == pytest.approx(3.3)
    assert r.outlets["residue"].mol_h == {"C": 0.1}
    # liquor volume: 6 L per kg of dry solids
    kg = (1.0 * 144.242 + 2 * 55.845 + 0.5 * 15.999 + 0.1 * 12.011 + 0.2 * 10.81) / 1000
    assert liq.volume_L_h == pytest.approx(6.0 * kg, rel=1e-4)
    assert neutral(liq)


def test_leach_destroys_recycled_oxalate_and_uses_its_acid():
    solids = Stream("solid", {"Nd": 1.0})
    rec = Stream("aqueous", {"H+": 1.0, "Cl-": 1.0, "H2C2O4": 0.2, "H2O": 500.0})
    r = Leach("l", excess=0.1, dissolution={"Nd": 1.0}).run({"solids": solids, "recycle": rec})
    assert r.reagents["HCl"] == pytest.approx(3.3 - 1.0)
    assert r.reagents["H2O2"] == pytest.approx(0.2)
    assert r.outlets["offgas"].get("CO2") == pytest.approx(0.4)
    assert r.outlets["liquor"].get("H2C2O4") == 0.0


def test_impurity_removal_hand_calculation():
    # volume after the oxidation: + 1 H2O per Fe and the water of 30 % H2O2
    V = (5000.0 + 1.0 + 0.5 * water_per_mol_solute("H2O2", 30.0)) * WATER_L_PER_MOL
    liq = Stream("aqueous", {"Fe+2": 1.0, "Nd+3": 1.0, "Al+3": 0.01, "H+": 2.0, "Cl-": 7.03, "H2O": 5000.0})
    r = ImpurityRemoval("f", pH=3.5).run({"liquor": liq})
    out = r.outlets["liquor"]
    # Fe(OH)3: [Fe3+] <= 10^(-38.8 + 3*(14 - 3.5)) mol/L
    fe_left = 10 ** (-38.8 + 31.5) * V
    assert out.get("Fe+3") == pytest.approx(fe_left, rel=1e-9)
    # Al(OH)3 at pH 3.5: 10^(-32.9 + 31.5) = 0.04 mol/L > 0.01 mol/V: nothing precipitates
    assert out.get("Al+3") == pytest.approx(0.01)
    assert out.get("Nd+3") == pytest.approx(0.994)
    h_final = 10 ** -3.5 * V
    assert out.get("H+") == pytest.approx(h_final)
    oh = (2.0 - 1.0 - h_final) + 3 * (1.0 - fe_left) + 3 * 0.006
    assert r.reagents["NaOH"] == pytest.approx(oh, rel=1e-12)
    assert r.reagents["H2O2"] == pytest.approx(0.5)
    assert neutral(out)


def test_oxalate_hand_calculation():
    liq = Stream("aqueous", {"Nd+3": 1.0, "Cl-": 3.0, "H2O": 1000.0})
    r = OxalatePrecipitation("o", excess=1.2).run({"liquor": liq})
    # Klemettinen 2023: 96.7 % precipitated at 1.2 x stoichiometric
    assert r.reagents["H2C2O4.2H2O"] == pytest.approx(1.8)
    assert r.outlets["precipitate"].mol_h == pytest.approx({"Nd2(C2O4)3.10H2O": 0.4835})
    f = r.outlets["filtrate"]
    assert f.get("Nd+3") == pytest.approx(0.033)
    assert f.get("H+") == pytest.approx(3 * 0.967)
    assert f.get("H2C2O4") == pytest.approx(1.8 - 1.5 * 0.967)
    assert neutral(f)


def test_calcination_oxygen_balance():
    r = Calcination("c").run({"solids": Stream("solid", {"Nd2(C2O4)3.10H2O": 0.5, "Pr2(C2O4)3.10H2O": 0.5})})
    ox = r.outlets["oxide"].mol_h
    assert ox["Nd2O3"] == pytest.approx(0.5) and ox["Pr6O11"] == pytest.approx(1 / 6)
    # per RE: 3 CO2 and 5 H2O; O2 = x/2 per RE (x = 1.5 for Nd, 11/6 for Pr)
    assert r.outlets["offgas"].mol_h == pytest.approx({"CO2": 6.0, "H2O": 10.0})
    assert r.reagents["O2"] == pytest.approx(0.75 + 11 / 12)


def test_mixer_and_splitter():
    a, b = Stream("aqueous", {"H2O": 1.0, "Na+": 0.5}), Stream("aqueous", {"H2O": 2.0})
    m = Mixer("m").run({"in1": a, "in2": b}).outlets["out"]
    assert m.mol_h == {"H2O": 3.0, "Na+": 0.5}
    s = Splitter("s", fraction=0.25).run({"in": m}).outlets
    assert s["out1"].mol_h == pytest.approx({"H2O": 0.75, "Na+": 0.125})
    assert s["out2"].mol_h == pytest.approx({"H2O": 2.25, "Na+": 0.375})


def _liquor(re):
    total = sum(re.values())
    flows = {f"{el}+3": v for el, v in re.items()} | {"Cl-": 3 * total + 0.1, "H+": 0.1, "Co+2": 0.05,
                                                    "H2O": 5550.0}
    flows["Cl-"] += 0.1
    return Stream("aqueous", flows)


def test_sx_unit_split_is_the_engine_solution_and_meets_targets():
    from magcycle.sx import solve

    feed = _liquor({"Nd": 0.75, "Pr": 0.25})
    u = SXCascade("cut", heavy_key="Nd", extract_purity=0.99, raffinate_purity=0.99, entrainment=0.0)
    state = {}
    r = u.run({"feed": feed}, state)
    i = r.info
    comps = i["components"]
    spec = u._spec(comps, {"Pr": 0.25, "Nd": 0.75}, feed.volume_L_h, i["extraction_stages"], i["scrub_stages"],
                   i["S_per_F"], i["W_per_F"])
    ref = solve(spec)
    ext = dict(zip(comps, ref.outlets["extract"].mol_per_h))
    assert r.outlets["extract"].get("Nd+3") == pytest.approx(ext["Nd"], rel=1e-12)
    assert r.outlets["extract"].get("Nd+3") / (r.outlets["extract"].get("Nd+3") + r.outlets["extract"].get("Pr+3")) >= 0.99
    raf = r.outlets["raffinate"]
    assert raf.get("Pr+3") / (raf.get("Pr+3") + raf.get("Nd+3")) >= 0.99
    P = ext["Nd"] + ext["Pr"]
    assert r.reagents["NaOH"] == pytest.approx(3 * P * 0.35)
    assert raf.get("Co+2") == 0.05  # not extracted, no entrainment
    assert neutral(raf) and neutral(r.outlets["extract"])


def test_sx_unit_bypass_when_one_side_is_empty():
    r = SXCascade("cut", heavy_key="Tb", extract_purity=0.99, heavy_recovery=0.99).run(
        {"feed": _liquor({"Nd": 1.0, "Pr": 0.3})})
    assert r.info["bypassed"] and r.outlets["extract"].mol_h == {}
    assert r.outlets["raffinate"].get("Nd+3") == 1.0


def test_sx_unit_impossible_target_is_input_error():
    u = SXCascade("cut", heavy_key="Nd", extract_purity=0.999999999, raffinate_purity=0.99, max_stages=30)
    with pytest.raises(InputError) as e:
        u.run({"feed": _liquor({"Nd": 0.75, "Pr": 0.25})})
    assert "units.cut" in str(e.value)


@pytest.mark.parametrize("params, field", [
    ({"heavy_key": "Nd", "extract_purity": 0.9}, "raffinate_purity"),
    ({"heavy_key": "Xx", "extract_purity": 0.9, "raffinate_purity": 0.9}, "heavy_key"),
    ({"heavy_key": "Nd", "extract_purity": 1.5, "raffinate_purity": 0.9}, "extract_purity"),
    ({"heavy_key": "Nd", "extract_purity": 0.9, "raffinate_purity": 0.9, "bogus": 1}, "bogus"),
])
def test_sx_unit_bad_parameters(params, field):
    with pytest.raises(InputError) as e:
        SXCascade("cut", **params)
    assert f"units.cut.{field}" in str(e.value)


def test_acid_water():
    # 32 wt % HCl: 68 g water per 32 g HCl
    assert water_per_mol_solute("HCl", 32.0) == pytest.approx((68 / 18.015) / (32 / 36.458), rel=1e-4)


def test_sx_unit_sends_vanishing_traces_to_their_side_whole():
    feed = _liquor({"Nd": 0.75, "Pr": 0.25, "Sm": 1e-295, "La": 1e-300})
    r = SXCascade("cut", heavy_key="Nd", extract_purity=0.99, raffinate_purity=0.99).run({"feed": feed})
    assert r.outlets["extract"].get("Sm+3") == 1e-295 and r.outlets["raffinate"].get("La+3") == 1e-300
    assert r.closure <= 1e-12
