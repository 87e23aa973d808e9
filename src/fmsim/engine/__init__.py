"""Batched integration of many subjects with scheduled dosing events."""

from fmsim.engine.batch import Bolus, SimulationResult, simulate

__all__ = ["Bolus", "SimulationResult", "simulate"]
