"""Leach and calcination cases worked by hand: boric acid, undissolved oxygen, inert compounds, sulfuric acid;
calcination without a rare earth to hold sulfate or chloride."""

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
    # 2 H+ per H2SO4: 1.1 x 3 / 2 = 1.65 mol/h of acid, as much sulfate, 0.3 mol/h free H+
    r = Leach("l", acid="H2SO4", dissolution={"Nd": 1.0}).run({"solids": Stream("solid", {"Nd": 1.0})})
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
