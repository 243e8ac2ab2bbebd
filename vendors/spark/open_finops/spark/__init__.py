"""Open FinOps Stack: spark."""

__version__ = "0.3.0"
