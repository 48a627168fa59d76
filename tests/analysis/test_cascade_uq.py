"""Monte Carlo of SX cascades against closed-form distributions, robust design against brute force."""

import math

import numpy as np
import pytest
from scipy import integrate, optimize

from magcycle.analysis import Model
from magcycle.analysis.cascade import CascadeProblem
from magcycle.analysis.model import Metric
from magcycle.analysis.parameters import Distribution, Parameter
from magcycle.analysis.robust import robust_cascade_design
from magcycle.analysis.stats import clopper_pearson
from magcycle.errors import InputError
from magcycle.sx import CascadeSpec, solve
from magcycle.sx.optimise import design_problem


def kremser_recovery(eps, n):
    """Share extracted by n counter-current stages with barren solvent: 1 - (eps - 1)/(eps^(n+1) - 1)."""
    return 1.0 - (eps - 1.0) / (eps ** (n + 1) - 1.0)


def extraction_spec(n, organic=1.0):
    return CascadeSpec.from_dict({"cascade": {"model": "constant_d", "extraction_stages": n},
                                  "flows": {"organic": organic, "feed": 1.0}, "feed": {"Pr": 0.1, "Nd": 0.2},
                                  "model": {"D": {"Pr": 0.3, "Nd": 1.0}}})


def test_one_stage_recovery_has_the_closed_form_distribution():
    """n = 1: r = kD/(1 + kD), k = Q_org/Q_feed, D ~ U(a, b). Then
    E[r] = 1 - ln((1 + kb)/(1 + ka)) / (k (b - a)), F(y) = (y/((1 - y) k) - a)/(b - a) and
    P(r >= r*) = (b - D*)/(b - a), D* = r*/((1 - r*) k)."""
    a, b, k, r_star = 0.5, 3.0, 1.2, 0.7
    spec = extraction_spec(1, organic=k)
    problem = CascadeProblem(spec, [Parameter("model.D.Nd", Distribution("uniform", (a, b)))],
                             [Metric("Nd recovery", "extract.recovery.Nd", at_least=r_star)], chunk_size=500)
    res = Model(problem).monte_carlo(2000, method="random", seed=4, executor="serial")
    r = res.column("Nd recovery")
    mean = 1 - math.log((1 + k * b) / (1 + k * a)) / (k * (b - a))
    assert abs(r.mean() - mean) < 4 * r.std() / math.sqrt(r.size)
    ys = np.sort(r)
    F = (ys / ((1 - ys) * k) - a) / (b - a)
    ecdf_hi = np.arange(1, ys.size + 1) / ys.size
    ks = max(np.max(np.abs(ecdf_hi - F)), np.max(np.abs(ecdf_hi - 1 / ys.size - F)))
    assert ks < 1.63 / math.sqrt(ys.size)  # Kolmogorov-Smirnov at the 1 % level
    p_exact = (b - r_star / ((1 - r_star) * k)) / (b - a)
    p = res.probability()
    assert p["lower"] <= p_exact <= p["upper"]


def test_four_stage_recovery_mean_and_probability_by_quadrature():
    """n = 4, D ~ lognormal(median 0.9, gsd 1.4): E[r] by quadrature of the Kremser formula over the
    lognormal density, and P(r >= 0.8) from the D at which Kremser gives 0.8 (root found by brentq)."""
    n, med, gsd, r_star = 4, 0.9, 1.4, 0.8
    spec = extraction_spec(n)
    dist = Distribution("lognormal", (med, gsd))
    problem = CascadeProblem(spec, [Parameter("model.D.Nd", dist)],
                             [Metric("r", "extract.recovery.Nd", at_least=r_star)], chunk_size=256)
    res = Model(problem).monte_carlo(1024, method="sobol", seed=2, executor="serial")
    s = math.log(gsd)

    def density(z):  # z standard normal, D = med gsd^z
        return kremser_recovery(med * gsd ** z, n) * math.exp(-z * z / 2) / math.sqrt(2 * math.pi)

    exact_mean = integrate.quad(density, -12, 12, epsabs=1e-13)[0]
    r = res.column("r")
    assert abs(r.mean() - exact_mean) < 4 * r.std() / math.sqrt(r.size)
    D_star = optimize.brentq(lambda D: kremser_recovery(D, n) - r_star, 1e-3, 100, xtol=1e-14)
    from scipy.stats import norm
    p_exact = norm.sf(math.log(D_star / med) / s)
    p = res.probability()
    assert p["lower"] <= p_exact <= p["upper"]
    # every sample equals its own closed form
    D = res.X[:, 0]
    np.testing.assert_allclose(r, kremser_recovery(D, n), rtol=1e-12)


def test_bad_cascade_study_input():
    spec = extraction_spec(2)
    wide = CascadeProblem(spec, [Parameter("model.D.Nd", Distribution("normal", (1.0, 2.0)))],
                          [Metric("r", "extract.recovery.Nd")])
    with pytest.raises(InputError) as e:  # a normal this wide draws negative distribution ratios
        Model(wide).monte_carlo(64, seed=1, executor="serial")
    assert e.value.field == "parameters.model.D.Nd" and "must be > 0" in e.value.reason
    with pytest.raises(InputError, match="model.D.Xx"):
        CascadeProblem(spec, [Parameter("model.D.Xx", Distribution("uniform", (1, 2)))], [Metric("r", "extract.recovery.Nd")])
    with pytest.raises(InputError, match="metrics.r"):
        CascadeProblem(spec, [Parameter("model.D.Nd", Distribution("uniform", (1, 2)))], [Metric("r", "extract.color.Nd")])
    with pytest.raises(InputError, match="metrics.r"):
        CascadeProblem(spec, [Parameter("model.D.Nd", Distribution("uniform", (1, 2)))], [Metric("r", "extract.purity.Dy")])


PRND = {"cascade": {"model": "constant_beta"},
        "flows": {"organic": 3.3, "feed": 1.0, "scrub": 2.547475},
        "feed": {"Pr": 0.25, "Nd": 0.75},
        "model": {"beta": {"Pr": 1.0, "Nd": 1.5}, "organic_loading": 1.0, "scrub_acid": 3.0},
        "targets": {"extract": {"Nd": {"purity": 0.98}}, "raffinate": {"Pr": {"purity": 0.97}}}}
UNCERTAIN = [Parameter("model.beta.Nd", Distribution("normal", (1.5, 0.03))),
             Parameter("feed.Pr", Distribution("uniform", (0.22, 0.28)))]


def brute_force_passes(problem, parameters, X, n, m):
    """Each sample solved on its own (the single-cascade solver, cold start) and checked by hand."""
    count = 0
    for x in X:
        doc = {"cascade": {"extraction_stages": n, "scrub_stages": m}}
        changes = {}
        for p, v in zip(parameters, x):
            section, *rest = p.name.split(".")
            changes.setdefault(section, {})
            if section == "model":
                changes["model"].setdefault(rest[0], {})[rest[1]] = float(v)
            else:
                changes[section][rest[0]] = float(v)
        res = solve(problem.spec.replace(doc | changes))
        ok = all((res.purity_of(t.outlet) if t.kind == "purity" else res.fractions(t.outlet))[t.index]
                 >= t.minimum for t in problem.targets)
        count += ok
    return count


def test_robust_design_is_the_fewest_stages_by_brute_force():
    problem = design_problem(PRND)
    prob, conf, samples = 0.9, 0.95, 40
    d = robust_cascade_design(problem, UNCERTAIN, probability=prob, confidence=conf, samples=samples, seed=3)
    assert d.feasible
    n, m, N = d.extraction_stages, d.scrub_stages, d.extraction_stages + d.scrub_stages
    # the same samples, drawn again from the seed, solved one by one
    from magcycle.analysis.sampling import unit_samples
    U = unit_samples(samples, 2, "lhs", 3)
    X = np.column_stack([p.ppf(U[:, j]) for j, p in enumerate(UNCERTAIN)])
    k = brute_force_passes(problem, UNCERTAIN, X, n, m)
    assert k == d.probability["passes"]
    assert clopper_pearson(k, samples, conf)[0] >= prob
    # every split of N - 1 stages falls short of the criterion
    for n1 in range(1, N):
        k1 = brute_force_passes(problem, UNCERTAIN, X, n1, N - 1 - n1)
        assert clopper_pearson(k1, samples, conf)[0] < prob, (n1, N - 1 - n1)
    # and it needs more than the nominal design
    assert d.total_stages >= d.nominal["total_stages"]


def test_robust_design_refuses_too_few_samples_and_reports_infeasible():
    problem = design_problem(PRND)
    with pytest.raises(InputError, match="samples"):
        robust_cascade_design(problem, UNCERTAIN, probability=0.99, samples=100)
    # beta uncertainty reaching beta = 1 (no separation): no stage count gives 90 %
    wide = [Parameter("model.beta.Nd", Distribution("uniform", (1.001, 1.6)))]
    d = robust_cascade_design(problem, wide, probability=0.9, samples=40, seed=1, max_stages=80)
    assert not d.feasible and "no cascade of up to 80" in d.reason
