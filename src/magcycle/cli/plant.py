"""``magcycle run``, ``magcycle feed`` and ``magcycle tea``: a plant on a feed, the feed catalogue, the economics.

Every input is read and checked before any solve: the plant file, the
feed and its rate, the output folder; a failure is one line, and nothing
is written. The output files are then published as one set.
"""

from __future__ import annotations

import sys

from magcycle.cli.common import EXIT_OFF_SPEC, EXIT_OK, PROG, check_out, dumps, guard, one_line, publish, table

__all__ = ["RUN_FILES", "TEA_FILES", "cmd_run", "cmd_feed_list", "cmd_feed_show", "cmd_tea", "plant_and_feed",
           "off_spec_lines"]

RUN_FILES = ("results.json", "report.html", "results.xlsx", "streams.csv")
TEA_FILES = ("tea.json", "tea.html", "tea.xlsx")


def plant_and_feed(args):
    """The plant (file or built-in name) and the feed it runs on, both checked."""
    from magcycle.flowsheet.simulation import load_plant, plant_feed

    spec = guard(lambda: load_plant(args.plant))
    feed = guard(lambda: plant_feed(spec, args.feed, args.rate))
    return spec, feed


def _product_table(result) -> str:
    header = ["product", "oxide", "kg/h", "t/y", "purity %", "recovery %", "spec", "meets spec"]
    rows = []
    for p in result.products:
        rec = " ".join(f"{k} {100 * v:.2f}" for k, v in p["recovery"].items() if v is not None) or "-"
        ok = {True: "pass", False: "FAIL", None: "not produced"}[p["meets_spec"]]
        purity = f"{100 * p['purity']:.3f}" if p["purity"] is not None else "-"
        rows.append([p["name"], p["oxide"], f"{p['kg_per_h']:.3f}", f"{p['t_per_y']:.1f}", purity, rec,
                     p["spec"], ok])
    return table(header, rows, right_from=2)


def _feed_line(feed) -> str:
    note = f"\n{feed.normalisation}" if feed.normalisation else ""
    return f"feed {feed.name} at {feed.kg_per_h:.4g} kg/h dry{note}"


def cmd_run(args) -> str:
    from magcycle.flowsheet.targets import run_to_spec
    from magcycle.report import render_report
    from magcycle.report.workbook import results_workbook

    spec, feed = plant_and_feed(args)
    check_out(args.out, RUN_FILES)
    result = guard(lambda: run_to_spec(spec, feed))
    doc = guard(result.to_dict)  # builds the SX stage profiles, each checked finite
    text = dumps(doc)
    publish(args.out, {"results.json": text, "report.html": render_report(doc), "results.xlsx": results_workbook(doc),
                       "streams.csv": result.stream_table().to_csv()})
    status = EXIT_OK if result.meets_requirements else EXIT_OFF_SPEC
    off = off_spec_lines(result)
    limits = result.discharge_failures
    if off or limits:  # the results stand (written above); the terminal names what failed and why
        print(one_line(f"{PROG}: " + "; ".join([f"off spec: {x}" for x in off] + [f"off limits: {x}" for x in limits])),
              file=sys.stderr)
    if args.json:
        return text, status
    return (f"Plant {result.spec.name!r}, {_feed_line(result.feed)}; element closure {result.closure:.1e}; "
            f"recycle {result.recycle_iterations} iterations\n" + _derived_lines(result) + _product_table(result) + "\n"
            + _stage_lines(doc) + _reagent_lines(doc)
            + _discharge_lines(result)
            + "".join(f"warning: {line}\n" for line in result.warnings)
            + "".join(f"off spec: {line}\n" for line in off)
            + "".join(f"off limits: {line}\n" for line in limits)
            + f"wrote {', '.join(RUN_FILES)} in {args.out}\n"), status


def _stage_lines(doc: dict) -> str:
    """One line: each SX cut's extraction + scrub stages (bypassed cuts named as such)."""
    from magcycle.report.workbook import cut_rows

    cuts = [f"{c['cut']} bypassed" if c["bypassed"] else f"{c['cut']} {c['extraction_stages']}+{c['scrub_stages']}"
            for c in cut_rows(doc)]
    total = sum(c["extraction_stages"] + c["scrub_stages"] for c in cut_rows(doc) if not c["bypassed"])
    return f"SX stages (extraction+scrub): {', '.join(cuts)}; {total} in all\n" if cuts else ""


def _reagent_lines(doc: dict) -> str:
    """One line: each reagent in kg per t of dry feed (water left out)."""
    from magcycle.report.workbook import reagent_rows

    said = [f"{r['reagent']} {r['kg_per_t_feed']:,.0f}" for r in reagent_rows(doc)
            if r["reagent"] != "H2O" and r["kg_per_t_feed"] is not None]
    return f"reagents, kg per t of feed: {', '.join(said)}\n" if said else ""


def _discharge_lines(result) -> str:
    """One line per effluent-treatment unit: its treated water against each discharge limit."""
    lines = []
    for unit, checks in result.discharge.items():
        said = [f"pH {c['value']:.2f} ({c['limit'][0]:g}-{c['limit'][1]:g})" if key == "pH" else
                f"{key} {c['mg_per_L']:.3g} mg/L (limit {c['limit']:g})" for key, c in checks.items()
                if key == "pH" or c["limit"] is not None]
        lines.append(f"discharge from {unit}: {'; '.join(said)}\n")
    return "".join(lines)


def _derived_lines(result) -> str:
    """The cut targets the products' specs asked for at this feed (flowsheet.targets), one line."""
    derived = getattr(result, "derived_targets", None) or {}
    said = [f"{cut} {key} {'-' if typed is None else f'{typed:g}'} -> {value:.6g}"
            for cut, keys in derived.items() for key, (typed, value) in keys.items()]
    return f"cut targets derived from the product specs for this feed: {'; '.join(said)}\n" if said else ""


def off_spec_lines(result) -> list[str]:
    """:func:`magcycle.flowsheet.simulation.off_spec_lines` (imported when a command runs)."""
    from magcycle.flowsheet.simulation import off_spec_lines as lines

    return lines(result)


def cmd_feed_list(args) -> str:
    from magcycle.feed import CATALOGUE

    rows = [[c.key, c.name, f"{c.nominal['Nd'] + c.nominal['Pr'] + c.nominal['Dy'] + c.nominal['Tb']:.2f}",
             f"{c.moisture_wt_pct:g}"] for c in CATALOGUE.values()]
    return table(["class", "name", "Nd+Pr+Dy+Tb wt %", "moisture wt %"], rows, right_from=2) + "\n"


def cmd_feed_show(args) -> str:
    from magcycle.feed import CATALOGUE, resolve_feed

    feed = guard(lambda: resolve_feed(args.feed, args.rate))
    if args.json:
        return dumps(feed.to_dict())
    cls = CATALOGUE.get(args.feed)
    rows = []
    for el, w in sorted(feed.composition.items(), key=lambda kv: -kv[1]):
        lo, hi = cls.ranges.get(el, (None, None)) if cls else (None, None)
        src = (cls.sources.get(el) or cls.sources.get("all") or cls.sources.get("other", "")) if cls else ""
        rows.append([el, f"{w:.3f}", "" if lo is None else f"{lo:g}-{hi:g}",
                     f"{feed.kg_per_h * w / 100:.4g}", src[:70]])
    head = f"{feed.name}: {feed.kg_per_h:.4g} kg/h dry, moisture {feed.moisture_wt_pct:g} wt %\n"
    if feed.normalisation:
        head += feed.normalisation + "\n"
    return head + table(["element", "wt % (dry)", "range", "kg/h", "source"], rows, right_from=1) + "\n"


def _assumptions(path):
    """The overrides of an assumptions file, checked in full before the plant is solved."""
    from magcycle.documents import read_document
    from magcycle.econ.tea import assumptions

    if path is None:
        return None
    overrides = guard(lambda: read_document(path), "--assumptions")
    guard(lambda: assumptions(overrides))
    return overrides


def cmd_tea(args) -> str:
    from magcycle.econ.tea import techno_economics
    from magcycle.flowsheet.targets import run_to_spec
    from magcycle.report.tea import render_tea_report, tea_workbook

    overrides = _assumptions(args.assumptions)
    spec, feed = plant_and_feed(args)
    check_out(args.out, TEA_FILES)
    result = guard(lambda: run_to_spec(spec, feed))
    tea = guard(lambda: techno_economics(result, overrides, args.scenario))
    doc = guard(tea.to_dict)
    doc["derived_targets"] = result.to_dict()["derived_targets"] if result.derived_targets else {}
    doc["off_spec"] = off_spec_lines(result)
    text = dumps(doc)
    publish(args.out, {"tea.json": text, "tea.html": render_tea_report(doc), "tea.xlsx": tea_workbook(doc)})
    return text if args.json else _tea_text(args, result, tea, doc)


def _tea_text(args, result, tea, doc) -> str:
    pay = "-" if tea.cash.payback_y is None else f"{tea.cash.payback_y:.1f} y"
    irr = "-" if tea.cash.irr is None else f"{100 * tea.cash.irr:.1f} %"
    pub = {row["item"]: row["published"] for row in doc["comparison"]}
    measures = [["capex", f"{tea.capex_usd / 1e6:,.1f} M USD"], ["opex", f"{tea.opex_usd_per_y / 1e6:,.1f} M USD/y"],
                ["revenue", f"{tea.revenue_usd_per_y / 1e6:,.1f} M USD/y"], ["NPV", f"{tea.cash.npv / 1e6:,.1f} M USD"],
                ["IRR", irr], ["payback", pay]]
    if pub:
        for row, value in zip(measures, (f"{pub['capex_usd'] / 1e6:,.1f} M USD", "-",
                                         f"{pub['revenue_usd_per_y'] / 1e6:,.1f} M USD/y",
                                         f"{pub['npv_usd'] / 1e6:,.1f} M USD", f"{100 * pub['irr']:.1f} %",
                                         f"{pub['payback_y']:.1f} y")):
            row.append(value)
    products = [[x["product"] + (" (by-product)" if x.get("kind") == "by-product" else ""), f"{x['t_per_y']:.1f}",
                 f"{x['usd_per_kg']:,.2f}" if x["usd_per_kg"] < 10 else f"{x['usd_per_kg']:,.0f}",
                 f"{tea.co2e_kg_per_kg[x['product']]:.2f}" if x["product"] in tea.co2e_kg_per_kg else "-"]
                for x in tea.revenue_lines]
    lines = [f"Plant {result.spec.name!r}: {tea.feed_t_per_y:,.0f} t/y feed, {args.scenario} prices, "
             f"discount rate {100 * tea.cash.discount_rate:g} %",
             table(["measure", "magcycle"] + (["published study"] if pub else []), measures, right_from=1),
             table(["product", "t/y", "USD/kg", "kg CO2e/kg"], products, right_from=1)]
    if not pub:
        lines.append(f"not compared with the published study: it is a {tea.assumptions['published']['feed_t_per_y']:,.0f}"
                     f" t/y plant, this one {tea.feed_t_per_y:,.0f} t/y")
    lines += [f"off spec (priced at the off-spec discount): {line}" for line in off_spec_lines(result)]
    lines += [f"off limits: {line}" for line in result.discharge_failures]
    lines.append(f"wrote {', '.join(TEA_FILES)} in {args.out}")
    return _derived_lines(result) + "\n".join(lines) + "\n"

