"""The plant-level Python example of the README runs and prints what the README says it prints."""

import contextlib
import io
import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_plant_example_prints_what_the_readme_shows():
    text = README.read_text(encoding="utf-8")
    section = text.split("## A plant in Python", 1)[1]
    code, shown = re.findall(r"```(?:python)?\n(.*?)```", section, re.S)[:2]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README example", "exec"), {})
    assert out.getvalue() == shown
