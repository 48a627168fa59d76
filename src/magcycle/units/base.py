"""The unit-operation contract: ``run`` closes the balance, ``design`` sizes, ``cost`` prices.

Every unit declares its inlet and outlet ports and its parameters with
defaults; parameters are validated when the unit is built, so a bad value
is reported once, as ``units.NAME.PARAM: reason``.

``run(inlets)`` returns a :class:`UnitResult`: outlet streams, the reagents
the unit draws from outside [mol/h of each species] and utilities. The
element balance inlets + reagents = outlets is checked on every run; a unit
that loses more than ``UNIT_CLOSURE_LIMIT`` of any element raises
:class:`~magcycle.errors.MassBalanceError` instead of answering.

``run_steps(inlets)`` is ``run`` as a step generator: a unit that needs
cascades solved (the SX cut) yields each (CascadeSpec, warm start) and is
sent its result, so that a driver may solve many plants' cascades together
(:mod:`magcycle.sx.lockstep`); ``run`` solves each one alone.

``cost(design)`` uses the power law C = C0 (S/S0)^n on one size variable, in
US dollars of the stated year; the coefficients are order-of-magnitude
factored-estimate values ([C]) meant for screening studies, and every unit
states its basis.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Mapping

from magcycle.errors import InputError, MassBalanceError
from magcycle.units.stream import Stream, closure, element_totals

#: relative element closure every unit must achieve (the project-wide limit)
UNIT_CLOSURE_LIMIT = 1e-9

#: year of the purchase-cost basis
COST_YEAR = 2024


@dataclass
class UnitResult:
    outlets: dict[str, Stream]
    reagents: dict[str, float] = field(default_factory=dict)  # species -> mol/h drawn from outside
    utilities: dict[str, float] = field(default_factory=dict)  # e.g. electricity_kW
    info: dict[str, Any] = field(default_factory=dict)
    closure: float = 0.0


# --------------------------------------------------------------- validators
def number(lo=None, hi=None, lo_open=False, hi_open=False):
    def check(v, field):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise InputError(field, f"expected a finite number, got {v!r}")
        if lo is not None and (v < lo or (lo_open and v == lo)):
            raise InputError(field, f"must be {'>' if lo_open else '>='} {lo}, got {v!r}")
        if hi is not None and (v > hi or (hi_open and v == hi)):
            raise InputError(field, f"must be {'<' if hi_open else '<='} {hi}, got {v!r}")
        return float(v)
    return check


def boolean(v, field):
    if not isinstance(v, bool):
        raise InputError(field, f"expected true or false, got {v!r}")
    return v


def choice(*options):
    def check(v, field):
        if v not in options:
            raise InputError(field, f"expected one of {', '.join(map(str, options))}, got {v!r}")
        return v
    return check


def fractions_by_element(v, field):
    from magcycle.chem.elements import check_any_element
    if not isinstance(v, Mapping):
        raise InputError(field, "expected a table of element = fraction")
    out = {}
    for el, x in v.items():
        sym = check_any_element(el, f"{field}.{el}")
        out[sym] = number(0.0, 1.0)(x, f"{field}.{el}")
    return out


def optional(check):
    def inner(v, field):
        return None if v is None else check(v, field)
    return inner


class UnitOperation(ABC):
    """Base class: subclasses set the class attributes and implement ``_run``."""

    type_name: ClassVar[str] = ""
    inlets: ClassVar[tuple[str, ...]] = ()
    optional_inlets: ClassVar[tuple[str, ...]] = ()
    outlets: ClassVar[tuple[str, ...]] = ()
    #: name -> (default, validator(value, field) -> value)
    params: ClassVar[dict[str, tuple[Any, Callable]]] = {}

    def __init__(self, name: str, **params):
        self.name = name
        unknown = set(params) - set(self.params)
        if unknown:
            key = sorted(unknown)[0]
            raise InputError(f"units.{name}.{key}",
                             f"unknown parameter of a {self.type_name} unit; known: {', '.join(self.params)}")
        values = {}
        for key, (default, check) in self.params.items():
            v = params.get(key, default)
            values[key] = check(v, f"units.{name}.{key}") if key in params else _copy(default)
        self.p = values
        self._validate()

    def _validate(self) -> None:
        """Cross-parameter checks of a subclass."""

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
            self.check_closure(inlets, res)
        return res

    def _run_steps(self, inlets: Mapping[str, Stream], state: dict):
        """A unit that solves cascades overrides this step generator; the others answer at once."""
        return self._run(inlets, state)
        yield  # never reached: it makes this function a generator

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
        return {"purchase_usd": 0.0, "basis": "no equipment", "year": COST_YEAR}


def power_law_cost(size: float, base_size: float, base_cost: float, exponent: float, basis: str,
                   count: int = 1) -> dict[str, Any]:
    """C = count * C0 (S/S0)^n [USD]; S is clipped below at 5 % of S0 (no zero-size equipment)."""
    s = max(size, 0.05 * base_size)
    return {"purchase_usd": count * base_cost * (s / base_size) ** exponent, "basis": basis,
            "year": COST_YEAR, "size": size}


def _copy(v):
    return dict(v) if isinstance(v, Mapping) else v
