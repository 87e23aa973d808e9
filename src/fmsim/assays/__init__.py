"""Assays: the measurement procedures a lab or a clinic runs, simulated and analysed with the
same code as real data.

* :mod:`fmsim.assays.von_frey` -- von Frey up-down procedure (Chaplan 1994): simulate the
  filament sequence a lab records and analyse it into a 50% withdrawal threshold (g).
* :mod:`fmsim.assays.dixon` -- Dixon's up-and-down k by maximum likelihood.
* :mod:`fmsim.assays.sudo` -- the simplified up-down method (SUDO, Bonin 2014).
* :mod:`fmsim.assays.clinical` -- clinical instruments of virtual fibromyalgia trials: daily
  pain diary (NRS 0-10) with placebo response, BPI-SF, FIQR, ACR 2016 WPI and SSS.
"""

__all__ = ["clinical", "dixon", "sudo", "von_frey"]
