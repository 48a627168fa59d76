"""magcycle.econ: feasibility economics and carbon footprint of a simulated plant.

>>> from magcycle.econ.dcf import npv, irr
>>> round(irr([-100.0, 60.0, 60.0]), 6)
0.130662
"""

from __future__ import annotations

_EXPORTS = {"techno_economics": "magcycle.econ.tea", "assumptions": "magcycle.econ.tea",
            "default_assumptions": "magcycle.econ.tea", "TEAResult": "magcycle.econ.tea",
            "npv": "magcycle.econ.dcf", "irr": "magcycle.econ.dcf", "cash_flow": "magcycle.econ.dcf",
            "depreciation": "magcycle.econ.dcf", "payback_years": "magcycle.econ.dcf"}


def __getattr__(name):
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'magcycle.econ' has no attribute {name!r}")


__all__ = sorted(_EXPORTS)
