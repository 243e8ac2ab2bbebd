"""Open FinOps Stack: oci."""

__version__ = "0.3.0"
