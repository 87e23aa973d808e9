"""Scenario configuration: YAML files validated at the boundary with pydantic."""

from fmsim.config.errors import ConfigError
from fmsim.config.passive_transfer import PassiveTransferConfig, default_config, load_config

__all__ = ["ConfigError", "PassiveTransferConfig", "default_config", "load_config"]
