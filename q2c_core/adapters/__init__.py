"""Adapters: the outside world behind the app's ports (SQLAlchemy store, ERP/PSA connectors)."""
