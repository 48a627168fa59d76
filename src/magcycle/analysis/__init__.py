"""magcycle.analysis: design under uncertainty: parameters and metrics declared once,
seeded Monte Carlo (random, Latin hypercube, Sobol), Sobol indices, probability of
meeting spec with an exact interval, robust design, and executors (serial, local
processes, Dask).

>>> from magcycle.analysis import Model, FunctionProblem
>>> r = Model(FunctionProblem.ishigami()).monte_carlo(64, seed=1, executor="serial")
>>> r.Y.shape
(64, 1)
"""

from __future__ import annotations

_EXPORTS = {
    "Parameter": "magcycle.analysis.parameters", "Distribution": "magcycle.analysis.parameters",
    "parse_parameter": "magcycle.analysis.parameters",
    "Metric": "magcycle.analysis.model", "Model": "magcycle.analysis.model",
    "MonteCarloResult": "magcycle.analysis.model", "SobolResult": "magcycle.analysis.model",
    "unit_samples": "magcycle.analysis.sampling", "saltelli_samples": "magcycle.analysis.sampling",
    "clopper_pearson": "magcycle.analysis.stats", "probability": "magcycle.analysis.stats",
    "sobol_indices": "magcycle.analysis.stats",
    "FunctionProblem": "magcycle.analysis.functions", "ishigami": "magcycle.analysis.functions",
    "CascadeProblem": "magcycle.analysis.cascade",
    "PlantProblem": "magcycle.analysis.plant",
    "robust_cascade_design": "magcycle.analysis.robust",
    "make_executor": "magcycle.analysis.executors",
}


def __getattr__(name):
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'magcycle.analysis' has no attribute {name!r}")


__all__ = sorted(_EXPORTS)
