"""Benchmarks for q2c (see docs/benchmarks.md)."""
