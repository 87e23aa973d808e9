"""fmsim."""
