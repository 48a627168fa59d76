"""solve_many agrees variant by variant with solve, for every model."""

import numpy as np
import pytest

from magcycle.errors import InputError
from magcycle.sx import solve, solve_many
from magcycle.sx.sampling import random_cascade


def one_by_one(spec, variants, b):
    """The spec of variant b, built through the document (the oracle path)."""
    changes = {}
    for key, values in variants.items():
        node = changes
        *parents, last = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = float(values[b])
    return spec.replace(changes)


@pytest.mark.parametrize("model, keys", [
    ("constant_d", ["flows.organic", "model.D.{0}", "feed.{1}", "model.D_scrub.{0}"]),
    ("constant_beta", ["model.beta.{1}", "flows.organic", "feed.{0}"]),
    ("mass_action", ["model.log10_K.{0}", "flows.organic", "model.scrub_acid", "feed.{1}"]),
])
def test_each_variant_matches_its_own_solve(model, keys):
    rng = np.random.default_rng(11)
    spec = random_cascade(rng, model, components=3, stages=(8, 6, 3 if model != "constant_beta" else 0))
    base = spec.to_dict()
    comps = spec.components
    B = 12
    variants = {}
    for key in keys:
        path = key.format(*comps)
        node = base
        for part in path.split("."):
            node = node[part]
        variants[path] = float(node) * rng.uniform(0.97, 1.03, B) if "log10_K" not in path \
            else float(node) + rng.uniform(-0.05, 0.05, B)
    batch = solve_many(spec, variants)
    assert batch.converged.all()
    for b in range(B):
        single = solve(one_by_one(spec, variants, b))
        for outlet in single.outlets:
            np.testing.assert_allclose(batch.fraction_to(outlet)[b], single.fractions(outlet),
                                       rtol=1e-9, atol=1e-300)
    assert np.all(batch.closure <= 1e-10)


def test_bad_variants_name_the_parameter_and_index():
    spec = random_cascade(np.random.default_rng(0), "constant_d", components=2)
    el = spec.components[0]
    with pytest.raises(InputError) as err:
        solve_many(spec, {f"model.D.{el}": np.array([1.0, -2.0, 3.0])})
    assert err.value.field == f"model.D.{el}[1]"
    with pytest.raises(InputError) as err:
        solve_many(spec, {"model.beta.Nd": np.ones(3)})
    assert err.value.field == "model.beta.Nd"
    with pytest.raises(InputError) as err:
        solve_many(spec, {"flows.organic": np.ones(3), "flows.feed": np.ones(4)})
    assert err.value.field == "variants"


@pytest.mark.parametrize("model, path, beyond", [
    ("constant_d", "flows.organic", "high"), ("constant_d", "flows.feed", "low"), ("constant_d", "model.D.{0}", "high"),
    ("constant_d", "feed.{1}", "high"), ("constant_d", "feed.{1}", "low"),
    ("constant_beta", "model.beta.{1}", "high"), ("constant_beta", "model.organic_loading", "high"),
    ("constant_beta", "model.scrub_acid", "high"),
    ("mass_action", "model.log10_K.{0}", "high"), ("mass_action", "model.log10_K.{0}", "low"),
    ("mass_action", "model.extractant", "high"), ("mass_action", "flows.scrub", "high"),
])
def test_a_variant_outside_the_file_limits_is_refused_as_the_file_would_be(model, path, beyond):
    """The oracle is the file loader: the same value written into the document is refused too."""
    from magcycle.sx import spec as limits

    spec = random_cascade(np.random.default_rng(3), model, components=2)
    path = path.format(*spec.components)
    ranges = {"flows.": (limits.MIN_FLOW_L_PER_H, limits.MAX_FLOW_L_PER_H),
              "feed.": (limits.MIN_CONCENTRATION, limits.MAX_CONCENTRATION),
              "model.D.": limits.RATIO_RANGE, "model.beta.": limits.RATIO_RANGE,
              "model.log10_K.": limits.LOG10_K_RANGE, "model.organic_loading": (0.0, limits.MAX_LOADING),
              "model.extractant": (0.0, limits.MAX_LOADING), "model.scrub_acid": (0.0, limits.MAX_ACID)}
    lo, hi = next(r for prefix, r in ranges.items() if path.startswith(prefix))
    bad = hi * 10 if beyond == "high" else lo / 10
    if path.startswith("model.log10_K."):
        bad = hi + 1 if beyond == "high" else lo - 1
    values = np.array([hi if beyond == "high" else lo, bad, 1.0 if "log10" not in path else 0.0])
    with pytest.raises(InputError) as err:
        solve_many(spec, {path: values})
    assert err.value.field == f"{path}[1]"
    with pytest.raises(InputError):
        one_by_one(spec, {path: values}, 1)
