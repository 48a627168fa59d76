"""Joint warm solves and the lockstep runner against lone solves.

Oracles: :func:`magcycle.sx.solve` of each cascade on its own (the
globalised single-cascade path), and the block Newton in all stage
variables; step generators run together against the same generators run
one at a time.
"""

import numpy as np
import pytest

from magcycle.sx import solve
from magcycle.sx.lockstep import drive, run_together
from magcycle.sx.sampling import random_cascade
from magcycle.sx.solver import NEWTON_TOL, beta_continuation, beta_model, solve_warm_many


def family(seed, count, change=0.05, stages=(14, 10, 0), components=5):
    """A solved cascade and ``count`` neighbours: feeds and organic flow moved by up to ``change``."""
    rng = np.random.default_rng(seed)
    base = random_cascade(rng, "constant_beta", components=components, stages=stages)
    first = solve(base)
    specs = []
    for _ in range(count):
        feed = {c: float(v) for c, v in zip(base.components, base.feed * (1 + change * rng.uniform(-1, 1, base.feed.size)))}
        specs.append(base.replace({"feed": feed, "flows": {"organic": base.organic * (1 + 0.2 * change * rng.uniform(-1, 1))}}))
    return first, specs


def test_joint_warm_solves_are_the_lone_solutions():
    first, specs = family(11, 6)
    joint = solve_warm_many(specs, [first] * len(specs))
    for spec, r in zip(specs, joint):
        assert r.converged and r.residual <= NEWTON_TOL and r.closure <= 1e-11
        block = beta_continuation(beta_model(spec))  # another formulation and algorithm
        np.testing.assert_allclose(r.state, block.u[0], atol=1e-9)
        alone = solve(spec, warm_start=first)
        for name in ("raffinate", "extract"):
            np.testing.assert_allclose(r.outlets[name].mol_per_h, alone.outlets[name].mol_per_h, rtol=1e-10)
        # stage profiles, built on first use, agree too
        np.testing.assert_allclose(r.aqueous, alone.aqueous, rtol=1e-9)
        np.testing.assert_allclose(r.organic, alone.organic, rtol=1e-9)


def test_a_cascades_answer_does_not_depend_on_its_companions():
    first, specs = family(12, 5)
    together = solve_warm_many(specs, [first] * len(specs))
    for k, spec in enumerate(specs):
        (alone,) = solve_warm_many([spec], [first])
        for name in ("raffinate", "extract"):
            assert np.array_equal(alone.outlets[name].mol_per_h, together[k].outlets[name].mol_per_h)


def test_cascades_that_cannot_join_are_solved_alone():
    first, specs = family(13, 2)
    other_first, other = family(14, 1, stages=(9, 7, 0), components=3)
    mass_action = random_cascade(np.random.default_rng(15), "mass_action", components=3, stages=(5, 4, 2))
    cases = [(specs[0], first), (other[0], other_first), (specs[1], None), (mass_action, None),
             (other[0], first)]  # the last: a warm start of other stages and components
    got = solve_warm_many([c[0] for c in cases], [c[1] for c in cases])
    for (spec, warm), r in zip(cases, got):
        ref = solve(spec, warm_start=warm)
        assert r.model == spec.model
        np.testing.assert_allclose(r.outlets["extract"].mol_per_h, ref.outlets["extract"].mol_per_h, rtol=1e-9)


def test_a_far_neighbour_falls_back_to_the_globalised_solve():
    # one component's feed tripled, another's cut to a tenth: the joint Newton may give up,
    # the answer must not change
    first, (spec,) = family(16, 1, change=0.0)
    far = []
    for i, j in ((0, 4), (4, 0), (2, 1)):
        feed = dict(zip(spec.components, map(float, spec.feed)))
        feed[spec.components[i]] *= 3.0
        feed[spec.components[j]] *= 0.1
        far.append(spec.replace({"feed": feed}))
    got = solve_warm_many(far, [first] * len(far))
    for sp, r in zip(far, got):
        np.testing.assert_allclose(r.state, beta_continuation(beta_model(sp)).u[0], atol=1e-9)


def test_a_start_the_joint_path_cannot_finish_is_solved_alone():
    # multipliers 40 (in ln) off: steps capped at 1 cannot get there within the warm
    # iteration cap, so the cascade goes to solve(), whose start is the warm profile
    import dataclasses

    from magcycle.sx import solver

    first, specs = family(20, 2, change=0.01)
    bad = dataclasses.replace(first, reduced=(first.reduced[0] + 40.0, first.reduced[1]))
    got = solve_warm_many(specs, [bad, first])
    for spec, r in zip(specs, got):
        np.testing.assert_allclose(r.state, beta_continuation(beta_model(spec)).u[0], atol=1e-9)
    assert got[0].iterations > solver.WARM_MAX_ITER  # solve() too spent its warm cap before its cold start
    assert got[1].iterations <= 4


def test_generators_run_together_get_the_answers_of_lone_runs():
    first, specs = family(17, 8, change=0.02)

    def steps(k):
        r = yield (specs[k], first)
        out = [r]
        for _ in range(k % 3):  # generators ask for different numbers of cascades
            r = yield (specs[(k + 1) % len(specs)], r)
            out.append(r)
        if k == 5:
            raise ValueError("generator five fails after its cascades")
        return [o.outlets["extract"].mol_per_h for o in out]

    got = run_together([steps(k) for k in range(len(specs))])
    for k, g in enumerate(got):
        if k == 5:
            assert isinstance(g, ValueError)
            continue
        want = drive(steps(k))  # the same steps, each cascade solved alone
        assert len(g) == len(want)
        for a, b in zip(g, want):
            np.testing.assert_allclose(a, b, rtol=1e-10)
        # and drive() is solve() itself
        r = solve(specs[k], warm_start=first)
        assert np.array_equal(want[0], r.outlets["extract"].mol_per_h)


def test_a_solve_error_is_raised_where_the_cascade_was_asked_for():
    # a request that is no cascade at all: the error reaches the generator at its yield,
    # which may handle it, whether driven alone or run together with a sound one
    first, specs = family(18, 1)

    def broken():
        try:
            yield ("not a cascade", first)
        except AttributeError as exc:
            return f"caught {type(exc).__name__}"
        return "solved"

    def sound():
        r = yield (specs[0], first)
        return r.converged

    assert drive(broken()) == "caught AttributeError"
    assert run_together([broken(), sound()]) == ["caught AttributeError", True]


@pytest.mark.parametrize("count", [0, 1])
def test_empty_and_single_runs(count):
    first, specs = family(19, 1)

    def steps():
        r = yield (specs[0], first)
        return r.converged

    assert run_together([steps() for _ in range(count)]) == [True] * count
