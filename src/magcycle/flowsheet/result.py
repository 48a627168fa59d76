"""PlantResult: streams, products, reagents and closure of one plant solve."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from magcycle.chem.formula import formula_mass
from magcycle.feed import Feed
from magcycle.flowsheet.products import evaluate_product
from magcycle.flowsheet.spec import FlowsheetSpec
from magcycle.units.stream import Stream

__all__ = ["PlantResult"]


@dataclass
class PlantResult:
    spec: FlowsheetSpec
    feed: Feed
    streams: dict[str, Stream]
    units: dict[str, Any]  # name -> UnitResult
    closure_by_element: dict[str, float]
    closure: float
    recycle_iterations: int
    tear_streams: list[str]
    seconds: float
    state: dict = field(repr=False, default_factory=dict)
    #: cut targets derived from the product specs for this feed, {cut: {param: (typed, derived)}}
    #: (:func:`magcycle.flowsheet.targets.run_to_spec`); empty when the typed targets were kept
    derived_targets: dict = field(default_factory=dict)

    def __post_init__(self):
        feed_mol = self.feed.element_mol_h()
        self.products = [
            evaluate_product(name, self.streams[p["stream"]], p["elements"], p["spec"], feed_mol,
                             self.spec.hours_per_year)
            for name, p in self.spec.products.items()
        ]
        for p in self.products:
            if p["checks"].get("purity") is False:
                self._limiting(p)

    def _limiting(self, p: dict) -> None:
        """Name, for a product below its purity, the limiting rare earth and the cuts meant to remove it
        (:mod:`magcycle.flowsheet.diagnosis`); the reason on the purity's failure says both."""
        from magcycle.flowsheet.diagnosis import cuts_meant_to_remove, limiting_element

        element = limiting_element(p["composition_treo"], p["basis"])
        if element is None:
            return
        cuts = cuts_meant_to_remove(self, self.spec.products[p["name"]]["stream"], element, p["basis"])
        p["limiting"] = {"element": element, "cuts": cuts}
        where = (f"{element} is to be removed by the SX cut {' and '.join(cuts)}" if cuts else
                 f"no SX cut upstream separates {element} from {'+'.join(p['basis'])}")
        p["failures"] = [f"{f}; {where}" if f.startswith("purity ") else f for f in p["failures"]]

    @property
    def reagents_mol_h(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for r in self.units.values():
            for k, v in r.reagents.items():
                out[k] = out.get(k, 0.0) + v
        return out

    @property
    def all_products_meet_spec(self) -> bool:
        return all(p["meets_spec"] is not False for p in self.products)

    @property
    def discharge(self) -> dict[str, dict]:
        """The treated water of each effluent-treatment unit against its discharge limits:
        {unit: {element or 'pH': {value or mg_per_L, limit, pass}}}."""
        return {name: r.info["discharge"] for name, r in self.units.items() if "discharge" in r.info}

    @property
    def discharge_failures(self) -> list[str]:
        """One line per discharge limit the treated water exceeds (unit, element, value and limit)."""
        out = []
        for unit, checks in self.discharge.items():
            for key, c in checks.items():
                if c["pass"] is not False:
                    continue
                if key == "pH":
                    out.append(f"{unit}: treated water pH {c['value']:.2f} outside {c['limit'][0]:g}-{c['limit'][1]:g}")
                else:
                    out.append(f"{unit}: treated water {key} {c['mg_per_L']:.4g} mg/L above the limit "
                               f"{c['limit']:g} mg/L")
        return out

    @property
    def warnings(self) -> list[str]:
        """What the run warns about: SX cuts whose raffinate is more acidic than their model holds
        for (``units.sx_cascade``, ``info["acidity"]``)."""
        return [r.info["acidity"]["warning"] for r in self.units.values()
                if isinstance(r.info.get("acidity"), dict) and "warning" in r.info["acidity"]]

    @property
    def meets_requirements(self) -> bool:
        """Every product meets its specification and every treated water its discharge limits."""
        return self.all_products_meet_spec and not self.discharge_failures

    def stream_rows(self) -> list[dict]:
        rows = []
        for c in self.spec.connections:
            s = self.streams[c.name]
            rows.append({
                "name": c.name,
                "from": "feed" if c.src[0] == "feed" else f"{c.src[0]}.{c.src[1]}",
                "to": c.dst[0] if not c.dst[1] else f"{c.dst[0]}.{c.dst[1]}",
                "phase": s.phase, "kg_per_h": s.kg_h(), "L_per_h": s.volume_L_h,
                "mol_per_h": dict(s.mol_h),
            })
        return rows

    def stream_table(self):
        """Stream table as a pandas DataFrame: one row per stream, kg/h of each species."""
        import pandas as pd

        rows = []
        for r in self.stream_rows():
            row = {k: r[k] for k in ("name", "from", "to", "phase", "kg_per_h", "L_per_h")}
            for sp, n in r["mol_per_h"].items():
                row[f"{sp} [kg/h]"] = n * formula_mass(sp) / 1000.0
            rows.append(row)
        return pd.DataFrame(rows).set_index("name").fillna(0.0)

    def to_dict(self) -> dict:
        hours = self.spec.hours_per_year
        reagents = {k: {"mol_per_h": v, "kg_per_h": v * formula_mass(k) / 1000.0,
                        "t_per_y": v * formula_mass(k) / 1e6 * hours}
                    for k, v in sorted(self.reagents_mol_h.items())}
        units = {}
        for name, r in self.units.items():
            info = {k: v() if callable(v) else v for k, v in r.info.items() if k != "profile"}
            units[name] = {"type": self.spec.units[name].type_name, "closure": r.closure, "design": r.design,
                           "cost": r.cost, "info": info, "utilities": dict(r.utilities)}
        sx = {name: r.info["profile"]() | {"components": r.info["components"]}
              for name, r in self.units.items() if r.info.get("profile")}
        return {
            "plant": self.spec.name,
            "closure": self.closure,
            "closure_by_element": dict(sorted(self.closure_by_element.items())),
            "products": self.products,
            "all_products_meet_spec": self.all_products_meet_spec,
            "discharge": self.discharge,
            "discharge_failures": self.discharge_failures,
            "warnings": self.warnings,
            "derived_targets": {cut: {k: {"typed": t, "derived": v} for k, (t, v) in keys.items()}
                                for cut, keys in self.derived_targets.items()},
            "feed": self.feed.to_dict() | {"t_per_y": self.feed.kg_per_h * hours / 1000.0},
            "hours_per_year": hours,
            "streams": self.stream_rows(),
            "reagents": reagents,
            "units": units,
            "sx_profiles": sx,
            "recycle": {"tear_streams": self.tear_streams, "iterations": self.recycle_iterations},
            "solve_seconds": self.seconds,
        }
