"""Many variants of one cascade at once.

``solve_many(spec, {"flows.organic": array, "model.D.Nd": array, ...})``
evaluates B variants of ``spec`` that differ in any numeric parameter (the
keys are the dotted paths of the configuration document; the geometry, i.e.
the stage counts, is shared). constant_d is evaluated in closed form for the
whole batch in a few vectorised passes; the nonlinear models run one
batched Newton (block Thomas over the batch) warm-started from the solution
of the nominal ``spec``, and any variant that does not converge from there
is solved again on its own from a cold start.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from magcycle.errors import ConvergenceError, InputError, MassBalanceError
from magcycle.sx import constant_d
from magcycle.sx.constant_beta import BetaCascade
from magcycle.sx.newton import ptc_newton
from magcycle.sx.result import CLOSURE_LIMIT
from magcycle.sx.solver import (
    DT_WARM,
    NEWTON_TOL,
    beta_continuation,
    mass_action_cold,
    mass_action_model,
    solve,
)
from magcycle.sx.spec import (LOG10_K_RANGE, MAX_ACID, MAX_CONCENTRATION, MAX_FLOW_L_PER_H, MAX_LOADING,
                              MIN_CONCENTRATION, MIN_FLOW_L_PER_H, RATIO_RANGE, CascadeSpec)

__all__ = ["BatchResult", "CHUNK", "solve_many", "variant_parameters"]

_SCALARS = {
    "constant_d": (),
    "constant_beta": ("organic_loading", "scrub_acid"),
    "mass_action": ("extractant", "saponification", "feed_acid", "scrub_acid", "strip_acid"),
}
_VECTORS = {
    "constant_d": ("D", "D_scrub", "D_strip"),
    "constant_beta": ("beta",),
    "mass_action": ("log10_K",),
}
CHUNK = 1024


@dataclass(frozen=True)
class BatchResult:
    """Outcome of :func:`solve_many`; arrays have a leading variant axis B."""

    components: tuple[str, ...]
    outlets: dict  # name -> (B, C) [mol/h]
    feed_mol_per_h: np.ndarray  # (B, C)
    converged: np.ndarray  # (B,)
    iterations: np.ndarray  # (B,)
    closure: np.ndarray  # (B,)

    def fraction_to(self, outlet: str) -> np.ndarray:
        """Share of each variant's feed of each component leaving in ``outlet`` (B, C)."""
        return self.outlets[outlet] / self.feed_mol_per_h

    def purity_of(self, outlet: str) -> np.ndarray:
        """Rare-earth mole fractions in ``outlet`` (B, C)."""
        flows = self.outlets[outlet]
        return flows / flows.sum(axis=-1, keepdims=True)

    @property
    def fraction_to_extract(self):
        return self.fraction_to("extract")

    @property
    def fraction_to_raffinate(self):
        return self.fraction_to("raffinate")


def _nominal_parameters(spec: CascadeSpec) -> dict:
    """The numeric parameters of ``spec`` by dotted path, at their nominal values."""
    doc = spec.to_dict()
    known = {}
    for key, val in doc["flows"].items():
        known[f"flows.{key}"] = val
    for el, val in doc["feed"].items():
        known[f"feed.{el}"] = val
    for key in _SCALARS[spec.model]:
        known[f"model.{key}"] = doc["model"][key]
    for table in _VECTORS[spec.model]:
        for el, val in doc["model"].get(table, {}).items():
            known[f"model.{table}.{el}"] = val
    return known


def _checked_variant(key: str, arr, known: dict, model: str, B: int) -> np.ndarray:
    """One varied parameter as a float array of B finite values; InputError otherwise."""
    if key not in known:
        raise InputError(key, f"not a numeric parameter of this {model} cascade; "
                              f"one of {', '.join(sorted(known))}")
    a = np.asarray(arr, dtype=float)
    if a.shape != (B,):
        raise InputError(key, f"must be a 1-D array of {B} values, got shape {a.shape}")
    bad = ~np.isfinite(a)
    if bad.any():
        raise InputError(f"{key}[{int(np.argmax(bad))}]", "not a finite number")
    return a


def _positive_paths(spec: CascadeSpec, params: dict) -> list:
    """The paths the file loader requires to be > 0, for this spec's model and sections."""
    positive = ["flows.organic", "flows.feed"] + [f"feed.{c}" for c in spec.components]
    if spec.scrub_stages or spec.model == "constant_beta":
        positive.append("flows.scrub")
    if spec.strip_stages:
        positive.append("flows.strip")
    for table in ("D", "D_scrub", "D_strip", "beta"):
        positive += [k for k in params if k.startswith(f"model.{table}.")]
    positive += [k for k in ("model.organic_loading", "model.extractant") if k in params]
    if spec.model == "constant_beta":
        positive.append("model.scrub_acid")
    return positive


def _require_positive(params: dict, paths) -> None:
    """InputError naming the first variant where one of ``paths`` is not > 0."""
    for key in paths:
        bad = ~(params[key] > 0)
        if bad.any():
            i = int(np.argmax(bad))
            raise InputError(f"{key}[{i}]", f"must be > 0, got {params[key][i]:g}")


def _require_saponification(params: dict) -> None:
    """InputError naming the first variant whose saponification is outside [0, 1)."""
    s = params["model.saponification"]
    bad = ~((s >= 0) & (s < 1))
    if bad.any():
        i = int(np.argmax(bad))
        raise InputError(f"model.saponification[{i}]", f"must be in [0, 1), got {s[i]:g}")


def _ranges() -> list[tuple[str, float, float]]:
    """(path prefix, lowest, highest) of every numeric parameter: the limits of magcycle.sx.spec."""
    out = [("flows.organic", MIN_FLOW_L_PER_H, MAX_FLOW_L_PER_H), ("flows.feed", MIN_FLOW_L_PER_H, MAX_FLOW_L_PER_H),
           ("flows.scrub", 0.0, MAX_FLOW_L_PER_H), ("flows.strip", 0.0, MAX_FLOW_L_PER_H),
           ("feed.", MIN_CONCENTRATION, MAX_CONCENTRATION), ("model.log10_K.", *LOG10_K_RANGE),
           ("model.organic_loading", 0.0, MAX_LOADING), ("model.extractant", 0.0, MAX_LOADING)]
    out += [(f"model.{t}.", *RATIO_RANGE) for t in ("D", "D_scrub", "D_strip", "beta")]
    out += [(f"model.{a}", 0.0, MAX_ACID) for a in ("scrub_acid", "feed_acid", "strip_acid")]
    return out


def _require_ranges(params: dict) -> None:
    """InputError naming the first variant outside the range of its parameter (as the file loader)."""
    limits = _ranges()
    for key, arr in params.items():
        lo, hi = next(((lo, hi) for prefix, lo, hi in limits if key.startswith(prefix)), (-np.inf, np.inf))
        bad = ~((arr >= lo) & (arr <= hi))
        if bad.any():
            i = int(np.argmax(bad))
            raise InputError(f"{key}[{i}]", f"must be in [{lo:g}, {hi:g}], got {arr[i]:g}")


def variant_parameters(spec: CascadeSpec, variants, B: int) -> dict:
    """Every numeric parameter of B variants of ``spec``, validated, as arrays of shape (B,).

    Parameters
    ----------
    spec : CascadeSpec
        The nominal cascade: parameters not in ``variants`` keep its values.
    variants : dict[str, array_like]
        Dotted paths of the configuration document (``flows.organic``,
        ``feed.Nd``, ``model.D.Nd``, ``model.beta.Pr``, ``model.scrub_acid``,
        ...) and B values of each, in the document's units.
    B : int
        Number of variants.

    Returns
    -------
    dict[str, ndarray]
        Every numeric path of the spec's model to its (B,) values.

    Raises
    ------
    InputError
        For a path the model does not have, an array not of shape (B,), a
        value that is not finite, or one the file loader would refuse
        (flows, feed and ratios <= 0 or outside the limits of
        :mod:`magcycle.sx.spec`, a saponification outside [0, 1)); the field
        names the variant, e.g. ``flows.organic[3]``.

    >>> from magcycle.sx import CascadeSpec
    >>> spec = CascadeSpec.from_dict({"cascade": {"model": "constant_d", "extraction_stages": 3},
    ...     "flows": {"organic": 1.0, "feed": 1.0}, "feed": {"Nd": 0.1}, "model": {"D": {"Nd": 2.0}}})
    >>> p = variant_parameters(spec, {"flows.organic": [1.0, 2.0]}, 2)
    >>> p["flows.organic"].tolist(), p["model.D.Nd"].tolist()
    ([1.0, 2.0], [2.0, 2.0])
    >>> variant_parameters(spec, {"flows.organic": [1.0, -2.0]}, 2)
    Traceback (most recent call last):
    ...
    magcycle.errors.InputError: flows.organic[1]: must be > 0, got -2
    """
    known = _nominal_parameters(spec)
    out = {k: np.full(B, float(v)) for k, v in known.items()}
    for key, arr in variants.items():
        out[key] = _checked_variant(key, arr, known, spec.model, B)
    # the same rules as the file loader, per variant
    _require_positive(out, _positive_paths(spec, out))
    _require_ranges(out)
    if spec.model == "mass_action":
        _require_saponification(out)
    return out


def _vector(params, prefix, comps):
    return np.stack([params[f"{prefix}.{c}"] for c in comps], axis=-1)


def solve_many(spec: CascadeSpec, variants: dict, *, on_failure: str = "raise") -> BatchResult:
    """Solve B variants of ``spec`` (see the module docstring).

    Parameters
    ----------
    spec : CascadeSpec
        The nominal cascade; it fixes the model, components and stage counts.
    variants : dict[str, array of shape (B,)]
        Dotted parameter paths (``flows.organic``, ``feed.Nd``,
        ``model.D.Nd``, ``model.beta.Pr``, ``model.log10_K.Dy``,
        ``model.scrub_acid``, ...) and their values per variant, in the
        document's units (L/h, mol/L, -).
    on_failure : "raise" or "mark"
        What to do with a variant that does not converge: raise
        ConvergenceError (default), or mark it ``converged = False`` with NaN
        outlet flows.

    Returns
    -------
    BatchResult
    """
    if on_failure not in ("raise", "mark"):
        raise InputError("on_failure", "must be 'raise' or 'mark'")
    if spec.model not in _SCALARS:
        raise InputError("cascade.model", f"batches of {spec.model} variants are not available; solve each "
                                          "variant with magcycle.sx.solve")
    sizes = {np.shape(v)[0] if np.ndim(v) else 0 for v in variants.values()}
    if not variants:
        raise InputError("variants", "no parameters to vary")
    if len(sizes) != 1 or 0 in sizes:
        raise InputError("variants", "every parameter needs a 1-D array of the same length")
    B = sizes.pop()
    p = variant_parameters(spec, variants, B)
    comps = spec.components
    feed = _vector(p, "feed", comps) * p["flows.feed"][:, None]
    if _extended(spec):
        outlets, conv, its = _many_one_by_one(spec, variants, B)
        if spec.organic_inlet is not None:
            feed = feed + p["flows.organic"][:, None] * spec.organic_inlet[None]
    elif spec.model == "constant_d":
        outlets, conv, its = _many_constant_d(spec, p, feed)
    elif spec.model == "constant_beta":
        outlets, conv, its = _many_nonlinear(spec, p, feed, _beta_chunk)
    else:
        outlets, conv, its = _many_nonlinear(spec, p, feed, _mass_action_chunk)
    total = sum(outlets.values())
    with np.errstate(invalid="ignore"):
        closure = np.max(np.abs(feed - total) / feed, axis=-1)
    bad_mass = conv & ~(closure <= CLOSURE_LIMIT)
    if bad_mass.any():
        i = int(np.argmax(bad_mass))
        raise MassBalanceError(f"variant {i} lost mass", float(closure[i]))
    if on_failure == "raise" and not conv.all():
        i = int(np.argmax(~conv))
        raise ConvergenceError(f"variant {i} of the batch did not converge", float("nan"), int(its[i]))
    return BatchResult(comps, outlets, feed, conv, its, closure)


def _extended(spec) -> bool:
    """A spec with a Murphree efficiency, entrainment, a loaded organic or the other extensions of
    :mod:`magcycle.sx.stagewise`: its variants are solved one by one (the batched solvers hold the
    plain stage equations only)."""
    from magcycle.sx.stagewise import needs_stagewise

    return (spec.murphree < 1.0 or spec.entrainment > 0.0 or spec.organic_inlet is not None
            or needs_stagewise(spec))


def _many_one_by_one(spec, variants, B):
    """Each variant as its own validated spec (the document merged with its values), solved by
    :func:`magcycle.sx.solve`; a variant that does not converge is marked (solve_many raises or
    keeps the mark), one that is not a valid cascade is an InputError naming it."""
    names = ["raffinate", "extract"] + (["stripped_organic"] if spec.strip_stages else [])
    outlets = {name: np.full((B, len(spec.components)), np.nan) for name in names}
    conv, its = np.zeros(B, dtype=bool), np.zeros(B, dtype=int)
    for b in range(B):
        changes: dict = {}
        for path, values in variants.items():
            keys = path.split(".")
            table = changes
            for key in keys[:-1]:
                table = table.setdefault(key, {})
            table[keys[-1]] = float(np.asarray(values, dtype=float)[b])
        try:
            variant = spec.replace(changes)
        except InputError as exc:
            raise InputError(f"variants[{b}]", f"{exc.field}: {exc.reason}") from None
        try:
            res = solve(variant)
        except ConvergenceError as exc:  # a lost mass (MassBalanceError) is raised, as for every batch
            its[b] = int(exc.iterations)
            continue
        for name, outlet in res.outlets.items():
            outlets[name][b] = outlet.mol_per_h
        conv[b], its[b] = True, res.iterations
    return outlets, conv, its


def _many_constant_d(spec, p, feed):
    comps = spec.components
    Qo, Qf, Qs, Qt = (p[f"flows.{k}"] for k in ("organic", "feed", "scrub", "strip"))
    D = _vector(p, "model.D", comps)
    Ds = _vector(p, "model.D_scrub", comps)
    eE = D * (Qo / (Qf + Qs))[:, None]
    eS = Ds * (Qo / Qs)[:, None] if spec.scrub_stages else np.ones_like(eE)
    eT = None
    if spec.strip_stages:
        eT = _vector(p, "model.D_strip", comps) * (Qo / Qt)[:, None]
    sol = constant_d.solve_arrays(eE, eS, eT, spec.extraction_stages, spec.scrub_stages,
                                  spec.strip_stages, feed, profiles=False)
    outlets = {k: sol[k] for k in ("raffinate", "extract", "stripped_organic") if k in sol}
    B = feed.shape[0]
    return outlets, np.ones(B, dtype=bool), np.ones(B, dtype=int)


def _beta_chunk(spec, p, feed, sl):
    comps = spec.components
    S = p["flows.organic"][sl] * p["model.organic_loading"][sl]
    W = p["flows.scrub"][sl] * p["model.scrub_acid"][sl] / 3.0
    F = feed[sl]
    R = F.sum(axis=1) + W - S
    for cond, what in ((S > W, "S > W"), (R > 0, "R = F + W - S > 0")):
        if not cond.all():
            i = sl.start + int(np.argmax(~cond))
            raise InputError(f"variants[{i}]", f"the constant_beta flows need {what}")
    model = BetaCascade(_vector(p, "model.beta", comps)[sl], S, W, F,
                        spec.extraction_stages, spec.scrub_stages)

    def outlets(u):
        a = np.exp(u)
        o = model.organic(u)
        P = (S - W) / S
        return {"raffinate": a[:, 0], "extract": o[:, -1] * P[:, None]}

    def cold(b):
        one = BetaCascade(model.beta[b:b + 1], S[b:b + 1], W[b:b + 1], F[b:b + 1],
                          model.n, model.m)
        return beta_continuation(one)

    return model, outlets, cold


def _mass_action_chunk(spec, p, feed, sl):
    comps = spec.components
    K = 10.0 ** _vector(p, "model.log10_K", comps)[sl]
    conc = _vector(p, "feed", comps)[sl]
    names = ("organic", "feed", "scrub", "strip")
    Qo, Qf, Qs, Qt = (p[f"flows.{k}"][sl] for k in names)
    chem = {k: p[f"model.{k}"][sl] for k in _SCALARS["mass_action"]}
    chloride = Qf * (3 * conc.sum(axis=1) + chem["feed_acid"]) + Qs * chem["scrub_acid"]
    released = chem["saponification"] * chem["extractant"] * Qo
    if not (released < chloride).all():
        i = sl.start + int(np.argmax(~(released < chloride)))
        raise InputError(f"variants[{i}]", "counter-ion released exceeds the chloride of the "
                                           "extraction-section aqueous")
    model = mass_action_model(spec, K=K, feed_conc=conc, organic=Qo, feed_flow=Qf, scrub=Qs,
                              strip=Qt, **chem)
    n, m, k = spec.extraction_stages, spec.scrub_stages, spec.strip_stages

    def outlets(u):
        x, _, _ = model.split(u)
        y = model.loading(u)
        out = {"raffinate": model.Qa[:, 0, None] * x[:, 0]}
        if k:
            out["extract"] = Qt[:, None] * x[:, n + m]
            out["stripped_organic"] = Qo[:, None] * y[:, -1]
        else:
            out["extract"] = Qo[:, None] * y[:, -1]
        return out

    def cold(b):
        one = mass_action_model(
            spec, K=K[b:b + 1], feed_conc=conc[b:b + 1], organic=Qo[b:b + 1],
            feed_flow=Qf[b:b + 1], scrub=Qs[b:b + 1], strip=Qt[b:b + 1],
            **{key: v[b:b + 1] for key, v in chem.items()})
        return mass_action_cold(one)

    return model, outlets, cold


def _many_nonlinear(spec, p, feed, make_chunk):
    B = feed.shape[0]
    nominal = solve(spec)
    conv = np.zeros(B, dtype=bool)
    its = np.zeros(B, dtype=int)
    outlets = None
    for start in range(0, B, CHUNK):
        sl = slice(start, min(B, start + CHUNK))
        model, outlet_fn, cold = make_chunk(spec, p, feed, sl)
        nb = sl.stop - sl.start
        u0 = np.broadcast_to(nominal.state, (nb,) + nominal.state.shape)
        out = ptc_newton(model, u0, dt0=DT_WARM, tol=NEWTON_TOL, max_iter=40)
        u = out.u
        c = out.converged.copy()
        it = out.iterations.copy()
        for b in np.flatnonzero(~c):
            retry = cold(int(b))
            it[b] += retry.iterations[0]
            if retry.converged[0]:
                u[b] = retry.u[0]
                c[b] = True
        flows = outlet_fn(u)
        if outlets is None:
            outlets = {name: np.full((B, feed.shape[1]), np.nan) for name in flows}
        for name, val in flows.items():
            outlets[name][sl] = np.where(c[:, None], val, np.nan)
        conv[sl] = c
        its[sl] = it
    return outlets, conv, its
