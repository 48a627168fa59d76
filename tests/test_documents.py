"""Reading input documents within limits: regular files only, size, nesting, no NaN tokens."""

import os

import pytest

from magcycle.documents import MAX_DEPTH, MAX_DOCUMENT_BYTES, check_depth, parse_document, read_document, show
from magcycle.errors import InputError


def _one_line(err: InputError, field: str = "file") -> None:
    assert err.field == field
    assert "\n" not in str(err) and len(str(err)) < 300


def test_toml_and_json_read_the_same(tmp_path):
    (tmp_path / "a.toml").write_text('[x]\ny = 2\n')
    (tmp_path / "a.json").write_text('{"x": {"y": 2}}')
    assert read_document(tmp_path / "a.toml") == read_document(tmp_path / "a.json") == {"x": {"y": 2}}


def test_a_named_pipe_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)
    with pytest.raises(InputError) as e:
        read_document(fifo)  # opening a FIFO with no writer would block forever
    _one_line(e.value)
    assert "not a regular file" in e.value.reason


def test_a_directory_is_refused(tmp_path):
    with pytest.raises(InputError) as e:
        read_document(tmp_path)
    _one_line(e.value)


def test_a_file_over_the_size_limit_is_refused_before_reading(tmp_path):
    big = tmp_path / "big.toml"
    with open(big, "wb") as fh:
        fh.truncate(MAX_DOCUMENT_BYTES + 1)  # sparse: the size is what is checked
    with pytest.raises(InputError) as e:
        read_document(big)
    _one_line(e.value)
    assert f"{MAX_DOCUMENT_BYTES:,}" in e.value.reason


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 1000, 100_000])
def test_deep_nesting_is_one_line_not_a_recursion_error(depth):
    text = '{"a": ' + "[" * depth + "]" * depth + "}"
    with pytest.raises(InputError) as e:
        parse_document(text, ".json")
    _one_line(e.value)
    assert "deep" in e.value.reason


def test_deep_toml_dotted_keys_are_refused():
    # a.a.a... = 1 builds nested tables without brackets
    with pytest.raises(InputError) as e:
        parse_document("a" + ".a" * 40 + " = 1", ".toml")
    _one_line(e.value)


def test_nesting_at_the_limit_is_read():
    # the top table is level 1, so MAX_DEPTH - 1 lists inside it make MAX_DEPTH levels
    n = MAX_DEPTH - 1
    doc = parse_document('{"a": ' + "[" * n + "]" * n + "}", ".json")
    node, levels = doc, 1
    while isinstance(node, (dict, list)) and node:
        node = next(iter(node.values())) if isinstance(node, dict) else node[0]
        levels += 1
    assert levels == MAX_DEPTH
    check_depth(doc)


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
def test_json_nan_tokens_are_not_json(token):
    with pytest.raises(InputError) as e:
        parse_document('{"x": %s}' % token, ".json")
    _one_line(e.value)


def test_show_never_echoes_a_long_value():
    assert len(show("x" * 1_000_000)) == 40
    assert show({"a": 1}) == "a table"
    assert show(10 ** 5000).startswith("a very long")
