"""Command-line interface: ``fmsim reproduce``, ``fmsim simulate``, ``fmsim params``."""
