"""magcycle.flowsheet: plant flowsheets declared in TOML and solved with recycles.

>>> from magcycle.flowsheet import simulate
>>> r = simulate(feed="ev")                      # the built-in reference plant   # doctest: +SKIP
"""

from magcycle.flowsheet.simulation import simulate, simulate_steps
from magcycle.flowsheet.spec import (FlowsheetSpec, builtin_plants, load_flowsheet, parse_flowsheet,
                                     reference_plant_path)

__all__ = ["simulate", "simulate_steps", "builtin_plants", "load_flowsheet", "parse_flowsheet", "FlowsheetSpec",
           "reference_plant_path"]
