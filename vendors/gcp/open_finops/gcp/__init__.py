"""Open FinOps Stack: gcp."""

__version__ = "0.3.0"
