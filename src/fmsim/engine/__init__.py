"""Integration of many subjects with scheduled events (doses, infusions, exchange sessions).

``run(model, subjects, y0, times, events, options=SolverOptions(...))`` returns a
:class:`SimulationResult` (states by name and unit, a :class:`Status` per subject) or raises a
:class:`SimulationError`; see :mod:`fmsim.engine.run`.
"""

from fmsim.engine.events import Bolus, Event, Infusion, Removal
from fmsim.engine.options import SolverOptions
from fmsim.engine.result import SimulationError, SimulationResult, Status
from fmsim.engine.run import BACKENDS, run

__all__ = [
    "BACKENDS",
    "Bolus",
    "Event",
    "Infusion",
    "Removal",
    "SimulationError",
    "SimulationResult",
    "SolverOptions",
    "Status",
    "run",
]
