"""Estimates from samples: pass probability with an exact interval, summaries, Sobol indices.

Probability of meeting spec
    k passes in n samples; the estimate is k/n and the interval the
    Clopper-Pearson one (Biometrika 26 (1934) 404):

        lower = B^-1(alpha/2; k, n - k + 1),  upper = B^-1(1 - alpha/2; k + 1, n - k)

    with B^-1 the beta quantile, lower = 0 at k = 0 and upper = 1 at k = n.
    It covers the true p with probability >= 1 - alpha for independent
    samples (random sampling); Latin hypercube and Sobol samples have no
    larger variance for monotone indicators, so the interval stays
    conservative there.

Sobol indices
    First-order S_i = V[E(Y|X_i)]/V(Y) and total-order ST_i =
    E[V(Y|X_~i)]/V(Y), estimated by SALib from the Saltelli design with
    bootstrap confidence intervals (Saltelli et al. 2010; Jansen 1999 for ST).
"""

from __future__ import annotations

import warnings

import numpy as np

from magcycle.errors import InputError

__all__ = ["clopper_pearson", "probability", "summary", "sobol_indices"]


def clopper_pearson(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Exact binomial interval for k successes in n trials [-].

    >>> lo, hi = clopper_pearson(0, 299, 0.90)     # the 'rule of three': hi ~ 3/n at 95 % one-sided
    >>> round(hi, 4)
    0.01
    """
    from scipy.stats import beta

    if not 0 < confidence < 1:
        raise InputError("confidence", f"must be in (0, 1), got {confidence!r}")
    if n <= 0:
        return (0.0, 1.0)
    a = 1.0 - confidence
    lo = 0.0 if k == 0 else float(beta.ppf(a / 2, k, n - k + 1))
    hi = 1.0 if k == n else float(beta.ppf(1 - a / 2, k + 1, n - k))
    return lo, hi


def probability(passes: np.ndarray, confidence: float = 0.95) -> dict:
    """Share of True in ``passes`` (failed samples count as False) with its interval."""
    passes = np.asarray(passes, dtype=bool)
    k, n = int(passes.sum()), int(passes.size)
    lo, hi = clopper_pearson(k, n, confidence)
    return {"p": k / n if n else float("nan"), "lower": lo, "upper": hi, "passes": k, "samples": n,
            "confidence": confidence}


def summary(values: np.ndarray) -> dict:
    """Mean, sd, standard error and percentiles of the finite values."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return {"n": 0}
    q = np.percentile(v, [1, 5, 25, 50, 75, 95, 99])
    sd = float(v.std(ddof=1)) if v.size > 1 else 0.0
    return {"n": int(v.size), "mean": float(v.mean()), "sd": sd, "se": sd / float(np.sqrt(v.size)),
            "min": float(v.min()), "max": float(v.max()),
            **{f"p{k:02d}": float(x) for k, x in zip((1, 5, 25, 50, 75, 95, 99), q)}}


def sobol_indices(Y: np.ndarray, d: int, names=None, seed: int = 0, confidence: float = 0.95) -> dict:
    """First- and total-order indices from outputs on the Saltelli design (n (d + 2),).

    Returns {name: {"S1", "S1_conf", "ST", "ST_conf"}}; a constant output has no
    variance to apportion and gives NaN indices.
    """
    from magcycle.analysis.sampling import salib

    analyze = salib("analyze.sobol")
    Y = np.asarray(Y, dtype=float)
    if Y.ndim != 1 or Y.size % (d + 2):
        raise InputError("sobol", f"expected n (d + 2) outputs for d = {d}, got {Y.shape}")
    if not np.isfinite(Y).all():
        raise InputError("sobol", f"{int((~np.isfinite(Y)).sum())} samples failed; Sobol indices "
                                  "need every sample of the design")
    names = list(names or [f"x{i}" for i in range(d)])
    if np.ptp(Y) == 0:
        return {n: {"S1": float("nan"), "S1_conf": float("nan"), "ST": float("nan"),
                    "ST_conf": float("nan")} for n in names}
    problem = {"num_vars": d, "names": names, "bounds": [[0.0, 1.0]] * d}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        si = analyze.analyze(problem, Y, calc_second_order=False, conf_level=confidence, seed=seed)
    return {n: {"S1": float(si["S1"][i]), "S1_conf": float(si["S1_conf"][i]),
                "ST": float(si["ST"][i]), "ST_conf": float(si["ST_conf"][i])} for i, n in enumerate(names)}
