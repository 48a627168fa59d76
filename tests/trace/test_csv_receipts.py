"""Receipts from a CSV file (``magcycle.trace.documents.receipts_from_csv``, the web intake's upload).

Oracles: the receipt files' own model (a row must give exactly the Receipt that the same fields as a document
give), and the rows and fields named by the test for each bad file.
"""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from magcycle.errors import InputError
from magcycle.trace.documents import CSV_COLUMNS, Receipt, receipts_from_csv

ROWS = [
    {"id": "KR-SW-0001", "supplier": "Example, \"Magnet\" Co.", "category": "swarf", "consumer": "pre",
     "mass": "2.0 t", "received": "2026-03-02", "feed": "swarf", "origin_mined": "AU", "origin_refined": "MY"},
    {"id": "DE-EV-0002", "supplier": "Recycler", "category": "ev", "consumer": "post", "mass": "1500 kg",
     "gross_mass": "1.7 t", "received": "2026-03-03", "feed": "ev"},
]


def to_csv(rows: list[dict], columns=CSV_COLUMNS) -> str:
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=list(columns))
    w.writeheader()
    for r in rows:
        w.writerow({k: r.get(k, "") for k in columns})
    return out.getvalue()


def as_document(row: dict) -> dict:
    doc = {k: v for k, v in row.items() if not k.startswith("origin_")}
    origin = {k[7:]: v for k, v in row.items() if k.startswith("origin_")}
    return doc | ({"origin": origin} if origin else {})


def test_rows_are_the_receipts_their_fields_make():
    got = receipts_from_csv(to_csv(ROWS))
    assert got == [Receipt.model_validate(as_document(r)) for r in ROWS]
    assert got[0].supplier == 'Example, "Magnet" Co.' and got[1].gross_mass == 1700.0
    # columns in any order, blank lines skipped, a byte-order mark is the caller's (utf-8-sig) business
    assert receipts_from_csv(to_csv(ROWS, list(reversed(CSV_COLUMNS))) + "\n\n") == got


@pytest.mark.parametrize("text, field", [
    ("", "columns"),
    ("id,supplier,colour\nA,B,red\n", "columns.colour"),
    ("id,id\nA,B\n", "columns"),
    ("id,supplier,category,consumer,mass,received,feed\n", "rows"),
    ("id,supplier,category,consumer,mass,received,feed\nA,S,swarf,pre,2 t,2026-03-02\n", "row 2"),
    (to_csv([ROWS[0], dict(ROWS[1], mass="-1 t")]), "row 3.mass"),
    (to_csv([dict(ROWS[0], consumer="both")]), "row 2.consumer"),
    (to_csv([dict(ROWS[0], origin_mined="XX")]), "row 2.origin.mined"),
    (to_csv([dict(ROWS[0], received="yesterday")]), "row 2.received"),
    ("id,supplier\n" + "x" * 200_000 + ",y\n", "row 2"),  # a cell beyond the csv module's limit
])
def test_a_bad_file_names_its_row_and_field(text, field):
    with pytest.raises(InputError) as exc:
        receipts_from_csv(text)
    assert exc.value.field == field, (exc.value.field, exc.value.reason)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=400))
def test_random_text_is_receipts_or_one_input_error(text):
    try:
        got = receipts_from_csv(text)
    except InputError as exc:
        assert exc.field and exc.reason
    else:
        assert got and all(isinstance(r, Receipt) for r in got)
