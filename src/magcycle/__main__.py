"""``python -m magcycle``: the same as the ``magcycle`` console script."""

__all__ = []

if __name__ == "__main__":
    import sys

    from magcycle.cli import main

    sys.exit(main())
