"""Open FinOps Stack: aws."""

__version__ = "0.3.0"
