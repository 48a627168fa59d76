"""magcycle.units: unit operations with one contract (run / design / cost).

See :mod:`magcycle.units.base`. ``UNIT_TYPES`` maps the ``type`` of a
flowsheet unit to its class (:mod:`magcycle.units.catalogue`).
"""

from magcycle.units.base import UnitOperation, UnitParams, UnitResult
from magcycle.units.calcine import Calcination
from magcycle.units.effluent import EffluentTreatment
from magcycle.units.catalogue import UNIT_TYPES, UnitTable, describe, unit_table
from magcycle.units.impurity import ImpurityRemoval
from magcycle.units.leach import Leach
from magcycle.units.mixing import Mixer, Splitter
from magcycle.units.oxalate import OxalatePrecipitation
from magcycle.units.pretreat import Pretreatment
from magcycle.units.stream import Stream
from magcycle.units.sx_cascade import SXCascade

__all__ = ["UNIT_TYPES", "UnitTable", "describe", "unit_table", "UnitOperation", "UnitParams", "UnitResult",
           "Stream", "Pretreatment", "Leach", "ImpurityRemoval", "SXCascade", "OxalatePrecipitation",
           "Calcination", "EffluentTreatment", "Mixer", "Splitter"]
