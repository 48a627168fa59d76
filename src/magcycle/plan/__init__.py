"""magcycle.plan: campaign planning, STN scheduling and sequencing on one MILP layer (HiGHS)."""

from magcycle.plan.milp import Infeasible, Model, Solution

__all__ = ["Model", "Solution", "Infeasible"]
