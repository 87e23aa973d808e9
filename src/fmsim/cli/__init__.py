"""Command-line interface: ``fmsim reproduce | simulate | analyze | power | params | therapies |
trial | export``; ``fmsim --version``, ``fmsim --debug``."""
