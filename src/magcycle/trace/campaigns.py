"""Campaigns: a set of feed lots run on the plant, the product lots it makes, and their recycled content.

Simulation
    The campaign's blend is its lots' dry assays weighted by the masses
    consumed, w_E = sum_i m_i w_(E,i) / sum_i m_i. The plant runs on it at
    its design rate F [kg/h] to its products' specifications
    (:func:`magcycle.flowsheet.targets.run_to_spec`); over the campaign the
    plant runs t = sum_i m_i / F hours, so each product's mass and element
    masses are the simulated rates times t. Measured masses replace the
    simulated ones where given; the element masses scale with them, and
    simulated minus measured is booked as yield loss or work in progress
    (an ``adjustment`` entry in the ledger after the product lot's).

Recycled content (mass balance, ISO 22095; ISO 14021 classes)
    For each element E and attribute class a (pre- or post-consumer):

        s_(E,a) = sum_(i in a) m_i w_(E,i) / sum_i m_i w_(E,i),

    and a product holding m_E of E carries m_E s_(E,a) of class a: every
    product bears the yield loss in proportion. A segregated campaign must
    consume lots of one class only (so s is 1 or 0). Primary share = 1 - pre
    - post (0: every lot is recycled feed).

DFARS 252.225-7052 from 1 January 2027 (:func:`dfars_eligibility`)
    ``false`` for a mass-balance campaign (mass balance never makes a lot
    eligible), or when any consumed lot has a covered country (CN, KP, RU,
    IR) at a stage mined, refined, separated, melted or produced, or when
    the site itself is in one; else ``unknown`` when any of those stages of
    any lot is unknown; else ``true``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from magcycle.chem.elements import MOLAR_MASS
from magcycle.documents import clip
from magcycle.errors import InputError
from magcycle.trace import db
from magcycle.trace.accounts import insert_moves, plan_moves
from magcycle.trace.countries import DFARS_COVERED, DFARS_STAGES, UNKNOWN
from magcycle.trace.lots import lot, lot_row, remaining_kg
from magcycle.trace.store import as_json, record, site

__all__ = ["run_campaign", "campaign", "campaign_summary", "dfars_eligibility", "content_shares", "product_lot_id", "CLOSURE_TOLERANCE",
           "NOT_TRACED", "MIN_CONTENT_KG"]

#: elements the reagents bring (oxygen of the oxides, chloride, sodium, calcium ...): not attributed to lots
NOT_TRACED = frozenset({"H", "C", "N", "O", "S", "Cl", "Na", "Ca"})
#: least element mass of a product lot that its content lists and its accounts book [kg] (1 mg)
MIN_CONTENT_KG = 1e-6
#: relative excess of a product's element over the campaign's inputs tolerated as round-off
CLOSURE_TOLERANCE = 1e-9


def product_lot_id(campaign_id: str, product: str) -> str:
    """The id of a campaign's product lot: the campaign's id, a dash and the product's name with every run of
    characters other than letters, digits, dot and underscore made one dash (safe in a file name and a URL).

    >>> product_lot_id("C-2026-01", "NdPr oxide"), product_lot_id("C 7", "Tb4O7")
    ('C-2026-01-NdPr-oxide', 'C 7-Tb4O7')
    """
    import re

    return f"{campaign_id}-{re.sub(r'[^A-Za-z0-9._]+', '-', product).strip('-')}"


def dfars_eligibility(lots: list[dict], custody: str, site_country: str = UNKNOWN) -> tuple[bool | str, str]:
    """(true | false | "unknown", basis) of a campaign's products under DFARS 252.225-7052 (module docstring).

    >>> known = {"mined": "AU", "refined": "MY", "separated": "MY", "melted": "JP", "produced": "JP"}
    >>> dfars_eligibility([{"id": "A", "origin": known}], "segregated")[0]
    True
    >>> dfars_eligibility([{"id": "A", "origin": known | {"mined": "CN"}}], "segregated")
    (False, 'lot A was mined in CN, a covered country')
    >>> dfars_eligibility([{"id": "A", "origin": known | {"melted": "unknown"}}], "segregated")[0]
    'unknown'
    >>> dfars_eligibility([{"id": "A", "origin": known}], "mass_balance")[0]
    False
    """
    if custody != "segregated":
        return False, "mass balance never makes a lot eligible: only a segregated campaign traces its material"
    for lo in lots:
        for stage in DFARS_STAGES:
            if lo["origin"][stage] in DFARS_COVERED:
                return False, f"lot {lo['id']} was {stage} in {lo['origin'][stage]}, a covered country"
    if site_country in DFARS_COVERED:
        return False, f"the site separates and refines in {site_country}, a covered country"
    for lo in lots:
        for stage in DFARS_STAGES:
            if lo["origin"][stage] == UNKNOWN:
                return "unknown", f"lot {lo['id']}: the country where it was {stage} is unknown"
    return True, ("segregated campaign; every consumed lot's mined, refined, separated, melted and produced "
                  f"countries are known and none is {', '.join(sorted(DFARS_COVERED))}")


def content_shares(inputs: list[tuple[dict, float]]) -> tuple[dict, dict]:
    """(element kg brought by the lots, {element: {pre, post}} shares) of (lot, consumed kg) pairs (module docstring).

    >>> a = ({"consumer": "pre", "assay_wt_pct": {"Nd": 20.0, "Fe": 80.0}}, 1000.0)
    >>> b = ({"consumer": "post", "assay_wt_pct": {"Nd": 30.0, "Fe": 70.0}}, 500.0)
    >>> kg, s = content_shares([a, b])
    >>> nd = s["Nd"]
    >>> kg["Nd"], nd.get("post")         # 200 + 150; 150 / 350
    (350.0, 0.42857142857142855)
    """
    kg: dict[str, float] = {}
    by_class: dict[str, dict[str, float]] = {"pre": {}, "post": {}}
    for doc, m in inputs:
        for el, w in doc["assay_wt_pct"].items():
            e = m * w / 100.0
            kg[el] = kg.get(el, 0.0) + e
            by_class[doc["consumer"]][el] = by_class[doc["consumer"]].get(el, 0.0) + e
    shares = {el: {c: by_class[c].get(el, 0.0) / total for c in ("pre", "post")} for el, total in kg.items()
              if total > 0}
    return kg, shares


def _check_lots(conn: Connection, cf) -> list[tuple[dict, float]]:
    """The campaign's lots with the masses consumed; unknown, product, late, overdrawn or (segregated) mixed
    lots refused, naming the lot."""
    inputs = []
    for lot_id, m in cf.lots.items():
        field = f"lots.{clip(lot_id)}"
        doc = lot(conn, lot_id, field)
        if doc["kind"] != "feed":
            raise InputError(field, f"{clip(lot_id)} is a product lot; a campaign consumes feed lots")
        if doc["received"] > cf.end.isoformat():
            raise InputError(field, f"received {doc['received']}, after the campaign ends ({cf.end.isoformat()})")
        left = remaining_kg(conn, lot_id)
        if m > left * (1 + 1e-12):
            raise InputError(field, f"consumes {m:.6g} kg, but only {left:.6g} kg of the lot is left "
                                    f"(received {doc['mass_kg']:.6g} kg)")
        inputs.append((doc, m))
    if cf.custody == "segregated":
        first = inputs[0][0]
        for doc, _ in inputs[1:]:
            if doc["consumer"] != first["consumer"]:
                raise InputError(f"lots.{clip(doc['id'])}", f"a {doc['consumer']}-consumer lot in a segregated "
                                 f"campaign of {first['consumer']}-consumer lots (as {clip(first['id'])}); a "
                                 "segregated campaign takes one attribute class, or use custody = 'mass_balance'")
    return inputs


def _plant(cf, base: Path | None):
    from magcycle.flowsheet.simulation import load_plant
    from magcycle.flowsheet.spec import builtin_plants

    name = cf.plant
    if name not in builtin_plants() and base is not None and not Path(name).is_absolute():
        name = str(base / name)
    try:
        return load_plant(name)
    except InputError as exc:
        raise InputError("plant", f"{clip(cf.plant)}: {exc}") from None


def _simulate(spec, cf, kg: dict[str, float]):
    """The plant on the campaign's blend (module docstring): (result, hours the campaign runs)."""
    from magcycle.feed import Feed
    from magcycle.flowsheet.simulation import plant_feed
    from magcycle.flowsheet.targets import run_to_spec

    total = sum(cf.lots.values())
    try:
        rate = plant_feed(spec).kg_per_h
    except InputError:
        rate = 100.0
    composition = {el: 100.0 * e / total for el, e in kg.items() if e > 0}
    result = run_to_spec(spec, Feed(f"campaign {cf.id}", rate, composition))
    return result, total / rate


def _pcf(result) -> dict:
    """kg CO2e per kg of each product, from the TEA's carbon allocation (None where it cannot be priced)."""
    from magcycle.econ.tea import techno_economics

    try:
        return dict(techno_economics(result, extras=False).co2e_kg_per_kg)
    except InputError:
        return {}


def _element_kg(stream, hours: float) -> dict[str, float]:
    return {el: n * MOLAR_MASS[el] / 1000.0 * hours for el, n in stream.elements().items()
            if el in MOLAR_MASS and el not in NOT_TRACED and n > 0}


def _measured(p: dict, measured, sim_kg: float, elements: dict[str, float]) -> tuple[dict, dict]:
    """The product as measured: (overrides of the record, element kg scaled to the measured mass)."""
    if measured is None:
        return {"measured": False}, elements
    if sim_kg <= 0:
        raise InputError(f"measured.{p['name']}", "the plant made none of this product from the campaign's blend; "
                                                  "a measured mass cannot be attributed")
    if measured.mass > sim_kg and measured.difference != "wip":
        raise InputError(f"measured.{p['name']}.mass", f"{measured.mass:.6g} kg is more than the plant makes from the "
                                                      f"campaign's blend ({sim_kg:.6g} kg); only work in progress "
                                                      "released can add to it: give difference = 'wip'")
    f = measured.mass / sim_kg
    out = {"measured": True, "mass_kg": measured.mass,
           "difference": {"booked_as": measured.difference, "kg": sim_kg - measured.mass,
                          "element_kg": {el: e - e * f for el, e in elements.items()}}}
    if measured.purity is not None:
        out["purity"] = measured.purity
    if measured.impurities_ppm is not None:
        out["impurities_ppm"] = dict(measured.impurities_ppm)
    return out, {el: e * f for el, e in elements.items()}


def _conformance(doc: dict) -> tuple[dict, bool]:
    """Each clause of the lot's specification (carried on the lot: ``spec.min_purity``, ``spec.max_ppm``) against
    its purity and impurities: {clause: pass}, and whether all pass."""
    spec = doc["spec"]
    checks = {"purity": doc["purity"] is not None and doc["purity"] >= (spec.get("min_purity") or 0.0)}
    for name, limit in spec.get("max_ppm", {}).items():
        value = doc["impurities_ppm"].get(name)
        checks[name] = value is not None and value <= limit
    return checks, all(checks.values())


def _product_docs(cf, result, hours, kg_in, shares, dfars, pcf, site_doc) -> list[dict]:
    known = {p["name"] for p in result.products}
    for name in cf.measured:
        if name not in known:
            raise InputError(f"measured.{clip(name)}", f"not a product of the plant; its products: {', '.join(known)}")
    from magcycle.flowsheet.products import product_specs

    specs = product_specs()
    docs = []
    for p in result.products:
        sim_kg = p["kg_per_h"] * hours
        if sim_kg <= 0 and p["name"] not in cf.measured:
            continue
        elements = _element_kg(result.streams[result.spec.products[p["name"]]["stream"]], hours)
        over, elements = _measured(p, cf.measured.get(p["name"]), sim_kg, elements)
        doc = {"id": product_lot_id(cf.id, p["name"]), "kind": "product", "product": p["name"], "oxide": p["oxide"],
               "campaign_id": cf.id, "produced": cf.end.isoformat(), "period": cf.end.isoformat()[:7],
               "site": site_doc, "mass_kg": sim_kg, "simulated_mass_kg": sim_kg,
               "spec": {"id": p["spec"], "name": p.get("spec_name"), "min_purity": p.get("min_purity"),
                        "max_ppm": dict(specs.get(p["spec"], {}).get("max_ppm", {}))},
               "purity": p["purity"], "impurities_ppm": dict(p["impurities_ppm"]), "custody_model": cf.custody,
               "dfars_2027_eligible": {"value": dfars[0], "basis": dfars[1]},
               "pcf_kg_co2e_per_kg": pcf.get(p["name"])} | over
        doc["conformance"], doc["meets_spec"] = _conformance(doc)
        doc["element_kg"] = elements
        doc["content"] = {el: {"mass_kg": m, "pre_consumer_share": shares[el]["pre"],
                               "post_consumer_share": shares[el]["post"],
                               "primary_share": max(0.0, 1.0 - shares[el]["pre"] - shares[el]["post"])}
                          for el, m in elements.items() if el in shares and m >= MIN_CONTENT_KG}
        docs.append(doc)
    _check_closure(docs, kg_in)
    return docs


def _check_closure(docs: list[dict], kg_in: dict[str, float]) -> None:
    """No product set holds more of an element than the campaign's lots brought."""
    for el, brought in kg_in.items():
        if el in NOT_TRACED:
            continue
        made = sum(d["element_kg"].get(el, 0.0) for d in docs)
        if made > brought * (1 + CLOSURE_TOLERANCE):
            worst = max(docs, key=lambda d: d["element_kg"].get(el, 0.0))
            raise InputError(f"measured.{worst['product']}.mass", f"the products hold {made:.6g} kg of {el}, more "
                                                                  f"than the campaign's lots brought ({brought:.6g} kg)")
    for d in docs:
        for el, m in d["element_kg"].items():
            if not math.isfinite(m):
                raise InputError(f"measured.{d['product']}", f"{el} mass is not finite")


def _moves(doc: dict, site_id: str) -> list[dict]:
    moves = []
    for el, c in doc["content"].items():
        for attr, share in (("pre_consumer", c["pre_consumer_share"]), ("post_consumer", c["post_consumer_share"])):
            if share > 0:
                moves.append({"element": el, "attribute": attr, "delta_kg": c["mass_kg"] * share})
        if doc["dfars_2027_eligible"]["value"] is True:
            moves.append({"element": el, "attribute": "dfars_eligible", "delta_kg": c["mass_kg"]})
    return [{"site": site_id, "period": doc["period"], "kind": "transformation", "lot_id": doc["id"], **m}
            for m in moves]


def _refuse_existing(conn: Connection, cf) -> None:
    row = conn.execute(select(db.campaigns.c.start).where(db.campaigns.c.id == cf.id)).first()
    if row is not None:
        raise InputError("id", f"campaign {clip(cf.id)} exists already (started {row.start}); a campaign is "
                               "recorded once")


def run_campaign(conn: Connection, cf, actor: str, base: Path | None = None) -> dict:
    """Check, simulate and record a campaign in the caller's transaction; the campaign's record with its
    product lots (module docstring). Bad input raises InputError before anything is written."""
    _refuse_existing(conn, cf)
    inputs = _check_lots(conn, cf)
    spec = _plant(cf, base)
    kg_in, shares = content_shares(inputs)
    result, hours = _simulate(spec, cf, kg_in)
    site_doc = site(conn)
    dfars = dfars_eligibility([d for d, _ in inputs], cf.custody, site_doc["country"])
    docs = _product_docs(cf, result, hours, kg_in, shares, dfars, _pcf(result), site_doc)
    for d in docs:
        if conn.execute(select(db.lots.c.id).where(db.lots.c.id == d["id"])).first() is not None:
            raise InputError("id", f"product lot {clip(d['id'])} exists already; give the campaign another id")
    made = {el: sum(d["element_kg"].get(el, 0.0) for d in docs) for el in kg_in if el not in NOT_TRACED}
    campaign = {"id": cf.id, "plant": cf.plant, "plant_name": spec.name, "start": cf.start.isoformat(),
                "end": cf.end.isoformat(), "custody": cf.custody, "site": site_doc,
                "lots": [{"lot": d["id"], "consumed_kg": m, "consumer": d["consumer"]} for d, m in inputs],
                "feed_kg": sum(m for _, m in inputs), "hours": hours, "closure": result.closure,
                "element_kg": {el: {"in": kg_in[el], "in_products": made[el], "elsewhere": kg_in[el] - made[el]}
                               for el in sorted(made)},
                "dfars_2027_eligible": {"value": dfars[0], "basis": dfars[1]},
                "product_lots": [d["id"] for d in docs]}
    entry = record(conn, {"type": "campaign", "actor": actor, "event_time": campaign["end"], "campaign": campaign})
    conn.execute(insert(db.campaigns).values(id=cf.id, plant=cf.plant, start=campaign["start"], end=campaign["end"],
                                             custody=cf.custody, doc=as_json(campaign), seq=entry["seq"]))
    conn.execute(insert(db.consumptions), [{"campaign_id": cf.id, "lot_id": d["id"], "mass_kg": m}
                                           for d, m in inputs])
    for d in docs:
        moves = plan_moves(conn, _moves(d, site_doc["id"]), field=f"product lot {d['id']}")
        e = record(conn, {"type": "product_lot", "actor": actor, "event_time": d["produced"], "lot": d,
                          "moves": moves})
        conn.execute(insert(db.lots).values(lot_row(d, e["seq"])))
        insert_moves(conn, e["seq"], moves)
        if d.get("measured"):  # the measured mass replaced the simulated one: the difference, booked
            record(conn, {"type": "adjustment", "actor": actor, "event_time": d["produced"], "lot_id": d["id"],
                          "booked_as": d["difference"]["booked_as"], "kg": d["difference"]["kg"],
                          "element_kg": d["difference"]["element_kg"], "simulated_mass_kg": d["simulated_mass_kg"],
                          "measured_mass_kg": d["mass_kg"]})
    return {"campaign": campaign, "product_lots": docs, "result": result}


def campaign(conn: Connection, campaign_id: str) -> dict:
    """The record of a campaign; unknown: InputError."""
    row = conn.execute(select(db.campaigns.c.doc).where(db.campaigns.c.id == campaign_id)).first()
    if row is None:
        raise InputError("campaign", f"unknown campaign {clip(campaign_id)}")
    return json.loads(row.doc)


def campaign_summary(out: dict) -> dict:
    """The document ``trace campaign --json`` prints (and the REST API answers) for :func:`run_campaign`'s record."""
    c = out["campaign"]
    return {"campaign": c["id"], "custody": c["custody"], "dfars_2027_eligible": c["dfars_2027_eligible"],
            "closure": c["closure"], "element_kg": c["element_kg"],
            "product_lots": [{"id": d["id"], "product": d["product"], "net_mass_kg": d["mass_kg"],
                              "meets_spec": d["meets_spec"], "content": d["content"],
                              "pcf_kg_co2e_per_kg": d["pcf_kg_co2e_per_kg"]} for d in out["product_lots"]]}
