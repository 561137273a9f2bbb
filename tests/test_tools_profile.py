"""tools/profile/numba_perfmap.py: perf's names for numba's compiled functions."""
import subprocess
import sys
from pathlib import Path

from procutil import HANG_GUARD_S

ROOT = Path(__file__).resolve().parents[1]

PROBE = r'''
import sys
sys.path.insert(0, sys.argv[1])
import numba_perfmap as pm
pm.patch()   # before numba compiles anything in this process
from numba import njit

@njit
def kernel_to_find(x):
    return x * 3 + 1

assert kernel_to_find(2) == 7
n = pm.write_map(sys.argv[2])
cres = next(iter(kernel_to_find.overloads.values()))
print(n, cres.fndesc.mangled_name, cres.library.get_pointer_to_function(cres.fndesc.llvm_func_name))
'''


def test_perf_map_names_a_compiled_function_at_its_address(tmp_path):
    out = tmp_path / "perf.map"
    r = subprocess.run([sys.executable, "-c", PROBE, str(ROOT / "tools" / "profile"), str(out)],
                       capture_output=True, text=True, timeout=HANG_GUARD_S)   # hung child only
    assert r.returncode == 0, r.stderr
    n, name, address = r.stdout.split()
    rows = [line.split(None, 2) for line in out.read_text().splitlines()]
    assert int(n) == len(rows) > 0
    hits = [(int(a, 16), int(s, 16)) for a, s, sym in rows if sym == name]
    # the function's own symbol, where the JIT put it, with its size
    assert hits and hits[0][0] == int(address) and hits[0][1] > 0
