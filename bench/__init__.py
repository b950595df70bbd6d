"""Benchmarks of fastmlp against scikit-learn and PyTorch (see bench/README.md)."""
