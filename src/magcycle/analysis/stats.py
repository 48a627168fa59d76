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
    bootstrap confidence intervals (Saltelli et al., Comput. Phys. Commun.
    181 (2010) 259; Jansen 1999 for ST).
"""

from __future__ import annotations

import warnings

import numpy as np

from magcycle.errors import InputError

__all__ = ["clopper_pearson", "probability", "summary", "sobol_indices"]


def clopper_pearson(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Exact binomial interval for k successes in n trials [-].

    .. math:: p_{lo} = B^{-1}(\\alpha/2;\\ k, n - k + 1), \\qquad
              p_{hi} = B^{-1}(1 - \\alpha/2;\\ k + 1, n - k),

    alpha = 1 - confidence, B^-1 the beta quantile; p_lo = 0 at k = 0 and
    p_hi = 1 at k = n (then p_hi = 1 - (alpha/2)^(1/n) at k = 0 and
    p_lo = (alpha/2)^(1/n) at k = n). No samples (n <= 0) give (0, 1).

    Parameters
    ----------
    k : int
        Successes [-], 0 <= k <= n.
    n : int
        Trials [-].
    confidence : float
        1 - alpha, two-sided coverage [-], in (0, 1).

    Returns
    -------
    (lower, upper) : tuple of float
        Bounds on the success probability [-].

    Raises
    ------
    InputError
        Field ``confidence`` outside (0, 1).

    References
    ----------
    Clopper & Pearson, Biometrika 26 (1934) 404.

    Examples
    --------
    >>> lo, hi = clopper_pearson(0, 299, 0.90)     # the 'rule of three': hi ~ 3/n at 95 % one-sided
    >>> round(hi, 4)                               # 1 - 0.05^(1/299) = 0.009969
    0.01
    >>> lo, hi = clopper_pearson(10, 10)           # 0.025^(1/10) = exp(ln 0.025 / 10)
    >>> round(lo, 6), hi
    (0.691503, 1.0)
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
    """Share of True in ``passes`` (failed samples count as False) with its interval.

    p = k / n with k the passes among n samples, and the interval of
    :func:`clopper_pearson` (p is NaN for no samples).

    Parameters
    ----------
    passes : array_like of bool
        One entry per sample.
    confidence : float
        Two-sided coverage of the interval [-], in (0, 1).

    Returns
    -------
    dict
        ``p``, ``lower``, ``upper`` [-], ``passes`` k, ``samples`` n and ``confidence``.

    References
    ----------
    Clopper & Pearson, Biometrika 26 (1934) 404.

    Examples
    --------
    >>> r = probability([True, True, True, True])
    >>> r["p"], round(r["lower"], 6), r["upper"]    # 4/4; 0.025^(1/4) = exp(ln 0.025 / 4)
    (1.0, 0.397635, 1.0)
    >>> probability([True, False, True, True])["p"]  # 3/4
    0.75
    """
    passes = np.asarray(passes, dtype=bool)
    k, n = int(passes.sum()), int(passes.size)
    lo, hi = clopper_pearson(k, n, confidence)
    return {"p": k / n if n else float("nan"), "lower": lo, "upper": hi, "passes": k, "samples": n,
            "confidence": confidence}


def summary(values: np.ndarray) -> dict:
    """Mean, sd, standard error and percentiles of the finite values.

    .. math:: \\bar x = \\frac{1}{n} \\sum_i x_i, \\qquad
              s = \\sqrt{\\frac{\\sum_i (x_i - \\bar x)^2}{n - 1}}, \\qquad
              se = s / \\sqrt{n},

    over the n finite values (s = 0 for n = 1); percentiles 1, 5, 25, 50,
    75, 95, 99 by linear interpolation between order statistics (numpy's
    default).

    Parameters
    ----------
    values : array_like of float
        Sample values [any unit]; NaN and infinities are dropped.

    Returns
    -------
    dict
        ``n``, and for n > 0 ``mean``, ``sd``, ``se``, ``min``, ``max``, ``p01`` ... ``p99``
        [the values' unit].

    References
    ----------
    Definitions (no outside source).

    Examples
    --------
    >>> r = summary([1.0, 2.0, 3.0, 4.0, float("nan")])
    >>> r["n"], r["mean"], round(r["sd"], 6), round(r["se"], 6)   # sqrt(5/3); sqrt(5/3) / 2
    (4, 2.5, 1.290994, 0.645497)
    >>> r["p25"], r["p50"]                                         # 1 + 0.75 (2 - 1); 2.5
    (1.75, 2.5)
    """
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

    With A, B and AB_i the blocks of the design (:func:`magcycle.analysis.sampling.saltelli_samples`),
    f the model output and V the variance of f over the rows of A and B:

    .. math:: S_i = \\frac{\\frac{1}{n} \\sum_j f(B)_j \\, (f(AB_i)_j - f(A)_j)}{V}, \\qquad
              S_{Ti} = \\frac{\\frac{1}{2n} \\sum_j (f(A)_j - f(AB_i)_j)^2}{V},

    computed by SALib's ``analyze.sobol`` (first order as Saltelli et al.
    2010, total order as Jansen 1999) with bootstrap confidence intervals.
    A constant output has no variance to apportion and gives NaN indices.

    Parameters
    ----------
    Y : array_like of float
        Outputs on the design, n (d + 2) values, all finite.
    d : int
        Number of parameters.
    names : sequence of str, optional
        Parameter names (default x0, x1, ...).
    seed : int
        Seed of the bootstrap.
    confidence : float
        Level of the bootstrap intervals [-].

    Returns
    -------
    dict
        name -> ``S1``, ``S1_conf``, ``ST``, ``ST_conf`` [-].

    Raises
    ------
    InputError
        Field ``sobol``: the wrong number of outputs, or failed (non-finite) samples.

    References
    ----------
    Saltelli et al., Comput. Phys. Commun. 181 (2010) 259; Jansen (1999)
    for the total-order estimator.

    Examples
    --------
    >>> from magcycle.analysis.sampling import saltelli_samples
    >>> u = saltelli_samples(64, 2, seed=0)
    >>> r = sobol_indices(3.0 * u[:, 0], 2, ["a", "b"])   # Y = 3 x_a: b changes nothing
    >>> r["b"]["S1"], r["b"]["ST"]                       # f(AB_b) = f(A) exactly: both sums vanish
    (0.0, 0.0)
    >>> round(r["a"]["S1"], 1), round(r["a"]["ST"], 1)   # all the variance is a's (estimates)
    (1.0, 1.0)
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
