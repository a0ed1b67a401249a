"""The project's own benchmarks (run with ``python -m bench.<name>``)."""
