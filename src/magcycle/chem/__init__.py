"""magcycle.chem: elements, molar masses, oxides and units at the edges.

The bottom layer of magcycle. It imports only the standard library (numpy is
imported lazily, on the first array conversion), so ``import magcycle.chem``
is cheap enough for every Monte Carlo worker.

* :mod:`magcycle.chem.elements` -- ``MOLAR_MASS`` [g/mol] (IUPAC CIAAW 2021),
  ``RARE_EARTHS``, symbol validation.
* :mod:`magcycle.chem.oxides` -- oxides formed by calcination in air
  (RE2O3, CeO2, Pr6O11, Tb4O7) and metal/oxide mass factors.
* :mod:`magcycle.chem.sulfate` -- rare-earth sulfate solubility against
  temperature and the sodium double sulfate of sulfate liquors.
* :mod:`magcycle.chem.quantities` -- g/L <-> mol/L and ``parse_quantity`` for
  unit strings such as ``"250 L/h"`` or ``"36 g/L"``.

>>> from magcycle.chem import MOLAR_MASS, metal_to_oxide_factor, parse_quantity
>>> MOLAR_MASS["Nd"]
144.242
>>> round(metal_to_oxide_factor("Nd"), 4)
1.1664
>>> parse_quantity("2 m3/h", "volumetric_flow", field="feed.flow")
2000.0
"""

from magcycle.chem.elements import (
    MOLAR_MASS,
    RARE_EARTHS,
    check_any_element,
    check_element,
    is_rare_earth,
    molar_mass,
)
from magcycle.chem.oxides import (
    OXIDE_FORMULA,
    metal_to_oxide_factor,
    oxide_formula,
    oxide_to_metal_factor,
)
from magcycle.chem.quantities import (
    QUANTITY_KINDS,
    g_per_L_to_mol_per_L,
    mol_per_L_to_g_per_L,
    parse_quantity,
)
from magcycle.chem.sulfate import double_sulfate_precipitated, sulfate_solubility

__all__ = [
    "MOLAR_MASS",
    "RARE_EARTHS",
    "is_rare_earth",
    "molar_mass",
    "check_element",
    "check_any_element",
    "OXIDE_FORMULA",
    "oxide_formula",
    "metal_to_oxide_factor",
    "oxide_to_metal_factor",
    "g_per_L_to_mol_per_L",
    "mol_per_L_to_g_per_L",
    "parse_quantity",
    "QUANTITY_KINDS",
    "sulfate_solubility",
    "double_sulfate_precipitated",
]
