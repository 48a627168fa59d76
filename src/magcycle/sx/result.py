"""Cascade result: plain data that serialises to the JSON contract.

The document of :meth:`CascadeResult.to_dict` is the public result contract
of ``magcycle sx solve --json``: model, converged, iterations, closure,
components, fraction_to_extract / fraction_to_raffinate, purity per outlet,
outlets (flow and mol/h) and stage profiles. Fractions and purities are
derived from the outlet flows, so they cannot disagree with them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable

import numpy as np

from magcycle.errors import ConvergenceError, MassBalanceError
from magcycle.sx.spec import CascadeSpec

__all__ = ["CLOSURE_LIMIT", "Outlet", "closure_error", "CascadeResult", "checked_closure"]

#: A solve whose largest relative element closure error exceeds this is an
#: error: the project-wide rule for every solve, never a quiet answer.
CLOSURE_LIMIT = 1e-9


@dataclass(frozen=True)
class Outlet:
    """One outlet stream: volumetric flow [L/h] and component flows [mol/h]."""

    flow_L_per_h: float
    mol_per_h: np.ndarray

    @property
    def total_mol_per_h(self) -> float:
        return float(np.sum(self.mol_per_h))


def closure_error(feed_mol_per_h: np.ndarray, outlets) -> np.ndarray:
    """Relative closure error per component, |F - sum(out)| / F [-].

    >>> import numpy as np
    >>> float(closure_error(np.array([2.0]), [np.array([1.5]), np.array([0.5])])[0])
    0.0
    """
    total = None
    for out in outlets:  # the first outlet as it is: 0 + x is x
        total = out if total is None else total + out
    if total is None:
        total = np.zeros_like(feed_mol_per_h)
    return np.abs(feed_mol_per_h - total) / feed_mol_per_h


@dataclass(frozen=True, eq=False)
class CascadeResult:
    """Steady state of one cascade.

    Attributes
    ----------
    spec : CascadeSpec
    converged : bool
    iterations : int
        Newton iterations (1 for the closed-form constant_d solution).
    closure : float
        Largest relative mass-balance error over components [-].
    outlets : dict[str, Outlet]
        ``raffinate``, ``extract`` and, with strip stages, ``stripped_organic``.
    profile : tuple or callable
        ``(aqueous, organic, residual)``, or a function returning it on first
        use (the closed-form constant_d solution defers its stage profiles
        so that a solve for outlet fractions alone stays in microseconds).
        Read them through the properties below.
    aqueous, organic : ndarray, shape (N, C)
        Concentrations leaving each stage [mol/L].
    residual : float
        Largest scaled stage residual at the solution [-].
    pH : ndarray of shape (N,) or None
        Stage pH (mass_action only).
    state : ndarray or None
        The solver's variables, used to warm-start a neighbouring solve.
    extra : dict
        Model-specific stage data (e.g. ``free_extractant_mol_per_L``).
    reduced : tuple or None
        (stage multipliers, ChordFactors of their Jacobian) of the reduced
        constant-beta solver, used to warm-start a neighbour with chord steps.

    No NaN or infinity is ever part of a result: one whose closure is not a
    finite number within CLOSURE_LIMIT is refused when it is built
    (MassBalanceError; the closure is computed from every outlet flow, so a
    non-finite outlet flow makes it non-finite), and one whose stage
    profiles or residual are not finite when they are built, at once or on
    first use, raises ConvergenceError.
    """

    spec: CascadeSpec
    converged: bool
    iterations: int
    closure: float
    outlets: dict
    profile: tuple | Callable = field(repr=False)
    pH: np.ndarray | None = None
    state: np.ndarray | None = field(default=None, repr=False)
    extra: dict = field(default_factory=dict, repr=False)
    reduced: tuple | None = field(default=None, repr=False)

    def __post_init__(self):
        if not self.closure <= CLOSURE_LIMIT:  # NaN and inf too
            raise MassBalanceError(f"{self.spec.model} cascade: closure not finite or above {CLOSURE_LIMIT:g}",
                                   float(self.closure))
        if not callable(self.profile):
            _require_finite_profile(self.spec, self.profile, self.iterations)

    @cached_property
    def _profile(self):
        p = self.profile
        if callable(p):
            p = p()
            _require_finite_profile(self.spec, p, self.iterations)
        return p

    @property
    def aqueous(self) -> np.ndarray:
        return self._profile[0]

    @property
    def organic(self) -> np.ndarray:
        return self._profile[1]

    @property
    def residual(self) -> float:
        return float(self._profile[2])

    @property
    def model(self) -> str:
        return self.spec.model

    @property
    def components(self) -> tuple[str, ...]:
        return self.spec.components

    def fraction_to(self, outlet: str) -> dict[str, float]:
        """Share of the feed's flow of each component leaving in ``outlet`` [-], by component:
        ``{"Pr": 0.998, "Nd": 0.004}`` (:meth:`fractions` is the same as an array)."""
        return {c: float(v) for c, v in zip(self.components, self.fractions(outlet))}

    def fractions(self, outlet: str) -> np.ndarray:
        """Share of the feed's flow of each component leaving in ``outlet`` [-], in component order."""
        return self.outlets[outlet].mol_per_h / self.spec.feed_mol_per_h

    def purity_of(self, outlet: str) -> np.ndarray:
        """Mole fraction of each rare earth among all rare earths in ``outlet`` [-]."""
        flows = self.outlets[outlet].mol_per_h
        total = np.sum(flows)
        return flows / total if total > 0 else np.full_like(flows, np.nan)

    @property
    def fraction_to_extract(self) -> np.ndarray:
        """:meth:`fractions` of the extract, in component order."""
        return self.fractions("extract")

    @property
    def fraction_to_raffinate(self) -> np.ndarray:
        """:meth:`fractions` of the raffinate, in component order."""
        return self.fractions("raffinate")

    @property
    def purity(self) -> dict:
        return {name: self.purity_of(name) for name in self.outlets}

    def to_dict(self) -> dict:
        """The JSON document of ``magcycle sx solve --json``."""
        comps = self.components

        def per(arr):
            # an empty outlet has no purity: null, never NaN (invalid JSON)
            return {c: (float(v) if np.isfinite(v) else None) for c, v in zip(comps, arr)}

        doc = {
            "model": self.model,
            "converged": bool(self.converged),
            "iterations": int(self.iterations),
            "closure": float(self.closure),
            "residual": float(self.residual),
            "components": list(comps),
        }
        for name in self.outlets:
            doc[f"fraction_to_{name}"] = per(self.fractions(name))
        doc["purity"] = {name: per(self.purity_of(name)) for name in self.outlets}
        doc["outlets"] = {
            name: {"flow_L_per_h": float(o.flow_L_per_h), "mol_per_h": per(o.mol_per_h)}
            for name, o in self.outlets.items()
        }
        doc["stages"] = {
            "aqueous_mol_per_L": self.aqueous.tolist(),
            "organic_mol_per_L": self.organic.tolist(),
            "pH": None if self.pH is None else self.pH.tolist(),
        }
        for key, val in self.extra.items():
            doc["stages"][key] = val.tolist() if isinstance(val, np.ndarray) else val
        return doc


def _require_finite_profile(spec: CascadeSpec, profile, iterations: int) -> None:
    """Raise ConvergenceError unless the (aqueous, organic, residual) of a result are finite."""
    # a sum is finite only where every term is (an inf or a NaN spreads); one that is not,
    # which may also be an overflow of finite terms, is looked at number by number
    total = 0.0
    with np.errstate(over="ignore", invalid="ignore"):
        for values in profile:
            total += float(np.add.reduce(values, axis=None))
    if math.isfinite(total):
        return
    names = ("aqueous", "organic", "residual")
    for name, values in zip(names, profile):
        bad = ~np.isfinite(np.asarray(values, dtype=float))
        if bad.any():
            what = name
            if bad.ndim == 2:  # (stage, component)
                j, i = np.argwhere(bad)[0]
                what = f"{name} profile at stage {j + 1} ({spec.components[i]})"
            raise ConvergenceError(f"{spec.model} cascade: {what} not finite (a stage flow beyond the "
                                   f"double range)", float(np.asarray(profile[2], dtype=float)), int(iterations))


def checked_closure(spec: CascadeSpec, outlets: dict) -> float:
    """Largest relative closure error; raises MassBalanceError above CLOSURE_LIMIT."""
    err = closure_error(spec.feed_mol_per_h, [o.mol_per_h for o in outlets.values()])
    worst = float(err.max())
    if not worst <= CLOSURE_LIMIT:
        i = int(np.nanargmax(np.where(np.isfinite(err), err, np.inf)))
        raise MassBalanceError(
            f"cascade lost mass: {spec.components[i]} closes to {worst:.3e} relative "
            f"(limit {CLOSURE_LIMIT:g})",
            worst,
        )
    return worst
