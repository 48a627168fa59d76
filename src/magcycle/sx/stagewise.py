"""Nonlinear cascades with stage efficiency, entrainment, a loaded organic and any ion charge.

One reduced solver for constant_beta, mass_action and empirical_ph when a specification
uses what their own solvers do not take: a Murphree efficiency below 1, entrainment, a
loaded organic inlet, ions of charge other than 3 (constant_beta, mass_action), and, for
constant_beta, scrub-section separation factors and a strip section.

Configuration
    Extraction stages 1..n, scrub n+1..n+m, strip n+m+1..N. The organic (possibly loaded)
    enters stage 1, the feed stage n, the scrub stage n+m, the strip stage N. constant_beta
    returns a reflux into stage n+m: the fraction W/S of the organic leaving the scrub
    without strip stages (Xu's model), of the strip liquor with them (the part of the
    product solution a plant sends back as scrub).

Degrees of freedom
    None beyond the specification.

Equations (component i, stage k; a aqueous leaving down, o leaving up [mol/h])
    Balance      a_{k+1} + o_{k-1} + s_k = a_k + o_k
    Murphree     o_k = (1 - E) o_{k-1} + E e_k a_k,  e_k = (D_k + phi') Q_o / Q_down,k
    (phi' = phi / (1 - phi) L of aqueous entrained per L of organic, only with E = 1; the
    organic proper carries D_k Q_o a_k / Q_down,k of it). Each model sets D on a stage from p
    stage unknowns theta_k and closes them with p equations:

    constant_beta (p = 1, theta = ln lambda, on extraction and scrub stages)
        D_k,i Q_o / Q_down = beta_i lambda_k (beta_scrub in the scrub), constant D_strip
        in the strip; the organic in equilibrium with the aqueous is saturated, in
        charge:  ln sum_i z_i beta_i lambda_k a_k,i - ln(3 S) = 0.
    mass_action (p = 2, theta = (ln z, ln h), z the free dimer)
        M^z+ + z (HA)2 = M(HA2)z + z H+:  D_i = K_i (z_k / h_k)^z_i;
        extractant  1 - (2 z_k + 2 sum_i z_i y_k,i) / C_HA = 0;
        charge      1 - (h_k + sum_i z_i x_k,i + [M+]_k) / [Cl-]_k = 0.
    empirical_ph (p = 2, theta = (ln h, ln f))
        log10 D = (m0 + m1 d) pH + B0 + B1 log10 d (:mod:`magcycle.sx.empirical_ph`);
        extractant  ln E_tot - ln(f_k + nu sum_i z_i y_k,i) = 0;
        protons     ln(in_k) - ln(out_k) = 0, in = Q_down,k+1 T_k+1 + phi' Q_o T_k-1 + s^H_k
                    + released, out = (Q_down,k + phi' Q_o) T_k + taken back.

    Chloride, the counter-ion and sulfate are not extracted: without entrainment each
    section holds its inflows' concentration; with it they are carried up one stage with the
    entrained aqueous and follow from the same linear recursions with D = 0.

    For given theta every component's balances are linear and are solved exactly by the
    subtraction-free recursions of :mod:`magcycle.sx.linear` (a reflux enters them as the
    top boundary sigma_L = 1 / (1 - q), tau_L = q / (1 - q)). The p N closures are solved by
    pseudo-transient Newton with a difference Jacobian (all perturbations in one batched
    recursion), started from the solution of the same cascade without the extensions
    (its own model's solver), then, where that start is too far, by continuation from it
    in E, phi, the inlet load, the charges and the scrub separation factors.

    A result is accepted only when every closure holds to 1e-12 and every stage balance
    and Murphree relation to 1e-12 of its stage's flows, and the element closure holds.

Reference
    Murphree, Ind. Eng. Chem. 17 (1925) 747; Kremser, Natl. Petrol. News 22 (1930) 42;
    Xu Guangxian, theory of countercurrent extraction (the reflux).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from magcycle.errors import ConvergenceError, InputError, MassBalanceError
from magcycle.sx.linear import run_flows, run_recursions
from magcycle.sx.result import CascadeResult, Outlet, checked_closure

__all__ = ["needs_stagewise", "solve_stagewise", "cascade_flows", "stage_residual", "BetaStages", "MassActionStages",
           "EmpiricalStages", "STAGEWISE_TOL"]

#: closures and stage balances are accepted within this (that of every nonlinear solve)
STAGEWISE_TOL = 1e-12
_EPS = 1e-7  # difference step of the Jacobian in the log unknowns


def needs_stagewise(spec) -> bool:
    """Whether a constant_beta, mass_action or empirical_ph spec uses what only this solver takes."""
    if spec.model == "constant_d":
        return False
    if spec.murphree < 1.0 or spec.entrainment > 0.0:
        return True
    if spec.model == "empirical_ph":
        return False
    p = spec.params
    if spec.organic_inlet is not None or any(z != 3.0 for z in p.charge.tolist()):
        return True
    # plain lists: this runs before every solve of these models
    return spec.model == "constant_beta" and (spec.strip_stages > 0 or (p.beta_scrub is not p.beta
                                                                        and p.beta_scrub.tolist() != p.beta.tolist()))


def _downflows(spec, phi: float) -> np.ndarray:
    """Aqueous leaving each stage down [L/h]: the section's, less the entrained aqueous (phi' [L/L] of
    the organic) on stage 1."""
    Q = spec.aqueous_flows()
    Q[0] -= phi * spec.organic
    return Q


def cascade_flows(le, E, n: int, m: int, k: int, feed, l_inlet, reflux=None):
    """ln a, ln o (C, N) [ln mol/h] of a cascade for given extraction factors.

    le : (C, N) ln e; E : (N,) Murphree efficiencies; feed (C,) [mol/h] into stage n;
    l_inlet (C,) ln of the metal on the entering organic; ``reflux``: None, or
    (ln(W/S), ln(P/S)[, t]) of constant_beta (P = S - W): the fraction W/S of the organic
    leaving the scrub (k = 0) or of the strip liquor (k > 0) returns into stage n + m. With
    strip stages the strip liquor is the share T = tau'_0 / sigma'_0 of the organic entering
    the strip, so q = (W/S) T and 1 - q = P/S + (W/S)(1 - T): every term positive. A
    continuation takes T^t (t = 0: a total strip, Xu's reflux).

    >>> import numpy as np     # one stage, e = 1, nothing else: the feed splits half and half
    >>> lna, lno = cascade_flows(np.zeros((1, 1)), np.ones(1), 1, 0, 0, np.ones(1), np.full(1, -np.inf))
    >>> [round(float(np.exp(v)), 12) for v in (lna[0, 0], lno[0, 0])]
    [0.5, 0.5]
    """
    Ne = n + m
    top = None
    if reflux is not None:
        lq, lp = reflux[:2]
        lq = np.full(le.shape[0], lq)
        l1q = np.full(le.shape[0], lp)
        if k:
            with np.errstate(divide="ignore"):
                _, _, ls2, lt2 = run_recursions(le[:, Ne:], np.log(E[Ne:]), np.log1p(-E[Ne:]))
            power = reflux[2] if len(reflux) > 2 else 1.0  # a continuation's T^t (t = 0: total stripping)
            lT = power * (lt2[:, 0] - ls2[:, 0])
            with np.errstate(divide="ignore"):
                l1q = np.logaddexp(lp, reflux[0] + np.log(-np.expm1(lT)))  # 1 - q = P/S + (W/S)(1 - T^t)
            lq = lq + lT
        top = (-l1q, lq - l1q)
    lna1, lno1 = run_flows(le[:, :Ne], E[:Ne], {n: feed}, l_inlet, top=top)
    if not k:
        return lna1, lno1
    lna2, lno2 = run_flows(le[:, Ne:], E[Ne:], {}, lno1[:, -1])
    return np.concatenate((lna1, lna2), axis=1), np.concatenate((lno1, lno2), axis=1)


def _inert(spec, sources, Qd, phi: float):
    """Concentration (N,) [mol/L] of a solute that is not extracted, from its sources (N,) [mol/h]:
    each section's inflow concentration, carried one stage up by entrainment where there is any
    (phi' [L/L]; then the linear recursions with e = phi' Q_o / Q_down)."""
    n, m, k = spec.extraction_stages, spec.scrub_stages, spec.strip_stages
    N, Ne = n + m + k, n + m
    if not phi:
        c = np.empty(N)
        c[:Ne] = np.cumsum(sources[:Ne][::-1])[::-1] / spec.aqueous_flows()[:Ne]
        if k:
            c[Ne:] = np.cumsum(sources[Ne:][::-1])[::-1] / spec.aqueous_flows()[Ne:]
        return c
    le = (math.log(phi * spec.organic) - np.log(Qd))[None]
    E = np.ones(N)
    barren = np.full(1, -np.inf)
    out = np.zeros(N)
    with np.errstate(divide="ignore"):
        for j in np.nonzero(sources)[0]:
            src = {(j + 1 if j < Ne else j + 1 - Ne): np.array([sources[j]])}
            if j < Ne:
                lna1, lno1 = run_flows(le[:, :Ne], E[:Ne], src, barren)
                out[:Ne] += np.exp(lna1[0])
                if k:
                    out[Ne:] += np.exp(run_flows(le[:, Ne:], E[Ne:], {}, lno1[:, -1])[0][0])
            else:
                out[Ne:] += np.exp(run_flows(le[:, Ne:], E[Ne:], src, barren)[0][0])
    return out / Qd


# ---------------------------------------------------------------------------- models


class _Stages:
    """What every model shares: geometry, flows, efficiencies, the inlet."""

    p = 2
    holdup = -1.0
    reflux = None

    def __init__(self, spec, t: float = 1.0):
        self.spec, self.t = spec, t
        self.C = len(spec.components)
        self.n, self.m, self.k = spec.extraction_stages, spec.scrub_stages, spec.strip_stages
        self.N, self.Ne = self.n + self.m + self.k, self.n + self.m
        self.Qo = spec.organic
        self.phi = t * spec.entrained_L_per_L
        self.Qd = _downflows(spec, self.phi)
        self.E = np.full(self.N, 1.0 - t * (1.0 - spec.murphree))
        # the plain cascade of constant_beta and mass_action is barren; empirical_ph's keeps its inlet
        load = 1.0 if spec.model == "empirical_ph" else t
        inlet = np.zeros(self.C) if spec.organic_inlet is None else load * spec.organic * spec.organic_inlet
        self.inlet = inlet
        with np.errstate(divide="ignore"):
            self.l_inlet = np.log(inlet)
        self.feed = spec.feed_flow * spec.feed
        self.lQ = np.log(self.Qo) - np.log(self.Qd)

    @property
    def unknowns(self) -> int:
        return self.p * self.N

    def upflow_factor(self, lnD):
        """ln e (C, N): (D + phi') Q_o / Q_down from ln D."""
        if not self.phi:
            return lnD + self.lQ
        return np.logaddexp(lnD, math.log(self.phi)) + self.lQ

    def flows(self, le):
        return cascade_flows(le, self.E, self.n, self.m, self.k, self.feed, self.l_inlet, self.reflux)

    def evaluate(self, v):
        lnD = self.log_D(v)
        le = self.upflow_factor(lnD)
        lna, lno = self.flows(le)
        return self.closures(v, lnD, lna, lno), (lnD, le, lna, lno)

    def organic_proper(self, lnD, lna):
        """Metal on the organic itself (C, N) [mol/h]: D Q_o a / Q_down (without the entrained aqueous)."""
        if not self.phi:
            return None
        return np.exp(lnD + self.lQ + lna)


class BetaStages(_Stages):
    """constant_beta: theta = ln lambda on the extraction and scrub stages."""

    p = 1
    holdup = 1.0

    def __init__(self, spec, t: float = 1.0):
        super().__init__(spec, t)
        p = spec.params
        self.z = 3.0 + t * (p.charge - 3.0)
        lb = np.log(p.beta)
        self.lb = np.repeat(lb[:, None], self.Ne, axis=1)
        self.lb[:, self.n:] = (1.0 - t) * lb[:, None] + t * np.log(p.beta_scrub)[:, None]
        self.S = spec.organic * p.organic_loading
        W = spec.scrub * p.scrub_acid / 3.0
        self.reflux = (math.log(W) - math.log(self.S), math.log(self.S - W) - math.log(self.S), t)
        self.lz = np.log(self.z)

    @property
    def unknowns(self) -> int:
        return self.Ne

    @property
    def upper(self):
        return np.full(self.Ne, np.inf)

    def log_D(self, g):
        """ln of the distribution per stage: on extraction and scrub stages in this model's flow basis,
        ln(beta lambda) = ln(D Q_o / Q_down); on strip stages ln D_strip (upflow_factor adds Q_o / Q_down)."""
        out = np.empty((self.C, self.N))
        out[:, :self.Ne] = self.lb + g[None]
        if self.k:
            out[:, self.Ne:] = np.log(self.spec.params.D_strip)[:, None]
        return out

    def upflow_factor(self, lnD):
        le = lnD.copy()
        if self.k:
            le[:, self.Ne:] += self.lQ[None, self.Ne:]
        if self.phi:
            le[:, :self.Ne] = np.logaddexp(le[:, :self.Ne], math.log(self.phi) + self.lQ[None, :self.Ne])
            le[:, self.Ne:] = np.logaddexp(le[:, self.Ne:], math.log(self.phi) + self.lQ[None, self.Ne:])
        return le

    def organic_proper(self, lnD, lna):
        if not self.phi:
            return None
        lo = lnD + lna
        lo[:, self.Ne:] += self.lQ[None, self.Ne:]
        return np.exp(lo)

    def closures(self, g, lnD, lna, lno):
        lo = self.lz[:, None] + lnD[:, :self.Ne] + lna[:, :self.Ne]
        return np.logaddexp.reduce(lo, axis=0) - math.log(3.0 * self.S)

    def start(self, plain):
        """ln lambda from a solved cascade without the extensions (its aqueous flows)."""
        if plain is not None:
            la = np.log(plain.aqueous * plain.spec.aqueous_flows()[:, None])[:self.Ne].T
            return math.log(self.S) - np.logaddexp.reduce(np.log(self.spec.params.beta)[:, None] + la, axis=0)
        L = np.full(self.Ne, self.spec.scrub * self.spec.params.scrub_acid / 3.0)
        L[:self.n] += self.feed.sum()
        lz = np.log(self.feed) - math.log(self.feed.sum())
        return math.log(self.S) - np.log(L) - np.logaddexp.reduce(np.log(self.spec.params.beta) + lz)


class MassActionStages(_Stages):
    """mass_action: theta = (ln z, ln h) on every stage."""

    def __init__(self, spec, t: float = 1.0):
        super().__init__(spec, t)
        p = spec.params
        self.z = 3.0 + t * (p.charge - 3.0)
        self.lK = np.log(10.0) * p.log10_K
        self.CHA = p.extractant
        n, Ne, N = self.n, self.Ne, self.N
        cl = np.zeros(N)
        cl[n - 1] = spec.feed_flow * (float(self.z @ spec.feed) + p.feed_acid)
        cl[Ne - 1] += spec.scrub * p.scrub_acid
        if self.k:
            cl[N - 1] = spec.strip * p.strip_acid
        self.Cl = _inert(spec, cl, self.Qd, self.phi)
        cat = np.zeros(N)
        cat[0] = p.saponification * p.extractant * spec.organic
        self.cation = _inert(spec, cat, self.Qd, self.phi)
        self.upper = np.concatenate((np.full(N, math.log(self.CHA / 2.0)), np.log(np.maximum(self.Cl, 1e-300))))

    def log_D(self, v):
        N = self.N
        return self.lK[:, None] + self.z[:, None] * (v[:N] - v[N:])[None]

    def closures(self, v, lnD, lna, lno):
        N = self.N
        zf, h = np.exp(v[:N]), np.exp(v[N:])
        org = self.organic_proper(lnD, lna)
        y = (np.exp(lno) if org is None else org) / self.Qo  # the organic leaving (not y* = D x when E < 1)
        x = np.exp(lna - np.log(self.Qd)[None])
        R1 = 1.0 - (2.0 * zf + 2.0 * (self.z @ y)) / self.CHA
        R2 = 1.0 - (h + self.z @ x + self.cation) / self.Cl
        return np.concatenate((R1, R2))

    def start(self, plain):
        if plain is not None:
            return np.concatenate((np.log(plain.extra["free_extractant_mol_per_L"]), -np.log(10.0) * plain.pH))
        h = np.maximum(self.Cl - self.cation, 1e-3 * self.Cl)
        return np.concatenate((np.full(self.N, math.log(self.CHA / 2.0)), np.log(h)))


class EmpiricalStages(_Stages):
    """empirical_ph: theta = (ln h, ln f) on every stage."""

    def __init__(self, spec, t: float = 1.0):
        from magcycle.sx.empirical_ph import EmpiricalPhCascade

        super().__init__(spec, t)
        base = EmpiricalPhCascade(spec)
        self.base = base
        p = spec.params
        self.z, self.nu = base.z, base.nu
        self.Etot = p.extractant_mol_per_L + self.nu * float(self.z @ self.inlet) / self.Qo
        n, Ne, N = self.n, self.Ne, self.N
        sul = np.zeros(N)
        sul[n - 1] = spec.feed_flow * p.feed_sulfate
        sul[Ne - 1] += spec.scrub * p.scrub_sulfate
        if self.k:
            sul[N - 1] = spec.strip * p.strip_sulfate
        self.S = _inert(spec, sul, self.Qd, self.phi)
        self.sH = base.sH
        self.connected = np.ones(N, dtype=bool)
        self.connected[-1] = False
        if self.k:
            self.connected[Ne - 1] = False
        self.upper = base.upper.copy()
        self.upper[:N] = np.log(np.exp(base.upper[:N]) * base.Qa / self.Qd)

    def log_D(self, v):
        N = self.N
        le, _, _ = self.base.log_e(v[:N], v[N:])
        return le - self.base.lQ[None]

    def acidity(self, lh):
        h = np.exp(lh)
        return h + self.S * h / (h + self.base.Ka2)

    def closures(self, v, lnD, lna, lno):
        N = self.N
        org = self.organic_proper(lnD, lna)
        o = np.exp(lno) if org is None else org
        zo = self.z @ o
        zprev = np.empty(N)
        zprev[0] = float(self.z @ self.inlet)
        zprev[1:] = zo[:-1]
        T = self.acidity(v[:N])
        Qd, ent = self.Qd, self.phi * self.Qo
        inflow = self.sH.copy()
        inflow[:-1] += np.where(self.connected[:-1], Qd[1:] * T[1:], 0.0)
        inflow[1:] += ent * T[:-1]
        rel = zo - zprev
        inflow += np.maximum(rel, 0.0)
        outflow = (Qd + ent) * T + np.maximum(-rel, 0.0)
        RP = np.log(inflow) - np.log(outflow)
        RE = math.log(self.Etot) - np.log(np.exp(v[N:]) + self.nu / self.Qo * zo)
        return np.concatenate((RP, RE))

    def start(self, plain):
        if plain is not None:
            return np.concatenate((-np.log(10.0) * plain.pH, np.log(plain.extra["free_extractant_mol_per_L"])))
        return self.base.initial()


_MODELS = {"constant_beta": BetaStages, "mass_action": MassActionStages, "empirical_ph": EmpiricalStages}


# ---------------------------------------------------------------------------- the solve


def _jacobian(model, v, R):
    """Forward-difference dR/dv (P, P): every perturbed column at once, stacked on the component
    axis of one recursion."""
    P = v.size
    V = v[None] + _EPS * np.eye(P)
    lnD = np.stack([model.log_D(x) for x in V])  # (P, C, N)
    le = np.stack([model.upflow_factor(d) for d in lnD])
    C, N = model.C, model.N
    flat = le.reshape(P * C, N)
    feed = np.tile(model.feed, P)
    l_in = np.tile(model.l_inlet, P)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        lna, lno = cascade_flows(flat, model.E, model.n, model.m, model.k, feed, l_in, model.reflux)
        lna, lno = lna.reshape(P, C, N), lno.reshape(P, C, N)
        cols = np.stack([model.closures(V[j], lnD[j], lna[j], lno[j]) for j in range(P)], axis=1)
    return (cols - R[:, None]) / _EPS


def _newton(model, v0, max_iter=80):
    from magcycle.sx.multipliers import _dense_ptc

    def evaluate(x):
        R, state = model.evaluate(x)
        return R, (x.copy(), R, state)

    v, st, norm, its, _ = _dense_ptc(evaluate, lambda st: _jacobian(model, st[0], st[1]), v0,
                                     holdup=model.holdup, tol=0.1 * STAGEWISE_TOL, max_iter=max_iter, dt0=10.0,
                                     max_step=1.0, growth_limit=10.0, upper=model.upper)
    ok = bool(np.isfinite(norm) and norm <= STAGEWISE_TOL)
    return (v if ok else None), its


def _march(spec, cls, v, total, steps=40):
    """Warm solves along t from 0 (the cascade without the extensions, solved: v) to 1.
    Returns (v at t = 1 or None, iterations, the last t reached, v there)."""
    at, step = 0.0, 1.0
    for _ in range(steps):
        target = min(1.0, at + step)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            u, its = _newton(cls(spec, target), v, max_iter=40)
        total += its
        if u is None:
            step *= 0.25
            continue
        at, v = target, u
        if at >= 1.0:
            return v, total, at, v
        step *= 2.0
    return None, total, at, v


def _failure(spec, model, at, v) -> str:
    """Why the solve failed: how far the continuation got, and where a stage's pH ran away."""
    msg = (f"{spec.model} cascade with stage efficiency, entrainment, a loaded organic or other charges did not "
           f"converge: the continuation from the cascade without them reached {at:.3g} of the way")
    if spec.model == "constant_beta":
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            _, (_, _, lna, _) = model.evaluate(v)
        share = float(np.sum(model.spec.params.charge @ np.exp(lna[:, 0])) / (model.spec.params.charge @ model.feed))
        return (f"{msg}, where the raffinate carries {share:.3g} of the feed and falling: the saturated organic takes "
                "all the feed brings (probably no steady state; less organic or loading, more scrub, or strip more)")
    N = model.N
    pH = -(v[N:] if spec.model == "mass_action" else v[:N]) / math.log(10.0)
    kk = int(np.argmax(pH))
    section = "extraction" if kk < model.n else ("scrub" if kk < model.Ne else "strip")
    return (f"{msg}, where stage {kk + 1} ({section}) is at pH {pH[kk]:.3g} and rising: its acid cannot balance "
            "what the stage takes in (probably no steady state; more acid, less saponification or a lighter load)")


def _plain(spec):
    """The same cascade without the extensions, solved by its model's own solver (the error if it is
    not a valid cascade or does not solve)."""
    from magcycle.sx.solver import solve

    p = spec.params
    params = p
    if spec.model != "empirical_ph":
        params = dataclasses.replace(p, charge=np.full(len(spec.components), 3.0))
        if spec.model == "constant_beta":
            params = dataclasses.replace(params, beta_scrub=p.beta, D_strip=None)
    from magcycle.sx.spec import check_cascade

    plain = dataclasses.replace(spec, murphree=1.0, entrainment=0.0, params=params,
                                organic_inlet=None if spec.model != "empirical_ph" else spec.organic_inlet,
                                strip_stages=0 if spec.model == "constant_beta" else spec.strip_stages,
                                strip=0.0 if spec.model == "constant_beta" else spec.strip)
    try:
        check_cascade(plain)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return solve(plain)
    except (ConvergenceError, MassBalanceError, InputError) as exc:
        return exc


def _warm(spec, warm_start, size):
    st = getattr(warm_start, "extra", {}).get("stagewise_unknowns") if warm_start is not None else None
    if st is None or warm_start.model != spec.model or warm_start.components != spec.components or st.shape != (size,):
        return None
    return st


def _converge(spec, warm_start):
    cls = _MODELS[spec.model]
    model = cls(spec)
    total = 0
    v_warm = _warm(spec, warm_start, model.unknowns)
    if v_warm is not None:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            v, its = _newton(model, v_warm)
        total += its
        if v is not None:
            return model, v, total
    plain = _plain(spec)
    failed = plain if isinstance(plain, Exception) else None
    plain = None if failed else plain
    v0 = model.start(plain)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        v, its = _newton(model, v0)
    total += its
    if v is not None:
        return model, v, total
    v, total, at, last = _march(spec, cls, cls(spec, 0.0).start(plain), total)
    if v is None:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            R, _ = model.evaluate(last)
        if failed is not None:
            raise ConvergenceError(f"{spec.model} cascade with stage efficiency, entrainment, a loaded organic or other "
                                   f"charges did not converge, nor did the same cascade without them ({failed})",
                                   float(np.max(np.abs(R))), total)
        raise ConvergenceError(_failure(spec, model, at, last), float(np.max(np.abs(R))), total)
    return model, v, total


def stage_residual(model, v, lna, lno) -> float:
    """Largest residual of the stage balances and Murphree relations, relative to the stage's flows."""
    a, o = np.exp(lna), np.exp(lno)
    Ne, n = model.Ne, model.n
    prev = np.concatenate((model.inlet[:, None], o[:, :-1]), axis=1)
    down = np.zeros_like(a)
    down[:, :-1] = a[:, 1:]
    if model.k:
        down[:, Ne - 1] = 0.0
    if model.reflux is not None:
        top = math.exp(model.reflux[0]) * (a[:, Ne] if model.k else o[:, Ne - 1])
        down[:, Ne - 1] = top
    r = down + prev - a - o
    r[:, n - 1] += model.feed
    le = model.upflow_factor(model.log_D(v))
    murphree = o - (1.0 - model.E) * prev - model.E * np.exp(le) * a
    scale = np.maximum(a + o, np.finfo(float).tiny / np.finfo(float).eps)
    return float(max(np.max(np.abs(r) / scale), np.max(np.abs(murphree) / scale)))


def solve_stagewise(spec, warm_start=None) -> CascadeResult:
    """Steady state of a cascade with the extensions (:func:`magcycle.sx.solve` dispatches here)."""
    model, v, iterations = _converge(spec, warm_start)
    R, (lnD, le, lna, lno) = model.evaluate(v)
    resid = max(float(np.max(np.abs(R))), stage_residual(model, v, lna, lno))
    if not resid <= STAGEWISE_TOL:
        raise ConvergenceError(f"{spec.model} cascade: stage residual {resid:.3g} above {STAGEWISE_TOL:g}", resid,
                               iterations)
    a, o = np.exp(lna), np.exp(lno)
    Ne, k = model.Ne, model.k
    outlets = {"raffinate": Outlet(float(model.Qd[0]), a[:, 0])}
    up = spec.organic * (1.0 + spec.entrained_L_per_L)
    if model.reflux is not None:
        share = math.exp(model.reflux[1])  # P / S: what is not returned as reflux
        if k:
            outlets["extract"] = Outlet(spec.strip * share, a[:, Ne] * share)
            outlets["stripped_organic"] = Outlet(up, o[:, -1])
        else:
            outlets["extract"] = Outlet(up * share, o[:, Ne - 1] * share)
    elif k:
        outlets["extract"] = Outlet(spec.strip, a[:, Ne])
        outlets["stripped_organic"] = Outlet(up, o[:, -1])
    else:
        outlets["extract"] = Outlet(up, o[:, Ne - 1])
    closure = checked_closure(spec, outlets)
    x = (a / model.Qd[None]).T
    org = model.organic_proper(lnD, lna)
    y = (o if org is None else org).T / spec.organic
    extra = {"stagewise_unknowns": v}
    pH = None
    if spec.model == "mass_action":
        pH = -v[model.N:] / math.log(10.0)
        extra["free_extractant_mol_per_L"] = np.exp(v[:model.N])
    elif spec.model == "empirical_ph":
        pH = -v[:model.N] / math.log(10.0)
        f = np.exp(v[model.N:])
        extra.update(free_extractant_mol_per_L=f, free_extractant_vol_pct=f * model.base.vol_pct_per_mol)
    else:
        extra["multipliers"] = np.exp(v)
    return CascadeResult(spec=spec, converged=True, iterations=int(iterations), closure=closure, outlets=outlets,
                         profile=(x, y, resid), pH=pH, extra=extra)
