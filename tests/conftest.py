import os
import sys

# tests import their helpers (reference.py, netutil.py) by module name
sys.path.insert(0, os.path.dirname(__file__))
# the NEST references of ../shared/reference; a copy is kept in tests/data/shared_reference
# for clones made without the shared folder beside them
REFERENCE_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "reference")
if not os.path.isdir(REFERENCE_DIR):
    REFERENCE_DIR = os.path.join(os.path.dirname(__file__), "data", "shared_reference")
