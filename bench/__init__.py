"""Benchmarks: acknowledgment latency, tick cost, render time and memory (`python bench/run.py [--quick]`)."""
