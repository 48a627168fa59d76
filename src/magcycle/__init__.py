"""magcycle: engineering and operations system for NdFeB magnet recycling plants.

Layers (each imports only from those below): chem -> feed -> sx -> units ->
flowsheet -> analysis/econ/plan/trace -> report -> cli/app. ``chem`` and
``sx`` depend on nothing above them: they are the numerical core that every
Monte Carlo sample calls. Internal units are fixed (mol/h for component
flows, L/h for liquid flows, kg/h for solids, mol/L for concentrations);
unit strings are parsed only at the edges. Every solve checks its mass
closure per element and treats a closure worse than 1e-9 relative as an
error. Importing the package imports nothing heavy; import the layer you
need (``magcycle.sx``, ``magcycle.chem``).
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
