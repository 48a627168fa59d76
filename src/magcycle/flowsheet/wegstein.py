"""Tear-stream convergence of a recycle: the per-species test and Wegstein's acceleration.

A recycle is solved by successive substitution on its tear streams,
x <- g(x), where x is the flow of every species in the torn streams
[mol/h] and g the flows the units around the loop return for it. Plain
functions over dicts of species flows, and :class:`TearConvergence`, which
applies them to a set of tear :class:`~magcycle.units.stream.Stream` s:

====================================  =======================================
:func:`species_order`                 the species of two iterates, in a fixed order
:func:`converged`                     the per-species convergence test
:func:`wegstein_q`                    the bounded acceleration factor q(s)
:func:`wegstein_update`               the next iterate x_{k+1}
:class:`TearConvergence`              both, over the tear streams of one recycle
====================================  =======================================

Convergence
    Every species k satisfies

        |g_k - x_k| <= rtol max(|g_k|, |x_k|) + atol_floor T,
        T = max(sum_k g_k, sum_k x_k)

    so a trace species is judged relative to itself down to a floor of
    ``atol_floor`` times the stream's total flow. A species missing from one
    iterate has flow 0 there.

Acceleration
    Per species, with the secant slope s of g through the last two iterates,

        x_{k+1} = q x_k + (1 - q) g(x_k),
        s = (g_k - g_{k-1}) / (x_k - x_{k-1}),  q = s / (s - 1) bounded to [-5, 0],

    and flows clipped at 0. q = 0 is direct substitution (the first step,
    species whose x did not change, and s = 1); for a linear g the
    unbounded q lands on the fixed point in one step. The bound keeps the
    step from running away where g is far from linear.

References
    Wegstein, "Accelerating convergence of iterative processes",
    Commun. ACM 1 (1958) 9, doi 10.1145/368861.255502.
"""

from __future__ import annotations

import math

from typing import Mapping

from magcycle.units.stream import Stream

__all__ = ["RTOL", "STALL_PASSES", "STALL_BELOW", "ATOL_FLOOR", "Q_MIN", "Q_MAX", "species_order", "converged", "wegstein_q", "wegstein_update",
           "TearConvergence"]

#: relative tolerance of the per-species test [-]
RTOL = 1e-12
#: passes without halving the largest change, below STALL_BELOW, before the mean step replaces
#: Wegstein's (TearConvergence.next_guess)
STALL_PASSES = 8
STALL_BELOW = 1e-9
#: absolute floor of the per-species test, per unit of the stream's total flow [-]
ATOL_FLOOR = 1e-15
#: bounds of Wegstein's q [-]
Q_MIN = -5.0
Q_MAX = 0.0


def species_order(x: Mapping[str, float], g: Mapping[str, float]) -> list[str]:
    """The species of ``x`` in their order, then those only in ``g`` (a fixed order: no set).

    >>> species_order({"Nd+3": 1.0, "H2O": 2.0}, {"H2O": 2.0, "Cl-": 3.0})
    ['Nd+3', 'H2O', 'Cl-']
    """
    return list(x) + [k for k in g if k not in x]


def converged(x: Mapping[str, float], g: Mapping[str, float], rtol: float = RTOL, atol_floor: float = ATOL_FLOOR,
              species: list[str] | None = None) -> tuple[bool, float]:
    """Whether every species of a tear stream has converged, and the largest relative change of those that have not.

    .. math:: |g_k - x_k| \\le \\mathrm{rtol}\\,\\max(|g_k|, |x_k|)
              + \\mathrm{atol\\_floor}\\,\\max\\Big(\\sum_k g_k, \\sum_k x_k\\Big)

    Parameters
    ----------
    x, g : mapping of str to float
        Species flows of the iterate and of the loop's answer to it [mol/h];
        a species missing from one has flow 0 there.
    rtol : float
        Relative tolerance [-].
    atol_floor : float
        Absolute tolerance per unit of the stream's total flow [-].
    species : list of str, optional
        The species to test (default :func:`species_order` of x and g).

    Returns
    -------
    (bool, float)
        True when every species passes; the largest |g - x| / max(|g|, |x|)
        among the species that fail [-] (0 when none does).

    References
    ----------
    Module docstring (Convergence).

    Examples
    --------
    >>> converged({"Nd": 1.0}, {"Nd": 1.0 + 1e-13})
    (True, 0.0)
    >>> converged({"Nd": 1.0}, {"Nd": 1.5, "Fe": 0.5})     # Fe is new: x_Fe = 0
    (False, 1.0)
    >>> converged({}, {})
    (True, 0.0)
    """
    if species is None:
        species = species_order(x, g)
    worst, done = 0.0, True
    total = max(sum(g.values()), sum(x.values()))
    for k in species:
        a, b = x.get(k, 0.0), g.get(k, 0.0)
        err = abs(b - a) - rtol * max(abs(a), abs(b)) - atol_floor * total
        if err > 0:
            done = False
            worst = max(worst, abs(b - a) / max(abs(a), abs(b), 1e-300))
    return done, worst


def wegstein_q(s: float) -> float:
    """Wegstein's acceleration factor for a secant slope s, bounded to [Q_MIN, Q_MAX].

    .. math:: q = \\min\\big(0, \\max(-5, s / (s - 1))\\big), \\qquad q = 0 \\text{ at } s = 1

    Parameters
    ----------
    s : float
        Secant slope (g_k - g_{k-1}) / (x_k - x_{k-1}) of the loop [-].

    Returns
    -------
    float
        q [-], in [-5, 0]: 0 is direct substitution (s <= 0 or s = 1), -5
        the longest step allowed (s in [5/6, 1)).

    References
    ----------
    Wegstein, Commun. ACM 1 (1958) 9.

    Examples
    --------
    >>> wegstein_q(0.5)       # 0.5 / (0.5 - 1)
    -1.0
    >>> wegstein_q(0.99), wegstein_q(3.0), wegstein_q(1.0)
    (-5.0, 0.0, 0.0)
    """
    return min(Q_MAX, max(Q_MIN, s / (s - 1.0))) if s != 1.0 else 0.0


def wegstein_update(x: Mapping[str, float], g: Mapping[str, float], x_prev: Mapping[str, float] | None = None,
                    g_prev: Mapping[str, float] | None = None, species: list[str] | None = None) -> dict[str, float]:
    """The next iterate of a tear stream by Wegstein's method, per species, clipped at 0.

    .. math:: x_{k+1} = \\max\\big(0, q x_k + (1 - q) g_k\\big), \\qquad
              q = q\\Big(\\frac{g_k - g_{k-1}}{x_k - x_{k-1}}\\Big)

    with q from :func:`wegstein_q`, and q = 0 (direct substitution) without
    a previous iterate or where x_k = x_{k-1}.

    Parameters
    ----------
    x, g : mapping of str to float
        Species flows of the iterate x_k and of g(x_k) [mol/h].
    x_prev, g_prev : mapping of str to float, optional
        The previous iterate x_{k-1} and g(x_{k-1}) [mol/h]; both or neither.
    species : list of str, optional
        The species to update (default :func:`species_order` of x and g).

    Returns
    -------
    dict of str to float
        x_{k+1} [mol/h], in the order of ``species``.

    References
    ----------
    Wegstein, Commun. ACM 1 (1958) 9.

    Examples
    --------
    g(x) = 0.5 x + 1 has the fixed point 2. From x_0 = 0 (g = 1) and
    x_1 = 1 (g = 1.5): s = 0.5, q = -1, x_2 = -1 + 2 x 1.5 = 2.

    >>> wegstein_update({"Nd": 1.0}, {"Nd": 1.5}, {"Nd": 0.0}, {"Nd": 1.0})
    {'Nd': 2.0}
    >>> wegstein_update({"Nd": 1.0}, {"Nd": 1.5})          # first step: g itself
    {'Nd': 1.5}
    """
    if species is None:
        species = species_order(x, g)
    out = {}
    for k in species:
        xk, gk = x.get(k, 0.0), g.get(k, 0.0)
        q = 0.0
        if x_prev is not None:
            dx = xk - x_prev.get(k, 0.0)
            if dx != 0:
                q = wegstein_q((gk - g_prev.get(k, 0.0)) / dx)
        out[k] = max(0.0, q * xk + (1.0 - q) * gk)
    return out


class TearConvergence:
    """The convergence test and Wegstein's step over the tear streams of one recycle.

    Give it each iterate x and the loop's answer g (tear name -> Stream):
    :meth:`converged` tests every species of every tear (:func:`converged`),
    :meth:`next_guess` returns the next iterate (:func:`wegstein_update`,
    with the secant through the iterate before) and remembers this one.

    Parameters
    ----------
    rtol : float
        Relative tolerance [-].
    atol_floor : float
        Absolute tolerance per unit of a tear's total flow [-].

    Examples
    --------
    >>> tc = TearConvergence()
    >>> x, g = {"r": Stream("aqueous", {"Nd": 0.0})}, {"r": Stream("aqueous", {"Nd": 1.0})}
    >>> tc.converged(x, g), tc.worst
    (False, 1.0)
    >>> dict(tc.next_guess(x, g)["r"].mol_h)
    {'Nd': 1.0}
    """

    __slots__ = ("rtol", "atol_floor", "worst", "_prev", "_best", "_stalled")

    def __init__(self, rtol: float = RTOL, atol_floor: float = ATOL_FLOOR):
        self.rtol = rtol
        self.atol_floor = atol_floor
        #: the largest relative change of a species that failed the last test [-]
        self.worst = 0.0
        self._prev: tuple[Mapping[str, Stream], Mapping[str, Stream]] | None = None
        self._best = math.inf
        self._stalled = 0

    def converged(self, x: Mapping[str, Stream], g: Mapping[str, Stream]) -> bool:
        """Whether every species of every tear passes the test; sets :attr:`worst`."""
        worst, done = 0.0, True
        for t, xs in x.items():
            ok, w = converged(xs.mol_h, g[t].mol_h, self.rtol, self.atol_floor)
            done = done and ok
            worst = max(worst, w)
        self.worst = worst
        if worst < 0.5 * self._best:
            self._best, self._stalled = worst, 0
        else:
            self._stalled += 1
        return done

    def next_guess(self, x: Mapping[str, Stream], g: Mapping[str, Stream]) -> dict[str, Stream]:
        """The next iterate of every tear (phase of g); x and g become the previous iterate.

        Near the round-off floor (the largest change below ``STALL_BELOW`` and not halved for
        ``STALL_PASSES`` passes: a loop whose answer alternates between two values a few ulps
        apart, as an ill-conditioned feed-forward rule can make it) the step is the mean of x
        and g, which settles such a two-cycle, instead of Wegstein's secant."""
        if self._stalled >= STALL_PASSES and self.worst < STALL_BELOW:
            self._prev = (x, g)
            return {t: Stream(g[t].phase, {k: 0.5 * (xs.mol_h.get(k, 0.0) + g[t].mol_h.get(k, 0.0))
                                           for k in species_order(xs.mol_h, g[t].mol_h)}) for t, xs in x.items()}
        prev = self._prev
        new = {}
        for t, xs in x.items():
            gs = g[t]
            px, pg = (prev[0][t].mol_h, prev[1][t].mol_h) if prev is not None else (None, None)
            new[t] = Stream(gs.phase, wegstein_update(xs.mol_h, gs.mol_h, px, pg))
        self._prev = (x, g)
        return new
