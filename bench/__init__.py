"""A benchmark harness for b24local: ``python -m bench`` (see docs/benchmarks.md)."""
