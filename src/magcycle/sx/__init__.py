"""magcycle.sx: counter-current solvent-extraction cascades.

Configuration contract: the cascade document, declared in
:mod:`magcycle.sx.schema` (``magcycle schema cascade`` prints its JSON
Schema); result: :class:`magcycle.sx.result.CascadeResult`.

>>> from magcycle.sx import CascadeSpec, solve
>>> spec = CascadeSpec.from_dict({
...     "cascade": {"model": "constant_d", "extraction_stages": 5},
...     "flows": {"organic": 1.0, "feed": 1.0},
...     "feed": {"Nd": 0.1},
...     "model": {"D": {"Nd": 1.2}}})
>>> print(f"{solve(spec).fraction_to_raffinate[0]:.13f}")  # Kremser, e = 1.2, n = 5
0.1007057458670
"""

from magcycle.documents import read_document
from magcycle.sx.spec import CascadeSpec, load_cascade
from magcycle.sx.result import CascadeResult, Outlet
from magcycle.sx.solver import solve
from magcycle.sx.batch import BatchResult, solve_many

__all__ = [
    "BatchResult",
    "CascadeResult",
    "CascadeSpec",
    "Outlet",
    "load_cascade",
    "read_document",
    "solve",
    "solve_many",
]
