"""Rare-earth sulfate chemistry (chem.sulfate) by hand: the retrograde solubility, the double sulfate's
solubility products derived from the SIPS 2017 measurement, and the precipitation they give."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from magcycle.chem.sulfate import (DOUBLE_SULFATE_LOG_K, double_sulfate_log_k, double_sulfate_precipitated,
                                   sulfate_solubility)
from magcycle.units import ImpurityRemoval, Stream
from magcycle.units.stream import WATER_L_PER_MOL

M_ND2SO43 = 2 * 144.242 + 3 * (32.06 + 4 * 15.999)   # 576.652 g/mol, IUPAC masses

# [B] SIPS 2017: Nd 23.4 g/L and Dy 8.7 g/L, 7 equivalents of Na2SO4, 99.7 % Nd and 94.3 % Dy precipitated
ND, DY = 23.4 / 144.242, 8.7 / 162.500
RE = ND + DY
NA0 = 7 * 0.5 * RE * 2                  # Na2SO4 = 7 x 0.5 mol per mol RE, two Na each
SO4_0 = 1.5 * RE + 7 * 0.5 * RE         # the liquor's RE2(SO4)3 plus the Na2SO4
GONE = 0.997 * ND + 0.943 * DY
NA, SO4 = NA0 - GONE, SO4_0 - 2 * GONE


def test_solubility_is_retrograde_and_8_g_per_100_g_at_20_C():
    assert sulfate_solubility(20.0) == pytest.approx(2 * 80.0 / M_ND2SO43, rel=1e-12)
    temps = [0.0, 20.0, 40.0, 60.0, 80.0, 100.0]
    values = [sulfate_solubility(t) for t in temps]
    assert values == sorted(values, reverse=True)
    # van 't Hoff by hand at 60 C with dH = -20 kJ/mol
    hand = 2 * 80.0 / M_ND2SO43 * math.exp((20.0 / 8.314462618e-3) * (1 / 333.15 - 1 / 293.15))
    assert sulfate_solubility(60.0) == pytest.approx(hand, rel=1e-12)


def test_double_sulfate_constants_from_the_sips_point_by_hand():
    k_nd = NA * (1 - 0.997) * ND * SO4 ** 2
    k_dy = NA * (1 - 0.943) * DY * SO4 ** 2
    assert double_sulfate_log_k("Nd") == pytest.approx(math.log10(k_nd), rel=1e-12)
    assert double_sulfate_log_k("Dy") == pytest.approx(math.log10(k_dy), rel=1e-12)
    assert math.log10(k_nd) == pytest.approx(-3.568, abs=5e-4) and math.log10(k_dy) == pytest.approx(-2.770, abs=5e-4)
    # Tb (Z = 65) lies 5/6 of the way from Nd (60) to Dy (66); La takes Nd's, Ho Dy's
    tb = math.log10(k_nd) + 5 / 6 * (math.log10(k_dy) - math.log10(k_nd))
    assert DOUBLE_SULFATE_LOG_K["Tb"] == pytest.approx(tb, rel=1e-12)
    assert DOUBLE_SULFATE_LOG_K["La"] == DOUBLE_SULFATE_LOG_K["Nd"] and DOUBLE_SULFATE_LOG_K["Ho"] == DOUBLE_SULFATE_LOG_K["Dy"]


def test_precipitation_reproduces_the_measurement_it_was_derived_from():
    gone = double_sulfate_precipitated({"Nd": ND, "Dy": DY}, NA0, SO4_0, 1.0)
    assert gone["Nd"] / ND == pytest.approx(0.997, rel=1e-9)
    assert gone["Dy"] / DY == pytest.approx(0.943, rel=1e-9)


@settings(max_examples=80, deadline=None)
@given(nd=st.floats(1e-4, 1.0), dy=st.floats(0.0, 1.0), na=st.floats(0.0, 5.0), so4=st.floats(0.0, 5.0),
       vol=st.floats(0.1, 10.0))
def test_what_is_left_satisfies_the_solubility_product(nd, dy, na, so4, vol):
    gone = double_sulfate_precipitated({"Nd": nd, "Dy": dy}, na, so4, vol)
    x = sum(gone.values())
    assert x >= 0 and x <= min(na, so4 / 2) * (1 + 1e-12) + 1e-15
    c_na, c_so4 = (na - x) / vol, (so4 - 2 * x) / vol
    for el, n in (("Nd", nd), ("Dy", dy)):
        left = (n - gone.get(el, 0.0)) / vol
        assert left >= -1e-15
        product = c_na * left * c_so4 ** 2
        k = 10 ** DOUBLE_SULFATE_LOG_K[el]
        if gone.get(el, 0.0) > 0:
            assert product == pytest.approx(k, rel=1e-6)
        else:
            assert product <= k * (1 + 1e-9)


def test_caustic_in_a_sulfate_liquor_takes_neodymium_down_as_double_sulfate_and_not_in_chloride():
    # 1 mol/h Nd in 1000 mol/h water (18 L/h, 0.056 mol/L) as sulfate with 5 mol/h free H2SO4; the caustic
    # brings about 10 mol/h of Na+ (the acid to pH 3.5): 0.55 x 0.056 x 0.36^2 = 4e-3 >> K_Nd = 2.7e-4
    liq = Stream("aqueous", {"Nd+3": 1.0, "H+": 10.0, "SO4-2": 6.5, "H2O": 1000.0})
    r = ImpurityRemoval("f", re_co_loss=0.0).run({"liquor": liq})
    out, cake = r.outlets["liquor"], r.outlets["cake"]
    V = 1000.0 * WATER_L_PER_MOL                       # the entering volume the unit computes on
    x = cake.get("NaNd(SO4)2.H2O")
    assert x > 0.5 and r.info["re_double_sulfate_mol_per_h"] == pytest.approx(x)
    product = (out.get("Na+") / V) * (out.get("Nd+3") / V) * (out.get("SO4-2") / V) ** 2
    assert product == pytest.approx(10 ** DOUBLE_SULFATE_LOG_K["Nd"], rel=1e-6)
    assert out.get("Nd+3") == pytest.approx(1.0 - x, rel=1e-12)
    assert r.closure <= 1e-12
    chloride = Stream("aqueous", {"Nd+3": 1.0, "H+": 1.0, "Cl-": 4.0, "H2O": 1000.0})
    r2 = ImpurityRemoval("f", re_co_loss=0.0).run({"liquor": chloride})
    assert r2.outlets["liquor"].get("Nd+3") == pytest.approx(1.0) and r2.info["re_double_sulfate_mol_per_h"] == 0.0
