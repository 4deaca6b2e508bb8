"""Connectors to downstream systems (ERP, PSA): the interface and its simulator-backed implementation."""
