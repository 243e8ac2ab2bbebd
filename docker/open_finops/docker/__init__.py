"""Open FinOps Stack: docker."""

__version__ = "0.3.0"
