"""Random valid cascade specifications, for robustness tests and benchmarks.

``random_cascade(rng, model)`` draws a configuration document from ranges
that span practical rare-earth SX (P507/HCl-like chemistry for mass action,
separation factors per adjacent element of 1.1 to 4, 2 to 6 components, up
to ``max_stages`` stages per section) and returns it validated. Draws that the
loader rejects (for example S <= W) are redrawn, so every returned spec is
valid. Seeded through the numpy Generator passed in.
"""

from __future__ import annotations

import numpy as np

from magcycle.errors import InputError
from magcycle.sx.spec import CascadeSpec

__all__ = ["ELEMENTS", "IMPURITIES", "random_cascade", "random_extension"]

#: magnet-relevant rare earths in order of increasing extractability by P507
ELEMENTS = ("La", "Ce", "Pr", "Nd", "Sm", "Gd", "Tb", "Dy", "Ho")


def _composition(rng: np.random.Generator, components: int | None):
    """Components drawn (names in ELEMENTS order), ln beta of each against the first, feed mole fractions."""
    C = int(components or rng.integers(2, 7))
    picked = sorted(rng.choice(len(ELEMENTS), size=C, replace=False))
    els = [ELEMENTS[i] for i in picked]
    log_beta = np.concatenate([[0.0], np.cumsum(rng.uniform(np.log(1.1), np.log(4.0), C - 1))])
    frac = rng.dirichlet(np.full(C, 1.5))
    frac = np.maximum(frac, 1e-3)
    frac /= frac.sum()
    return els, log_beta, frac


def _constant_d_sections(rng, doc, els, log_beta, frac, strip) -> None:
    """Fill strip stages, flows, feed and [model] of a constant_d document."""
    k = int(strip) if strip is not None else int(rng.integers(0, 6))
    D = np.exp(log_beta) * rng.uniform(0.05, 1.0)
    doc["cascade"]["strip_stages"] = k
    doc["flows"] = {"organic": rng.uniform(0.2, 5), "feed": 1.0, "scrub": rng.uniform(0.1, 2),
                    "strip": rng.uniform(0.1, 2)}
    doc["feed"] = {e: float(c) for e, c in zip(els, 0.5 * frac)}
    doc["model"] = {"D": {e: float(v) for e, v in zip(els, D)},
                    "D_scrub": {e: float(v) for e, v in zip(els, D * rng.uniform(0.3, 1.0))},
                    "D_strip": {e: float(v) for e, v in zip(els, D * rng.uniform(1e-3, 0.05))}}


def _constant_beta_sections(rng, doc, els, log_beta, frac) -> None:
    """Fill flows, feed and [model] of a constant_beta document."""
    P = rng.uniform(0.1, 0.9)  # share of the feed to the organic product
    W = rng.uniform(0.3, 5.0)
    doc["flows"] = {"organic": W + P, "feed": 1.0, "scrub": W}
    doc["feed"] = {e: float(c) for e, c in zip(els, frac)}
    doc["model"] = {"beta": {e: float(v) for e, v in zip(els, np.exp(log_beta))},
                    "organic_loading": 1.0, "scrub_acid": 3.0}


def _mass_action_sections(rng, doc, els, log_beta, frac, strip) -> None:
    """Fill strip stages, flows, feed and [model] of a mass_action document."""
    k = int(strip) if strip is not None else int(rng.integers(0, 9))
    total = rng.uniform(0.05, 0.6)
    extractant = rng.uniform(0.8, 1.5)
    doc["cascade"]["strip_stages"] = k
    doc["flows"] = {"organic": rng.uniform(0.3, 4), "feed": 1.0, "scrub": rng.uniform(0.1, 1.5),
                    "strip": rng.uniform(0.2, 1.5)}
    doc["feed"] = {e: float(c) for e, c in zip(els, total * frac)}
    doc["model"] = {
        "log10_K": {e: float(v) for e, v in zip(els, rng.uniform(-3.0, 0.0) + log_beta / np.log(10))},
        "extractant": extractant,
        "saponification": rng.uniform(0.0, 0.4),
        "counter_ion": "NH4+",
        "feed_acid": rng.uniform(0.001, 0.2),
        "scrub_acid": rng.uniform(0.3, 3.0),
        "strip_acid": rng.uniform(2.0, 6.0),
    }


#: leach-liquor metals other than the rare earths that an empirical_ph cascade may carry
IMPURITIES = ("Sc", "Fe", "Al", "Ca", "Mg", "Mn", "Co", "Ni", "Cu", "Zn")


def _empirical_ph_sections(rng, doc, els, log_beta, frac, strip) -> None:
    """Fill strip stages, flows, feed, organic inlet and [model] of an empirical_ph document.

    Rare earths follow the correlation with pH slopes m0 of 0.3 to 2.4 (the range of the
    D2EHPA data behind PrOMMiS's package) and extractant orders of 0 to 3, placed so that the
    least extractable has log10 D of -1.5 to 0 at the feed's acid and the others lie above it
    by log_beta (a cascade designed to separate them); 0 to 4 impurities take a constant D
    (0.01 to 100) or a correlation of their own (log10 D of -2 to 1.5 at the feed). The feed's metal stays within half the
    organic's extractant capacity (a correlation with a negative extractant order is not
    meant for a depleted organic).
    """
    k = int(strip) if strip is not None else int(rng.integers(0, 6))
    medium = "sulfate" if rng.random() < 0.5 else "chloride"
    imp = [IMPURITIES[i] for i in sorted(rng.choice(len(IMPURITIES), size=int(rng.integers(0, 5)), replace=False))]
    vol = rng.uniform(2.0, 40.0)
    E = vol / 100.0 * 975.8 / 322.431  # [mol/L]
    Qo = rng.uniform(0.3, 4.0)
    conc = {e: float(c) for e, c in zip(els, frac)}
    conc.update({e: float(rng.uniform(0.05, 1.0)) for e in imp})
    charge = {e: (2 if e in ("Ca", "Mg", "Mn", "Co", "Ni", "Cu", "Zn") else 3) for e in conc}
    scale = rng.uniform(0.01, 0.5) * Qo * E / sum(charge[e] * c for e, c in conc.items())
    doc["cascade"]["strip_stages"] = k
    doc["flows"] = {"organic": Qo, "feed": 1.0, "scrub": rng.uniform(0.1, 1.5), "strip": rng.uniform(0.2, 1.5)}
    doc["feed"] = {e: c * scale for e, c in conc.items()}
    if rng.random() < 0.3:
        doc["organic_inlet"] = {e: float(doc["feed"][e] * rng.uniform(0.0, 0.05)) for e in conc}
    feed_acid = float(rng.uniform(0.005, 0.3))
    pH = -np.log10(feed_acid)  # about the feed stage's pH; D is drawn there

    def correlation(log10_D_at_feed):
        m0, m1, B1 = float(rng.uniform(0.3, 2.4)), float(rng.uniform(0.0, 0.05)), float(rng.uniform(0.0, 3.0))
        B0 = log10_D_at_feed - (m0 + m1 * vol) * pH - B1 * np.log10(vol)
        return {"m0": m0, "m1": m1, "B0": float(B0), "B1": B1}

    base = rng.uniform(-1.5, 0.0)  # log10 D of the least extractable rare earth at the feed
    fit = {e: correlation(base + lb / np.log(10)) for e, lb in zip(els, log_beta)}
    const = _impurity_distribution(rng, imp, fit, correlation)
    model = {"medium": medium, "extractant_vol_pct": float(vol), "log10_D": fit,
             "feed_acid": feed_acid, "scrub_acid": _scrub_acid(rng, doc, charge),
             "strip_acid": float(rng.uniform(1.0, 4.0))}
    if const:
        model["D"] = const
    if medium == "sulfate":
        model["feed_sulfate"] = float(rng.uniform(0.05, 1.0))
    doc["model"] = model


def _scrub_acid(rng, doc, charge) -> float:
    """A scrub acid [mol/L] with H+ for at least half the charge of the feed's metal (with less it
    cannot scrub: its first stage's pH has no steady state below pH 14)."""
    feed_charge = sum(charge[e] * c for e, c in doc["feed"].items())  # [mol/h] at 1 L/h of feed
    acid = max(float(rng.uniform(0.1, 2.0)), rng.uniform(0.5, 2.0) * feed_charge / doc["flows"]["scrub"])
    return float(min(acid, 20.0))


def _impurity_distribution(rng, imp, fit, correlation) -> dict:
    """Half the impurities a constant D (0.01 to 100), the others a correlation (into ``fit``)."""
    const = {}
    for e in imp:
        if rng.random() < 0.5:
            const[e] = float(10.0 ** rng.uniform(-2.0, 2.0))
        else:
            fit[e] = correlation(rng.uniform(-2.0, 1.5))
    return const


def _document(rng: np.random.Generator, model: str, components: int | None, stages: tuple[int, int, int]):
    """One configuration document of ``model``, drawn in a fixed order from ``rng``."""
    els, log_beta, frac = _composition(rng, components)
    n = int(stages[0]) if stages[0] else int(rng.integers(1, 31))
    m = int(stages[1]) if stages[1] is not None else int(rng.integers(0, 31))
    doc = {"cascade": {"model": model, "extraction_stages": n, "scrub_stages": m}}
    if model == "constant_d":
        _constant_d_sections(rng, doc, els, log_beta, frac, stages[2])
    elif model == "constant_beta":
        _constant_beta_sections(rng, doc, els, log_beta, frac)
    elif model == "empirical_ph":
        _empirical_ph_sections(rng, doc, els, log_beta, frac, stages[2])
    else:
        _mass_action_sections(rng, doc, els, log_beta, frac, stages[2])
    return doc


def random_cascade(rng: np.random.Generator, model: str, *, components: int | None = None,
                   stages: tuple[int, int | None, int | None] = (0, None, None)) -> CascadeSpec:
    """A random valid cascade of ``model`` (see the module docstring).

    ``stages`` fixes (n, m, k) where given (0 or None: drawn at random).

    >>> import numpy as np
    >>> spec = random_cascade(np.random.default_rng(1), "mass_action", components=4,
    ...                       stages=(20, 20, 5))
    >>> (spec.model, len(spec.components), spec.n_stages)
    ('mass_action', 4, 45)
    """
    for _ in range(1000):
        doc = _document(rng, model, components, stages)
        try:
            return CascadeSpec.from_dict(doc)
        except InputError:
            continue
    raise RuntimeError("no valid cascade drawn in 1000 tries")  # pragma: no cover


def random_extension(rng: np.random.Generator, spec):
    """A random variant of a valid spec with the extensions of :mod:`magcycle.sx.stagewise`: a
    Murphree efficiency in [0.2, 1) (half of the draws) or entrainment up to 2 % (settlers are run
    for far less; at several per cent of a large organic flow the entrained aqueous can outrun a
    small scrub, and no steady state is found), a loaded organic
    of up to 0.02 mol/L of the first component, and for constant_beta scrub separation factors
    within 30 % of the extraction's and a strip section of 1 to 5 stages (D_strip 1e-3 to 1). The
    variant is validated like every document: an InputError where the draw has no steady state by
    the model's rules."""
    change: dict = {"cascade": {}}
    if rng.random() < 0.5:
        change["cascade"]["murphree_efficiency"] = float(rng.uniform(0.2, 1.0))
    else:
        change["cascade"]["entrainment"] = float(rng.uniform(0.0, 0.02))
    if spec.model != "empirical_ph" and rng.random() < 0.4:
        change["organic_inlet"] = {spec.components[0]: float(0.02 * rng.random())}
    if spec.model == "constant_beta":
        p = spec.params
        if rng.random() < 0.4:
            change["model"] = {"beta_scrub": {c: float(b * rng.uniform(0.7, 1.3))
                                              for c, b in zip(spec.components, p.beta)}}
        if rng.random() < 0.4:
            change["cascade"]["strip_stages"] = int(rng.integers(1, 6))
            change["flows"] = {"strip": float(spec.organic * rng.uniform(0.2, 2.0))}
            change.setdefault("model", {})["D_strip"] = {c: float(10.0 ** rng.uniform(-3.0, 0.0))
                                                         for c in spec.components}
    return spec.replace(change)
