"""The results workbook of a plant run (``results.xlsx``), from the results document.

Sheets (openpyxl), every number taken from results.json as it stands:

* **Products**: each product's rate, purity on its spec's basis, the spec's
  minimum, whether it meets it, and its recoveries;
* **Spec checks**: every element of each product against its limit;
* **Streams kg per h** and **Streams mol per h**: one row per stream of the
  flowsheet and per SX stream inside a cut (loaded organic, scrub solution,
  strip acid), one column per species;
* **Reagents**: each reagent in kg/h, t/y, kg per t of feed and kg per t of
  oxide products;
* **SX cuts**: one row per cut: stages by section, flows, targets (asked and
  reached), and the design's reasons: Underwood's minimum flows, the
  Fenske and Xu estimates, the exact minimum and the solves it took.
"""

from __future__ import annotations

import io

from magcycle.chem.formula import formula_mass

__all__ = ["SHEETS", "stream_rows", "reagent_rows", "cut_rows", "results_workbook"]

SHEETS = ("Products", "Spec checks", "Streams kg per h", "Streams mol per h", "Reagents", "SX cuts")


def stream_rows(doc: dict) -> list[dict]:
    """The flowsheet's streams and the SX streams inside each cut: name, from, to, phase, L/h and
    species flows [mol/h]."""
    rows = [{"name": s["name"], "from": s["from"], "to": s["to"], "phase": s["phase"], "L_per_h": s["L_per_h"],
             "mol_per_h": s["mol_per_h"]} for s in doc["streams"]]
    for cut, u in doc["units"].items():
        for kind, s in (u["info"].get("sx_streams") or {}).items():
            rows.append({"name": f"{cut} {kind}", "from": f"{cut} ({kind})", "to": cut, "phase": s["phase"],
                         "L_per_h": s["L_per_h"], "mol_per_h": s["mol_per_h"]})
    return rows


def reagent_rows(doc: dict) -> list[dict]:
    """Each reagent: kg/h, t/y, kg per t of dry feed and kg per t of oxide products.

    kg/t feed = 1000 m_r / m_feed, kg/t oxide = 1000 m_r / sum of the products' kg/h.
    """
    feed_kg_h = doc["feed"]["kg_per_h"]
    oxide_kg_h = sum(p["kg_per_h"] for p in doc["products"])
    return [{"reagent": k, "kg_per_h": v["kg_per_h"], "t_per_y": v["t_per_y"],
             "kg_per_t_feed": 1000.0 * v["kg_per_h"] / feed_kg_h if feed_kg_h > 0 else None,
             "kg_per_t_oxide": 1000.0 * v["kg_per_h"] / oxide_kg_h if oxide_kg_h > 0 else None}
            for k, v in doc["reagents"].items()]


def cut_rows(doc: dict) -> list[dict]:
    """One row per SX cut: stages, flows, targets and the design's reasons (a bypassed cut: stages 0)."""
    rows = []
    for name, u in doc["units"].items():
        if u["type"] != "sx_cascade":
            continue
        i = u["info"]
        why = i.get("design_reasons") or {}
        targets = i.get("targets") or {}
        rows.append({"cut": name, "heavy_key": why.get("heavy_key"), "bypassed": bool(i.get("bypassed")),
                     "extraction_stages": i.get("extraction_stages", 0), "scrub_stages": i.get("scrub_stages", 0),
                     "feed_L_per_h": i.get("feed_L_per_h"), "organic_L_per_h": i.get("organic_L_per_h"),
                     "scrub_L_per_h": i.get("scrub_L_per_h"),
                     "targets": "; ".join(f"{k} {t['minimum']:.6g} (reached {t['achieved']:.6g})"
                                          for k, t in targets.items()),
                     **{k: why.get(k) for k in ("beta_key", "design_extract_purity", "design_raffinate_purity",
                                                "underwood_S_min_per_F", "underwood_W_min_per_F", "reflux_factor",
                                                "S_per_F", "W_per_F", "fenske_min_stages", "xu_extraction_stages",
                                                "xu_scrub_stages", "search_start", "exact_minimum_stages",
                                                "design_solves")}})
    return rows


def _sheet(wb, title: str, header: list, rows: list) -> None:
    sh = wb.create_sheet(title)
    sh.append(header)
    for r in rows:
        sh.append(r)


def _stream_sheets(wb, doc: dict) -> None:
    rows = stream_rows(doc)
    species = sorted({sp for r in rows for sp in r["mol_per_h"]})
    head = ["name", "from", "to", "phase", "L/h"]
    _sheet(wb, "Streams kg per h", head + ["total [kg/h]"] + [f"{sp} [kg/h]" for sp in species],
           [[r["name"], r["from"], r["to"], r["phase"], r["L_per_h"],
             sum(n * formula_mass(sp) / 1000.0 for sp, n in r["mol_per_h"].items())]
            + [r["mol_per_h"].get(sp, 0.0) * formula_mass(sp) / 1000.0 for sp in species] for r in rows])
    _sheet(wb, "Streams mol per h", head + [f"{sp} [mol/h]" for sp in species],
           [[r["name"], r["from"], r["to"], r["phase"], r["L_per_h"]] + [r["mol_per_h"].get(sp, 0.0) for sp in species]
            for r in rows])


def results_workbook(doc: dict) -> bytes:
    """``results.xlsx`` of a results document (module docstring), as bytes."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    _sheet(wb, "Products", ["product", "oxide", "spec", "kg/h", "t/y", "purity", "min purity", "meets spec",
                            "recovery"],
           [[p["name"], p["oxide"], p["spec"], p["kg_per_h"], p["t_per_y"], p["purity"], p["min_purity"],
             {True: "pass", False: "FAIL", None: "not produced"}[p["meets_spec"]],
             "; ".join(f"{el} {v:.6g}" for el, v in p["recovery"].items() if v is not None)] for p in doc["products"]])
    _sheet(wb, "Spec checks", ["product", "element", "as", "ppm", "limit ppm", "verdict"],
           [[p["name"], el, v.get("as"), v.get("ppm"), v.get("max_ppm"), v.get("verdict")]
            for p in doc["products"] for el, v in sorted((p.get("elements") or {}).items())])
    _stream_sheets(wb, doc)
    _sheet(wb, "Reagents", ["reagent", "kg/h", "t/y", "kg per t feed", "kg per t oxide"],
           [[r["reagent"], r["kg_per_h"], r["t_per_y"], r["kg_per_t_feed"], r["kg_per_t_oxide"]]
            for r in reagent_rows(doc)])
    cuts = cut_rows(doc)
    keys = list(cuts[0]) if cuts else ["cut"]
    _sheet(wb, "SX cuts", keys, [[r[k] for k in keys] for r in cuts])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
