"""The ``fmsim`` command (:mod:`fmsim.cli.main`), one module per command; each only parses its
input, calls a study, saves and renders the result and prints a summary:

``reproduce`` and ``simulate`` (passive transfer), ``analyze`` (a lab's data), ``power``,
``params``, ``therapies``, ``trial``, ``export sbml | petab``, ``drugs list | show``, ``fit``,
``sensitivity``; ``fmsim --version``, ``fmsim --debug``. :mod:`fmsim.cli.errors` turns every
failure into one line (exit code 2 for a user's mistake).
"""

__all__ = ["main"]
