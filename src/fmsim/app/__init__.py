"""fmsim's web app (``fmsim serve``): the studies of :mod:`fmsim.experiments.studies` behind
forms, for people who do not use a terminal. Built on Shiny for Python; each page lives in
:mod:`fmsim.app.pages` and only turns form fields into a configuration, calls a study and shows
its tables and interactive figures (:mod:`fmsim.report.interactive`). No science of its own."""

from fmsim.app.main import create_app

__all__ = ["create_app"]
