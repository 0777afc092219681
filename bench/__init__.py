"""Benchmarks: `make bench` prints their figures as JSON."""
