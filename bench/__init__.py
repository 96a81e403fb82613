"""Benchmarks and measurements: each prints figures (README, BENCHMARKS.md); none is imported at run time."""
