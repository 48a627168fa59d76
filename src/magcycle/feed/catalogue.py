"""Built-in feedstock classes: nominal assays and ranges [wt %, dry basis].

Every figure carries its source with a confidence tag: [A] read in a
retrieved source (paper, patent or company release), [B] secondary or press
source, or a single source, [C] uncertain (general literature knowledge or
a source that could not be opened), [D] derived by calculation. Iron is the balance of each nominal
assay (the magnets are Nd2Fe14B plus grain-boundary phases), so each
nominal sums to 100 wt %. The ranges bound each element for variability
studies; they are not required to sum to anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

__all__ = ["FEED_ELEMENTS", "FeedClass", "CATALOGUE"]

#: Elements every built-in class reports (zero where absent)
FEED_ELEMENTS = ("Nd", "Pr", "Dy", "Tb", "Gd", "La", "Ce", "Ho", "Sm",
                 "Fe", "B", "Co", "Ni", "Cu", "Al", "Ga", "O", "C")


@dataclass(frozen=True)
class FeedClass:
    """A kind of magnet scrap with nominal assay and ranges [wt %, dry]."""

    key: str
    name: str
    description: str
    nominal: Mapping[str, float]
    ranges: Mapping[str, tuple[float, float]]
    sources: Mapping[str, str]
    moisture_wt_pct: float = 0.0
    moisture_range: tuple[float, float] = (0.0, 0.0)


def _cls(key, name, description, rows, sources, moisture=0.0, moisture_range=(0.0, 0.0)):
    """rows: element -> (nominal, low, high); Fe nominal None = balance."""
    nominal = {el: 0.0 for el in FEED_ELEMENTS}
    ranges = {el: (0.0, 0.0) for el in FEED_ELEMENTS}
    for el, (nom, lo, hi) in rows.items():
        if nom is not None:
            nominal[el] = nom
        ranges[el] = (lo, hi)
    nominal["Fe"] = round(100.0 - sum(v for k, v in nominal.items() if k != "Fe"), 6)
    return FeedClass(key, name, description, MappingProxyType(nominal), MappingProxyType(ranges),
                     MappingProxyType(dict(sources)), moisture, moisture_range)


_BELFQUEH = "[A] Belfqueh et al., J. Rare Earths 41 (2023) 621 (HDD VCM magnets)"
_EBIKE = "[A] Materials 2025, 18, 2946 (nine lots of end-of-life e-bike hub-motor magnets); nominal = mid-range"
_GENERIC = "[B] magnet vendor FAQs (couragemagnet, ymagnet): sintered NdFeB (total RE 29-32.5, Dy 0.6-8, Fe 64-69, B 1.1-1.2, Al 0.3-0.5, Cu 0.05-0.15 wt %)"
_EV = ("[C] suggested EV-traction default, general literature knowledge with no retrieved source (Nd 20-24, "
       "Pr 5-7, Dy 2-8, Tb 0-1.5, Fe 62-66, Co 1-3, Ga 0.1-0.3, Ni coating 0.5-2)")
_WIND = "[A-] Heim & Vander Wal, Minerals 13 (2023) 1274 (Dy about 4 wt % in direct-drive PMG magnets)"
_SWARF = ("[A] Wagner & Allanore, ISIJ Int. 60 (2020) 2339; Saguchi et al., Mater. Trans. 43 (2002) 256 "
          "(O 0.09-5.4 wt %, a modelled range; parent-grade metals)")
_C = "[C] typical level, no retrieved assay"

CATALOGUE: Mapping[str, FeedClass] = MappingProxyType({c.key: c for c in (
    _cls("swarf", "Manufacturing swarf / grinding sludge",
         "Grinding and cutting residue of sintered magnet production: parent-grade metals, "
         "partly oxidised, with coolant (moisture and carbon).",
         {"Nd": (22.0, 20.0, 24.0), "Pr": (6.0, 5.0, 7.0), "Dy": (2.5, 0.6, 8.0), "Tb": (0.3, 0.0, 1.0),
          "Gd": (0.05, 0.0, 0.2), "La": (0.05, 0.0, 0.2), "Ce": (0.1, 0.0, 0.3), "Ho": (0.1, 0.0, 0.3),
          "Sm": (0.0, 0.0, 0.05), "Fe": (None, 55.0, 68.0), "B": (1.0, 0.9, 1.2), "Co": (1.0, 0.0, 3.0),
          "Ni": (0.0, 0.0, 0.1), "Cu": (0.1, 0.05, 0.15), "Al": (0.4, 0.3, 0.5), "Ga": (0.1, 0.0, 0.3),
          "O": (2.5, 0.09, 5.4), "C": (1.5, 0.5, 5.0)},
         {"O": _SWARF, "C": "[C] coolant carbon residue after drying, no retrieved assay; that coolant carbon "
                    "must be removed: [A] Wagner & Allanore, ISIJ Int. 60 (2020) 2339; Saguchi et al., "
                    "Mater. Trans. 43 (2002) 256", "Dy": _GENERIC,
          "Nd": _GENERIC, "Pr": _GENERIC, "Al": _GENERIC, "Cu": _GENERIC, "B": _GENERIC,
          "moisture": "[C] sludge coolant/moisture 10-40 wt %, an assumption with no retrieved source",
          "other": _C},
         moisture=20.0, moisture_range=(10.0, 40.0)),
    _cls("wind", "End-of-life wind-turbine magnets",
         "Sintered magnets from direct-drive permanent-magnet generators, demagnetised, coating intact.",
         {"Nd": (22.5, 21.0, 24.0), "Pr": (6.5, 5.5, 7.5), "Dy": (4.0, 3.0, 6.0), "Tb": (0.5, 0.0, 1.0),
          "Gd": (0.1, 0.0, 0.3), "La": (0.0, 0.0, 0.1), "Ce": (0.05, 0.0, 0.2), "Ho": (0.2, 0.0, 0.5),
          "Sm": (0.0, 0.0, 0.05), "Fe": (None, 62.0, 66.0), "B": (1.0, 0.9, 1.2), "Co": (1.0, 0.0, 2.5),
          "Ni": (0.3, 0.0, 1.0), "Cu": (0.1, 0.05, 0.2), "Al": (0.3, 0.2, 0.5), "Ga": (0.1, 0.0, 0.3),
          "O": (0.3, 0.1, 1.0), "C": (0.05, 0.0, 0.2)},
         {"Dy": _WIND, "Nd": _GENERIC, "Pr": _GENERIC, "B": _GENERIC, "Al": _GENERIC, "Cu": _GENERIC,
          "other": _C}),
    _cls("ev", "EV traction-motor magnets",
         "High-coercivity sintered magnets from traction motors; Ni coating; Dy/Tb-rich grades.",
         {"Nd": (22.0, 20.0, 24.0), "Pr": (6.0, 5.0, 7.0), "Dy": (4.0, 2.0, 8.0), "Tb": (0.8, 0.0, 1.5),
          "Gd": (0.05, 0.0, 0.2), "La": (0.0, 0.0, 0.3), "Ce": (0.05, 0.0, 0.3), "Ho": (0.1, 0.0, 0.5),
          "Sm": (0.0, 0.0, 0.05), "Fe": (None, 62.0, 66.0), "B": (1.0, 0.9, 1.1), "Co": (2.0, 1.0, 3.0),
          "Ni": (1.0, 0.5, 2.0), "Cu": (0.15, 0.05, 0.3), "Al": (0.3, 0.1, 0.5), "Ga": (0.2, 0.1, 0.3),
          "O": (0.2, 0.05, 0.8), "C": (0.05, 0.0, 0.2)},
         {el: _EV for el in ("Nd", "Pr", "Dy", "Tb", "Fe", "B", "Co", "Ni", "Cu", "Ga")} | {"other": _C}),
    _cls("hdd", "Hard-disk-drive magnets",
         "Voice-coil-motor magnets from hard disk drives, Ni-coated, ground under inert gas.",
         {"Nd": (22.8, 21.0, 25.0), "Pr": (3.3, 2.5, 4.5), "Dy": (1.2, 0.5, 2.0), "Tb": (0.0, 0.0, 0.0),
          "Gd": (0.0, 0.0, 0.1), "La": (0.0, 0.0, 0.1), "Ce": (0.0, 0.0, 0.1), "Ho": (0.0, 0.0, 0.1),
          "Sm": (0.0, 0.0, 0.0), "Fe": (None, 60.0, 70.0), "B": (0.9, 0.8, 1.1), "Co": (1.5, 1.0, 3.0),
          "Ni": (0.6, 0.3, 1.5), "Cu": (0.1, 0.0, 0.3), "Al": (0.3, 0.1, 0.5), "Ga": (0.0, 0.0, 0.2),
          "O": (1.0, 0.3, 3.0), "C": (0.05, 0.0, 0.2)},
         {el: _BELFQUEH for el in ("Nd", "Pr", "Dy", "B", "Co", "Ni")}
         | {"Fe": _BELFQUEH + "; published 62.6 wt %, the assay sums to 92.9 wt %, so Fe is taken as the balance",
            "other": _C}),
    _cls("ebike", "E-bike hub-motor magnets",
         "End-of-life e-bike hub-motor magnets: lower Nd, Gd and La substitution, Cu-rich, carbon from "
         "adhesive and coating.",
         {"Nd": (16.0, 15.2, 16.7), "Pr": (4.9, 4.7, 5.1), "Dy": (1.6, 1.3, 2.0), "Tb": (0.0, 0.0, 0.0),
          "Gd": (3.6, 3.2, 4.0), "La": (0.8, 0.5, 1.1), "Ce": (0.15, 0.06, 0.24), "Ho": (0.0, 0.0, 0.0),
          "Sm": (0.2, 0.1, 0.3), "Fe": (None, 51.9, 60.8), "B": (1.9, 1.4, 2.4), "Co": (0.2, 0.1, 0.3),
          "Ni": (0.0, 0.0, 0.0), "Cu": (3.5, 2.5, 4.5), "Al": (0.0, 0.0, 0.0), "Ga": (0.0, 0.0, 0.0),
          "O": (1.8, 0.9, 2.7), "C": (6.8, 4.0, 9.6)},
         {"all": _EBIKE}),
)})
