"""A cascade's results are labelled by component: ``fraction_to`` is a mapping."""

import pytest

from magcycle.sx import solve
from magcycle.sx.spec import CascadeSpec


def test_fraction_to_is_a_mapping_by_component_that_sums_with_the_other_outlet():
    spec = CascadeSpec.from_dict({
        "cascade": {"model": "constant_beta", "extraction_stages": 6, "scrub_stages": 4},
        "flows": {"feed": 1.0, "organic": 1.0, "scrub": 0.6},
        "feed": {"Pr": 0.3, "Nd": 0.7},
        "model": {"beta": {"Pr": 1.0, "Nd": 1.5}, "organic_loading": 1.0, "scrub_acid": 3.0}})
    r = solve(spec)
    ext, raf = r.fraction_to("extract"), r.fraction_to("raffinate")
    assert list(ext) == ["Pr", "Nd"] == list(r.components)
    # every component's feed leaves by one outlet or the other (mass balance)
    for c in ("Pr", "Nd"):
        assert ext[c] + raf[c] == pytest.approx(1.0, rel=1e-12)
    assert ext["Nd"] == pytest.approx(float(r.fraction_to_extract[1]), rel=0)
