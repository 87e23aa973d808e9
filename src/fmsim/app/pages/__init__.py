"""The web app's pages, one module each, defining the page's user interface and its server
logic: ``passive_transfer`` (a scenario's readouts as the controls move), ``lab_data`` (analyse
my data), ``therapies`` (library entries and protocols compared), ``trial`` (trial planner and
power), ``fit`` (the model fitted to reference or lab data) and ``parameters`` (the parameter
table, editable within each range)."""

__all__ = ["fit", "lab_data", "parameters", "passive_transfer", "therapies", "trial"]
