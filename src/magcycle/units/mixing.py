"""Mixer and splitter.

Mixer: inlets ``in1``..``in6`` (at least one connected, one phase), outlet
``out`` = the sum of the inlets. Splitter: inlet ``in``; outlets ``out1`` =
``fraction`` x in and ``out2`` = the rest, species by species.
"""

from __future__ import annotations

from magcycle.errors import InputError
from magcycle.schema import field
from magcycle.units.base import UnitOperation, UnitParams, UnitResult
from magcycle.units.stream import Stream

__all__ = ["mix", "Mixer", "SplitterParams", "Splitter"]


def mix(inlets, where: str) -> Stream:
    """The sum of the connected ``inlets`` (a mapping of port to Stream or None), of one phase;
    InputError naming ``where`` when none is connected or the phases differ.

    >>> mix({"in1": Stream("aqueous", {"H2O": 1.0}), "in2": Stream("aqueous", {"H2O": 2.0, "Na+": 1.0})},
    ...     "units.m").mol_h["H2O"]
    3.0
    """
    streams = [s for s in inlets.values() if s is not None]
    if not streams:
        raise InputError(where, "needs at least one connected inlet")
    phases = {s.phase for s in streams if s.mol_h}
    if len(phases) > 1:
        raise InputError(where, f"cannot mix phases {sorted(phases)}")
    flows: dict[str, float] = {}
    for s in streams:
        for k, v in s.mol_h.items():
            flows[k] = flows.get(k, 0.0) + v
    return Stream(phases.pop() if phases else streams[0].phase, flows)


class Mixer(UnitOperation):
    type_name = "mixer"
    summary = "sum up to six streams of one phase"
    inlets = ()
    optional_inlets = ("in1", "in2", "in3", "in4", "in5", "in6")
    outlets = ("out",)

    def _run(self, inlets, state):
        return UnitResult(outlets={"out": mix(inlets, f"units.{self.name}")})


class SplitterParams(UnitParams):
    fraction: float = field(0.5, unit="-", ge=0.0, le=1.0, description="share of every species sent to out1")


class Splitter(UnitOperation):
    type_name = "splitter"
    summary = "split a stream in a fixed ratio, species by species (a bleed)"
    inlets = ("in",)
    outlets = ("out1", "out2")
    Params = SplitterParams

    def _run(self, inlets, state):
        s = inlets["in"]
        f = self.p["fraction"]
        a = s.scaled(f)
        b = Stream(s.phase, {k: v - a.get(k) for k, v in s.mol_h.items()})
        return UnitResult(outlets={"out1": a, "out2": b})
