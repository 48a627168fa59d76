"""The unit-operation contract: ``run`` closes the balance, ``design`` sizes, ``cost`` prices.

Every unit declares its inlet and outlet ports and its parameters as a
pydantic model (``Params``, a :class:`UnitParams`): type, unit, range,
default and meaning of each, with the source of the default where it comes
from one. Parameters are validated when the unit is built, so a bad value
is reported once, as ``units.NAME.PARAM: reason``; ``magcycle units show
TYPE`` and the flowsheet reference page are generated from the same
models.

``run(inlets)`` returns a :class:`UnitResult`: outlet streams, the reagents
the unit draws from outside [mol/h of each species] and utilities. The
element balance inlets + reagents = outlets is checked on every run; a unit
that loses more than ``UNIT_CLOSURE_LIMIT`` of any element raises
:class:`~magcycle.errors.MassBalanceError` instead of answering. The
equipment sizes (``design``) and purchase cost (``cost``) are computed once,
with that check (:meth:`UnitOperation.complete`), and carried on the result:
``result.design`` and ``result.cost``. A recycle completes its units once,
on the pass it converges on.

``run_steps(inlets)`` is ``run`` as a step generator: a unit that needs
cascades solved (the SX cut) yields each (CascadeSpec, warm start) and is
sent its result, so that a driver may solve many plants' cascades together
(:mod:`magcycle.sx.lockstep`); ``run`` solves each one alone.

``cost(design)`` uses the power law C = C0 (S/S0)^n on one size variable
(:func:`power_law_cost`), in US dollars of ``COST_YEAR`` at the Chemical
Engineering Plant Cost Index ``COST_INDEX``; the coefficients are
order-of-magnitude factored-estimate values ([C]) for screening studies.
Every cost carries its basis: the correlation, year and index, the size
and the size range the correlation is meant for, and the installation
factor.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar, Mapping

from magcycle.errors import InputError, MassBalanceError
from magcycle.schema import Strict, validate
from magcycle.units.stream import Stream, closure, element_totals

__all__ = ["UNIT_CLOSURE_LIMIT", "COST_YEAR", "COST_INDEX", "INSTALLATION_FACTOR", "UnitParams", "UnitResult",
           "UnitOperation", "power_law_cost", "no_equipment"]

#: relative element closure every unit must achieve (the project-wide limit)
UNIT_CLOSURE_LIMIT = 1e-9

#: year of the purchase-cost basis
COST_YEAR = 2024
#: [C] Chemical Engineering Plant Cost Index of COST_YEAR (annual average, about 800)
COST_INDEX = 800.0
#: installed / delivered equipment cost: 1 + 0.47, the installation share of delivered equipment of
#: a fluid-processing plant (Peters, Timmerhaus & West, Plant Design and Economics for Chemical
#: Engineers, 5th ed., 2003, table 6-9); a plant average, not specific to any one item
INSTALLATION_FACTOR = 1.47


class UnitParams(Strict):
    """Base of every unit type's parameter model (strict, frozen, unknown keys refused)."""


@dataclass
class UnitResult:
    outlets: dict[str, Stream]
    reagents: dict[str, float] = field(default_factory=dict)  # species -> mol/h drawn from outside
    utilities: dict[str, float] = field(default_factory=dict)  # e.g. electricity_kW
    info: dict[str, Any] = field(default_factory=dict)
    closure: float = 0.0
    design: dict[str, float] | None = None  # equipment sizes, set once by UnitOperation.complete
    cost: dict[str, Any] | None = None  # purchase cost and its basis, set once with the design


class UnitOperation(ABC):
    """Base class: subclasses set the class attributes and implement ``_run``."""

    type_name: ClassVar[str] = ""
    #: one line on what the unit does (``magcycle units list``)
    summary: ClassVar[str] = ""
    inlets: ClassVar[tuple[str, ...]] = ()
    optional_inlets: ClassVar[tuple[str, ...]] = ()
    outlets: ClassVar[tuple[str, ...]] = ()
    #: the unit type's parameters: a UnitParams model
    Params: ClassVar[type[UnitParams]] = UnitParams

    def __init__(self, name: str, **params):
        self.name = name
        self.params = validate(self.Params, params, prefix=f"units.{name}")
        self.p = self.params.model_dump(exclude={"type"})
        self._setup()

    @classmethod
    def from_params(cls, name: str, params: UnitParams) -> "UnitOperation":
        """A unit from parameters already validated by its ``Params`` (or a flowsheet's unit
        table of its type); the constructor of subclasses runs as usual."""
        unit = cls.__new__(cls)
        UnitOperation._adopt(unit, name, params)
        unit._setup()
        return unit

    def _adopt(self, name: str, params: UnitParams) -> None:
        self.name = name
        self.params = params
        self.p = params.model_dump(exclude={"type"})

    def _setup(self) -> None:
        """What a unit type derives from its parameters once (the SX cut's extractabilities)."""

    # ------------------------------------------------------------- contract
    def run(self, inlets: Mapping[str, Stream], state: dict | None = None, *,
            check: bool = True) -> UnitResult:
        """Outlets, reagents and utilities for ``inlets``; element balance checked.

        ``check=False`` leaves the check to the caller (:meth:`check_closure`
        on the same inlets): a recycle checks each unit once, on the pass it
        converges on, not on every trial pass it discards.
        """
        from magcycle.sx.lockstep import drive

        return drive(self.run_steps(inlets, state, check=check))

    def run_steps(self, inlets: Mapping[str, Stream], state: dict | None = None, *, check: bool = True):
        """:meth:`run` as a step generator (:mod:`magcycle.sx.lockstep`): yields each
        (CascadeSpec, warm start) the unit needs solved, is sent its CascadeResult, and
        returns the UnitResult."""
        missing = [p for p in self.inlets if p not in inlets]
        if missing:
            raise InputError(f"units.{self.name}.{missing[0]}", "inlet is not connected")
        res = yield from self._run_steps(inlets, state if state is not None else {})
        if check:
            self.complete(inlets, res)
        return res

    def _run_steps(self, inlets: Mapping[str, Stream], state: dict):
        """A unit that solves cascades overrides this step generator; the others answer at once."""
        return self._run(inlets, state)
        yield  # never reached: it makes this function a generator

    def holds(self, result: UnitResult, state: dict) -> bool:
        """Whether a design fixed on an earlier pass still meets the unit's own requirements on
        the converged ``result`` (a plant designed for its steady state designs again the units
        that answer False, :meth:`release`). Units with nothing designed hold."""
        return True

    def release(self, state: dict) -> None:
        """Forget the design kept in ``state`` so that the next run designs the unit again."""

    def complete(self, inlets: Mapping[str, Stream], res: UnitResult) -> UnitResult:
        """Checks the element balance of ``res`` (:meth:`check_closure`), then sizes and prices
        the equipment once: ``res.design`` and ``res.cost``."""
        self.check_closure(inlets, res)
        res.design = self.design(res)
        res.cost = self.cost(res.design)
        return res

    def check_closure(self, inlets: Mapping[str, Stream], res: UnitResult) -> float:
        """Sets ``res.closure``, the largest relative element closure error of the unit (inlets
        and reagents against outlets); raises MassBalanceError above UNIT_CLOSURE_LIMIT."""
        inflow = element_totals(list(inlets.values()) + [res.reagents])
        outflow = element_totals(res.outlets.values())
        per_element = closure(inflow, outflow)
        err = max(per_element.values(), default=0.0)
        res.closure = err
        if not err <= UNIT_CLOSURE_LIMIT:
            worst = max(per_element.items(), key=lambda kv: kv[1])
            raise MassBalanceError(f"unit {self.name} ({self.type_name}) loses {worst[0]}: relative "
                                   f"closure {worst[1]:.2e}", err)
        return err

    @abstractmethod
    def _run(self, inlets: Mapping[str, Stream], state: dict) -> UnitResult:
        """Outlets, reagents and utilities of one unit type (its module docstring has the equations)."""

    def design(self, result: UnitResult) -> dict[str, float]:
        """Equipment sizes; subclasses add theirs."""
        return {}

    def cost(self, design: Mapping[str, float]) -> dict[str, Any]:
        """Purchase cost [USD of COST_YEAR] with its basis."""
        return no_equipment()


def no_equipment(basis: str = "no equipment") -> dict[str, Any]:
    """The cost of a unit with nothing to buy (a mixer of pipes, a bypassed cut)."""
    return {"purchase_usd": 0.0, "basis": basis, "year": COST_YEAR, "cost_index": COST_INDEX}


def power_law_cost(size: float, base_size: float, base_cost: float, exponent: float, basis: str,
                   count: int = 1, size_unit: str = "", valid: tuple[float, float] | None = None) -> dict[str, Any]:
    """Purchase cost by the power law of one size variable [USD of COST_YEAR].

        C = count * C0 (S / S0)^n,   S clipped below at 0.05 S0 (no zero-size equipment)

    Parameters
    ----------
    size : float
        S, the size of one item [``size_unit``].
    base_size, base_cost, exponent : float
        S0 [``size_unit``], C0 [USD of COST_YEAR at COST_INDEX] and n [-] of the correlation
        (n = 0.6: the six-tenths rule, Williams, Chem. Eng. 54 (1947) 124).
    basis : str
        The correlation in words, with its confidence tag.
    count : int
        Identical items (mixer-settler stages).
    size_unit : str
        Unit of S.
    valid : (float, float), optional
        Sizes the correlation is meant for [``size_unit``]; default S0/10 to 10 S0 ([C] the
        usual reach of a six-tenths extrapolation).

    Returns
    -------
    dict
        ``purchase_usd``, and the basis: ``basis``, ``year``, ``cost_index``, ``size``,
        ``size_unit``, ``valid_size``, ``size_in_range`` and ``installation_factor``.

    Examples
    --------
    >>> c = power_law_cost(20.0, 10.0, 100_000.0, 0.6, "[C] tank", size_unit="m3")
    >>> round(c["purchase_usd"], 2), c["size_in_range"]     # 1e5 * 2^0.6
    (151571.66, True)
    """
    lo, hi = valid if valid is not None else (base_size / 10.0, base_size * 10.0)
    s = max(size, 0.05 * base_size)
    return {"purchase_usd": count * base_cost * (s / base_size) ** exponent, "basis": basis,
            "year": COST_YEAR, "cost_index": COST_INDEX, "size": size, "size_unit": size_unit,
            "valid_size": [lo, hi], "size_in_range": bool(lo <= size <= hi),
            "installation_factor": INSTALLATION_FACTOR}
