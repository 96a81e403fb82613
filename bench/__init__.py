"""Benchmarks and measurements: each prints figures (docs/testing.md, "Benchmarks"; BENCHMARKS.md);
none is imported at run time."""
