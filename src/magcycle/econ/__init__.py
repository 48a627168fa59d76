"""magcycle.econ: feasibility economics and carbon footprint of a simulated plant.

>>> from magcycle.econ.dcf import npv, irr
>>> round(irr([-100.0, 60.0, 60.0]), 6)
0.130662
"""

from magcycle.econ.dcf import cash_flow, depreciation, irr, npv, payback_years
from magcycle.econ.tea import TEAResult, assumptions, default_assumptions, techno_economics

__all__ = ["techno_economics", "assumptions", "default_assumptions", "TEAResult", "npv", "irr", "cash_flow",
           "depreciation", "payback_years"]
