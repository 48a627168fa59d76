"""One solvent-extraction cut: a constant-beta cascade designed for its feed.

Configuration
    Inlet ``feed`` (aqueous chloride liquor); outlets ``raffinate`` (the less
    extractable rare earths, with every non-rare-earth solute) and
    ``extract`` (strip liquor of the more extractable rare earths). The cut
    lies below ``heavy_key``: rare earths with a relative extractability
    beta >= beta[heavy_key] form the heavy (extract) side. Extraction and
    scrub sections as in :mod:`magcycle.sx.constant_beta` (saturated
    organic, scrub reflux from the strip liquor). Several units in a
    flowsheet make an SX circuit in any arrangement.

Degrees of freedom
    One target per side: the light side by ``extract_purity`` (heavy-side
    mole fraction of the extract RE) or ``light_recovery`` (fraction of the
    light side reaching the raffinate); the heavy side by
    ``raffinate_purity`` or ``heavy_recovery``. ``reflux_factor`` = S/S_min.
    Optionally fixed ``extraction_stages`` and ``scrub_stages``.

Design (the first run, unless the stages are fixed)
    Pseudo-binary keys: beta_key = beta(heavy key) / beta(light key), f_A the
    heavy-side share of the feed RE. The targets give the light RE in the
    extract x and the heavy RE in the raffinate y (per mol feed RE):

        extract_purity P_A:   P_A x + (1 - P_A) y = (1 - P_A) f_A
        raffinate_purity P_B: (1 - P_B) x + P_B y = (1 - P_B) f_B
        light_recovery r_B:   x = (1 - r_B) f_B
        heavy_recovery r_A:   y = (1 - r_A) f_A

    hence the product split and the design purities; S_min and W_min from
    Underwood/Xu (:func:`magcycle.sx.design.minimum_extractant`), S =
    reflux_factor S_min, W = S - P, and Xu's stage numbers
    (:func:`magcycle.sx.design.xu_stage_estimates`), rounded up. The design
    is then checked with the exact multicomponent cascade
    (:func:`magcycle.sx.solve`); a section whose target is missed gets
    more stages (+25 %, at least 2) until both targets hold. Where Xu's
    estimate exceeds ``max_stages`` (its constant-ratio premise fails as a
    section's ratio nears its limit), the start is each section's
    total-reflux minimum, lg b / lg beta and lg a / lg beta, instead. Rare earths
    below ``TRACE_FLOOR`` (1e-30) of the feed RE skip the cascade and follow
    their side of the cut whole (their flows would otherwise fall into the
    subnormal range of doubles and lose their relative precision). A target
    that no cascade of up to ``max_stages`` meets is an input error naming
    the unit.

Solving
    The cut's cascades are requested, not solved, in ``_run_steps`` (a step
    generator, :meth:`magcycle.units.base.UnitOperation.run_steps`): ``run``
    solves each alone, a lockstep Monte Carlo solves a chunk's together.

Operation of the built cut (later runs: recycle iterations, other feeds)
    The stage counts stay as designed. With ``flow_control = "feed_forward"``
    (default) the organic and scrub flows are set for each feed by the
    design rule above (S = reflux_factor S_min(f_A), W = S - P(f_A)), as an
    operator resets them for a new feed blend; where the targets cannot be
    met by any flow for that feed, the design ratios are held. With
    ``"ratio"`` the flows keep their design ratios to the RE fed.

Chemistry and reagents (per mol/h of RE to the extract, P)
    Extraction releases 3 P cations to the raffinate: Na+ for the
    saponified share (NaOH + HA -> NaA + H2O), H+ for the rest. The strip
    liquor holds P RE with 3 P Cl- and ``strip_free_acid`` mol/L of free HCl
    at ``strip_re_mol_per_L``; the scrub acid (Q_scrub [H+]) ends in the
    raffinate. A fraction ``entrainment`` of every non-rare-earth solute of
    the feed and of its water is carried into the strip liquor, with the
    feed's anions (chloride, sulfate) in proportion to their equivalents.
    Organic RE flow S = Q_org * organic_loading, W = Q_scrub scrub_acid / 3
    (cascade-spec.md).

Defaults ([C] unless stated): P507 relative extractabilities from the
    separation factors of reference-data section 3b (mid-range: Ce/La 4,
    Pr/Ce 1.8, Nd/Pr 1.5, Sm/Nd 8, Eu/Sm 2.15, Gd/Eu 1.45, Tb/Gd 4.7, Dy/Tb
    2.25, Ho/Dy 2.0, Y/Ho 1.55); loading 0.17 mol/L (working loading 0.15-0.2
    of 1.5 M P507); saponification 0.35 (30-40 %); scrub acid 3 mol/L.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from magcycle.chem.elements import RARE_EARTHS, check_element
from magcycle.chem.formula import charge as z_of
from magcycle.errors import InputError
from magcycle.units.base import UnitOperation, UnitResult, choice, number, optional, power_law_cost
from magcycle.units.leach import water_per_mol_solute
from magcycle.units.stream import WATER_L_PER_MOL, Stream


def _ladder() -> dict[str, float]:
    steps = [("La", 1.0), ("Ce", 4.0), ("Pr", 1.8), ("Nd", 1.5), ("Sm", 8.0), ("Eu", 2.15), ("Gd", 1.45),
             ("Tb", 4.7), ("Dy", 2.25), ("Ho", 2.0), ("Y", 1.55)]
    out, v = {}, 1.0
    for el, f in steps:
        v *= f
        out[el] = v
    return out


#: rare earths below this share of the feed RE bypass the cascade on their side of the cut
TRACE_FLOOR = 1e-30

#: (element, its aqueous ion) of every rare earth
_RE_IONS = tuple((el, f"{el}+3") for el in RARE_EARTHS)
_RE_ION_SET = frozenset(ion for _, ion in _RE_IONS)


@lru_cache(maxsize=1024)
def _entrained_charge(species: str) -> int | None:
    """Charge (>= 0) of a solute the entrained liquor carries in proportion (a cation or a
    neutral solute, not a rare earth, H+ or water); None for everything else (anions follow
    the charge)."""
    if species in ("Cl-", "H+", "H2O") or species in _RE_ION_SET:
        return None
    z = z_of(species)
    return None if z < 0 else z


@lru_cache(maxsize=1024)
def _anion_charge(species: str) -> int:
    """-z of an anion, 0 for anything else."""
    return max(-z_of(species), 0)

#: relative extractability of each rare earth by P507 in HCl [-] (see module notes)
P507_BETA = _ladder()


def _beta_table(v, field):
    if not isinstance(v, dict):
        raise InputError(field, "expected a table of element = relative extractability")
    out = {}
    for el, x in v.items():
        sym = check_element(el, f"{field}.{el}")
        out[sym] = number(0.0, lo_open=True)(x, f"{field}.{el}")
    return out


def _fraction_open(v, field):
    return number(0.0, 1.0, lo_open=True, hi_open=True)(v, field)


def _stages(v, field):
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        raise InputError(field, f"expected a whole number of stages >= 1, got {v!r}")
    return v


def cut_split(f_A, *, extract_purity=None, raffinate_purity=None, light_recovery=None,
              heavy_recovery=None):
    """Light RE in the extract (x) and heavy RE in the raffinate (y), per mol feed RE.

    Solves the two linear target equations of the module docstring.

    >>> x, y = cut_split(0.75, extract_purity=0.995, raffinate_purity=0.995)
    >>> round(0.75 - y + x, 6)   # product split P, reference-data V1 Nd/Pr: 0.752525
    0.752525
    """
    f_B = 1.0 - f_A
    rows, rhs = [], []
    if extract_purity is not None:
        rows.append((extract_purity, 1.0 - extract_purity)); rhs.append((1.0 - extract_purity) * f_A)
    else:
        rows.append((1.0, 0.0)); rhs.append((1.0 - light_recovery) * f_B)
    if raffinate_purity is not None:
        rows.append((1.0 - raffinate_purity, raffinate_purity)); rhs.append((1.0 - raffinate_purity) * f_B)
    else:
        rows.append((0.0, 1.0)); rhs.append((1.0 - heavy_recovery) * f_A)
    (a, b), (c, d) = rows
    det = a * d - b * c
    x = (rhs[0] * d - b * rhs[1]) / det
    y = (a * rhs[1] - c * rhs[0]) / det
    return x, y


class SXCascade(UnitOperation):
    type_name = "sx_cascade"
    inlets = ("feed",)
    outlets = ("raffinate", "extract")
    params = {
        "heavy_key": (None, lambda v, f: check_element(v, f)),
        "beta": ({}, _beta_table),
        "extract_purity": (None, optional(_fraction_open)),
        "raffinate_purity": (None, optional(_fraction_open)),
        "light_recovery": (None, optional(_fraction_open)),
        "heavy_recovery": (None, optional(_fraction_open)),
        "reflux_factor": (1.3, number(1.0, 10.0, lo_open=True)),
        "flow_control": ("feed_forward", choice("feed_forward", "ratio")),
        "extraction_stages": (None, optional(_stages)),
        "scrub_stages": (None, optional(_stages)),
        "max_stages": (400, _stages),
        "organic_loading": (0.17, number(0.0, 1.0, lo_open=True)),
        "scrub_acid": (3.0, number(0.0, 12.0, lo_open=True)),
        "saponification": (0.35, number(0.0, 1.0, hi_open=True)),
        "strip_re_mol_per_L": (0.5, number(0.0, 3.0, lo_open=True)),
        "strip_free_acid": (0.1, number(0.0, 6.0)),
        "entrainment": (1e-4, number(0.0, 0.1)),
        "mixer_residence_min": (3.0, number(0.1, 60.0)),
        "settler_m3_per_m2_h": (3.0, number(0.1, 50.0)),
    }

    def _validate(self):
        n = self.name
        if self.p["heavy_key"] is None:
            raise InputError(f"units.{n}.heavy_key", "required: the lightest element of the extract side")
        if (self.p["extract_purity"] is None) == (self.p["light_recovery"] is None):
            raise InputError(f"units.{n}.extract_purity", "give exactly one of extract_purity and light_recovery")
        if (self.p["raffinate_purity"] is None) == (self.p["heavy_recovery"] is None):
            raise InputError(f"units.{n}.raffinate_purity",
                             "give exactly one of raffinate_purity and heavy_recovery")
        if (self.p["extraction_stages"] is None) != (self.p["scrub_stages"] is None):
            raise InputError(f"units.{n}.scrub_stages", "fix both extraction_stages and scrub_stages, or neither")
        self.beta = P507_BETA | self.p["beta"]
        if self.p["heavy_key"] not in self.beta:
            raise InputError(f"units.{n}.heavy_key", f"no separation factor for {self.p['heavy_key']}")

    # ------------------------------------------------------------- helpers
    def _sides(self, re_flow):
        key = tuple(re_flow)
        cache = self.__dict__.setdefault("_sides_cache", {})
        if key not in cache:
            cache[key] = self._split_sides(re_flow)
        comps, light, heavy = cache[key]
        return list(comps), list(light), list(heavy)

    def _split_sides(self, re_flow):
        hk = self.beta[self.p["heavy_key"]]
        comps = [el for el in sorted(re_flow, key=lambda e: self.beta.get(e, 0.0)) if re_flow[el] > 0]
        for el in comps:
            if el not in self.beta:
                raise InputError(f"units.{self.name}.beta.{el}", "no separation factor for a rare earth in the feed")
        heavy = [el for el in comps if self.beta[el] >= hk]
        light = [el for el in comps if self.beta[el] < hk]
        return comps, light, heavy

    def _targets_met(self, ext, raf, light, heavy, feed):
        p = self.p
        tol = 1e-9
        e_tot, r_tot = sum(ext.values()), sum(raf.values())
        ok_light = ok_heavy = True
        if p["extract_purity"] is not None:
            ok_light = sum(ext[e] for e in heavy) >= (p["extract_purity"] - tol) * e_tot
        else:
            ok_light = sum(raf[e] for e in light) >= (p["light_recovery"] - tol) * sum(feed[e] for e in light)
        if p["raffinate_purity"] is not None:
            ok_heavy = sum(raf[e] for e in light) >= (p["raffinate_purity"] - tol) * r_tot
        else:
            ok_heavy = sum(ext[e] for e in heavy) >= (p["heavy_recovery"] - tol) * sum(feed[e] for e in heavy)
        return ok_light, ok_heavy

    def _flows(self, f_A, light, heavy):
        """(S, W, beta_key, PA, PB) per mol of feed RE for a feed with heavy share f_A."""
        from magcycle.sx.design import _underwood_minimum

        p = self.p
        beta_key = self.beta[heavy[0]] / self.beta[light[-1]]
        x, y = cut_split(f_A, extract_purity=p["extract_purity"], raffinate_purity=p["raffinate_purity"],
                         light_recovery=p["light_recovery"], heavy_recovery=p["heavy_recovery"])
        P = f_A - y + x
        f_B = 1.0 - f_A
        if not 0.0 < P < 1.0 or x < 0 or y < 0:
            raise InputError(f"units.{self.name}", "the targets contradict each other for this feed "
                                                   f"(extract share {P:.4g})")
        PA, PB = (f_A - y) / P, (f_B - x) / (1.0 - P)
        # design purities must exceed the feed's own (a looser target is met by any cascade)
        PA = max(PA, f_A + 0.5 * f_B)
        PB = max(PB, f_B + 0.5 * f_A)
        PA, PB = min(PA, 1.0 - 1e-12), min(PB, 1.0 - 1e-12)
        if not (0.0 < f_A < PA and 0.0 < f_B < PB):  # what minimum_extractant would refuse
            raise InputError(f"units.{self.name}", f"no separation to design: the feed is {f_A:.6g} heavy side")
        # Underwood's minimum flows (magcycle.sx.design.minimum_extractant, whose checks hold
        # now: beta_key > 1, and f < P <= 1 - 1e-12 on both sides)
        S_min, W_min = _underwood_minimum(beta_key, f_A, f_B, PA, PB)
        P = S_min - W_min  # W_min = S_min - P, P the product split at PA, PB
        S = p["reflux_factor"] * S_min
        return S, S - P, beta_key, PA, PB

    def _feed_forward(self, f_A, light, heavy, S, W):
        """(S, W) of the design rule for this feed; the design ratios (S, W) where no flows meet
        the targets for it."""
        try:
            return self._flows(f_A, light, heavy)[:2]
        except InputError:
            return S, W

    def _initial_design(self, f_A, light, heavy):
        from magcycle.sx.design import xu_stage_estimates

        p = self.p
        S, W, beta_key, PA, PB = self._flows(f_A, light, heavy)
        if p["extraction_stages"] is not None:
            return p["extraction_stages"], p["scrub_stages"], S, W
        try:
            n, m = xu_stage_estimates(beta_key, f_A, PA, PB, S, W)
            n, m = int(math.ceil(float(n))), int(math.ceil(float(m)))
        except InputError:
            from magcycle.sx.design import fenske_min_stages
            nmin = float(fenske_min_stages(beta_key, f_A, PA, PB))
            n = m = int(math.ceil(nmin))
        else:
            if n + m > p["max_stages"]:
                # Xu's constant-ratio estimate breaks down where a section's ratio nears its
                # limit (E'_M -> beta), e.g. a feed all but free of the light side: hundreds of
                # stages for a cut that a few dozen make. Start from each section's total-reflux
                # minimum instead (lg b / lg beta below the feed, lg a / lg beta above it); the
                # exact cascade then adds stages until the targets hold, as for any start.
                from magcycle.sx.design import _log_enrichment

                ln_a, ln_b = _log_enrichment(f_A, 1.0 - f_A, PA, PB)
                n = int(math.ceil(float(ln_b) / math.log(beta_key)))
                m = int(math.ceil(float(ln_a) / math.log(beta_key)))
        return max(n, 1), max(m, 1), S, W

    def _spec(self, comps, re_flow, Q_feed, n, m, S, W, state=None):
        """The cut's cascade. The spec of the last solve in ``state`` is reused with new flows
        and feed when it has the same components, stages and chemistry and every new value
        is valid (the loader's rules), which skips the parse; otherwise the document is parsed."""
        from magcycle.sx import CascadeSpec

        F = sum(re_flow[e] for e in comps)
        p = self.p
        organic, scrub = S * F / p["organic_loading"], 3.0 * W * F / p["scrub_acid"]
        key = (tuple(comps), n, m, tuple(self.beta[e] for e in comps), p["organic_loading"], p["scrub_acid"])
        last = state.get("result") if state is not None else None
        previous = last.spec if last is not None and state.get("spec_key") == key else None
        if state is not None:
            state["spec_key"] = key
        if previous is not None:
            try:
                return previous.with_flows(organic=organic, feed_flow=Q_feed, scrub=scrub,
                                           feed=[re_flow[e] / Q_feed for e in comps])
            except InputError:
                pass  # the document below names the field
        return CascadeSpec.from_dict({
            "cascade": {"model": "constant_beta", "extraction_stages": n, "scrub_stages": m},
            "flows": {"feed": Q_feed, "organic": organic, "scrub": scrub},
            "feed": {e: re_flow[e] / Q_feed for e in comps},
            "model": {"beta": {e: self.beta[e] for e in comps}, "organic_loading": p["organic_loading"],
                      "scrub_acid": p["scrub_acid"]},
        }, source=f"units.{self.name}")

    def _solve_steps(self, comps, light, heavy, re_flow, Q_feed, state):
        """The cut's cascade, designed on the first run; each solve is yielded as (spec, warm
        start) and answered by whoever drives the steps (:mod:`magcycle.sx.lockstep`)."""
        F = sum(re_flow[e] for e in comps)
        f_A = sum(re_flow[e] for e in heavy) / F
        frozen = state.get("design")
        if frozen is not None:
            # built equipment: the stages stay; the flows follow the feed
            n, m, S, W = frozen["n"], frozen["m"], frozen["S"], frozen["W"]
            if self.p["flow_control"] == "feed_forward":
                S, W = self._feed_forward(f_A, light, heavy, S, W)
            spec = self._spec(comps, re_flow, Q_feed, n, m, S, W, state)
            last = state.get("result")
            if last is not None and _same_cascade(last.spec, spec):
                # the same cascade to the last bit (a recycle pass that did
                # not change this cut's feed): the same solution
                return last, spec, n, m, S, W, 0
            res = yield (spec, last)
            return res, spec, n, m, S, W, 0
        n, m, S, W = self._initial_design(f_A, light, heavy)
        fixed = self.p["extraction_stages"] is not None
        warm = None
        for rounds in range(60):
            if n + m > self.p["max_stages"]:
                raise InputError(f"units.{self.name}",
                                 f"no cascade of up to {self.p['max_stages']} stages meets the targets "
                                 f"at reflux_factor {self.p['reflux_factor']} (cut below {self.p['heavy_key']}; "
                                 f"the design needs about {n + m})")
            spec = self._spec(comps, re_flow, Q_feed, n, m, S, W)
            res = yield (spec, warm)
            warm = res
            ext = dict(zip(comps, res.outlets["extract"].mol_per_h))
            raf = dict(zip(comps, res.outlets["raffinate"].mol_per_h))
            ok_light, ok_heavy = self._targets_met(ext, raf, light, heavy, re_flow)
            if (ok_light and ok_heavy) or fixed:
                break
            if not ok_light:
                m += max(2, m // 4)
            if not ok_heavy:
                n += max(2, n // 4)
        state["design"] = {"components": comps, "n": n, "m": m, "S": S, "W": W}
        return res, spec, n, m, S, W, rounds

    # ------------------------------------------------------------------ run
    def _run(self, inlets, state):
        from magcycle.sx.lockstep import drive

        return drive(self._run_steps(inlets, state))

    def _run_steps(self, inlets, state):
        feed = inlets["feed"]
        mol = feed.mol_h  # no zero flows
        all_re = {el: mol[ion] for el, ion in _RE_IONS if ion in mol}
        total_re = sum(all_re.values())
        # rare earths below TRACE_FLOOR of the feed's RE do not enter the
        # cascade (their flows would reach the subnormal range of doubles);
        # they follow their side of the cut whole, which conserves them exactly
        re_flow = {el: v for el, v in all_re.items() if v > TRACE_FLOOR * total_re}
        trace = {el: v for el, v in all_re.items() if el not in re_flow}
        comps, light, heavy = self._sides(re_flow) if re_flow else ([], [], [])
        raf = {k: v for k, v in feed.mol_h.items()}
        ext: dict[str, float] = {}
        reagents: dict[str, float] = {}
        info: dict = {"bypassed": True, "components": comps}
        if light and heavy:
            Q_feed = feed.volume_L_h
            res, spec, n, m, S, W, rounds = yield from self._solve_steps(comps, light, heavy, re_flow, Q_feed,
                                                                         state)
            state["result"] = res
            ext_re = dict(zip(comps, res.outlets["extract"].mol_per_h.tolist()))
            raf_re = dict(zip(comps, res.outlets["raffinate"].mol_per_h.tolist()))
            info = {"bypassed": False, "components": comps, "extraction_stages": n, "scrub_stages": m,
                    "S_per_F": S, "W_per_F": W, "design_rounds": rounds, "iterations": res.iterations,
                    "cascade_closure": res.closure,
                    "organic_L_per_h": spec.organic, "scrub_L_per_h": spec.scrub, "feed_L_per_h": Q_feed,
                    "profile": _profile(res)}
        elif heavy:  # nothing lighter than the key: everything is extract
            ext_re, raf_re = dict(re_flow), {e: 0.0 for e in comps}
        else:
            ext_re, raf_re = {e: 0.0 for e in comps}, dict(re_flow)
        hk = self.beta[self.p["heavy_key"]]
        for el, v in trace.items():
            heavy_side = self.beta.get(el, 0.0) >= hk
            ext_re[el], raf_re[el] = (v, 0.0) if heavy_side else (0.0, v)
        comps_all = comps + sorted(trace)
        P = sum(ext_re.values())
        for el in comps_all:
            raf[f"{el}+3"] = raf_re[el]
        if P > 0:
            p = self.p
            sap = p["saponification"]
            # cations released to the raffinate by extraction
            if sap > 0:
                naoh = 3.0 * P * sap
                reagents["NaOH"] = naoh
                reagents["H2O"] = naoh * water_per_mol_solute("NaOH", 50.0)
                raf["Na+"] = raf.get("Na+", 0.0) + naoh
                raf["H2O"] = raf.get("H2O", 0.0) + reagents["H2O"] + naoh  # NaOH + HA -> NaA + H2O
            raf["H+"] = raf.get("H+", 0.0) + 3.0 * P * (1.0 - sap)
            # scrub acid passes to the raffinate
            if info.get("scrub_L_per_h"):
                hs = info["scrub_L_per_h"] * p["scrub_acid"]
                reagents["HCl"] = reagents.get("HCl", 0.0) + hs
                water = info["scrub_L_per_h"] / WATER_L_PER_MOL
                reagents["H2O"] = reagents.get("H2O", 0.0) + water
                raf["H+"] += hs
                raf["Cl-"] = raf.get("Cl-", 0.0) + hs
                raf["H2O"] = raf.get("H2O", 0.0) + water
            # strip liquor
            V = P / p["strip_re_mol_per_L"]
            free = p["strip_free_acid"] * V
            hcl = 3.0 * P + free
            reagents["HCl"] = reagents.get("HCl", 0.0) + hcl
            w_strip = V / WATER_L_PER_MOL
            reagents["H2O"] = reagents.get("H2O", 0.0) + w_strip
            ext = {f"{el}+3": ext_re[el] for el in comps_all if ext_re[el] > 0}
            ext["Cl-"] = hcl
            ext["H+"] = free
            ext["H2O"] = w_strip
            # entrainment of the feed's non-RE solutes (with chloride) and water
            eps = p["entrainment"]
            if eps > 0:
                charge = 0.0
                for sp in mol:
                    z = _entrained_charge(sp)
                    if z is None:
                        continue
                    take = eps * raf.get(sp, 0.0)
                    if take > 0:
                        raf[sp] -= take
                        ext[sp] = ext.get(sp, 0.0) + take
                        charge += z * take
                if charge > 0:
                    # the entrained liquor carries the feed's anions (Cl-, SO4-2, ...)
                    # in proportion to their equivalents in the raffinate
                    anions = {sp: n for sp, n in raf.items() if n > 0 and _anion_charge(sp)}
                    eq = sum(_anion_charge(sp) * n for sp, n in anions.items())
                    if charge > eq:
                        raise InputError(f"units.{self.name}.feed", "the liquor has too few anions for its cations")
                    for sp, n in anions.items():
                        take = n * charge / eq
                        raf[sp] = n - take
                        ext[sp] = ext.get(sp, 0.0) + take
                wtake = eps * raf.get("H2O", 0.0)
                raf["H2O"] -= wtake
                ext["H2O"] += wtake
        info["extract_re_mol_per_h"] = P
        return UnitResult(outlets={"raffinate": Stream("aqueous", raf), "extract": Stream("aqueous", ext)},
                          reagents=reagents, info=info)

    def design(self, result):
        i = result.info
        if i.get("bypassed"):
            return {"stages": 0, "stage_volume_m3": 0.0, "settler_area_m2": 0.0}
        stages = i["extraction_stages"] + i["scrub_stages"]
        q = (i["feed_L_per_h"] + i["organic_L_per_h"] + i["scrub_L_per_h"]) / 1000.0  # m3/h through a stage
        mixer = q * self.p["mixer_residence_min"] / 60.0
        area = q / self.p["settler_m3_per_m2_h"]
        return {"stages": stages, "stage_volume_m3": mixer + area * 0.5, "settler_area_m2": area,
                "organic_inventory_m3": stages * (mixer + area * 0.5) * 0.5}

    def cost(self, design):
        if not design["stages"]:
            return {"purchase_usd": 0.0, "basis": "bypassed", "year": 2024}
        return power_law_cost(design["stage_volume_m3"], 1.0, 40_000.0, 0.6,
                              "[C] mixer-settler stage of 1 m3 (PP/FRP) USD 40k, six-tenths rule, per stage",
                              count=design["stages"])


def _same_cascade(a, b) -> bool:
    """True when two cascade specs are equal value for value (same chemistry object)."""
    return (a.params is b.params and a.components == b.components
            and a.extraction_stages == b.extraction_stages and a.scrub_stages == b.scrub_stages
            and a.strip_stages == b.strip_stages and a.organic == b.organic
            and a.feed_flow == b.feed_flow and a.scrub == b.scrub and a.strip == b.strip
            and np.array_equal(a.feed, b.feed))



def _profile(result):
    """A function returning the cascade's stage concentrations as lists (built only when a
    report asks: a recycle pass reads only the outlets)."""
    def profile() -> dict:
        return {"aqueous_mol_per_L": np.asarray(result.aqueous).tolist(),
                "organic_mol_per_L": np.asarray(result.organic).tolist()}
    return profile
