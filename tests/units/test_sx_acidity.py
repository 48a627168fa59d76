"""The SX cut's saponification holds its raffinate at the design acidity, and a raffinate more acidic
than the cut's model holds for is warned about or refused (issue 14, item 6)."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from magcycle import cli
from magcycle.errors import InputError
from magcycle.units import SXCascade, Stream
from magcycle.units.sx_cascade import ACID_TOLERANCE, design_pH
from magcycle.units.stream import WATER_L_PER_MOL


def _liquor(h: float, nd: float = 0.75, pr: float = 0.25) -> Stream:
    return Stream("aqueous", {"Nd+3": nd, "Pr+3": pr, "H+": h, "Cl-": 3 * (nd + pr) + h, "H2O": 5550.0})


def test_design_pH_follows_the_third_power_law_along_the_default_ladder():
    # [C] defaults of the P507 ladder, adjacent factors from Pr up to Dy (units.sx_cascade docstring)
    dy_over_pr = 1.5 * 8 * 2.15 * 1.45 * 4.7 * 2.25
    cut = SXCascade("cut", heavy_key="Dy", extract_purity=0.99, raffinate_purity=0.99)
    assert cut.design_pH == pytest.approx(2.0 - math.log10(dy_over_pr) / 3.0, rel=1e-12)
    assert SXCascade("c", heavy_key="Pr", extract_purity=0.99, raffinate_purity=0.99).design_pH == 2.0
    assert SXCascade("c", heavy_key="Pr", extract_purity=0.99, raffinate_purity=0.99,
                     raffinate_pH=2.7).design_pH == 2.7
    # equal distribution ratio at the two design acidities: K_key / h_key^3 = K_Pr / h_Pr^3
    h_pr, h_dy = 10 ** -2.0, 10 ** -cut.design_pH
    assert dy_over_pr / h_dy ** 3 == pytest.approx(1.0 / h_pr ** 3, rel=1e-9)
    # the tolerance: 10^(1/3) times the design acidity cuts D ten-fold
    assert (1.0 / ACID_TOLERANCE) ** 3 == pytest.approx(0.1, rel=1e-12)
    assert design_pH(10.0 ** 3) == pytest.approx(1.0)


def test_an_acid_feed_caps_the_saponification_and_is_warned_about():
    cut = SXCascade("cut", heavy_key="Nd", extract_purity=0.99, raffinate_purity=0.99, entrainment=0.0)
    r = cut.run({"feed": _liquor(h=30.0)})       # about 3 mol/L of free acid in the feed
    i, raf = r.info, r.outlets["raffinate"]
    capacity = 0.35 * 1.5 * i["organic_L_per_h"]
    assert r.reagents["NaOH"] == pytest.approx(capacity, rel=1e-12)
    P = r.outlets["extract"].get("Nd+3") + r.outlets["extract"].get("Pr+3")
    assert raf.get("H+") == pytest.approx(30.0 + 3 * P + 3.0 * i["scrub_L_per_h"] - capacity, rel=1e-12)
    h = raf.get("H+") / raf.volume_L_h
    assert i["acidity"]["raffinate_H_mol_per_L"] == pytest.approx(h, rel=1e-12)
    assert i["acidity"]["valid"] is False and h > 10 ** -cut.design_pH * ACID_TOLERANCE
    assert i["acidity"]["warning"].startswith("cut: the raffinate leaves at")
    refusing = SXCascade("cut", heavy_key="Nd", extract_purity=0.99, raffinate_purity=0.99, acid_check="refuse")
    with pytest.raises(InputError) as e:
        refusing.run({"feed": _liquor(h=30.0)})
    assert e.value.field == "units.cut.saponification" and "mol/L H+" in e.value.reason


@settings(max_examples=40, deadline=None)
@given(h=st.floats(0.0, 40.0), nd=st.floats(0.05, 2.0), pr=st.floats(0.05, 2.0))
def test_every_released_cation_reaches_the_raffinate_as_Na_or_H(h, nd, pr):
    cut = SXCascade("cut", heavy_key="Nd", extract_purity=0.98, raffinate_purity=0.98, entrainment=0.0)
    r = cut.run({"feed": _liquor(h, nd, pr)})
    raf, i = r.outlets["raffinate"], r.info
    P = r.outlets["extract"].get("Nd+3") + r.outlets["extract"].get("Pr+3")
    assert raf.get("Na+") + raf.get("H+") == pytest.approx(h + 3 * P + 3.0 * i["scrub_L_per_h"], rel=1e-9)
    assert 0.0 <= r.reagents.get("NaOH", 0.0) <= 0.35 * 1.5 * i["organic_L_per_h"] * (1 + 1e-12)
    # held at the design pH wherever the cap allows (V before the caustic's water); a raffinate less
    # acidic than that takes no caustic
    if r.reagents.get("NaOH", 0.0) < 0.35 * 1.5 * i["organic_L_per_h"] * (1 - 1e-9):
        v_before = (5550.0 + i["scrub_L_per_h"] / WATER_L_PER_MOL) * WATER_L_PER_MOL
        acid = h + 3 * P + 3.0 * i["scrub_L_per_h"]
        assert raf.get("H+") == pytest.approx(min(acid, 10 ** -cut.design_pH * v_before), rel=1e-9)


def test_the_reference_plant_runs_every_cut_within_its_acid_range(capsys, tmp_path):
    import json

    status = cli.main(["run", "--out", str(tmp_path / "o")])
    out, err = capsys.readouterr()
    assert status == 0 and "warning" not in out
    doc = json.loads((tmp_path / "o" / "results.json").read_text())
    cuts = {n: u["info"]["acidity"] for n, u in doc["units"].items() if "acidity" in u["info"]}
    assert len(cuts) == 5 and all(c["valid"] for c in cuts.values()) and doc["warnings"] == []


def test_a_refusing_cut_in_an_acid_plant_exits_2_naming_its_field(capsys, tmp_path):
    from importlib.resources import files

    text = (files("magcycle") / "plants" / "reference.toml").read_text()
    text = text.replace("pH = 3.5\n", "pH = 0.5\n", 1).replace('heavy_key = "Sm"\n',
                                                               'heavy_key = "Sm"\nacid_check = "refuse"\n', 1)
    plant = tmp_path / "acid.toml"
    plant.write_text(text)
    status = cli.main(["run", str(plant), "--out", str(tmp_path / "o")])
    out, err = capsys.readouterr()
    assert status == 2 and err.startswith("magcycle: error: units.sx_lh.saponification: the raffinate leaves at")
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "o").exists()
