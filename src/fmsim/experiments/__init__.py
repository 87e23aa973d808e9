"""In-silico experiments built on the model and the engine."""
