"""Plants, feeds or saved results side by side (``magcycle compare``): rows of figures, one column
per input, and the spread of each row (largest minus smallest).

Rows: each product's t/y, purity and recovery per element; each reagent in
kg per t of dry feed; each SX cut's extraction + scrub stages; and, where a
TEA was run, capex, opex, revenue, NPV and IRR. A row an input does not
have (a product another plant does not make) is blank for it and has no
spread.
"""

from __future__ import annotations

from magcycle.report.html import esc, page_head

__all__ = ["comparison_rows", "render_compare_report"]


def _product_rows(doc: dict) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for p in doc["products"]:
        out[f"{p['name']} t/y"] = p["t_per_y"]
        out[f"{p['name']} purity"] = p["purity"]
        for el, v in p["recovery"].items():
            out[f"{p['name']} recovery {el}"] = v
    return out


def _reagent_rows(doc: dict) -> dict[str, float | None]:
    from magcycle.report.workbook import reagent_rows

    return {f"{r['reagent']} kg/t feed": r["kg_per_t_feed"] for r in reagent_rows(doc) if r["reagent"] != "H2O"}


def _stage_rows(doc: dict) -> dict[str, float | None]:
    from magcycle.report.workbook import cut_rows

    return {f"{c['cut']} stages": float(c["extraction_stages"] + c["scrub_stages"]) for c in cut_rows(doc)}


_TEA = (("capex M USD", "capex_usd", 1e-6), ("opex M USD/y", "opex_usd_per_y", 1e-6),
        ("revenue M USD/y", "revenue_usd_per_y", 1e-6), ("NPV M USD", "npv_usd", 1e-6), ("IRR", "irr", 1.0))


def _tea_rows(tea: dict | None) -> dict[str, float | None]:
    if not tea:
        return {}
    return {label: (tea[key] * scale if tea.get(key) is not None else None) for label, key, scale in _TEA}


def comparison_rows(docs: list[dict], teas: list[dict | None]) -> list[dict]:
    """One row per figure: ``{"row", "values": [one per input or None], "spread"}``, spread = max - min
    over the inputs that have the figure (None when one lacks it)."""
    per = [_product_rows(d) | _reagent_rows(d) | _stage_rows(d) | _tea_rows(t) for d, t in zip(docs, teas)]
    names: list[str] = []
    for values in per:
        names += [k for k in values if k not in names]
    rows = []
    for name in names:
        values = [v.get(name) for v in per]
        known = [v for v in values if v is not None]
        spread = max(known) - min(known) if len(known) == len(values) else None
        rows.append({"row": name, "values": values, "spread": spread})
    return rows


def render_compare_report(doc: dict) -> str:
    """The page of a comparison document: the inputs, the table, products t/y as grouped bars."""
    from magcycle.report.plots import figure_html
    import plotly.graph_objects as go

    labels = [i["label"] for i in doc["inputs"]]
    head = "".join(f"<th>{esc(x)}</th>" for x in labels)
    body = "".join(f"<tr><td>{esc(r['row'])}</td>" + "".join(f"<td>{_cell(v)}</td>" for v in r["values"])
                   + f"<td>{_cell(r['spread'])}</td></tr>" for r in doc["rows"])
    tons = [r for r in doc["rows"] if r["row"].endswith(" t/y")]
    fig = go.Figure([go.Bar(name=label, x=[r["row"][:-4] for r in tons], y=[r["values"][i] for r in tons])
                     for i, label in enumerate(labels)])
    fig.update_layout(barmode="group", title={"text": "Products, t/y"}, yaxis={"title": "t/y"}, height=380,
                      template="plotly_white")
    items = "".join(f"<li>{esc(i['label'])}: {esc(i['what'])}</li>" for i in doc["inputs"])
    return (f"<!DOCTYPE html><html lang=\"en\">{page_head('magcycle compare')}<body><h1>magcycle compare</h1>"
            f"<ul id=\"inputs\">{items}</ul>{figure_html('products', fig)}"
            f"<table id=\"compare\"><tr><th>figure</th>{head}<th>spread</th></tr>{body}</table></body></html>")


def _cell(v) -> str:
    return "" if v is None else f"{v:.6g}"
