"""Exception types shared by every magcycle layer.

* :class:`InputError` -- bad user input (specs, CLI arguments, unit strings).
  The CLI prints ``str(e)`` on one line and exits with status 2.
* :class:`ConvergenceError` -- an iterative solve did not converge.
* :class:`MassBalanceError` -- a result failed its element-closure check.

This module imports nothing and is safe to import from any layer.
"""

from __future__ import annotations

__all__ = ["InputError", "ConvergenceError", "MassBalanceError"]


class InputError(ValueError):
    """Bad user input: names the offending field and says what is wrong.

    >>> e = InputError("feed.flow", "not a number: 'abc'")
    >>> str(e)
    "feed.flow: not a number: 'abc'"
    >>> e.field, e.reason
    ('feed.flow', "not a number: 'abc'")
    >>> isinstance(e, ValueError)
    True
    """

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(field, reason)
        self.field = field
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.field}: {self.reason}"


class ConvergenceError(RuntimeError):
    """An iterative solver stopped without meeting its tolerance.

    >>> e = ConvergenceError("recycle loop did not converge", 3.2e-5, 200)
    >>> str(e)
    'recycle loop did not converge (residual 3.200e-05 after 200 iterations)'
    >>> e.residual, e.iterations
    (3.2e-05, 200)
    """

    def __init__(self, message: str, residual: float, iterations: int) -> None:
        super().__init__(message, residual, iterations)
        self.message = message
        self.residual = residual
        self.iterations = iterations

    def __str__(self) -> str:
        return (
            f"{self.message} (residual {self.residual:.3e} "
            f"after {self.iterations} iterations)"
        )


class MassBalanceError(RuntimeError):
    """A solved result does not close its element mass balance.

    ``closure`` is the worst relative closure error found [-].

    >>> e = MassBalanceError("Nd balance does not close", 2.5e-6)
    >>> str(e)
    'Nd balance does not close (closure 2.500e-06)'
    >>> e.closure
    2.5e-06
    """

    def __init__(self, message: str, closure: float) -> None:
        super().__init__(message, closure)
        self.message = message
        self.closure = closure

    def __str__(self) -> str:
        return f"{self.message} (closure {self.closure:.3e})"
