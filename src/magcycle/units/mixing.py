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

__all__ = ["Mixer", "SplitterParams", "Splitter"]


class Mixer(UnitOperation):
    type_name = "mixer"
    summary = "sum up to six streams of one phase"
    inlets = ()
    optional_inlets = ("in1", "in2", "in3", "in4", "in5", "in6")
    outlets = ("out",)

    def _run(self, inlets, state):
        streams = [s for s in inlets.values() if s is not None]
        if not streams:
            raise InputError(f"units.{self.name}", "a mixer needs at least one connected inlet")
        phases = {s.phase for s in streams if s.mol_h}
        if len(phases) > 1:
            raise InputError(f"units.{self.name}", f"cannot mix phases {sorted(phases)}")
        flows: dict[str, float] = {}
        for s in streams:
            for k, v in s.mol_h.items():
                flows[k] = flows.get(k, 0.0) + v
        return UnitResult(outlets={"out": Stream(phases.pop() if phases else streams[0].phase, flows)})


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
