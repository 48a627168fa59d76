"""The report modules' shared pieces and the Sankey layout, without a browser."""

import ast
import importlib
import re
from pathlib import Path

import pytest

import magcycle.report
from magcycle.report.html import CSS, esc, sankey_svg

REPORT = Path(magcycle.report.__file__).parent


def test_esc_escapes_markup_and_quotes():
    assert esc("<a href='x'>&\"</a>") == "&lt;a href=&#x27;x&#x27;&gt;&amp;&quot;&lt;/a&gt;"
    assert esc(3) == "3" and "body{" in CSS


@pytest.mark.parametrize("module", ["html", "uq_html", "tea"])
def test_report_modules_declare_their_names_and_import_no_private_ones(module):
    mod = importlib.import_module(f"magcycle.report.{module}")
    assert mod.__all__ and all(hasattr(mod, name) for name in mod.__all__)
    tree = ast.parse((REPORT / f"{module}.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("magcycle"):
            assert not [a.name for a in node.names if a.name.startswith("_")], node.module


def _stream(name, src, dst, nd):
    return {"name": name, "from": src, "to": dst, "mol_per_h": {"Nd": nd, "Fe": 5.0}}


def test_sankey_lays_units_out_by_depth_and_draws_the_tear_in_red():
    # feed -> a -> b -> product, and b returns to a through the tear "back"
    doc = {"streams": [_stream("in", "feed", "a.in", 1000 / 144.242), _stream("mid", "a.out", "b.in", 2 * 1000 / 144.242),
                       _stream("out", "b.out", "product", 1000 / 144.242),
                       _stream("back", "b.rec", "a.rec", 1000 / 144.242),
                       _stream("no RE", "b.gas", "vent", 0.0)],
           "recycle": {"tear_streams": ["back"]}}
    svg = sankey_svg(doc, width=640, height=400)
    assert svg.startswith('<svg data-plot="sankey"') and svg.endswith("</svg>")
    xs = {label: float(x) for x, label in re.findall(r'<rect x="([\d.]+)"[^>]*/><text[^>]*>([^<]+)</text>', svg)}
    # a sink is labelled with its stream's name; the stream without rare earths is not drawn
    assert list(xs) == ["feed", "a", "b", "out"]
    assert xs["feed"] < xs["a"] < xs["b"] < xs["out"]
    # 1 kg/h of Nd in, 2 kg/h around a -> b, 1 kg/h back: four bands, the tear in red
    titles = re.findall(r'stroke="(#[0-9a-f]+)"[^>]*><title>([^:]+): ([\d.]+) kg/h RE', svg)
    assert {(n, float(kg)) for _, n, kg in titles} == {("mid", 2.0), ("in", 1.0), ("out", 1.0), ("back", 1.0)}
    assert [c for c, n, _ in titles if n == "back"] == ["#d62728"]
