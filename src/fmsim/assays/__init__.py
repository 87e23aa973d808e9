"""Behavioural assays (simulation and analysis of what a lab records)."""
