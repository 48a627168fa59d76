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

    ``random``: independent uniforms u_ij ~ U(0, 1). ``lhs``:

    .. math:: u_{ij} = \\frac{\\pi_j(i) + v_{ij}}{n}, \\qquad v_{ij} \\sim U(0, 1),

    with pi_j an independent random permutation of 0..n-1 per dimension, so
    each of the n strata [k/n, (k+1)/n) holds one point per dimension.
    ``sobol``: the first n points of a scrambled Sobol' sequence. Every
    point is clipped to [EPS, 1 - EPS]; the same (method, n, d, seed) gives
    the same array.

    Parameters
    ----------
    n : int
        Number of points [-], >= 1.
    d : int
        Dimension [-], >= 1.
    method : str
        ``random``, ``lhs`` or ``sobol``.
    seed : int
        Seed of numpy's PCG64 generator.

    Returns
    -------
    ndarray, shape (n, d)
        Points in [EPS, 1 - EPS]^d [-].

    Raises
    ------
    InputError
        A bad count or an unknown method.

    References
    ----------
    McKay, Beckman & Conover, Technometrics 21 (1979) 239 (Latin hypercube);
    Sobol', USSR Comput. Math. 7 (1967) 86 (with Owen scrambling), both as
    scipy.stats.qmc implements them.

    Examples
    --------
    >>> u = unit_samples(8, 2, "lhs", seed=1)
    >>> sorted(np.floor(u[:, 0] * 8).astype(int).tolist())   # one point per stratum: floor(8 u) = pi(i)
    [0, 1, 2, 3, 4, 5, 6, 7]
    >>> u = unit_samples(5, 3, "random", seed=0)
    >>> u.shape, bool(((u >= EPS) & (u <= 1 - EPS)).all())
    ((5, 3), True)
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

    Rows: for each of N = 2^ceil(log2 n) base points, A, then AB_1 .. AB_d
    (A with column i taken from B), then B, as SALib's ``sample.sobol`` builds
    them from a scrambled Sobol' sequence (calc_second_order off), clipped
    to [EPS, 1 - EPS]:

    .. math:: rows = N (d + 2), \\qquad N = 2^{\\lceil \\log_2 n \\rceil}.

    Uses SALib (``pip install 'magcycle[uq]'``).

    Parameters
    ----------
    n : int
        Base sample count [-], >= 1 (rounded up to a power of 2).
    d : int
        Dimension [-], >= 1.
    seed : int
        Seed of the scrambling.

    Returns
    -------
    ndarray, shape (N (d + 2), d)
        Points in [EPS, 1 - EPS]^d [-].

    References
    ----------
    Saltelli et al., Comput. Phys. Commun. 181 (2010) 259.

    Examples
    --------
    >>> saltelli_samples(3, 2).shape    # N = 4; 4 * (2 + 2) rows
    (16, 2)
    >>> u = saltelli_samples(4, 2)
    >>> bool((u[1, 1] == u[0, 1]) and (u[1, 0] == u[3, 0]))   # AB_1: column 0 of B, column 1 of A
    True
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
    """The SALib submodule ``SALib.<module>``; InputError (field ``sobol``) when SALib is not installed."""
    import importlib

    try:
        return importlib.import_module(f"SALib.{module}")
    except ImportError:
        raise InputError("sobol", "Sobol indices need SALib: pip install 'magcycle[uq]'") from None
