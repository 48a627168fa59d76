"""Random mutations of every valid input document, through the command line (hypothesis).

Each valid document magcycle reads (cascade, design cascade, flowsheet, assay, study, TEA
assumptions) is mutated once: a value of the wrong type, a required key missing, an unknown key, a
number out of range, NaN, infinity, an empty table, a wrong unit. Every mutation is one the
declared schema refuses, so each must end with exit status 2 and one line on stderr naming a field
of the document: never a traceback, never an output file.
"""

import math
import re
import tomllib
from importlib.resources import files

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from magcycle import cli


# ------------------------------------------------------------------ documents
def _read(*parts) -> str:
    node = files("magcycle")
    for p in parts:
        node = node / p
    return node.read_text()


ASSAY = 'name = "lot 7"\nrate = "50 kg/h"\nmoisture_wt_pct = 5\n[composition]\nNd = 24\nPr = 6\nDy = 3\nFe = 66\nB = 1\n'
STUDY = '''[study]
plant = "reference"
samples = 2
method = "lhs"
seed = 1
[parameters]
"feed.blend.ev" = { uniform = [0.25, 0.45], units = "-" }
"feed.ev.Dy" = { triangular = [2.0, 4.0, 6.0] }
[metrics]
"Dy purity" = { path = "products.Dy2O3.purity", at_least = 0.995 }
'''
ASSUMPTIONS = '''[finance]
discount_rate = 0.08
construction = [0.5, 0.5]
[opex]
feed_usd_per_kg = 12.0
[opex.reagent_usd_per_kg]
HCl = 0.3
[revenue.base]
Dy2O3 = 320.0
[carbon]
country = "DE"
'''
DESIGN = _read("examples", "pr_nd_split.toml") + '\n[targets]\nextract = { Nd = { purity = 0.99 } }\n' \
    '\n[design]\nstage_weight = 1.0\n'

#: kind -> (document text, required keys (paths) whose absence is an error, tables that may not be empty)
DOCUMENTS = {
    "cascade": (_read("examples", "ndpr_dy_split.toml"),
                [("cascade",), ("cascade", "model"), ("cascade", "extraction_stages"), ("flows",),
                 ("flows", "organic"), ("flows", "feed"), ("feed",), ("model",), ("model", "D")],
                [("cascade",), ("flows",), ("feed",), ("model",), ("model", "D")]),
    "empirical": (_read("examples", "prommis_d2ehpa_3stage.toml"),
                  [("cascade", "model"), ("flows", "organic"), ("feed",), ("model",), ("model", "medium"),
                   ("model", "extractant_vol_pct"), ("model", "feed_sulfate"), ("model", "log10_D", "Nd", "m0")],
                  [("feed",), ("model",), ("model", "log10_D", "Nd")]),
    "design": (DESIGN, [("flows",), ("feed",), ("model",), ("targets",), ("model", "beta")],
               [("flows",), ("feed",), ("model",), ("targets",), ("targets", "extract")]),
    "flowsheet": (_read("plants", "reference.toml"),
                  [("units",), ("streams",), ("units", "leach", "type"), ("units", "sx_ndpr", "heavy_key"),
                   ("products", "Dy2O3", "elements"), ("products", "Dy2O3", "spec"),
                   ("streams", "crushed magnet")],
                  [("units",), ("streams",), ("units", "sx_ndpr"), ("products", "Dy2O3")]),
    "assay": (ASSAY, [("composition",)], [("composition",)]),
    "study": (STUDY, [("metrics", "Dy purity", "path")],
              [("parameters",), ("metrics",), ("parameters", "feed.ev.Dy"), ("metrics", "Dy purity")]),
    "assumptions": (ASSUMPTIONS, [], []),
}

#: open tables: any key of the right kind is allowed there, so a new key is not "unknown"
OPEN = {("opex", "reagent_usd_per_kg"), ("revenue", "base")}


def _command(kind: str, path, out) -> list[str]:
    return {"cascade": ["sx", "solve", path], "empirical": ["sx", "solve", path], "design": ["sx", "design", path],
            "flowsheet": ["run", path, "--out", out], "assay": ["run", "--feed", path, "--out", out],
            "study": ["uq", path, "--out", out, "--scheduler", "serial", "--quiet"],
            "assumptions": ["tea", "--assumptions", path, "--out", out]}[kind]


# ------------------------------------------------------------------ a TOML writer (for NaN and inf)
_BARE = re.compile(r"[A-Za-z0-9_-]+")


def _key(k: str) -> str:
    return k if _BARE.fullmatch(k) else '"' + k.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) else repr(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, list):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    return "{ " + ", ".join(f"{_key(k)} = {_value(x)}" for k, x in v.items()) + " }"


def to_toml(doc: dict) -> str:
    """Every top-level key as a key = value line (inline tables): a faithful TOML document."""
    return "".join(f"{_key(k)} = {_value(v)}\n" for k, v in doc.items())


# ------------------------------------------------------------------ mutations
def _paths(node, prefix=()):
    """Every (path, value) below ``node``."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield prefix + (k,), v
            yield from _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield prefix + (i,), v


def _set(doc, path, value, delete=False):
    node = doc
    for k in path[:-1]:
        node = node[k]
    if delete:
        del node[path[-1]]
    else:
        node[path[-1]] = value


def _wrong_type(v):
    if isinstance(v, dict):
        return [1, 2]
    if isinstance(v, list):
        return {"x": 1}
    if isinstance(v, str):
        return {"x": 1}
    return ["x"]  # numbers and booleans


@st.composite
def mutation(draw):
    kind = draw(st.sampled_from(sorted(DOCUMENTS)))
    text, required, tables = DOCUMENTS[kind]
    doc = tomllib.loads(text)
    everything = list(_paths(doc))
    numbers = [(p, v) for p, v in everything if isinstance(v, (int, float)) and not isinstance(v, bool)]
    quantities = [(p, v) for p, v in everything if isinstance(v, str) and re.match(r"^[0-9.e+-]+ \S", v)]
    tabled = [(p, v) for p, v in everything if isinstance(v, dict) and p not in OPEN] + [((), doc)]
    how = draw(st.sampled_from(["type", "missing", "unknown", "range", "nan", "inf", "empty", "unit"]))
    if how == "missing" and required:
        path = draw(st.sampled_from(required))
        _set(doc, path, None, delete=True)
    elif how == "empty" and tables:
        path = draw(st.sampled_from(tables))
        _set(doc, path, {})
    elif how == "unknown":
        path, table = draw(st.sampled_from(tabled))
        table["zz_unknown"] = {"zz": 1}
        path = path + ("zz_unknown",)
    elif how in ("range", "nan", "inf") and numbers:
        path, _ = draw(st.sampled_from(numbers))
        _set(doc, path, {"range": draw(st.sampled_from([1e308, -1e308])), "nan": math.nan,
                         "inf": draw(st.sampled_from([math.inf, -math.inf]))}[how])
    elif how == "unit" and quantities:
        path, _ = draw(st.sampled_from(quantities))
        _set(doc, path, draw(st.sampled_from(["3 furlongs", "2 kg/s/m", "1.5 mol/L/h"])))
    else:  # a value of the wrong type
        path, value = draw(st.sampled_from(everything))
        _set(doc, path, _wrong_type(value))
        how = "type"
    return kind, how, doc, path


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(case=mutation())
def test_every_mutation_is_one_line_naming_a_field(tmp_path_factory, capsys, case):
    kind, how, doc, mutated = case
    folder = tmp_path_factory.mktemp("m")
    path = folder / f"{kind}.toml"
    path.write_text(to_toml(doc))
    out = folder / "out"
    status = cli.main([str(a) for a in _command(kind, path, out)])
    stdout, err = capsys.readouterr()
    assert status == 2, (kind, how, err, to_toml(doc)[:2000])
    assert stdout == "" and "Traceback" not in err
    assert len(err.splitlines()) == 1 and len(err) <= 401, err
    assert re.match(r"magcycle: error: [^:\s][^:]*: \S", err), err
    assert not out.exists()
    assert _blames(err, kind, mutated), (how, mutated, err)


def _blames(err: str, kind: str, mutated: tuple) -> bool:
    """Whether the error's field is the mutated path, a table holding it, or a key inside it.

    Two consequences name another field on purpose: a stream removed leaves its unit's outlet
    dangling (the unit is named), and a blend weight out of range makes another part of the blend
    a vanishing share of it (that part is named, with the total).
    """
    field = re.match(r"magcycle: error: ([^:]*): ", err).group(1)
    field = re.sub(r"\[(\d+)\]", r".\1", field)
    if kind == "assay":  # an assay's fields are named after its file
        field = field.removeprefix(f"{kind}.toml").lstrip(".")
    path = ".".join(str(k) for k in mutated)
    if field == path or path.startswith(field + ".") or field.startswith(path + "."):
        return True
    if mutated[:1] == ("streams",):
        return field.startswith("units.")
    return mutated[:2] == ("feed", "blend") and field.startswith("feed.blend.")


@pytest.mark.parametrize("kind", sorted(DOCUMENTS))
def test_the_unmutated_documents_are_valid(kind):
    """The documents mutated above are themselves valid (so each refusal is the mutation's)."""
    from magcycle.analysis.schema import StudyDocument
    from magcycle.econ.schema import AssumptionsDocument
    from magcycle.econ.tea import default_assumptions
    from magcycle.feed.schema import AssayDocument
    from magcycle.flowsheet.schema import FlowsheetDocument
    from magcycle.sx.schema import CascadeDocument

    doc = tomllib.loads(DOCUMENTS[kind][0])
    assert tomllib.loads(to_toml(doc)) == doc  # the writer is faithful
    if kind == "assumptions":
        from magcycle.econ.tea import merge_assumptions

        doc = merge_assumptions(default_assumptions(), doc)
    model = {"cascade": CascadeDocument, "empirical": CascadeDocument, "design": CascadeDocument, "flowsheet": FlowsheetDocument,
             "assay": AssayDocument, "study": StudyDocument, "assumptions": AssumptionsDocument}[kind]
    model.model_validate(doc)
