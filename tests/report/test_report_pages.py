"""The report modules' shared pieces, the Sankey's links and the plots' data, without a browser."""

import ast
import importlib
import json
import re
from pathlib import Path

import pytest

import magcycle.report
from magcycle.report.html import CSS, esc, sankey_html
from magcycle.report.plots import element_colour, histogram_figure, profile_figure, sobol_figure

REPORT = Path(magcycle.report.__file__).parent


def test_esc_escapes_markup_and_quotes():
    assert esc("<a href='x'>&\"</a>") == "&lt;a href=&#x27;x&#x27;&gt;&amp;&quot;&lt;/a&gt;"
    assert esc(3) == "3" and "body{" in CSS


@pytest.mark.parametrize("module", ["html", "uq_html", "tea", "plots"])
def test_report_modules_declare_their_names_and_import_no_private_ones(module):
    mod = importlib.import_module(f"magcycle.report.{module}")
    assert mod.__all__ and all(hasattr(mod, name) for name in mod.__all__)
    tree = ast.parse((REPORT / f"{module}.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("magcycle"):
            assert not [a.name for a in node.names if a.name.startswith("_")], node.module


def _stream(name, src, dst, nd):
    return {"name": name, "from": src, "to": dst, "mol_per_h": {"Nd": nd, "Fe": 5.0}}


def _figure(html: str) -> dict:
    """The Plotly figure (data, layout) a plot div draws."""
    return json.loads(re.search(r"var f=(\{.*?\});var el=", html, re.S).group(1).replace("<\\/", "</"))


def test_sankey_links_carry_the_rare_earths_and_the_tear_is_red():
    # feed -> a -> b -> product, and b returns to a through the tear "back"
    doc = {"streams": [_stream("in", "feed", "a.in", 1000 / 144.242), _stream("mid", "a.out", "b.in", 2 * 1000 / 144.242),
                       _stream("out", "b.out", "product", 1000 / 144.242),
                       _stream("back", "b.rec", "a.rec", 1000 / 144.242),
                       _stream("no RE", "b.gas", "vent", 0.0)],
           "recycle": {"tear_streams": ["back"]}}
    html = sankey_html(doc)
    assert 'data-plot="sankey"' in html
    sankey = _figure(html)["data"][0]
    labels = sankey["node"]["label"]
    # one node per unit, a sink labelled "STREAM -> SINK"; the stream without rare earths is not drawn
    assert labels == ["feed", "a", "b", "out -> product"] and len(set(labels)) == len(labels)
    link = sankey["link"]
    # 1 kg/h of Nd in, 2 kg/h around a -> b, 1 kg/h back; the tear in red
    got = {(labels[s], labels[t], name): v for s, t, name, v in zip(link["source"], link["target"], link["label"],
                                                                    link["value"])}
    assert got == pytest.approx({("feed", "a", "in"): 1.0, ("a", "b", "mid"): 2.0, ("b", "out -> product", "out"): 1.0,
                                 ("b", "a", "back"): 1.0})
    colours = dict(zip(link["label"], link["color"]))
    assert colours["back"].startswith("rgba(214,39,40") and not colours["in"].startswith("rgba(214,39,40")


def test_profile_marks_feed_and_sections_and_keeps_each_element_its_colour():
    prof = {"components": ["Pr", "Nd"], "aqueous_mol_per_L": [[0.1, 1e-3], [0.05, 0.0], [1e-20, 0.2]]}
    fig = profile_figure("cut", prof, 2, 1).to_plotly_json()
    assert [t["x"] for t in fig["data"]] == [[1, 2, 3], [1, 2, 3]]
    assert fig["data"][1]["y"][1] is None                   # a zero is a gap on the log axis, not a floor
    assert [t["line"]["color"] for t in fig["data"]] == [element_colour("Pr"), element_colour("Nd")]
    assert fig["layout"]["yaxis"]["type"] == "log"
    # the feed enters at stage 2: a line between stages 2 and 3, the scrub ends after stage 3
    assert sorted(shape["x0"] for shape in fig["layout"]["shapes"]) == [2.5, 3.5]
    assert any(a["text"] == "feed (stage 2)" for a in fig["layout"]["annotations"])


def test_histogram_counts_and_limits_and_sobol_intervals():
    fig = histogram_figure("purity", {"edges": [0.0, 1.0, 3.0], "counts": [4, 6]}, {"min": 0.5, "max": None})
    bar = fig.to_plotly_json()["data"][0]
    assert list(bar["y"]) == [4, 6] and list(bar["x"]) == [0.5, 2.0] and list(bar["width"]) == [1.0, 2.0]
    assert fig.layout.yaxis.title.text == "samples (count)" and [s.x0 for s in fig.layout.shapes] == [0.5]
    sob = sobol_figure("m", [("a", {"S1": 0.5, "S1_conf": 0.05, "ST": 0.6, "ST_conf": 0.07})]).to_plotly_json()
    assert [list(t["error_x"]["array"]) for t in sob["data"]] == [[0.05], [0.07]]
