"""Seeded generators of synthetic data with known effects (for examples, tests and diagnosis)."""
