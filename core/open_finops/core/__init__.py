"""Open FinOps Stack: core."""

__version__ = "0.3.0"
