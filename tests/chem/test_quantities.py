"""Tests for magcycle.chem.quantities: g/L <-> mol/L and parse_quantity.

Oracles: hand calculations from exact unit definitions (1 m3 = 1000 L,
1 L = 1000 mL, 1 h = 60 min = 3600 s, 1 d = 24 h, 1 M = 1 mol/L) and the
CIAAW 2021 atomic weights typed in below (Pure Appl. Chem. 94 (2022) 573,
ciaaw.org); hypothesis round-trip and consistency properties; and error
cases, each of which must raise InputError naming the given field on one line.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from magcycle.chem import (
    MOLAR_MASS,
    QUANTITY_KINDS,
    g_per_L_to_mol_per_L,
    mol_per_L_to_g_per_L,
    parse_quantity,
)
from magcycle.errors import ConvergenceError, InputError, MassBalanceError

# CIAAW 2021 standard atomic weights [g/mol] (typed in from the table).
M_ND = 144.242
M_DY = 162.500
M_FE = 55.845
M_PR = 140.90766

FLOW = "volumetric_flow"
CONC = "concentration"
DIMLESS = "dimensionless"

finite = st.floats(min_value=-1e12, max_value=1e12, allow_nan=False, allow_infinity=False)
positive = st.floats(min_value=1e-9, max_value=1e9, allow_nan=False, allow_infinity=False)
some_element = st.sampled_from(sorted(MOLAR_MASS))


# ---------------------------------------------------------------------------
# g/L <-> mol/L
# ---------------------------------------------------------------------------

def test_g_per_L_to_mol_per_L_by_hand():
    assert g_per_L_to_mol_per_L(36.0, "Nd") == pytest.approx(36.0 / M_ND, rel=1e-15)
    assert g_per_L_to_mol_per_L(8.7, "Dy") == pytest.approx(8.7 / M_DY, rel=1e-15)
    # 1 mol of Fe per litre weighs 55.845 g
    assert g_per_L_to_mol_per_L(M_FE, "Fe") == pytest.approx(1.0, rel=1e-15)


def test_mol_per_L_to_g_per_L_by_hand():
    assert mol_per_L_to_g_per_L(0.25, "Nd") == pytest.approx(0.25 * M_ND, rel=1e-15)
    assert mol_per_L_to_g_per_L(2, "Pr") == pytest.approx(2 * M_PR, rel=1e-15)


def test_scalar_in_float_out():
    for v in (1, 1.5, np.float64(2.0), np.int64(3)):
        out = g_per_L_to_mol_per_L(v, "Nd")
        assert type(out) is float
        out = mol_per_L_to_g_per_L(v, "Nd")
        assert type(out) is float


def test_arrays_are_converted_elementwise():
    g = np.array([[36.0, 0.0], [M_ND, 2 * M_ND]])
    c = g_per_L_to_mol_per_L(g, "Nd")
    assert isinstance(c, np.ndarray) and c.shape == (2, 2)
    np.testing.assert_allclose(c, [[36.0 / M_ND, 0.0], [1.0, 2.0]], rtol=1e-15)
    back = mol_per_L_to_g_per_L(c, "Nd")
    np.testing.assert_allclose(back, g, rtol=1e-15)
    lst = g_per_L_to_mol_per_L([M_DY, 0.5 * M_DY], "Dy")
    np.testing.assert_allclose(lst, [1.0, 0.5], rtol=1e-15)
    assert g is not c  # input not modified
    assert g[0, 0] == 36.0


def test_conversion_unknown_element():
    with pytest.raises(InputError) as excinfo:
        g_per_L_to_mol_per_L(1.0, "Xx")
    assert excinfo.value.field == "element"
    with pytest.raises(InputError):
        mol_per_L_to_g_per_L(1.0, "nd")


@given(x=finite, el=some_element)
def test_round_trip_g_mol_g(x, el):
    back = mol_per_L_to_g_per_L(g_per_L_to_mol_per_L(x, el), el)
    assert back == pytest.approx(x, rel=1e-14, abs=1e-300)


@given(x=finite, el=some_element)
def test_round_trip_mol_g_mol(x, el):
    back = g_per_L_to_mol_per_L(mol_per_L_to_g_per_L(x, el), el)
    assert back == pytest.approx(x, rel=1e-14, abs=1e-300)


@given(xs=st.lists(finite, min_size=0, max_size=20), el=some_element)
def test_array_matches_scalar(xs, el):
    arr = g_per_L_to_mol_per_L(np.array(xs, dtype=float), el)
    assert arr.shape == (len(xs),)
    for a, x in zip(arr, xs):
        assert a == g_per_L_to_mol_per_L(x, el)


# ---------------------------------------------------------------------------
# parse_quantity: values
# ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "expected_l_per_h"),
    [
        ("250 L/h", 250.0),
        ("250L/h", 250.0),
        (" 250  L/h ", 250.0),
        ("250 L / h", 250.0),
        ("250 l/h", 250.0),
        ("2 m3/h", 2 * 1000.0),               # 1 m3 = 1000 L
        ("2 m^3/h", 2 * 1000.0),
        ("6 m3/d", 6 * 1000.0 / 24),          # = 250 L/h
        ("100 mL/min", 100 / 1000 * 60),      # = 6 L/h
        ("30 mL/h", 30 / 1000),               # = 0.03 L/h
        ("5 L/min", 5 * 60.0),                # = 300 L/h
        ("0.5 L/s", 0.5 * 3600),              # = 1800 L/h
        ("4800 L/d", 4800 / 24),              # = 200 L/h
        ("2.5e2 L/h", 250.0),
        ("+250 L/h", 250.0),
        ("-3 L/h", -3.0),                     # sign is the caller's business
        ("250", 250.0),                       # bare number: internal unit
        (".5 m3/h", 500.0),
    ],
)
def test_volumetric_flow_by_hand(text, expected_l_per_h):
    assert parse_quantity(text, FLOW, field="f") == pytest.approx(expected_l_per_h, rel=1e-15)


@pytest.mark.parametrize(
    ("text", "element", "expected_mol_per_l"),
    [
        ("1.5 mol/L", None, 1.5),
        ("1.5 M", None, 1.5),
        ("0.25 mol/L", None, 0.25),
        ("2.5e-3 mol/L", None, 2.5e-3),
        ("250 mmol/L", None, 0.25),
        ("250 mM", None, 0.25),
        ("1.5 mol/l", None, 1.5),
        ("0.7", None, 0.7),
        ("36 g/L", "Nd", 36 / M_ND),
        ("500 mg/L", "Fe", 0.5 / M_FE),
        ("23.4 kg/m3", "Nd", 23.4 / M_ND),    # 1 kg/m3 = 1 g/L
        ("8700 g/m3", "Dy", 8.7 / M_DY),      # 1 g/m3 = 1 mg/L
        ("36 g/L", "Fe", 36 / M_FE),
    ],
)
def test_concentration_by_hand(text, element, expected_mol_per_l):
    got = parse_quantity(text, CONC, field="c", element=element)
    assert got == pytest.approx(expected_mol_per_l, rel=1e-14)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("35 %", 0.35), ("35%", 0.35), ("0.35", 0.35), ("100 %", 1.0), ("50 ppm", 50e-6), ("1", 1.0)],
)
def test_dimensionless(text, expected):
    assert parse_quantity(text, DIMLESS, field="x") == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize("kind", sorted(QUANTITY_KINDS))
@pytest.mark.parametrize("number", [0, 250, 1.5, -2.0, np.float64(3.25), np.int32(7)])
def test_numbers_are_taken_as_internal_units(kind, number):
    out = parse_quantity(number, kind, field="x", element="Nd")
    assert type(out) is float
    assert out == float(number)


def test_exact_integer_conversions():
    # Integer inputs over exact unit ratios give exact results, not 6.000000000000001.
    assert parse_quantity("100 mL/min", FLOW, field="f") == 6.0
    assert parse_quantity("6 m3/d", FLOW, field="f") == 250.0
    assert parse_quantity("500 mg/L", CONC, field="c", element="Fe") == 0.5 / M_FE
    assert parse_quantity("35 %", DIMLESS, field="x") == 0.35


@given(x=st.floats(min_value=-1e9, max_value=1e9, allow_nan=False, allow_infinity=False))
def test_flow_units_consistent(x):
    """x m3/h == 1000x L/h == 1000x/60 L/min == 1000x/3600 L/s == 24000x L/d ..."""
    r = repr(x)
    l_per_h = parse_quantity(f"{r} m3/h", FLOW, field="f")
    assert l_per_h == pytest.approx(1000 * x, rel=1e-14, abs=1e-300)
    assert parse_quantity(f"{r} L/h", FLOW, field="f") == pytest.approx(x, rel=1e-15, abs=1e-300)
    # the same flow written in other units parses to the same L/h
    same = [
        f"{1000 * x!r} L/h",
        f"{1000 * x / 60!r} L/min",
        f"{1000 * x / 3600!r} L/s",
        f"{1000 * x * 24!r} L/d",
        f"{1e6 * x / 60!r} mL/min",
        f"{1e6 * x!r} mL/h",
        f"{24 * x!r} m3/d",
    ]
    for text in same:
        assert parse_quantity(text, FLOW, field="f") == pytest.approx(l_per_h, rel=1e-13, abs=1e-300)


def test_one_m3_per_h_equals_1000_l_per_h_and_16_67_l_per_min():
    a = parse_quantity("1 m3/h", FLOW, field="f")
    b = parse_quantity("1000 L/h", FLOW, field="f")
    c = parse_quantity(f"{1000 / 60!r} L/min", FLOW, field="f")  # 16.666...
    assert a == b == 1000.0
    assert c == pytest.approx(1000.0, rel=1e-15)


@given(x=positive, el=some_element)
def test_mass_concentration_consistent_with_conversion_function(x, el):
    r = repr(x)
    got = parse_quantity(f"{r} g/L", CONC, field="c", element=el)
    assert got == pytest.approx(g_per_L_to_mol_per_L(x, el), rel=1e-15)
    # 1000x mg/L is the same concentration
    got_mg = parse_quantity(f"{1000 * x!r} mg/L", CONC, field="c", element=el)
    assert got_mg == pytest.approx(got, rel=1e-13)
    # and g/L -> mol/L -> g/L is the identity
    assert mol_per_L_to_g_per_L(got, el) == pytest.approx(x, rel=1e-14)


@given(x=finite)
def test_molar_units_consistent(x):
    r = repr(x)
    m = parse_quantity(f"{r} M", CONC, field="c")
    assert m == parse_quantity(f"{r} mol/L", CONC, field="c") == pytest.approx(x, rel=1e-15)
    assert parse_quantity(f"{r} mM", CONC, field="c") == pytest.approx(x / 1000, rel=1e-15, abs=1e-300)


@given(x=finite)
def test_percent_is_one_hundredth(x):
    assert parse_quantity(f"{x!r} %", DIMLESS, field="x") == pytest.approx(x / 100, rel=1e-15, abs=1e-300)


# ---------------------------------------------------------------------------
# parse_quantity: errors
# ---------------------------------------------------------------------------

def _check_error(excinfo, field):
    err = excinfo.value
    assert type(err) is InputError
    assert err.field == field
    assert str(err) == f"{field}: {err.reason}"
    assert "\n" not in str(err) and "\r" not in str(err)
    assert len(err.reason) < 200
    return err


@pytest.mark.parametrize(
    ("value", "kind", "element", "needle"),
    [
        (True, FLOW, None, "boolean"),
        (False, CONC, None, "boolean"),
        (np.bool_(True), FLOW, None, "boolean"),
        (float("nan"), FLOW, None, "not a finite number"),
        (float("inf"), CONC, None, "not a finite number"),
        (-math.inf, DIMLESS, None, "not a finite number"),
        (np.float64("nan"), FLOW, None, "not a finite number"),
        (10**400, FLOW, None, "not a finite number"),
        ("nan L/h", FLOW, None, "not a finite number"),
        ("inf", CONC, None, "not a finite number"),
        ("-Infinity M", CONC, None, "not a finite number"),
        ("1e999 L/h", FLOW, None, "not a finite number"),
        ("1e308 m3/h", FLOW, None, "not a finite number"),
        ("", FLOW, None, "empty"),
        ("   ", CONC, None, "empty"),
        ("abc", FLOW, None, "not a number: 'abc'"),
        ("L/h", FLOW, None, "not a number: 'L/h'"),
        ("1,5 M", CONC, None, "unknown unit ',5 M'"),
        ("1.5 furlongs", FLOW, None, "unknown unit 'furlongs' for a volumetric flow; use one of L/h"),
        ("3 gallons/h", FLOW, None, "unknown unit"),
        ("2 L/h", CONC, None, "unit 'L/h' is a volumetric flow, not a concentration"),
        ("2 M", FLOW, None, "unit 'M' is a molar concentration, not a volumetric flow"),
        ("35 %", FLOW, None, "is a dimensionless fraction, not a volumetric flow"),
        ("5 g/L", DIMLESS, None, "is a mass concentration, not a dimensionless"),
        ("36 g/L", CONC, None, "needs an element"),
        ("500 mg/L", CONC, None, "needs an element"),
        ("36 g/L", CONC, "Xx", "unknown element 'Xx'"),
        ("36 g/L", CONC, "nd", "did you mean 'Nd'"),
        (None, FLOW, None, "got NoneType"),
        ([250, "L/h"], FLOW, None, "got list"),
        ("250 L/h\n", FLOW, None, None),  # trailing newline is just whitespace: OK below
    ],
)
def test_bad_inputs_raise_input_error_naming_field(value, kind, element, needle):
    if needle is None:
        assert parse_quantity(value, kind, field="x") == 250.0
        return
    with pytest.raises(InputError) as excinfo:
        parse_quantity(value, kind, field="feed.streams[0].flow", element=element)
    err = _check_error(excinfo, "feed.streams[0].flow")
    assert needle in err.reason


def test_multiline_garbage_gives_one_line_message():
    with pytest.raises(InputError) as excinfo:
        parse_quantity("12 L/h\nrm -rf /", FLOW, field="f")
    err = _check_error(excinfo, "f")
    assert "unknown unit 'L/h\\nrm" in err.reason  # newline shown escaped
    with pytest.raises(InputError) as excinfo:
        parse_quantity("x" * 500 + "\n", FLOW, field="f")
    _check_error(excinfo, "f")


def test_unknown_kind_is_a_programming_error():
    with pytest.raises(ValueError) as excinfo:
        parse_quantity("1 L/h", "energy", field="f")
    assert not isinstance(excinfo.value, InputError)


def test_field_is_keyword_only():
    with pytest.raises(TypeError):
        parse_quantity("1 L/h", FLOW, "f")  # type: ignore[misc]


@given(text=st.text(max_size=30), kind=st.sampled_from(sorted(QUANTITY_KINDS)))
def test_any_string_gives_float_or_input_error(text, kind):
    try:
        out = parse_quantity(text, kind, field="fuzz", element="Nd")
    except InputError as err:
        assert err.field == "fuzz"
        assert "\n" not in str(err)
    else:
        assert type(out) is float and math.isfinite(out)


# ---------------------------------------------------------------------------
# Error types (magcycle.errors) used by the parsers and solvers
# ---------------------------------------------------------------------------

def test_error_types():
    e = InputError("feed.flow", "not a number: 'abc'")
    assert isinstance(e, ValueError)
    assert (e.field, e.reason, str(e)) == ("feed.flow", "not a number: 'abc'", "feed.flow: not a number: 'abc'")

    c = ConvergenceError("recycle did not converge", 1.23456e-4, 50)
    assert isinstance(c, RuntimeError)
    assert (c.residual, c.iterations) == (1.23456e-4, 50)
    assert "recycle did not converge" in str(c) and "1.235e-04" in str(c) and "50" in str(c)

    m = MassBalanceError("Nd closure", 3e-8)
    assert isinstance(m, RuntimeError)
    assert m.closure == 3e-8 and "Nd closure" in str(m)


def test_errors_pickle():
    import pickle

    for err in (InputError("a", "b"), ConvergenceError("m", 1.0, 2), MassBalanceError("m", 0.5)):
        clone = pickle.loads(pickle.dumps(err))
        assert type(clone) is type(err) and str(clone) == str(err)


# ---------------------------------------------------------------------------
# Mass flows [kg/h]: exact factors written out; per-year flows use the plant's hours
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("text, hours, kg_h", [
    ("150 kg/h", None, 150.0),
    ("2 t/d", None, 2000.0 / 24.0),        # 1 t = 1000 kg, 1 d = 24 h
    ("48 kg/d", None, 2.0),
    ("0.25 t/h", None, 250.0),
    ("500 g/h", None, 0.5),
    ("1 kg/min", None, 60.0),
    ("1200 t/y", 8000.0, 150.0),           # 1.2e6 kg / 8000 h
    ("1200 t/y", 7500.0, 160.0),           # the plant's hours, not a fixed year
    ("8000 kg/y", 8000.0, 1.0),
    (12.5, None, 12.5),                    # a bare number is already kg/h
])
def test_mass_flows(text, hours, kg_h):
    assert parse_quantity(text, "mass_flow", field="feed.rate", hours_per_year=hours) == pytest.approx(kg_h,
                                                                                                       rel=1e-15)


def test_a_flow_per_year_needs_the_plants_hours():
    with pytest.raises(InputError) as excinfo:
        parse_quantity("1200 t/y", "mass_flow", field="feed.rate")
    err = _check_error(excinfo, "feed.rate")
    assert "hours" in err.reason


@pytest.mark.parametrize("text", ["3 L/h", "2 furlongs/y", "1e400 t/h"])
def test_bad_mass_flows_name_the_field(text):
    with pytest.raises(InputError) as excinfo:
        parse_quantity(text, "mass_flow", field="feed.rate", hours_per_year=8000)
    _check_error(excinfo, "feed.rate")
