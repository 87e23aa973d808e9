"""The user's input, validated at the boundary (pydantic; one line per mistake, naming the file,
field, value and what was expected).

* :mod:`fmsim.config.errors` -- the hardened YAML reader and :class:`ConfigError`;
  :mod:`~fmsim.config.base` the shared strict schema base; :mod:`~fmsim.config.text` encodings.
* :mod:`fmsim.config.passive_transfer` -- passive-transfer scenarios (``simulate``).
* :mod:`fmsim.config.therapy` -- therapy protocols and the drug files they name.
* :mod:`fmsim.config.trial` -- virtual clinical trials; :mod:`~fmsim.config.fit` fits.
* :mod:`fmsim.config.parameters` -- users' parameter files; :mod:`~fmsim.config.targets`
  validation targets; :mod:`~fmsim.config.quantities` doses with units;
  :mod:`~fmsim.config.limits` memory-based size limits.
"""

from fmsim import lazy_names

#: Public name -> the module that defines it, imported when the name is first used, so that
#: ``from fmsim.config.errors import ConfigError`` does not load the scenario schemas (numpy).
_HOMES = {
    "ConfigError": "fmsim.config.errors",
    "PassiveTransferConfig": "fmsim.config.passive_transfer",
    "default_config": "fmsim.config.passive_transfer",
    "load_config": "fmsim.config.passive_transfer",
}

__all__ = ["ConfigError", "PassiveTransferConfig", "default_config", "load_config"]
__getattr__ = lazy_names(__name__, _HOMES)
