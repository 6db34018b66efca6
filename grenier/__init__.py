"""Grenier: the software of a territorial cooperative food ecosystem."""

__version__ = "0.1.0"
