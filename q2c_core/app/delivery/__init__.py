"""Outbound delivery of q2c's events to the ERP and PSA: planning, retries, dead letters."""
