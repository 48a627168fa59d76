"""The study document of ``magcycle uq`` and ``magcycle design`` as a declared schema: ``magcycle schema study``.

Document shape::

    [study]
    plant = "reference"        # a built-in plant or a flowsheet file; or
    # cascade = "prnd.toml"    # a cascade file (with [targets] for design)
    samples = 1000             # Monte Carlo samples (uq) / samples per candidate (design)
    method = "lhs"             # random | lhs | sobol
    seed = 1
    confidence = 0.95          # of the interval on P(meets spec)
    sobol = 0                  # base samples for Sobol indices (0: none)
    probability = 0.99         # design: required P(meets every spec)

    [parameters]               # name = { distribution = [args] }
    "feed.blend.ev" = { uniform = [0.2, 0.5] }
    "feed.ev.Dy" = { triangular = [2, 4, 8], units = "wt %" }

    [metrics]                  # optional; name = { path, at_least, at_most, kind }
    "NdPr purity" = { path = "products.NdPr oxide.purity", at_least = 0.995 }

What a parameter or metric name may be depends on the subject (a plant or
a cascade): :mod:`magcycle.analysis.plant` and :mod:`magcycle.analysis.cascade`
check them against it.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, model_validator
from pydantic_core import PydanticCustomError

from magcycle.analysis.model import Metric
from magcycle.analysis.parameters import KINDS, Distribution, Parameter, check_distribution
from magcycle.errors import InputError
from magcycle.schema import FileName, Name, StageCount, Strict, fail, field, validate

__all__ = ["MAX_SAMPLES", "StudySection", "ParameterTable", "MetricTable", "StudyDocument", "parse_parameter",
           "parameter_of", "metric_of"]

#: most samples of one study (and base samples of a Sobol design)
MAX_SAMPLES = 10_000_000

_Probability = Annotated[float, Field(gt=0.0, lt=1.0)]
#: a value of a parameter or a metric limit: any number a study means, not 1e308
_Value = Annotated[float, Field(ge=-1e15, le=1e15)]
_Name = Name


def _numbers(value):
    if not isinstance(value, list):
        raise PydanticCustomError("list_of_numbers", "expected a list of numbers such as [1.4, 1.6]")
    return value


_Args = Annotated[list[_Value], Field(min_length=1, max_length=3), BeforeValidator(_numbers)]


class StudySection(Strict):
    """``[study]``: the subject and the settings of the sampling."""

    plant: FileName | None = field(None, description="a built-in plant or a flowsheet file (default: reference)")
    cascade: FileName | None = field(None, description="a cascade file (with [targets] for a design)")
    samples: StageCount = field(1000, unit="samples", ge=1, le=MAX_SAMPLES,
                                description="Monte Carlo samples (uq), or samples per candidate design (design)")
    method: Literal["random", "lhs", "sobol"] = field("lhs", description="sampling of the unit hypercube")
    seed: StageCount = field(0, ge=0, le=2**63 - 1, description="random seed: the same seed, the same numbers")
    confidence: _Probability = field(0.95, unit="-", description="confidence of the interval on P(meets spec)")
    sobol: StageCount = field(0, unit="samples", ge=0, le=MAX_SAMPLES,
                              description="base samples of a Sobol design, N (d + 2) evaluations (0: none)")
    probability: _Probability = field(0.99, unit="-", description="design: required P(meets every spec)")
    chunk: StageCount | None = field(None, unit="samples", ge=1, le=100_000,
                                     description="samples solved together (default: the subject's)")
    max_stages: StageCount | None = field(None, unit="stages", ge=1, le=2000,
                                          description="cascade design: largest extraction + scrub stages")
    stage_factors: list[Annotated[float, Field(ge=0.05, le=20.0)]] | None = field(
        None, min_length=1, max_length=100, description="plant design: the stage factors searched")

    @model_validator(mode="after")
    def _one_subject(self):
        if self.plant is not None and self.cascade is not None:
            raise fail(("cascade",), "give a plant or a cascade, not both")
        return self


class ParameterTable(Strict):
    """One uncertain parameter: exactly one distribution with its arguments."""

    uniform: _Args | None = field(None, description="[low, high]")
    loguniform: _Args | None = field(None, description="[low, high], 0 < low")
    triangular: _Args | None = field(None, description="[low, mode, high]")
    normal: _Args | None = field(None, description="[mean, sd]")
    lognormal: _Args | None = field(None, description="[median, geometric sd > 1]")
    nominal: _Value | None = field(None, description="the nominal value (default: the median)")
    units: Annotated[str, Field(max_length=50)] = field("", description="units of the values")
    source: Annotated[str, Field(max_length=2000)] = field("", description="where the distribution comes from")

    @model_validator(mode="after")
    def _one_distribution(self):
        given = [k for k in KINDS if getattr(self, k) is not None]
        if len(given) != 1:
            raise fail((), f"give exactly one distribution ({', '.join(KINDS)})")
        try:
            check_distribution(given[0], tuple(getattr(self, given[0])), given[0])
        except InputError as exc:
            raise fail((given[0],), exc.reason) from None
        return self

    @property
    def kind(self) -> str:
        return next(k for k in KINDS if getattr(self, k) is not None)


class MetricTable(Strict):
    """One metric: the path of a sample's output and its limits."""

    path: Annotated[str, Field(min_length=1, max_length=500)] = field(description="what the subject reports")
    at_least: _Value | None = field(None, description="the specification's lower limit")
    at_most: _Value | None = field(None, description="the specification's upper limit")
    kind: Literal["value", "pass"] = field("value", description="a number, or pass/fail (1 or 0)")
    units: Annotated[str, Field(max_length=50)] = field("", description="units of the values")


class StudyDocument(Strict):
    """A study: its subject and sampling, its uncertain parameters and its metrics."""

    study: StudySection = field(default_factory=StudySection, description="subject and sampling")
    parameters: dict[_Name, ParameterTable] | None = field(
        None, min_length=1, description="uncertain parameters (default for a plant: the catalogue's feed "
                                        "variability)")
    metrics: dict[_Name, MetricTable] | None = field(None, min_length=1,
                                                     description="metrics (default: the subject's)")


def parameter_of(name: str, table: ParameterTable) -> Parameter:
    """The Parameter a validated ``[parameters]`` entry declares."""
    kind = table.kind
    return Parameter(name, Distribution(kind, tuple(float(x) for x in getattr(table, kind))), table.nominal,
                     table.units, table.source)


def metric_of(name: str, table: MetricTable) -> Metric:
    """The Metric a validated ``[metrics]`` entry declares."""
    return Metric(name, table.path, table.at_least, table.at_most, table.kind, table.units)


def parse_parameter(name: str, value, field: str = "parameters") -> Parameter:
    """A parameter from a study file entry: ``{ uniform = [lo, hi] }``, ``{ normal = [m, sd] }``...

    >>> parse_parameter("flows.organic", {"normal": [2.0, 0.1]}).distribution.describe()
    'normal(2, 0.1)'
    """
    return parameter_of(name, validate(ParameterTable, value, prefix=f"{field}.{name}"))
