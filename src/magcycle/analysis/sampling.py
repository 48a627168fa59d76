"""Seeded samples of the unit hypercube, mapped to parameters through their ``ppf``.

Methods
    ``random``  independent uniforms (numpy PCG64 seeded by ``seed``);
    ``lhs``     Latin hypercube: one point in each of n equal-probability
                strata per dimension (McKay, Beckman & Conover,
                Technometrics 21 (1979) 239), scipy.stats.qmc;
    ``sobol``   scrambled Sobol' sequence (Owen scrambling; Sobol',
                USSR Comput. Math. 7 (1967) 86), scipy.stats.qmc;
    ``saltelli`` the A, B, AB_i design of Saltelli et al., Comput. Phys.
                Commun. 181 (2010) 259, as SALib's ``sobol`` sampler builds
                it, for first- and total-order Sobol indices: n (d + 2) rows.

Points are clipped to [EPS, 1 - EPS] so that unbounded distributions stay
finite. The same (method, n, d, seed) always gives the same array.
"""

from __future__ import annotations

import warnings

import numpy as np

from magcycle.errors import InputError

__all__ = ["METHODS", "EPS", "unit_samples", "saltelli_samples", "salib"]

METHODS = ("random", "lhs", "sobol")
EPS = 1e-12


def unit_samples(n: int, d: int, method: str = "lhs", seed: int = 0) -> np.ndarray:
    """n points of [0, 1]^d [array (n, d)].

    >>> u = unit_samples(8, 2, "lhs", seed=1)
    >>> sorted(np.floor(u[:, 0] * 8).astype(int).tolist())   # one point per stratum
    [0, 1, 2, 3, 4, 5, 6, 7]
    """
    n, d = _check_counts(n, d)
    if method == "random":
        u = np.random.default_rng(seed).random((n, d))
    elif method == "lhs":
        from scipy.stats import qmc

        u = qmc.LatinHypercube(d, rng=np.random.default_rng(seed)).random(n)
    elif method == "sobol":
        from scipy.stats import qmc

        with warnings.catch_warnings():  # n not a power of 2 loses balance, not validity
            warnings.simplefilter("ignore", UserWarning)
            u = qmc.Sobol(d, scramble=True, rng=np.random.default_rng(seed)).random(n)
    else:
        raise InputError("method", f"unknown sampling method {method!r}; one of {', '.join(METHODS)}")
    return np.clip(u, EPS, 1.0 - EPS)


def saltelli_samples(n: int, d: int, seed: int = 0) -> np.ndarray:
    """The Saltelli design for first- and total-order indices [array (n (d + 2), d)].

    Uses SALib (``pip install 'magcycle[uq]'``); ``n`` is rounded up to a power of 2.
    """
    n, d = _check_counts(n, d)
    sample = salib("sample.sobol")
    problem = {"num_vars": d, "names": [f"x{i}" for i in range(d)], "bounds": [[0.0, 1.0]] * d}
    n2 = 1 << max(0, int(np.ceil(np.log2(n))))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        u = sample.sample(problem, n2, calc_second_order=False, scramble=True, seed=seed)
    return np.clip(u, EPS, 1.0 - EPS)


def _check_counts(n, d):
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise InputError("samples", f"must be a whole number >= 1, got {n!r}")
    if d < 1:
        raise InputError("parameters", "declare at least one uncertain parameter")
    return int(n), int(d)


def salib(module: str):
    import importlib

    try:
        return importlib.import_module(f"SALib.{module}")
    except ImportError:
        raise InputError("sobol", "Sobol indices need SALib: pip install 'magcycle[uq]'") from None
