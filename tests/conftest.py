"""Test session wiring: database fixtures for SQLite and PostgreSQL."""

pytest_plugins = ["tests.conftest_db"]
