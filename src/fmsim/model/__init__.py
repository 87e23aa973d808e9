"""The mechanistic model: equations, parameters and the FcRn quasi-steady-state solver.

Everything that defines the biology lives here, in one place:

* :mod:`fmsim.model.fcrn` -- free endosomal FcRn at quasi-steady state (competitive, saturable).
* :mod:`fmsim.model.equations` -- state layout and the right-hand side of the ODE system.
* :mod:`fmsim.model.readouts` -- from model states to behavioural readouts.
* :mod:`fmsim.model.parameters` -- sourced parameter files and virtual-animal sampling.
"""
