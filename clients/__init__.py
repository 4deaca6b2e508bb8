"""q2c clients: a small Python connection helper, the demo scenario and (later) the CLI."""
