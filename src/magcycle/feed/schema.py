"""The assay document (TOML, or CSV with the same content) as a declared schema: ``magcycle schema assay``.

A user assay describes one lot of scrap::

    name = "lot 8"
    rate = "50 kg/h"              # optional; honoured, "1200 t/y" uses the plant's hours
    moisture_wt_pct = 12          # optional, wet basis
    [composition]                 # wt %, dry basis, summing to 100 +/- 0.5
    Nd = 30
    Fe = 70

A CSV assay has the header ``element,wt_pct`` and one row per element; it
carries the composition only.
"""

from __future__ import annotations

from pydantic import field_validator

from magcycle.errors import InputError
from magcycle.schema import ElementSymbol, MassFlowText, Name, Strict, field

__all__ = ["AssayDocument"]


class AssayDocument(Strict):
    """One lot of magnet scrap: its composition, moisture and (optionally) its rate."""

    name: Name | None = field(None, description="name of the lot (default: the file name)")
    rate: MassFlowText | None = field(
        None, unit="kg/h", description="dry feed rate of the lot, a number in kg/h or a string such as "
                                       "'50 kg/h' or '1200 t/y' (per year: the plant's operating hours); "
                                       "honoured, and an error beside a different --rate")
    moisture_wt_pct: float = field(0.0, unit="wt %", ge=0.0, lt=100.0, description="moisture, wet basis")
    composition: dict[ElementSymbol, float] = field(
        unit="wt %", min_length=1,
        description="dry-basis mass fraction of each element, each 0 or at least 1e-20 wt %, summing to "
                    "100 +/- 0.5 wt %")

    @field_validator("composition", mode="after")
    @classmethod
    def _sums_to_100(cls, comp: dict) -> dict:
        from magcycle.feed.feed import check_composition
        from magcycle.schema import fail

        try:
            return check_composition(comp, "")
        except InputError as exc:
            loc = () if exc.field == "composition" else tuple(p for p in exc.field.split(".") if p)
            raise fail(loc, exc.reason) from None
