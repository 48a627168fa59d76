"""Leach and calcination cases worked by hand: boric acid, undissolved oxygen, inert compounds, sulfuric acid;
calcination without a rare earth to hold sulfate or chloride."""

import math

import pytest

from magcycle.chem.formula import formula_mass
from magcycle.errors import InputError
from magcycle.units import Calcination, Leach, Stream
from magcycle.units.stream import WATER_L_PER_MOL


def test_leach_of_boron_alone_makes_up_the_water_boric_acid_takes():
    # B + 3 H2O -> H3BO3 + 3/2 H2: 0.9 of 1 mol/h dissolves (the default), taking 2.7 mol/h of water
    # that the solids do not bring; no acid demand, so no acid. Water is made up to 6 L per kg of B.
    r = Leach("l").run({"solids": Stream("solid", {"B": 1.0})})
    liq = r.outlets["liquor"]
    target = 6.0 * formula_mass("B") / 1000.0 / WATER_L_PER_MOL
    assert liq.get("H3BO3") == pytest.approx(0.9) and r.outlets["residue"].mol_h == {"B": pytest.approx(0.1)}
    assert r.outlets["offgas"].mol_h == {"H2": pytest.approx(1.35)}
    assert liq.get("H2O") == pytest.approx(target)
    assert r.reagents == {"H2O": pytest.approx(target + 2.7)}
    assert "HCl" not in r.reagents and liq.get("H+") == 0.0


def test_leach_oxygen_beyond_the_demand_stays_in_the_residue_with_inert_compounds():
    # demand 3 H+ dissolves 1.5 O as water; 3.5 O and the SiO2 stay; no H2 is freed
    r = Leach("l", dissolution={"Nd": 1.0}).run({"solids": Stream("solid", {"Nd": 1.0, "O": 5.0, "SiO2": 0.5})})
    assert r.outlets["residue"].mol_h == pytest.approx({"SiO2": 0.5, "O": 3.5})
    assert r.outlets["offgas"].mol_h == {}
    assert r.reagents["HCl"] == pytest.approx(3.3)


def test_sulfuric_acid_leach():
    # 2 H+ per H2SO4: 1.1 x 3 / 2 = 1.65 mol/h of acid, as much sulfate, 0.3 mol/h free H+; dilute
    # (50 L/kg: 7.2 L/h, 0.14 mol/L Nd) and at 20 C, below the sulfate's solubility (0.277 mol/L)
    r = Leach("l", acid="H2SO4", dissolution={"Nd": 1.0}, liquid_to_solid=50.0, temperature_C=20.0).run(
        {"solids": Stream("solid", {"Nd": 1.0})})
    liq = r.outlets["liquor"]
    assert r.reagents["H2SO4"] == pytest.approx(1.65) and liq.get("SO4-2") == pytest.approx(1.65)
    assert liq.get("H+") == pytest.approx(0.3) and liq.get("Nd+3") == 1.0


def test_calcination_without_a_rare_earth_gives_off_all_sulfate_and_chloride():
    # Fe 1, O 3.3, H 3.2, S 0.1, Cl 0.2: SO2 0.1 (0.2 O), HCl 0.2 (H left 3.0 -> 1.5 H2O, 1.5 O),
    # Fe2O3 0.5 (1.5 O): O out 3.2 < O in 3.3, so 0.05 O2 leaves with the gas and none is drawn
    r = Calcination("c").run({"solids": Stream("solid", {"Fe(OH)3": 1.0, "SO3": 0.1, "HCl": 0.2})})
    assert r.outlets["oxide"].mol_h == pytest.approx({"Fe2O3": 0.5})
    assert r.outlets["offgas"].mol_h == pytest.approx({"SO2": 0.1, "HCl": 0.2, "H2O": 1.5, "O2": 0.05})
    assert list(r.outlets["offgas"].mol_h) == ["SO2", "HCl", "H2O", "O2"]
    assert r.reagents == {}


def test_calcination_of_nitrogen_is_refused():
    with pytest.raises(InputError, match="N-bearing"):
        Calcination("c").run({"solids": Stream("solid", {"NH4Cl": 1.0})})


def test_a_sulfate_leach_crystallises_what_its_solubility_cannot_hold_and_a_chloride_leach_does_not():
    # 10 mol/h Nd at 6 L/kg: 1.44242 kg/h of metal -> 8.655 L/h of liquor, 1.16 mol/L Nd
    solids = Stream("solid", {"Nd": 10.0})
    hcl = Leach("l", acid="HCl", dissolution={"Nd": 1.0}).run({"solids": solids})
    assert hcl.outlets["liquor"].get("Nd+3") == pytest.approx(10.0) and "Nd2(SO4)3.8H2O" not in hcl.outlets["residue"].mol_h
    r = Leach("l", acid="H2SO4", dissolution={"Nd": 1.0}, temperature_C=80.0).run({"solids": solids})
    # solubility at 80 C by hand: S = 8 exp((20 / 0.008314462618) (1/353.15 - 1/293.15)) g/100 g water,
    # c_max = 2 x 10 S / 576.652 mol RE per L of water
    S = 8.0 * math.exp((20.0 / 0.008314462618) * (1 / 353.15 - 1 / 293.15))
    c_max = 20.0 * S / (2 * 144.242 + 3 * (32.06 + 4 * 15.999))
    assert S == pytest.approx(1.985, abs=2e-3)
    v = WATER_L_PER_MOL                               # 18.015 g/mol / 1000 g/L
    W = 6.0 * 1.44242 / v                              # water made up to 6 L per kg of dry solids
    x = (10.0 - c_max * W * v) / (1 - 4 * c_max * v)
    liq, res = r.outlets["liquor"], r.outlets["residue"]
    assert liq.get("H2O") == pytest.approx(W - 4 * x, rel=1e-9)   # 4 H2O per RE into the crystal
    assert r.info["re_sulfate_crystallised_mol_per_h"] == pytest.approx(x, rel=1e-9)
    assert res.get("Nd2(SO4)3.8H2O") == pytest.approx(x / 2, rel=1e-9)
    assert liq.get("Nd+3") == pytest.approx(10.0 - x, rel=1e-9)
    # what stays dissolved is the solubility on the water left: (10 - x) / ((W - 4x) v) = c_max
    assert liq.get("Nd+3") / liq.volume_L_h == pytest.approx(c_max, rel=1e-12)
    assert liq.get("SO4-2") == pytest.approx(1.1 * 30 / 2 - 1.5 * r.info["re_sulfate_crystallised_mol_per_h"])
    assert r.closure <= 1e-12


@pytest.mark.parametrize("params, field", [
    ({"sulfate_solubility_20C": -8.0}, "units.l.sulfate_solubility_20C"),
    ({"sulfate_solubility_20C": "eight"}, "units.l.sulfate_solubility_20C"),
    ({"sulfate_solubility_20C": float("nan")}, "units.l.sulfate_solubility_20C"),
    ({"sulfate_dissolution_enthalpy": 1e9}, "units.l.sulfate_dissolution_enthalpy"),
    ({"temperature_C": -5.0}, "units.l.temperature_C"),
])
def test_bad_solubility_data_name_their_field(params, field):
    with pytest.raises(InputError) as e:
        Leach("l", acid="H2SO4", **params)
    assert e.value.field == field


def test_the_solubility_given_is_the_solubility_used():
    # 4 g/100 g at 20 C and no heat of solution: c_max = 2 x 40 / 576.652 mol/L at any temperature
    r = Leach("l", acid="H2SO4", dissolution={"Nd": 1.0}, sulfate_solubility_20C=4.0,
              sulfate_dissolution_enthalpy=0.0).run({"solids": Stream("solid", {"Nd": 10.0})})
    liq = r.outlets["liquor"]
    assert liq.get("Nd+3") / liq.volume_L_h == pytest.approx(80.0 / 576.652, rel=1e-5)
