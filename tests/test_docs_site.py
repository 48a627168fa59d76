"""The documentation site builds with `mkdocs build --strict` (a broken link, a missing page or an
unresolved API reference fails) and holds what the issue asks of it."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    mkdocs = shutil.which("mkdocs", path=str(Path(sys.executable).parent)) or shutil.which("mkdocs")
    assert mkdocs is not None, "mkdocs is not installed (pip install -e '.[test]' installs it)"
    out = tmp_path_factory.mktemp("site")
    proc = subprocess.run([mkdocs, "build", "--strict", "-d", str(out)], cwd=ROOT, capture_output=True, text=True,
                          timeout=600, env=os.environ | {"NO_MKDOCS_2_WARNING": "1"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out


def test_the_site_has_its_pages(site):
    for page in ("index.html", "tutorials/feed-assay/index.html", "tutorials/flowsheet/index.html",
                 "tutorials/design-a-cut/index.html", "tutorials/uncertainty/index.html", "tutorials/tea/index.html",
                 "flowsheet-reference/index.html", "reference/cascade-contract/index.html",
                 "reference/api/index.html", "benchmarks/index.html", "guide/traceability/index.html"):
        assert (site / page).is_file(), page
    index = (site / "index.html").read_text()
    readme = (ROOT / "README.md").read_text()
    # getting started shows the README's two commands, word for word
    import html

    for line in readme.split("```", 2)[1].strip().splitlines():
        assert html.escape(line, quote=False) in index, line


def test_the_api_reference_is_built_from_the_docstrings(site):
    api = (site / "reference" / "api" / "index.html").read_text()
    from magcycle.units.sx_cascade import design_pH

    assert "design_pH" in api and "third-power" in design_pH.__doc__ and "third-power" in api
    assert "run_to_spec" in api and "techno_economics" in api


def test_the_benchmark_tables_are_the_files_the_benchmarks_write(site):
    page = (site / "benchmarks" / "index.html").read_text()
    first = (ROOT / "benchmarks" / "results_uq.md").read_text().splitlines()[0]
    assert "Measured" in first and "reference plant, 2 processes" in page
