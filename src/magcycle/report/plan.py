"""The campaign plan as a page: a Plotly Gantt chart of the campaigns (one bar per campaign, by family,
segregated campaigns hatched), the order fulfilment table and the solver's status, bound and gap. plotly.js is
inline: the page opens offline. Every text is escaped."""

from __future__ import annotations

from magcycle.report.html import esc, page_head

__all__ = ["gantt_figure", "render_plan_report"]

_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]


def gantt_figure(plan: dict):
    """One horizontal bar per campaign from its start to its end [days from the plan's start], coloured by family."""
    import plotly.graph_objects as go

    families = sorted({c["family"] for c in plan["campaigns"]})
    fig = go.Figure()
    for i, fam in enumerate(families):
        runs = [c for c in plan["campaigns"] if c["family"] == fam]
        fig.add_trace(go.Bar(
            name=fam, orientation="h", y=[c["id"] for c in runs], base=[c["start_day"] for c in runs],
            x=[max(c["end_day"] - c["start_day"], 0.05) for c in runs], marker_color=_COLOURS[i % len(_COLOURS)],
            marker_pattern_shape=["/" if c["custody"] == "segregated" else "" for c in runs],
            text=[f"{c['custody']}, {c['feed_kg'] / 1000:.3g} t" for c in runs],
            hovertemplate="%{y}: day %{base:.1f} to %{x:.1f} days later<br>%{text}<extra></extra>"))
    fig.update_layout(title={"text": "Campaigns (days from the start; hatched: segregated)", "font": {"size": 14}},
                      barmode="overlay", template="plotly_white", xaxis_title="day",
                      yaxis={"autorange": "reversed"}, margin={"l": 80, "r": 20, "t": 40, "b": 50})
    return fig


def _orders_table(plan: dict) -> str:
    rows = "".join(
        f"<tr><td>{esc(o['order'])}</td><td>{esc(o['product'])}</td><td>{o['mass_kg']:.6g}</td><td>{esc(o['due'])}</td>"
        f"<td>{o['delivered_kg']:.6g}</td><td>{o['shortfall_kg']:.6g}</td><td>{o['late_kg_weeks']:.6g}</td>"
        f"<td>{'yes' if o['dfars_only'] else ''}</td><td>{o['min_post_consumer_share']:.3g}</td></tr>"
        for o in plan["orders"])
    return ("<table><tr><th>order</th><th>product</th><th>kg</th><th>due</th><th>delivered kg</th><th>short kg</th>"
            f"<th>late kg x weeks</th><th>DFARS only</th><th>min post-consumer</th></tr>{rows}</table>")


def _campaign_table(plan: dict) -> str:
    rows = "".join(
        f"<tr><td>{esc(c['id'])}</td><td>{esc(c['family'])}</td><td>{esc(c['custody'])}</td><td>{esc(c['start'])}</td>"
        f"<td>{esc(c['end'])}</td><td>{c['feed_kg']:.6g}</td>"
        f"<td>{esc(', '.join(f'{p} {kg:.4g}' for p, kg in c['products_kg'].items()))}</td>"
        f"<td>{esc(', '.join(part['lot'] for part in c['lots']))}</td></tr>" for c in plan["campaigns"])
    return ("<table><tr><th>campaign</th><th>family</th><th>custody</th><th>start</th><th>end</th><th>feed kg</th>"
            f"<th>products kg</th><th>lots</th></tr>{rows}</table>")


def render_plan_report(plan: dict, title: str = "Campaign plan") -> str:
    """The plan page (module docstring)."""
    from magcycle.report.plots import figure_html

    gap = "-" if plan["gap"] is None else f"{100 * plan['gap']:.3g} %"
    return (f"<!DOCTYPE html><html lang=\"en\">{page_head(title)}<body><h1>{esc(title)}</h1>"
            f"<p>HiGHS status {esc(plan['status'])}; margin {plan['margin_usd']:,.0f} USD; bound "
            f"{'-' if plan['bound'] is None else format(plan['bound'], ',.0f')} USD; gap {gap}; "
            f"{plan['seconds']:.2f} s</p>"
            f"{figure_html('gantt', gantt_figure(plan))}<h2>Campaigns</h2>{_campaign_table(plan)}"
            f"<h2>Orders</h2>{_orders_table(plan)}</body></html>")
