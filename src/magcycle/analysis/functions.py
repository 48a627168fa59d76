"""Problems defined by a plain vectorised function, and the Ishigami test function.

Ishigami & Homma (1990), with x_i ~ U(-pi, pi):

    Y = sin x1 + a sin^2 x2 + b x3^4 sin x1

Its variance decomposition is known in closed form (Sobol' & Levitan 1999;
Saltelli et al., Global Sensitivity Analysis: The Primer, 2008, sec. 4.9):

    V   = a^2/8 + b pi^4/5 + b^2 pi^8/18 + 1/2
    V1  = (1 + b pi^4/5)^2 / 2,   V2 = a^2/8,   V3 = 0
    V13 = b^2 pi^8 (1/18 - 1/50)
    S_i = V_i / V,   ST1 = (V1 + V13)/V,  ST2 = V2/V,  ST3 = V13/V
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from magcycle.analysis.model import Metric
from magcycle.analysis.parameters import Distribution, Parameter

__all__ = ["ishigami", "ishigami_indices", "FunctionProblem"]


def ishigami(X: np.ndarray, a: float = 7.0, b: float = 0.1) -> np.ndarray:
    """Ishigami function of the rows of X (k, 3) [-].

    >>> float(ishigami(np.array([[math.pi / 2, math.pi / 2, 0.0]]))[0, 0])    # 1 + a
    8.0
    """
    X = np.asarray(X, dtype=float)
    y = np.sin(X[:, 0]) + a * np.sin(X[:, 1]) ** 2 + b * X[:, 2] ** 4 * np.sin(X[:, 0])
    return y[:, None]


def ishigami_indices(a: float = 7.0, b: float = 0.1) -> dict:
    """Analytic first- and total-order indices {x1: (S1, ST), ...}."""
    pi = math.pi
    V1 = 0.5 * (1 + b * pi ** 4 / 5) ** 2
    V2 = a ** 2 / 8
    V13 = b ** 2 * pi ** 8 * (1 / 18 - 1 / 50)
    V = V1 + V2 + V13
    return {"x1": (V1 / V, (V1 + V13) / V), "x2": (V2 / V, V2 / V), "x3": (0.0, V13 / V)}


@dataclass
class FunctionProblem:
    """Y = fn(X) for a picklable vectorised ``fn`` (k, d) -> (k, q)."""

    fn: Callable
    parameters: list
    metrics: list
    chunk_size: int = 4096

    def evaluate(self, X, U):
        Y = np.asarray(self.fn(X), dtype=float).reshape(len(X), len(self.metrics))
        return Y, [None] * len(X)

    @classmethod
    def ishigami(cls) -> "FunctionProblem":
        params = [Parameter(f"x{i}", Distribution("uniform", (-math.pi, math.pi))) for i in (1, 2, 3)]
        return cls(ishigami, params, [Metric("ishigami", "y")])
