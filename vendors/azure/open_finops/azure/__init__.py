"""Open FinOps Stack: azure."""

__version__ = "0.3.0"
