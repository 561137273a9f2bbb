import os
import sys

# tests import their helpers (reference.py, netutil.py) by module name
sys.path.insert(0, os.path.dirname(__file__))
REFERENCE_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "reference")
