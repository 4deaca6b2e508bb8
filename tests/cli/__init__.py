"""CLI tests: the `q2c` command against a real server."""
