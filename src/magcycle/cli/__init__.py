"""magcycle.cli: the command line (``magcycle``, ``python -m magcycle``); see :mod:`magcycle.cli.main`."""

from magcycle.cli.main import build_parser, main

__all__ = ["main", "build_parser"]
