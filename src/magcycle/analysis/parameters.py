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

import numpy as np

from magcycle.errors import InputError

__all__ = ["KINDS", "Distribution", "check_distribution", "Parameter"]

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
        """Inverse CDF at u in (0, 1) [array, the parameter's unit].

        .. math:: x = F^{-1}(u)

        with the forms of the module docstring (uniform, loguniform,
        triangular, normal, lognormal; Phi^-1 the standard normal quantile,
        scipy.special.ndtri).

        Parameters
        ----------
        u : float or array_like
            Probability [-], in (0, 1).

        Returns
        -------
        ndarray
            x [the parameter's unit].

        References
        ----------
        Law, Simulation Modeling and Analysis, 5th ed., ch. 8.

        Examples
        --------
        >>> float(Distribution("uniform", (1.0, 3.0)).ppf(0.25))        # 1 + 0.25 (3 - 1)
        1.5
        >>> float(Distribution("loguniform", (1.0, 100.0)).ppf(0.5))    # 1 * 100^0.5
        10.0
        >>> Distribution("triangular", (0.0, 1.0, 2.0)).ppf([0.125, 0.875]).tolist()
        [0.5, 1.5]
        >>> # c = 0.5: sqrt(0.125 * 2 * 1) = 0.5; 2 - sqrt(0.125 * 2 * 1) = 1.5
        >>> round(float(Distribution("normal", (10.0, 2.0)).ppf(0.975)), 4)   # 10 + 2 * 1.959964
        13.9199
        >>> round(float(Distribution("lognormal", (2.0, 3.0)).ppf(0.8413447460685429)), 9)  # 2 * 3^1, Phi(1)
        6.0
        """
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
        """Support, (-inf, inf) where unbounded [the parameter's unit].

        >>> Distribution("triangular", (0.0, 1.0, 2.0)).bounds, Distribution("lognormal", (2.0, 3.0)).bounds
        ((0.0, 2.0), (0.0, inf))
        """
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


#: the rule of each distribution's arguments: (test, what the arguments must satisfy)
_RULES = {
    "uniform": (lambda a: a[0] < a[1], "uniform needs low < high"),
    "loguniform": (lambda a: 0 < a[0] < a[1], "loguniform needs 0 < low < high"),
    "triangular": (lambda a: a[0] <= a[1] <= a[2] and a[0] < a[2], "triangular needs low <= mode <= high and low < high"),
    "normal": (lambda a: a[1] > 0, "normal needs sd > 0"),
    "lognormal": (lambda a: a[0] > 0 and a[1] > 1, "lognormal needs median > 0 and geometric sd > 1"),
}


def check_distribution(kind, args, field: str) -> None:
    """Raise InputError unless ``kind`` is one of KINDS and ``args`` are its arguments
    (the module docstring), finite numbers within its rule.

    >>> check_distribution("uniform", (2.0, 1.0), "x")
    Traceback (most recent call last):
    ...
    magcycle.errors.InputError: x: uniform needs low < high, got 2, 1
    """
    if kind not in KINDS:
        raise InputError(field, f"unknown distribution {kind!r}; one of {', '.join(KINDS)}")
    if len(args) != _ARITY[kind]:
        raise InputError(field, f"{kind} takes {_ARITY[kind]} numbers, got {len(args)}")
    for x in args:
        if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x) or abs(x) > 1e300:
            raise InputError(field, f"{kind} needs finite numbers, got {x!r}")
    test, rule = _RULES[kind]
    if not test(args):
        raise InputError(field, f"{rule}, got {', '.join(f'{x:g}' for x in args)}")


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
        """The nominal value: ``nominal_value`` if given, else the median F^-1(0.5) [the parameter's unit]."""
        if self.nominal_value is not None:
            return float(self.nominal_value)
        return float(self.distribution.ppf(0.5))

    def to_dict(self) -> dict:
        return {"name": self.name, "distribution": self.distribution.kind,
                "args": list(self.distribution.args), "nominal": self.nominal, "units": self.units,
                "source": self.source}
