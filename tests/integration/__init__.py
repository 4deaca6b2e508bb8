"""Connector tests against the real simulator process."""
