import pytest

from magcycle.chem import MOLAR_MASS
from magcycle.chem.formula import charge, formula_mass, parse_formula
from magcycle.errors import InputError


def test_hydrate_and_groups():
    # Nd2(C2O4)3.10H2O: Nd 2, C 6, O 12 + 10, H 20
    assert parse_formula("Nd2(C2O4)3.10H2O") == {"Nd": 2, "C": 6, "O": 22, "H": 20}
    assert parse_formula("FeO(OH)") == {"Fe": 1, "O": 2, "H": 1}
    assert parse_formula("Al(OH)3") == {"Al": 1, "O": 3, "H": 3}


def test_mass_is_sum_of_atomic_weights():
    m = MOLAR_MASS
    assert formula_mass("H2C2O4.2H2O") == pytest.approx(6 * m["H"] + 2 * m["C"] + 6 * m["O"], rel=1e-14)
    assert formula_mass("Pr6O11") == pytest.approx(6 * m["Pr"] + 11 * m["O"], rel=1e-14)


def test_charges():
    assert [charge(s) for s in ("Nd+3", "Cl-", "SO4-2", "Na+", "H2O")] == [3, -1, -2, 1, 0]
    assert parse_formula("SO4-2") == {"S": 1, "O": 4}


@pytest.mark.parametrize("bad", ["Xx2O3", "Nd2(C2O4", "Nd2)3", "nd", ""])
def test_bad_formula_is_input_error(bad):
    with pytest.raises(InputError):
        parse_formula(bad)
