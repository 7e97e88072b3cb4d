"""Events and solidarity calendar service."""

__version__ = "0.1.0"
