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


FINDER_PROBE = r'''
import sys
sys.path.insert(0, sys.argv[1])
import ab_pair
sys.meta_path.insert(0, ab_pair._CheckoutFinder(__import__("pathlib").Path(sys.argv[2])))
import eventsim, eventsim.models.neurons
print(eventsim.WHERE, eventsim.models.neurons.WHERE)
'''


def test_ab_pair_imports_each_checkout_from_its_own_folders(tmp_path):
    """tools/profile/ab_pair.py: a run imports eventsim from the checkout's eventsim/ and
    eventsim.models from its models/ (the package's layout), ahead of the installed one."""
    for sub, tag in (("eventsim", "pkg"), ("models", "models"), ("models/neurons", "neurons")):
        (tmp_path / sub).mkdir(parents=True)
        (tmp_path / sub / "__init__.py").write_text(f"WHERE = {tag!r}\n")
    r = subprocess.run([sys.executable, "-c", FINDER_PROBE, str(ROOT / "tools" / "profile"), str(tmp_path)],
                       capture_output=True, text=True, timeout=HANG_GUARD_S)   # hung child only
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["pkg", "neurons"]


def test_ab_pair_refuses_a_folder_that_is_not_a_checkout(tmp_path):
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "profile" / "ab_pair.py"), "--a", str(tmp_path),
                        "--b", str(ROOT)], capture_output=True, text=True, timeout=HANG_GUARD_S)
    assert r.returncode == 2 and "not a checkout of eventsim" in r.stderr and "Traceback" not in r.stderr


STUB = {   # a checkout whose run gets to the barrier at once (no network, no numba)
    "eventsim/__init__.py": "",
    "eventsim/engine/__init__.py": "",
    "eventsim/engine/simulation.py": "class Simulation:\n    def __init__(self, *a, **k): pass\n"
                                     "    def run(self, t): pass\n",
    "eventsim/network/__init__.py": "",
    "eventsim/network/build.py": "def build_network(sc): return None\n",
    "eventsim/scenario/__init__.py": "import types\ndef load_scenario(*a, **k): return types.SimpleNamespace(seed=1)\n",
    "models/__init__.py": "",
}


def test_ab_pair_stops_both_runs_when_one_fails(tmp_path):
    """Regression: a run that failed before the barrier (here, at import) left the other
    waiting there for ever, and ab_pair with it (it waited for A before looking at B). Now the failure stops both: exit 1, the
    failed run's error shown."""
    good, bad = tmp_path / "good", tmp_path / "bad"
    for root, files in ((good, STUB), (bad, dict(STUB, **{"eventsim/__init__.py": "raise ImportError('broken')\n"}))):
        for rel, text in files.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(text)
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "profile" / "ab_pair.py"), "--a", str(good),
                        "--b", str(bad), "--rounds", "1"], capture_output=True, text=True,
                       timeout=HANG_GUARD_S)   # hung child only
    assert r.returncode == 1, r.stderr
    assert "run B of round 1 failed" in r.stderr and "ImportError: broken" in r.stderr
