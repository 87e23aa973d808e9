"""Integration of many subjects with scheduled events (doses, infusions, exchange sessions)."""

from fmsim.engine.batch import IntegrationError, SimulationResult, simulate
from fmsim.engine.events import Bolus, Event, Infusion, Removal
from fmsim.engine.run import BACKENDS, run

__all__ = [
    "BACKENDS",
    "run",
    "Bolus",
    "Event",
    "Infusion",
    "IntegrationError",
    "Removal",
    "SimulationResult",
    "simulate",
]
