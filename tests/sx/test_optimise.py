"""Cascade design (`magcycle sx design`): minimum stages against exhaustive search,
verification by re-solving, infeasibility below minimum flow, bad input."""

import json
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from magcycle import cli
from magcycle.errors import InputError
from magcycle.sx import CascadeSpec, solve
from magcycle.sx.optimise import (design_cost, design_problem, minimum_stages, optimise_flows, pareto_front,
                                  parse_targets)


def beta_doc(feed, beta, organic, scrub, targets):
    return {"cascade": {"model": "constant_beta"}, "flows": {"organic": organic, "feed": 1.0, "scrub": scrub},
            "feed": feed, "model": {"beta": beta, "organic_loading": 1.0, "scrub_acid": 3.0}, "targets": targets}


def meets(res, targets):
    ok = True
    for t in targets:
        v = res.purity_of(t.outlet)[t.index] if t.kind == "purity" else res.fractions(t.outlet)[t.index]
        ok &= bool(v >= t.minimum)
    return ok


def exhaustive_minimum(spec, targets, n_max):
    """Every (n, m) with n + m <= n_max, each solved cold: the fewest total stages that meet the targets."""
    for N in range(1, n_max + 1):
        for n in range(1, N + 1):
            m = N - n
            if m > 0 and not spec.scrub > 0:
                continue
            s = spec.replace({"cascade": {"extraction_stages": n, "scrub_stages": m}})
            if meets(solve(s), targets):
                return N
    return None


CASES = [
    # binary constant beta, Dy/Tb-like
    beta_doc({"Dy": 0.85, "Tb": 0.15}, {"Dy": 2.0, "Tb": 1.0}, 2.22, 1.366465,
             {"extract": {"Dy": {"purity": 0.99}}, "raffinate": {"Tb": {"purity": 0.95}}}),
    # three components, a recovery target
    beta_doc({"La": 0.3, "Ce": 0.5, "Pr": 0.2}, {"La": 1.0, "Ce": 4.0, "Pr": 7.2}, 2.4, 1.7,
             {"extract": {"Ce": {"recovery": 0.97}}, "raffinate": {"La": {"purity": 0.99}}}),
    # constant D with scrub
    {"cascade": {"model": "constant_d"}, "flows": {"organic": 1.0, "feed": 1.0, "scrub": 0.6},
     "feed": {"Pr": 0.3, "Nd": 0.7}, "model": {"D": {"Pr": 0.5, "Nd": 2.5}},
     "targets": {"extract": {"Nd": {"purity": 0.98}}, "raffinate": {"Pr": {"purity": 0.97, "recovery": 0.9}}}},
    # constant D without scrub: extraction stages only
    {"cascade": {"model": "constant_d"}, "flows": {"organic": 1.5, "feed": 1.0},
     "feed": {"Pr": 0.3, "Nd": 0.7}, "model": {"D": {"Pr": 0.2, "Nd": 2.0}},
     "targets": {"extract": {"Nd": {"recovery": 0.999}}}},
    # mass action (P507-like K, NH4+ saponification) with a strip section kept as given
    {"cascade": {"model": "mass_action", "strip_stages": 4},
     "flows": {"organic": 0.5, "feed": 1.0, "scrub": 1.0, "strip": 0.7},
     "feed": {"Pr": 0.06, "Nd": 0.18, "Dy": 0.01},
     "model": {"log10_K": {"Pr": -1.6, "Nd": -1.4, "Dy": 0.5}, "extractant": 1.5, "saponification": 0.2,
               "counter_ion": "NH4+", "feed_acid": 0.01, "scrub_acid": 1.0, "strip_acid": 4.0},
     "targets": {"extract": {"Dy": {"purity": 0.9999999}}, "raffinate": {"Nd": {"recovery": 0.9999999}}}},
]


@pytest.mark.parametrize("doc", CASES, ids=["beta-binary", "beta-3comp", "constant_d-scrub", "constant_d-noscrub",
                                         "mass_action-strip"])
def test_minimum_stages_equals_exhaustive_search(doc):
    prob = design_problem(doc)
    d = minimum_stages(prob.spec, prob.targets, max_stages=40)
    assert d.feasible
    truth = exhaustive_minimum(prob.spec, prob.targets, 40)
    assert truth is not None and d.extraction_stages + d.scrub_stages == truth
    assert d.total_stages == d.extraction_stages + d.scrub_stages + prob.spec.strip_stages
    # the returned cascade meets every target when solved again from scratch
    again = solve(CascadeSpec.from_dict(d.spec.to_dict()))
    assert meets(again, prob.targets)
    for t in d.to_dict()["targets"]:
        assert t["achieved"] >= t["minimum"]


def test_published_pr_nd_minimum_is_48_at_the_reference_flows():
    # sx-public-cases.md / reference-data 3d: beta 1.5, f_Nd 0.75, S 3.30, W 2.547475, 99.5 % both ways.
    # Oracle: every split of 47 total stages fails (checked here), 48 works.
    prob = design_problem(beta_doc({"Pr": 0.25, "Nd": 0.75}, {"Pr": 1.0, "Nd": 1.5}, 3.3, 2.547475,
                                   {"extract": {"Nd": {"purity": 0.995}}, "raffinate": {"Pr": {"purity": 0.995}}}))
    d = minimum_stages(prob.spec, prob.targets)
    assert d.total_stages == 48
    for n in range(1, 48):
        s = prob.spec.replace({"cascade": {"extraction_stages": n, "scrub_stages": 47 - n}})
        assert not meets(solve(s), prob.targets)
    # Fenske's bound sits below and is reported beside it
    assert d.estimates["fenske_min_stages"] == pytest.approx(math.log(199 * 199) / math.log(1.5))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(f=st.floats(0.2, 0.8), beta=st.floats(1.6, 4.0), reflux=st.floats(1.15, 2.5),
       pa=st.floats(0.9, 0.995), pb=st.floats(0.9, 0.995))
def test_design_never_returns_a_cascade_that_fails_its_targets(f, beta, reflux, pa, pb):
    from magcycle.sx.design import minimum_extractant, product_split

    assume(pa > f and pb > 1 - f)  # a product purer than the feed, else there is nothing to separate
    S_min, _ = minimum_extractant(beta, f, pa, pb)
    S = reflux * S_min
    W = S - product_split(f, pa, pb)
    assume(W > 0)  # reflux below the product split: no scrub flow exists (found by hypothesis)
    prob = design_problem(beta_doc({"Pr": 1 - f, "Nd": f}, {"Pr": 1.0, "Nd": beta}, S, W,
                                   {"extract": {"Nd": {"purity": pa}}, "raffinate": {"Pr": {"purity": pb}}}))
    d = minimum_stages(prob.spec, prob.targets)
    assert d.feasible
    assert meets(solve(CascadeSpec.from_dict(d.spec.to_dict())), prob.targets)
    # one stage fewer, every split, fails
    N = d.total_stages
    if N > 1:
        for n in range(1, N):
            s = prob.spec.replace({"cascade": {"extraction_stages": n, "scrub_stages": N - 1 - n}})
            assert not meets(solve(s), prob.targets)


def test_below_minimum_flow_is_infeasible_and_says_so():
    from magcycle.sx.design import minimum_extractant, product_split

    S_min, _ = minimum_extractant(1.5, 0.75, 0.995, 0.995)
    S = 0.97 * S_min
    W = S - product_split(0.75, 0.995, 0.995)
    prob = design_problem(beta_doc({"Pr": 0.25, "Nd": 0.75}, {"Pr": 1.0, "Nd": 1.5}, S, W,
                                   {"extract": {"Nd": {"purity": 0.995}}, "raffinate": {"Pr": {"purity": 0.995}}}))
    d = minimum_stages(prob.spec, prob.targets, max_stages=150)
    assert not d.feasible and "below minimum flow" in d.reason and "S_min" in d.reason
    assert d.to_dict()["total_stages"] is None


def test_a_search_beyond_the_section_limit_keeps_each_section_within_it():
    """max_stages above MAX_SECTION_STAGES: splits stay within the limit, and the answer is a design."""
    from magcycle.sx.design import minimum_extractant, product_split
    from magcycle.sx.optimise import _splits
    from magcycle.sx.spec import MAX_SECTION_STAGES

    for N in (999, 1000, 1001, 1500, 2000, 2001):
        for scrub in (True, False):
            ns = _splits(N, scrub)
            assert all(1 <= n <= MAX_SECTION_STAGES and 0 <= N - n <= MAX_SECTION_STAGES for n in ns)
            # exhaustive count: every n with both sections in range (scrub), or n = N alone
            want = sum(1 for n in range(1, N + 1) if N - n <= MAX_SECTION_STAGES and n <= MAX_SECTION_STAGES) \
                if scrub else int(N <= MAX_SECTION_STAGES)
            assert len(ns) == want
    S_min, _ = minimum_extractant(1.5, 0.75, 0.995, 0.995)
    S = 0.97 * S_min  # below Underwood's minimum: no stage count meets the targets
    W = S - product_split(0.75, 0.995, 0.995)
    prob = design_problem(beta_doc({"Pr": 0.25, "Nd": 0.75}, {"Pr": 1.0, "Nd": 1.5}, S, W,
                                   {"extract": {"Nd": {"purity": 0.995}}, "raffinate": {"Pr": {"purity": 0.995}}}))
    d = minimum_stages(prob.spec, prob.targets, max_stages=MAX_SECTION_STAGES + 100)
    assert not d.feasible and "below minimum flow" in d.reason
    assert d.spec.extraction_stages <= MAX_SECTION_STAGES and d.spec.scrub_stages <= MAX_SECTION_STAGES
    assert d.spec.extraction_stages + d.spec.scrub_stages == MAX_SECTION_STAGES + 100


def test_optimised_flows_beat_a_brute_force_grid():
    from magcycle.sx.design import product_split

    targets = {"extract": {"Dy": {"purity": 0.99}}, "raffinate": {"Tb": {"purity": 0.95}}}
    prob = design_problem(beta_doc({"Dy": 0.85, "Tb": 0.15}, {"Dy": 2.0, "Tb": 1.0}, 2.22, 1.366465, targets))
    out = optimise_flows(prob.spec, prob.targets)
    assert out.best is not None and meets(solve(CascadeSpec.from_dict(out.best.spec.to_dict())), prob.targets)
    s = out.best.spec
    assert out.cost == pytest.approx(s.n_stages * (1 + s.organic + s.scrub))
    # brute force: S on a fine log grid, the product split P = S - W around the one the targets
    # imply, each with its minimum-stage design (checked against exhaustive search above)
    # (loading 1, scrub acid 3: L/h = mol/h)
    p0 = product_split(0.85, 0.99, 0.95)
    best = math.inf
    for S in np.geomspace(1.2, 6.0, 24):
        for P in p0 + np.array([-0.004, -0.002, 0.0, 0.002, 0.004]):
            W = S - P
            if not (W > 0 and 1.0 + W - S > 0):
                continue
            sp = prob.spec.replace({"flows": {"organic": float(S), "scrub": float(W)}})
            d = minimum_stages(sp, prob.targets, max_stages=60)
            if d.feasible:
                best = min(best, d.total_stages * (1 + S + W))
    assert out.cost <= best * (1 + 1e-9)
    # the Pareto front is non-dominated among everything evaluated
    for p in out.pareto:
        for q in out.points:
            if q["feasible"]:
                assert not (q["organic"] <= p["organic"] and q["total_stages"] < p["total_stages"])


def test_cost_and_front_helpers():
    assert design_cost(10, 2.0, 1.0, 1.0, {"stage_weight": 2.0, "organic_weight": 3.0, "scrub_weight": 5.0}) \
        == 2.0 * 10 * 4.0 + 3.0 * 2.0 + 5.0 * 1.0
    pts = [{"organic": 1.0, "scrub": 0.5, "total_stages": 30, "feasible": True},
           {"organic": 2.0, "scrub": 0.5, "total_stages": 31, "feasible": True},
           {"organic": 3.0, "scrub": 0.5, "total_stages": 20, "feasible": True},
           {"organic": 0.5, "scrub": 0.5, "total_stages": None, "feasible": False}]
    assert [p["total_stages"] for p in pareto_front(pts)] == [30, 20]


@pytest.mark.parametrize("targets, field", [
    (None, "targets"),
    ({"organic": {"Nd": {"purity": 0.9}}}, "targets.organic"),
    ({"extract": {"Dy": {"purity": 0.9}}}, "targets.extract.Dy"),
    ({"extract": {"Nd": {"purity": 1.5}}}, "targets.extract.Nd.purity"),
    ({"extract": {"Nd": {"grade": 0.9}}}, "targets.extract.Nd.grade"),
    ({"extract": {"Nd": 0.9}}, "targets.extract.Nd"),
    ({"extract": {"Nd+Dy": {"purity": 0.9}}}, "targets.extract.Nd+Dy"),
    ({"extract": {"Nd+Nd": {"purity": 0.9}}}, "targets.extract.Nd+Nd"),
])
def test_bad_targets_name_the_field(targets, field):
    with pytest.raises(InputError) as e:
        parse_targets(targets, ("Pr", "Nd"))
    assert e.value.field == field


def test_cli_design_json_and_exit_status(tmp_path, capsys):
    f = tmp_path / "c.toml"
    f.write_text("""
[cascade]
model = "constant_beta"
[flows]
organic = 2.22
feed = 1.0
scrub = 1.366465
[feed]
Dy = 0.85
Tb = 0.15
[model]
beta = { Dy = 2.0, Tb = 1.0 }
organic_loading = 1.0
scrub_acid = 3.0
[targets]
extract = { Dy = { purity = 0.99 } }
raffinate = { Tb = { purity = 0.95 } }
""")
    assert cli.main(["sx", "design", str(f), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["feasible"] is True
    assert doc["total_stages"] == doc["extraction_stages"] + doc["scrub_stages"]
    assert {"flows", "result", "strip_stages", "estimates"} <= set(doc)
    assert doc["result"]["purity"]["extract"]["Dy"] >= 0.99
    # Fenske at total reflux bounds any cascade from below: N >= ln(99 * 19) / ln 2 = 10.88 stages
    fenske = math.log(0.99 / 0.01 * 0.95 / 0.05) / math.log(2.0)
    assert doc["total_stages"] >= fenske
    # infeasible by mass balance: the extract carries P = S - W = 2.22 - 1.366465 = 0.853535 mol/h, the
    # feed 0.85 of Dy, so Dy is at most 0.85 / 0.853535 = 0.995858 of it: exit 1, said plainly on stdout
    bad = tmp_path / "b.toml"
    bad.write_text(f.read_text().replace("purity = 0.99 }", "purity = 0.9999999 }") + "\n[design]\nmax_stages = 30\n")
    assert cli.main(["sx", "design", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "INFEASIBLE: mass balance" in out and "at most 0.995858" in out
    # within the balance, but not within 8 stages: Fenske's total-reflux bound alone needs 10.88
    bad.write_text(f.read_text() + "\n[design]\nmax_stages = 8\n")
    assert cli.main(["sx", "design", str(bad)]) == 1
    assert "INFEASIBLE: no cascade of up to 8" in capsys.readouterr().out
    # bad input: exit 2, one line
    bad.write_text(f.read_text().replace("Tb = { purity", "Ho = { purity"))
    assert cli.main(["sx", "design", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "targets.raffinate.Ho" in err
    assert "Ho is not a component of the feed (Dy, Tb)" in err
    # a group target naming one member twice is refused by the document too, with the same reason
    bad.write_text(f.read_text().replace("Tb = { purity", "'Tb+Tb' = { purity"))
    assert cli.main(["sx", "design", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "targets.raffinate.Tb+Tb" in err and "names a component twice" in err
