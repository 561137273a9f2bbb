"""Names for numba's compiled code in `perf` profiles: a perf map (/tmp/perf-PID.map).

`perf record` sees numba's kernels as anonymous memory ("[JIT] tid N", raw addresses):
llvmlite's JIT writes no perf map, and kernels loaded from numba's on-disk cache carry
no symbols either. This keeps every object file the JIT loads (``patch``, before
anything is compiled or loaded from the cache) and writes, for each function symbol in
them, its address and size as loaded (``write_map``), which `perf report` reads by
itself. ``main`` runs a script that way and records its steady state:

    python tools/profile/numba_perfmap.py --seconds 6 --delay 20 --out perf.data \
        bench/microcircuit.py --scale 0.25 --t-sim 4000
    perf report -i perf.data --no-children --sort sym

--delay: seconds before recording starts (imports, network build, compilation; the map
is written then, so whatever is compiled later has no name); the script must run for
longer than --delay plus --seconds. Functions inlined into
others are counted in their callers.

Leave NUMBA_ENABLE_PROFILING unset (this needs no help from LLVM's JIT events): code
compiled under it ran the microcircuit 20-30 % slower (2026-12-07; `window_of` and a float
`max` were calls of their own), and numba's on-disk cache keeps that code for later runs
without the variable: delete the checkout's *.nbi/*.nbc after a run with it.
"""
import argparse
import os
import runpy
import struct
import subprocess
import sys
import threading
import time

OBJECTS = []   # the object files the JIT loaded, in order


def elf_functions(data):
    """(name, section index, offset, size, binding) of the function symbols of an ELF64
    object file."""
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    out = []
    for _name, typ, _flags, _addr, off, size, link, _info, _align, entsize in sections:
        if typ != 2:   # SHT_SYMTAB
            continue
        strings = sections[link][4]
        for j in range(size // entsize):
            st_name, st_info, _other, st_shndx, st_value, st_size = struct.unpack_from(
                "<IBBHQQ", data, off + j * entsize)
            if st_info & 0xF != 2:   # STT_FUNC
                continue
            end = data.index(b"\0", strings + st_name)
            out.append((data[strings + st_name:end].decode(), st_shndx, st_value, st_size, st_info >> 4))
    return out


def patch():
    """Keep a copy of every object file numba's JIT loads from now on (compiled, or read
    from the on-disk cache)."""
    from numba.core import codegen
    cls = codegen.JITCodeLibrary
    compiled, cached = cls._object_compiled_hook.__func__, cls._object_getbuffer_hook.__func__

    def on_compiled(klass, ll_module, buf):
        OBJECTS.append(bytes(buf))
        return compiled(klass, ll_module, buf)

    def on_cached(klass, ll_module):
        buf = cached(klass, ll_module)
        if buf:
            OBJECTS.append(bytes(buf))
        return buf
    cls._object_compiled_hook = classmethod(on_compiled)
    cls._object_getbuffer_hook = classmethod(on_cached)


def write_map(path=None):
    """Write the perf map of the functions loaded so far; returns how many it names. A
    section's load address comes from one of its global functions, as the JIT resolves
    it; the others lie at their offsets from it."""
    from numba.core.registry import cpu_target
    engine = cpu_target.target_context.codegen()._engine
    rows = set()
    for obj in OBJECTS:
        funcs = elf_functions(obj)
        base = {}
        for name, sec, off, _size, binding in funcs:
            if sec in base or binding == 0:
                continue
            address = engine.get_function_address(name)
            if address:
                base[sec] = address - off
        rows.update((base[sec] + off, size, name) for name, sec, off, size, _b in funcs if sec in base and size)
    with open(path or f"/tmp/perf-{os.getpid()}.map", "w") as f:
        for address, size, name in sorted(rows):
            f.write(f"{address:x} {size:x} {name}\n")
    return len(rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=5.0, help="how long perf records")
    ap.add_argument("--delay", type=float, default=20.0, help="seconds before recording starts")
    ap.add_argument("--out", default="perf.data")
    ap.add_argument("--frequency", type=int, default=2000, help="samples per second")
    ap.add_argument("script")
    ap.add_argument("args", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    patch()

    def record():
        time.sleep(a.delay)
        n = write_map()
        print(f"numba_perfmap: {n} functions named; recording {a.seconds:g} s", file=sys.stderr)
        subprocess.run(["perf", "record", "-q", "-F", str(a.frequency), "-p", str(os.getpid()), "-o", a.out,
                        "--", "sleep", str(a.seconds)], check=False)
    threading.Thread(target=record, daemon=True).start()
    sys.argv = [a.script] + a.args
    runpy.run_path(a.script, run_name="__main__")


if __name__ == "__main__":
    main()
