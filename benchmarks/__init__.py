"""Side-by-side benchmarks (outside the installed package): ``python -m benchmarks.bench``."""
