"""magcycle: engineering and operations system for NdFeB magnet recycling plants.

Layers (each imports only from those below): chem -> feed -> sx -> units ->
flowsheet -> analysis/econ/plan/trace -> report -> cli/app. See
``shared/design/ARCHITECTURE.md``. Importing the package imports nothing
heavy; import the layer you need (``magcycle.sx``, ``magcycle.chem``).
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
