"""Reading input documents (TOML or JSON) within stated limits.

Every input file of magcycle (cascades, flowsheets, assays, studies, TEA
assumptions) is read here, once, before any model sees it:

* only a regular file is read (a named pipe, a device or a directory is
  refused without opening it, so nothing can block);
* at most ``MAX_DOCUMENT_BYTES`` (10 MB) of UTF-8 text;
* TOML or JSON, chosen by the suffix (anything else is tried as TOML, then
  JSON);
* tables and lists nested at most ``MAX_DEPTH`` (32) deep;
* a key given twice in one table is refused (TOML refuses it itself; JSON
  would keep the last silently).

Failures raise :class:`~magcycle.errors.InputError` with a one-line reason
that never echoes more than a short prefix of what the user gave
(:func:`show`). This module imports only the standard library, so any layer
may use it without import cost.

>>> parse_document('a = 1\\n[b]\\nc = "x"', ".toml")
{'a': 1, 'b': {'c': 'x'}}
>>> show("x" * 100)
"'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx..."
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from magcycle.errors import InputError

__all__ = ["MAX_DOCUMENT_BYTES", "MAX_DEPTH", "MAX_ECHO", "show", "clip", "present", "read_text",
           "read_document", "parse_document", "check_depth"]

#: largest input file read [bytes]
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
#: deepest nesting of tables and lists in an input document
MAX_DEPTH = 32
#: longest echo of a user's value in a message [characters]
MAX_ECHO = 40


def show(value: object, limit: int = MAX_ECHO) -> str:
    """A short one-line repr of user input for messages (at most ``limit`` characters).

    Tables and lists are named by their kind, not echoed; booleans and null as TOML and JSON
    write them.

    >>> show({"a": 1}), show([1, 2]), show(2.5), show(False), show(None)
    ('a table', 'a list', '2.5', 'false', 'null')
    """
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "null"}[value]
    try:
        text = repr(value)
    except ValueError:  # an int with more digits than sys.get_int_max_str_digits()
        return f"a very long {type(value).__name__}"
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def clip(text: object, limit: int = 60) -> str:
    """``text`` on one line, cut to ``limit`` characters (for a name inside a field path).

    >>> clip("a" * 70, 10), clip("ev")
    ('aaaaaaa...', 'ev')
    """
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def present(path: str | Path, *, field: str = "file") -> bool:
    """Whether ``path`` names something on disk: ``False`` when nothing is there, InputError naming
    ``field`` when the path itself cannot be looked up (a name too long, a loop of links, a NUL).

    >>> present("/"), present("/no/such/file")
    (True, False)
    >>> present("x" * 300)
    Traceback (most recent call last):
    ...
    magcycle.errors.InputError: file: cannot look up 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...: File name too long
    """
    try:
        os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return False
    except OSError as exc:
        raise InputError(field, f"cannot look up {show(str(path))}: {exc.strerror or type(exc).__name__}") from None
    except ValueError:  # an embedded NUL character
        raise InputError(field, f"{show(str(path))} is not a file name (it holds a NUL character)") from None
    return True


def read_text(path: str | Path, *, field: str = "file", limit: int = MAX_DOCUMENT_BYTES) -> str:
    """The UTF-8 text of a regular file of at most ``limit`` bytes.

    The file is inspected with ``stat`` before it is opened: a named pipe,
    a socket or a device would block or never end, and is refused.
    """
    p = Path(path)
    name = show(str(p), 80)
    try:
        st = os.stat(p)
    except FileNotFoundError:
        raise InputError(field, f"no such file: {name}") from None
    except OSError as exc:
        raise InputError(field, f"cannot read {name}: {exc.strerror}") from None
    except ValueError:  # an embedded NUL character
        raise InputError(field, f"{name} is not a file name (it holds a NUL character)") from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError(field, f"{name} is a directory, not a file")
    if not stat.S_ISREG(st.st_mode):
        raise InputError(field, f"{name} is not a regular file (a pipe or a device is not read)")
    if st.st_size > limit:
        raise InputError(field, f"{name} is {st.st_size:,} bytes; input files are at most {limit:,} bytes")
    try:
        with open(p, "rb") as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        raise InputError(field, f"cannot read {name}: {exc.strerror}") from None
    if len(data) > limit:
        raise InputError(field, f"{name} is larger than {limit:,} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(field, f"{name} is not UTF-8 text (TOML or JSON expected)") from None


def read_document(path: str | Path, *, field: str = "file") -> dict:
    """Read a TOML or JSON document into a mapping (see the module docstring)."""
    p = Path(path)
    return parse_document(read_text(p, field=field), p.suffix.lower(), name=str(p), field=field)


def parse_document(text: str, suffix: str = "", *, name: str = "<text>", field: str = "file") -> dict:
    """Parse TOML or JSON text into a mapping; see :func:`read_document`.

    >>> parse_document('{"a": [1, 2]}', ".json")
    {'a': [1, 2]}
    >>> parse_document('{"a": ' + "[" * 40 + "]" * 40 + "}", ".json")
    Traceback (most recent call last):
    ...
    magcycle.errors.InputError: file: '<text>' nests tables or lists more than 32 deep
    """
    import tomllib

    def as_toml():
        return tomllib.loads(text)

    def as_json():
        doc = json.loads(text, parse_constant=_no_constant, object_pairs_hook=_no_duplicates)
        if not isinstance(doc, dict):
            raise ValueError("the top level is not an object")
        return doc

    readers = {".json": (as_json,), ".toml": (as_toml,)}.get(suffix, (as_toml, as_json))
    label = show(name, 80)
    errors = []
    for reader in readers:
        try:
            doc = reader()
        except RecursionError:
            raise InputError(field, f"{label} nests tables or lists more than {MAX_DEPTH} deep") from None
        except (tomllib.TOMLDecodeError, ValueError) as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            errors.append(show(first, 120).strip("'\""))
            continue
        check_depth(doc, field, label)
        return doc
    kind = {".json": "JSON", ".toml": "TOML"}.get(suffix, "TOML or JSON")
    raise InputError(field, f"not a valid {kind} file ({label}): {errors[0]}")


def _no_duplicates(pairs: list) -> dict:
    """A JSON object whose keys are all different (JSON alone would keep the last of a repeated key).

    >>> _no_duplicates([("a", 1), ("b", 2)])
    {'a': 1, 'b': 2}
    >>> _no_duplicates([("a", 1), ("a", 2)])
    Traceback (most recent call last):
    ...
    ValueError: key 'a' is given twice in one object
    """
    doc = dict(pairs)
    if len(doc) < len(pairs):
        seen = set()
        twice = next(k for k, _ in pairs if k in seen or seen.add(k))
        raise ValueError(f"key {show(twice)} is given twice in one object")
    return doc


def _no_constant(token: str):
    """JSON's NaN, Infinity and -Infinity are not JSON: refuse them."""
    raise ValueError(f"{token} is not a JSON number")


def check_depth(doc, field: str = "file", label: str = "the document", limit: int = MAX_DEPTH) -> None:
    """Raise InputError when tables and lists nest more than ``limit`` deep (iterative walk).

    >>> check_depth({"a": {"b": [1]}}, limit=3)
    >>> check_depth({"a": {"b": [[1]]}}, limit=3)
    Traceback (most recent call last):
    ...
    magcycle.errors.InputError: file: the document nests tables or lists more than 3 deep
    """
    stack = [(doc, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            raise InputError(field, f"{label} nests tables or lists more than {limit} deep")
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
