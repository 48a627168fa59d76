"""magcycle.report: the self-contained HTML report of a plant solve."""

from magcycle.report.html import render_report

__all__ = ["render_report"]
