"""The cuda backend's tests run only under numba's CUDA simulator, in their own process
(NUMBA_ENABLE_CUDASIM is read when numba.cuda is first imported): tests/test_cuda_sim.py
starts ``python -m pytest tests/cuda_sim`` with it set. Without it nothing here is collected."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), os.pardir))   # tests/ helpers

if os.environ.get("NUMBA_ENABLE_CUDASIM") != "1":
    collect_ignore_glob = ["test_*.py"]
