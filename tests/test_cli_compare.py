"""`magcycle compare`: feeds, plants and saved results side by side; a feed against itself differs in
nothing; bad input is one line; the page renders in Chromium with no network request."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from magcycle import cli


def run(capsys, *args):
    status = cli.main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def test_a_feed_compared_with_itself_shows_no_difference(capsys, tmp_path):
    status, out, err = run(capsys, "compare", "ev", "ev", "--json", "--out", str(tmp_path / "c"))
    assert status == 0, err
    doc = json.loads(out)
    assert [i["label"] for i in doc["inputs"]] == ["ev", "ev"]
    assert doc["rows"] and all(r["spread"] == 0.0 for r in doc["rows"])
    assert {"NdPr oxide t/y", "HCl kg/t feed", "sx_ndpr stages", "NPV M USD"} <= {r["row"] for r in doc["rows"]}
    assert sorted(p.name for p in (tmp_path / "c").iterdir()) == ["compare.html", "compare.json"]


def test_a_saved_result_beside_the_same_run_and_two_feeds_that_differ(capsys, tmp_path):
    assert cli.main(["run", "--feed", "wind", "--out", str(tmp_path / "r")]) == 0
    capsys.readouterr()
    saved = str(tmp_path / "r" / "results.json")
    status, out, err = run(capsys, "compare", saved, "wind", "hdd", "--json", "--out", str(tmp_path / "c"))
    assert status == 0, err
    rows = {r["row"]: r for r in json.loads(out)["rows"]}
    # the saved run and the new run of the same feed agree to the last digit; hdd scrap differs
    nd = rows["NdPr oxide t/y"]["values"]
    assert nd[0] == nd[1] != nd[2]
    assert rows["NdPr oxide t/y"]["spread"] == pytest.approx(max(nd) - min(nd), rel=1e-12)
    # a saved result brings no TEA: its NPV is blank and the row has no spread
    assert rows["NPV M USD"]["values"][0] is None and rows["NPV M USD"]["spread"] is None


def test_rate_and_feed_apply_to_every_run(capsys, tmp_path):
    status, out, _ = run(capsys, "compare", "reference", "reference-nd-pr", "--feed", "swarf", "--rate", "600 t/y",
                         "--json", "--out", str(tmp_path / "c"))
    assert status == 0
    doc = json.loads(out)
    rows = {r["row"]: r for r in doc["rows"]}
    assert "Pr6O11 t/y" in rows and rows["Pr6O11 t/y"]["values"][0] is None    # only the Nd/Pr plant makes it
    assert all("swarf" in i["what"] for i in doc["inputs"])


@pytest.mark.parametrize("args, words", [
    (["compare"], "inputs: compare needs two or more inputs"),
    (["compare", "ev"], "inputs: compare needs two or more inputs (feeds, plants or results files), got 1"),
    (["compare", "ev", "gold"], "feed: unknown feed 'gold'"),
    (["compare", "ev", "wind", "--scenario", "medium"], "--scenario: invalid choice"),
])
def test_bad_input_is_one_line_exit_2(capsys, tmp_path, args, words):
    status, out, err = run(capsys, *args, "--out", str(tmp_path / "c"))
    assert status == 2 and len(err.strip().splitlines()) == 1 and words in err and out == ""
    assert not (tmp_path / "c").exists()


def test_the_compare_page_renders_with_no_network_request(capsys, tmp_path, browser):
    assert cli.main(["compare", "ev", "hdd", "--out", str(tmp_path / "c")]) == 0
    capsys.readouterr()
    dom, requests = browser.page_requests(tmp_path / "c" / "compare.html", tmp_path / "p")
    assert browser.rendered_plots(dom) == ["products"] and requests == []
    assert 'id="compare"' in dom


@settings(max_examples=25, deadline=None)
@given(junk=st.lists(st.text(alphabet="#%&*?!@^~|;:,<>[]{}", min_size=1, max_size=8), min_size=0, max_size=3))
def test_random_malformed_inputs_are_one_line_and_write_nothing(tmp_path_factory, junk):
    import contextlib
    import io

    out_dir = tmp_path_factory.mktemp("c") / "o"
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        status = cli.main(["compare", *junk, "--out", str(out_dir)])
    assert status == 2 and len(err.getvalue().strip().splitlines()) == 1 and "Traceback" not in err.getvalue()
    assert not out_dir.exists()
