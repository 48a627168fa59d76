import math

import pytest

from magcycle.chem import MOLAR_MASS
from magcycle.errors import InputError
from magcycle.feed import CATALOGUE, FEED_ELEMENTS, blend, from_class, load_assay, parse_mass_flow, resolve_feed


@pytest.mark.parametrize("key", list(CATALOGUE))
def test_every_class_sums_to_100_and_reports_all_elements(key):
    c = CATALOGUE[key]
    assert set(FEED_ELEMENTS) <= set(c.nominal)
    assert sum(c.nominal.values()) == pytest.approx(100.0, abs=1e-9)
    for el, (lo, hi) in c.ranges.items():
        assert lo <= c.nominal[el] <= hi or (lo == hi == 0 and c.nominal[el] == 0), (key, el)
    assert c.sources, key


def test_hdd_assay_matches_belfqueh():
    # Belfqueh et al. 2023: Nd 22.8, Pr 3.3, Dy 1.2, B 0.9, Co 1.5, Ni 0.6 wt %
    c = CATALOGUE["hdd"].nominal
    assert (c["Nd"], c["Pr"], c["Dy"], c["B"], c["Co"], c["Ni"]) == (22.8, 3.3, 1.2, 0.9, 1.5, 0.6)


def test_blend_is_mass_weighted_and_moisture_on_wet_basis():
    f = blend({"swarf": 1, "ev": 3}, "200 kg/h")
    s, e = CATALOGUE["swarf"].nominal, CATALOGUE["ev"].nominal
    for el in ("Nd", "Dy", "C"):
        assert f.composition[el] == pytest.approx(0.25 * s[el] + 0.75 * e[el], rel=1e-12)
    # swarf 20 wt % moisture: 0.25 kg dry carries 0.25 * 20/80 kg water
    water = 0.25 * 20 / 80
    assert f.moisture_wt_pct == pytest.approx(100 * water / (1 + water), rel=1e-12)
    assert f.water_kg_h == pytest.approx(200 * water, rel=1e-12)


def test_element_flows():
    f = from_class("hdd", 100.0)
    assert f.element_mol_h()["Nd"] == pytest.approx(22.8 * 1000 / MOLAR_MASS["Nd"], rel=1e-14)


def test_mass_flow_units():
    assert parse_mass_flow("2 t/d", "x") == pytest.approx(2000 / 24)
    assert parse_mass_flow("1200 t/y", "x", 8000) == pytest.approx(150.0)
    for bad in ("-5 kg/h", "5 furlongs/h", "abc", 0, math.nan, True):
        with pytest.raises(InputError):
            parse_mass_flow(bad, "feed.rate")


def test_assays_from_csv_and_toml(tmp_path):
    p = tmp_path / "lot7.csv"
    p.write_text("element,wt_pct\nNd,25\nPr,5\nFe,69\nB,1\n")
    f = load_assay(p, "10 kg/h")
    assert f.composition == {"Nd": 25.0, "Pr": 5.0, "Fe": 69.0, "B": 1.0} and f.kg_per_h == 10.0
    t = tmp_path / "lot8.toml"
    t.write_text('name = "lot 8"\nrate = "50 kg/h"\nmoisture_wt_pct = 12\n[composition]\nNd = 30\nFe = 70\n')
    g = resolve_feed(str(t), None)
    assert (g.name, g.kg_per_h, g.moisture_wt_pct) == ("lot 8", 50.0, 12.0)


@pytest.mark.parametrize("text, field", [
    ("element,wt_pct\nNd,25\nFe,70\n", "composition"),   # sums to 95
    ("element,wt_pct\nNd,-1\nFe,101\n", "Nd"),
    ("element,wt_pct\nQq,30\nFe,70\n", "Qq"),
    ("el,w\nNd,30\n", "lot.csv"),
])
def test_bad_assays_name_the_field(tmp_path, text, field):
    p = tmp_path / "lot.csv"
    p.write_text(text)
    with pytest.raises(InputError) as e:
        load_assay(p)
    assert field in str(e.value)
