"""Size a plant's SX cuts for the whole feed envelope of the catalogue.

A plant is built once and runs on whatever arrives. Its cuts are sized so
that every product meets its specification for each catalogue class alone
and for any blend of them:

1. each feed of the envelope (the plant's own feed, each class alone and
   every 1:1 blend of two classes) is run to its products' specifications
   (:func:`magcycle.flowsheet.targets.run_to_spec`), each cut designed for
   it;
2. each cut is built with the most extraction and the most scrub stages
   any of those feeds needed;
3. the built plant (stage counts fixed) is run to spec, with feed-forward
   flows and derived targets, on ``verify`` seeded random blends (each
   class kept with probability 0.7, Dirichlet weights);
4. the blends it fails on join the envelope and the cuts are sized again,
   at most ``rounds`` times.

The result says how many rounds it took and which blends, if any, still
fail. Stage counts only grow from round to round.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations

__all__ = ["EnvelopeDesign", "envelope_feeds", "random_blends", "design_for_envelope"]


@dataclass
class EnvelopeDesign:
    """A plant built for the feed envelope: its spec with the stage counts fixed, the counts, the
    rounds taken, the blends verified and those that still fail."""

    spec: object
    stages: dict[str, tuple[int, int]]
    rounds: int
    verified: int
    failures: list[str] = field(default_factory=list)


def envelope_feeds() -> list:
    """The plant's own feed (None), each catalogue class alone and every 1:1 blend of two.

    >>> feeds = envelope_feeds()
    >>> feeds[:2], len(feeds)        # 1 + 5 classes + C(5, 2) = 10 pairs
    ([None, 'swarf'], 16)
    """
    from magcycle.feed import CATALOGUE

    keys = list(CATALOGUE)
    return [None] + keys + [f"{a}=1,{b}=1" for a, b in combinations(keys, 2)]


def random_blends(n: int, seed: int) -> list[str]:
    """``n`` seeded random blends of the catalogue: each class kept with probability 0.7 (at least
    one), its weight from a flat Dirichlet.

    >>> random_blends(2, 0) == random_blends(2, 0), len(random_blends(3, 1))
    (True, 3)
    """
    import numpy as np

    from magcycle.feed import CATALOGUE

    keys = list(CATALOGUE)
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        w = rng.dirichlet(np.ones(len(keys)))
        w[rng.random(len(keys)) < 0.3] = 0.0
        if w.sum() == 0:
            w[rng.integers(len(keys))] = 1.0
        out.append(",".join(f"{k}={x:.6f}" for k, x in zip(keys, w) if x > 0))
    return out


def _size(spec, feeds, stages: dict) -> None:
    """Grow ``stages`` to the most each cut needs over ``feeds`` (each run to spec, cuts designed)."""
    from magcycle.flowsheet.targets import run_to_spec

    for feed in feeds:
        r = run_to_spec(spec, feed)
        for name, u in r.units.items():
            if u.info.get("bypassed") is False:
                n, m = stages.get(name, (0, 0))
                stages[name] = (max(n, u.info["extraction_stages"]), max(m, u.info["scrub_stages"]))


def _failing(built, feeds) -> list[str]:
    from magcycle.flowsheet.targets import run_to_spec

    return [f for f in feeds if not run_to_spec(built, f).all_products_meet_spec]


def design_for_envelope(plant=None, *, rounds: int = 4, verify: int = 300, seed: int = 0) -> EnvelopeDesign:
    """Size the plant's SX cuts for the catalogue's feed envelope (module docstring)."""
    from magcycle.flowsheet.simulation import load_plant

    spec = load_plant(plant)
    stages: dict[str, tuple[int, int]] = {}
    feeds, failures, built = envelope_feeds(), [], spec
    for done in range(1, rounds + 1):
        _size(spec, feeds, stages)
        built = spec.with_unit_parameters({c: {"extraction_stages": n, "scrub_stages": m}
                                           for c, (n, m) in stages.items()})
        failures = _failing(built, random_blends(verify, seed + done))
        if not failures:
            return EnvelopeDesign(built, dict(stages), done, verify)
        feeds = failures
    return EnvelopeDesign(built, dict(stages), rounds, verify, failures)
