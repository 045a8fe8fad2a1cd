"""Metric library: pure functions from data to one row per person (or unit)."""
