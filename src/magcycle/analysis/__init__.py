"""magcycle.analysis: design under uncertainty: parameters and metrics declared once,
seeded Monte Carlo (random, Latin hypercube, Sobol), Sobol indices, probability of
meeting spec with an exact interval, robust design, and executors (serial, local
processes, Dask).

>>> from magcycle.analysis import Model, FunctionProblem
>>> r = Model(FunctionProblem.ishigami()).monte_carlo(64, seed=1, executor="serial")
>>> r.Y.shape
(64, 1)
"""

from magcycle.analysis.cascade import CascadeProblem
from magcycle.analysis.executors import make_executor
from magcycle.analysis.functions import FunctionProblem, ishigami
from magcycle.analysis.model import Metric, Model, MonteCarloResult, SobolResult
from magcycle.analysis.parameters import Distribution, Parameter
from magcycle.analysis.plant import PlantProblem
from magcycle.analysis.robust import robust_cascade_design, robust_plant_design
from magcycle.analysis.sampling import saltelli_samples, unit_samples
from magcycle.analysis.schema import parse_parameter
from magcycle.analysis.stats import clopper_pearson, probability, sobol_indices

__all__ = ["Parameter", "Distribution", "parse_parameter", "Metric", "Model", "MonteCarloResult", "SobolResult",
           "unit_samples", "saltelli_samples", "clopper_pearson", "probability", "sobol_indices",
           "FunctionProblem", "ishigami", "make_executor", "CascadeProblem", "PlantProblem",
           "robust_cascade_design", "robust_plant_design"]
