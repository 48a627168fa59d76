"""Uncertain parameters: a dotted name and a distribution, declared once.

A parameter maps a point u of the unit interval to a value through its
distribution's inverse CDF (``ppf``), so one sampler (random, Latin
hypercube, Sobol) serves every distribution:

    uniform(lo, hi)          x = lo + u (hi - lo)
    loguniform(lo, hi)       x = lo (hi/lo)^u
    triangular(lo, mode, hi) x = lo + sqrt(u (hi-lo)(mode-lo))          for u <= c
                             x = hi - sqrt((1-u)(hi-lo)(hi-mode))      for u >  c,
                             c = (mode-lo)/(hi-lo)
    normal(mean, sd)         x = mean + sd Phi^-1(u)
    lognormal(median, gsd)   x = median gsd^(Phi^-1(u))   (gsd: geometric sd > 1)

(Forms as in any statistics text, e.g. Law, Simulation Modeling and
Analysis, 5th ed., ch. 8.) Values are in the units the parameter's name
implies (wt % for assays, document units for cascades); a parameter's
``nominal`` is its median unless given.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

from magcycle.errors import InputError

KINDS = ("uniform", "loguniform", "triangular", "normal", "lognormal")
_ARITY = {"uniform": 2, "loguniform": 2, "triangular": 3, "normal": 2, "lognormal": 2}


def _ndtri(u):
    from scipy.special import ndtri

    return ndtri(u)


@dataclass(frozen=True)
class Distribution:
    """One of ``KINDS`` with its arguments (see the module docstring)."""

    kind: str
    args: tuple[float, ...]

    def __post_init__(self):
        check_distribution(self.kind, self.args, "distribution")

    def ppf(self, u) -> np.ndarray:
        """Inverse CDF at u in (0, 1) [array]."""
        u = np.asarray(u, dtype=float)
        a = self.args
        if self.kind == "uniform":
            return a[0] + u * (a[1] - a[0])
        if self.kind == "loguniform":
            return a[0] * (a[1] / a[0]) ** u
        if self.kind == "triangular":
            lo, mode, hi = a
            c = (mode - lo) / (hi - lo)
            left = lo + np.sqrt(np.clip(u, 0, 1) * (hi - lo) * (mode - lo))
            right = hi - np.sqrt(np.clip(1 - u, 0, 1) * (hi - lo) * (hi - mode))
            return np.where(u <= c, left, right)
        if self.kind == "normal":
            return a[0] + a[1] * _ndtri(u)
        return a[0] * a[1] ** _ndtri(u)  # lognormal

    @property
    def bounds(self) -> tuple[float, float]:
        """Support, (-inf, inf) where unbounded."""
        a = self.args
        if self.kind in ("uniform", "loguniform"):
            return (a[0], a[1])
        if self.kind == "triangular":
            return (a[0], a[2])
        if self.kind == "normal":
            return (-math.inf, math.inf)
        return (0.0, math.inf)

    def describe(self) -> str:
        return f"{self.kind}({', '.join(f'{x:g}' for x in self.args)})"


def check_distribution(kind, args, field: str) -> None:
    if kind not in KINDS:
        raise InputError(field, f"unknown distribution {kind!r}; one of {', '.join(KINDS)}")
    if len(args) != _ARITY[kind]:
        raise InputError(field, f"{kind} takes {_ARITY[kind]} numbers, got {len(args)}")
    for x in args:
        if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
            raise InputError(field, f"{kind} needs finite numbers, got {x!r}")
    if kind == "uniform" and not args[0] < args[1]:
        raise InputError(field, f"uniform needs low < high, got {args[0]:g}, {args[1]:g}")
    if kind == "loguniform" and not 0 < args[0] < args[1]:
        raise InputError(field, f"loguniform needs 0 < low < high, got {args[0]:g}, {args[1]:g}")
    if kind == "triangular" and not (args[0] <= args[1] <= args[2] and args[0] < args[2]):
        raise InputError(field, "triangular needs low <= mode <= high and low < high")
    if kind == "normal" and not args[1] > 0:
        raise InputError(field, f"normal needs sd > 0, got {args[1]:g}")
    if kind == "lognormal" and not (args[0] > 0 and args[1] > 1):
        raise InputError(field, "lognormal needs median > 0 and geometric sd > 1")


@dataclass(frozen=True)
class Parameter:
    """An uncertain input: ``name`` (a dotted path the model understands) and its distribution.

    >>> p = Parameter("model.beta.Nd", Distribution("uniform", (1.4, 1.6)))
    >>> float(p.ppf(0.25)), p.nominal
    (1.45, 1.5)
    """

    name: str
    distribution: Distribution
    nominal_value: float | None = None
    units: str = ""
    source: str = field(default="", compare=False)

    def ppf(self, u):
        return self.distribution.ppf(u)

    @property
    def nominal(self) -> float:
        if self.nominal_value is not None:
            return float(self.nominal_value)
        return float(self.distribution.ppf(0.5))

    def to_dict(self) -> dict:
        return {"name": self.name, "distribution": self.distribution.kind,
                "args": list(self.distribution.args), "nominal": self.nominal, "units": self.units,
                "source": self.source}


def parse_parameter(name: str, value, field: str) -> Parameter:
    """A parameter from a study file entry: ``{ uniform = [lo, hi] }``, ``{ normal = [m, sd] }``...

    >>> parse_parameter("flows.organic", {"normal": [2.0, 0.1]}, "parameters").distribution.describe()
    'normal(2, 0.1)'
    """
    where = f"{field}.{name}"
    if not isinstance(value, Mapping):
        raise InputError(where, f"expected a table such as {{ uniform = [low, high] }}, got {value!r}")
    kinds = [k for k in value if k in KINDS]
    extra = sorted(set(value) - set(KINDS) - {"nominal", "units", "source"})
    if extra:
        raise InputError(f"{where}.{extra[0]}", f"unknown key; a distribution ({', '.join(KINDS)}), "
                                                "nominal, units or source")
    if len(kinds) != 1:
        raise InputError(where, f"give exactly one distribution ({', '.join(KINDS)})")
    kind = kinds[0]
    args = value[kind]
    if not isinstance(args, (list, tuple)):
        raise InputError(f"{where}.{kind}", f"expected a list of numbers, got {args!r}")
    check_distribution(kind, tuple(args), f"{where}.{kind}")
    nominal = value.get("nominal")
    if nominal is not None and (isinstance(nominal, bool) or not isinstance(nominal, (int, float))
                                or not math.isfinite(nominal)):
        raise InputError(f"{where}.nominal", f"expected a finite number, got {nominal!r}")
    return Parameter(name, Distribution(kind, tuple(float(x) for x in args)), nominal,
                     str(value.get("units", "")), str(value.get("source", "")))
