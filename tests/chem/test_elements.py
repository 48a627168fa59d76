"""Tests for magcycle.chem.elements: atomic weights, rare-earth registry, checks.

Oracle for the atomic weights: IUPAC CIAAW, "Standard atomic weights of the
elements 2021", Prohaska et al., Pure Appl. Chem. 94 (2022) 573, table at
ciaaw.org. The values below are typed in from that table, not copied from
the module: single-value elements with their uncertainty (the test checks
the module value lies within value +/- uncertainty), interval elements with
their interval (the module value must be the CIAAW conventional value, and
inside the interval).
"""

from __future__ import annotations

import pytest

from magcycle.chem import (
    MOLAR_MASS,
    RARE_EARTHS,
    check_any_element,
    check_element,
    is_rare_earth,
    molar_mass,
)
from magcycle.errors import InputError

# CIAAW 2021 standard atomic weights: symbol -> (value, standard uncertainty).
CIAAW_2021_SINGLE = {
    "La": (138.90547, 0.00007),
    "Ce": (140.116, 0.001),
    "Pr": (140.90766, 0.00001),
    "Nd": (144.242, 0.003),
    "Sm": (150.36, 0.02),
    "Eu": (151.964, 0.001),
    "Gd": (157.25, 0.03),
    "Tb": (158.925354, 0.000007),
    "Dy": (162.500, 0.001),
    "Ho": (164.930329, 0.000005),
    "Er": (167.259, 0.003),
    "Tm": (168.934219, 0.000005),
    "Yb": (173.045, 0.010),
    "Lu": (174.9668, 0.0001),
    "Y": (88.905838, 0.000002),
    "Sc": (44.955907, 0.000004),
    "Fe": (55.845, 0.002),
    "Co": (58.933194, 0.000003),
    "Ni": (58.6934, 0.0004),
    "Cu": (63.546, 0.003),
    "Al": (26.9815384, 0.0000003),
    "Ga": (69.723, 0.001),
    "Nb": (92.90637, 0.00001),
    "Na": (22.98976928, 0.00000002),
    "Ca": (40.078, 0.004),
    "Mn": (54.938043, 0.000002),
    "Zn": (65.38, 0.02),
}

# CIAAW 2021 interval elements: symbol -> (lower, upper, conventional value).
CIAAW_2021_INTERVAL = {
    "H": (1.00784, 1.00811, 1.008),
    "B": (10.806, 10.821, 10.81),
    "C": (12.0096, 12.0116, 12.011),
    "N": (14.00643, 14.00728, 14.007),
    "O": (15.99903, 15.99977, 15.999),
    "Si": (28.084, 28.086, 28.085),
    "S": (32.059, 32.076, 32.06),
    "Cl": (35.446, 35.457, 35.45),
    "Mg": (24.304, 24.307, 24.305),
}

# Pm: no standard atomic weight; atomic mass of 145Pm, AME2020: 144.9127559(33) u.
PM145_ATOMIC_MASS = 144.9127559

# Atomic numbers (periodic table), used to check the ordering of RARE_EARTHS.
Z = {
    "La": 57, "Ce": 58, "Pr": 59, "Nd": 60, "Pm": 61, "Sm": 62, "Eu": 63,
    "Gd": 64, "Tb": 65, "Dy": 66, "Ho": 67, "Er": 68, "Tm": 69, "Yb": 70,
    "Lu": 71, "Y": 39,
}


def test_molar_mass_covers_exactly_the_required_elements():
    required = set(CIAAW_2021_SINGLE) | set(CIAAW_2021_INTERVAL) | {"Pm"}
    assert set(MOLAR_MASS) == required


@pytest.mark.parametrize("symbol", sorted(CIAAW_2021_SINGLE))
def test_single_value_atomic_weights_match_ciaaw_2021(symbol):
    value, u = CIAAW_2021_SINGLE[symbol]
    assert abs(MOLAR_MASS[symbol] - value) <= u
    # and the module states the published value itself, not just a nearby one
    assert MOLAR_MASS[symbol] == pytest.approx(value, rel=1e-12, abs=0)


@pytest.mark.parametrize("symbol", sorted(CIAAW_2021_INTERVAL))
def test_interval_atomic_weights_use_conventional_value(symbol):
    lo, hi, conventional = CIAAW_2021_INTERVAL[symbol]
    assert MOLAR_MASS[symbol] == conventional
    # A conventional value is rounded, so it lies within one unit of its last
    # digit of the interval (O: 15.999 vs [15.99903, 15.99977]).
    last_digit = 10.0 ** -len(repr(conventional).split(".")[1])
    assert lo - last_digit <= MOLAR_MASS[symbol] <= hi + last_digit


def test_promethium_uses_pm145_atomic_mass():
    assert MOLAR_MASS["Pm"] == pytest.approx(PM145_ATOMIC_MASS, abs=5e-6)
    assert round(MOLAR_MASS["Pm"]) == 145  # mass number of the longest-lived isotope


def test_molar_mass_function_agrees_with_mapping():
    for symbol, m in MOLAR_MASS.items():
        assert molar_mass(symbol) == m


def test_molar_mass_mapping_is_read_only():
    with pytest.raises(TypeError):
        MOLAR_MASS["Nd"] = 144.0  # type: ignore[index]
    with pytest.raises(TypeError):
        del MOLAR_MASS["Nd"]  # type: ignore[attr-defined]
    assert MOLAR_MASS["Nd"] == 144.242


def test_rare_earths_are_lanthanides_in_atomic_number_order_then_y():
    assert RARE_EARTHS[-1] == "Y"
    lanthanides = RARE_EARTHS[:-1]
    assert [Z[s] for s in lanthanides] == list(range(57, 72))  # La (57) .. Lu (71)
    assert len(RARE_EARTHS) == 16 and len(set(RARE_EARTHS)) == 16
    assert isinstance(RARE_EARTHS, tuple)
    assert "Pm" in RARE_EARTHS


def test_is_rare_earth():
    for s in RARE_EARTHS:
        assert is_rare_earth(s)
    for s in ("Fe", "B", "Co", "Sc", "O", "nd", "ND", "", "Xx"):
        assert not is_rare_earth(s)
    assert not is_rare_earth(None)  # type: ignore[arg-type]


def test_check_element_returns_canonical_symbol():
    for s in RARE_EARTHS:
        assert check_element(s, "feed.element") == s


def test_check_any_element_accepts_every_known_element():
    for s in MOLAR_MASS:
        assert check_any_element(s, "impurity") == s


def _assert_one_line_input_error(excinfo, field):
    err = excinfo.value
    assert isinstance(err, InputError)
    assert err.field == field
    assert str(err) == f"{field}: {err.reason}"
    assert "\n" not in str(err)
    return err


@pytest.mark.parametrize(
    ("symbol", "hint"),
    [("nd", "'Nd'"), ("ND", "'Nd'"), ("dy", "'Dy'"), (" Tb ", "'Tb'"), ("y", "'Y'")],
)
def test_check_element_suggests_canonical_spelling(symbol, hint):
    with pytest.raises(InputError) as excinfo:
        check_element(symbol, "product.element")
    err = _assert_one_line_input_error(excinfo, "product.element")
    assert f"did you mean {hint}" in err.reason


def test_check_element_rejects_non_rare_earth_element():
    with pytest.raises(InputError) as excinfo:
        check_element("Fe", "sx.cut")
    err = _assert_one_line_input_error(excinfo, "sx.cut")
    assert "not a rare-earth element" in err.reason
    assert "'Fe'" in err.reason


def test_check_element_rejects_wrong_case_non_rare_earth_with_hint():
    with pytest.raises(InputError) as excinfo:
        check_element("fe", "sx.cut")
    err = _assert_one_line_input_error(excinfo, "sx.cut")
    assert "did you mean 'Fe'" in err.reason


@pytest.mark.parametrize("bad", ["Xx", "", "Neodymium", "Nd2O3", "Ndd"])
def test_unknown_symbols_rejected_with_known_list(bad):
    for func in (check_element, check_any_element):
        with pytest.raises(InputError) as excinfo:
            func(bad, "feed.composition")
        err = _assert_one_line_input_error(excinfo, "feed.composition")
        assert f"unknown element {bad!r}" in err.reason


@pytest.mark.parametrize("bad", [None, 60, 1.5, True, ["Nd"]])
def test_non_string_symbols_rejected(bad):
    for func in (check_element, check_any_element):
        with pytest.raises(InputError) as excinfo:
            func(bad, "feed.composition")
        err = _assert_one_line_input_error(excinfo, "feed.composition")
        assert type(bad).__name__ in err.reason


def test_molar_mass_unknown_element_default_and_custom_field():
    with pytest.raises(InputError) as excinfo:
        molar_mass("Xx")
    err = _assert_one_line_input_error(excinfo, "element")
    assert err.reason.startswith("unknown element 'Xx'; known: La, Ce, ")
    with pytest.raises(InputError) as excinfo:
        molar_mass("Xx", field="impurities[2].element")
    _assert_one_line_input_error(excinfo, "impurities[2].element")
    with pytest.raises(InputError) as excinfo:
        molar_mass(["Nd"], field="f")  # unhashable input still gives InputError
    _assert_one_line_input_error(excinfo, "f")
