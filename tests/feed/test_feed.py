import math

import pytest

from magcycle.chem import MOLAR_MASS
from magcycle.errors import InputError
from magcycle.feed import CATALOGUE, FEED_ELEMENTS, blend, feed_rate, from_class, load_assay, resolve_feed


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
    assert feed_rate("2 t/d", "x") == pytest.approx(2000 / 24)
    assert feed_rate("1200 t/y", "x", 8000) == pytest.approx(150.0)
    for bad in ("-5 kg/h", "5 furlongs/h", "abc", 0, math.nan, True, "", "1e300 kg/h", "1e-30 kg/h"):
        with pytest.raises(InputError) as e:
            feed_rate(bad, "feed.rate")
        assert e.value.field == "feed.rate"


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


# ------------------------------------------------ feed inputs say what they do
def _lot(tmp_path, rate_line='rate = "200 kg/h"\n'):
    t = tmp_path / "lot.toml"
    t.write_text(f'name = "lot 9"\n{rate_line}[composition]\nNd = 30\nFe = 70\n')
    return str(t)


def test_an_assays_rate_is_honoured(tmp_path):
    # the rate in the file wins over the plant's default rate, which only fills in a missing one
    assert resolve_feed(_lot(tmp_path), None, default_rate="100 kg/h").kg_per_h == 200.0
    assert resolve_feed(_lot(tmp_path, ""), None, default_rate="100 kg/h").kg_per_h == 100.0


def test_an_assays_rate_beside_a_different_rate_is_an_error_naming_both(tmp_path):
    with pytest.raises(InputError) as e:
        resolve_feed(_lot(tmp_path), "150 kg/h")
    assert e.value.field == "feed.rate" and "150 kg/h" in e.value.reason and "200 kg/h" in e.value.reason
    assert "lot.toml" in e.value.reason
    # the same rate twice is no conflict: 4.8 t/d = 4800 kg / 24 h = 200 kg/h
    assert resolve_feed(_lot(tmp_path), "4.8 t/d").kg_per_h == pytest.approx(200.0, rel=1e-15)


def test_an_assay_per_year_uses_the_plants_hours(tmp_path):
    path = _lot(tmp_path, 'rate = "1200 t/y"\n')
    assert resolve_feed(path, None, 7500.0).kg_per_h == pytest.approx(1.2e6 / 7500.0, rel=1e-15)
    assert resolve_feed(path, None, 8000.0).kg_per_h == pytest.approx(150.0, rel=1e-15)


def test_blend_weights_are_normalised_and_say_so():
    f = resolve_feed("ev=2,wind=1", "90 kg/h")
    assert dict(f.parts) == pytest.approx({"ev": 2 / 3, "wind": 1 / 3}, rel=1e-15)
    assert "sum to 3" in f.normalisation and "ev=2" in f.normalisation
    assert resolve_feed("ev=0.5,wind=0.5", "90 kg/h").normalisation is None
    assert f.to_dict()["blend_weights_given"] == {"ev": 2.0, "wind": 1.0}


@pytest.mark.parametrize("text, field", [
    ("hdd=1,ev=1e-308", "feed.blend.ev"),    # a part too small to compute with: 0 or >= 1e-9 of the blend
    ("hdd=1,hdd=2", "feed.blend.hdd"),       # named twice
    ("hdd=0,ev=0", "feed.blend"),
    ("hdd=1,xx=1", "feed.blend.xx"),
])
def test_bad_blends_name_the_part(text, field):
    with pytest.raises(InputError) as e:
        resolve_feed(text, "100 kg/h")
    assert e.value.field == field


def test_an_assay_of_subnormal_fractions_is_refused(tmp_path):
    p = tmp_path / "lot.csv"
    p.write_text("element,wt_pct\nNd,1e-300\nFe,100\n")
    with pytest.raises(InputError) as e:
        load_assay(p)
    assert e.value.field == "lot.csv.composition.Nd"
