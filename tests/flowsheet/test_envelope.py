"""The reference plant sized for the catalogue's feed envelope (issue 14, item 2): built once, its
stage counts fixed, every product meets spec for each class alone and for fresh random blends."""

from magcycle.feed import CATALOGUE
from magcycle.flowsheet import simulate
from magcycle.flowsheet.envelope import design_for_envelope, random_blends
from magcycle.flowsheet.targets import run_to_spec


def test_the_plant_built_for_the_envelope_meets_spec_on_blends_it_never_saw():
    d = design_for_envelope(verify=100, seed=0)
    assert d.failures == [] and 1 <= d.rounds <= 4
    # the built plant: each cut's stages fixed, at least what the nominal feed alone needs
    nominal = simulate()
    for cut, (n, m) in d.stages.items():
        assert d.spec.units[cut].p["extraction_stages"] == n and d.spec.units[cut].p["scrub_stages"] == m
        u = nominal.units[cut].info
        assert n + m >= u["extraction_stages"] + u["scrub_stages"]
    # blends from another seed than any the design verified on, and each class alone
    for feed in list(CATALOGUE) + random_blends(150, 999):
        r = run_to_spec(d.spec, feed)
        assert r.closure <= 1e-9, feed
        off = [(p["name"], p["failures"]) for p in r.products if p["meets_spec"] is False]
        assert not off, (feed, off)
