"""Tests of the cuda backend under numba's CUDA simulator (see conftest.py)."""
