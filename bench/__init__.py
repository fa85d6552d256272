"""Benchmarks: `make bench` runs them and prints JSON figures, each with its in-run baseline."""
