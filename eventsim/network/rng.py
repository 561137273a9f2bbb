"""Keyed random streams: every draw of network construction comes from a stream
named by the seed and by what it is for, never from a shared, advancing state.

``stream(seed, "conn", projection_index, block)`` always yields the same
generator, whichever thread, process or device asks for it, so a network built
block by block in parallel is byte-for-byte the one built sequentially.
The key scheme is documented in docs/network-construction.md.
"""
from __future__ import annotations

import zlib

import numpy as np

# Neurons (for parameter draws) and targets (or sources, for fixed_outdegree) are
# handled in blocks of this many; each block draws from its own stream. Changing it
# changes every network: it is part of the reproducibility contract.
BLOCK = 1024


def name_key(name: str) -> int:
    """A stable 32-bit integer for a string (CRC-32 of its UTF-8 bytes).

    Python's ``hash`` is salted per process, so it cannot name a stream.
    """
    return zlib.crc32(str(name).encode("utf-8"))


def stream_key(*key) -> tuple:
    """The SeedSequence spawn key for ``key``: strings become :func:`name_key`, ints stay."""
    out = []
    for k in key:
        if isinstance(k, str):
            out.append(name_key(k))
        else:
            k = int(k)
            if k < 0:
                raise ValueError(f"stream key parts must be >= 0, got {k}")
            out.append(k)
    return tuple(out)


def stream(seed: int, *key) -> np.random.Generator:
    """A PCG64 generator seeded by ``SeedSequence(seed, spawn_key=key)``.

    ``key`` parts are non-negative ints or strings (hashed by :func:`name_key`),
    e.g. ``stream(42, "conn", 3, 7)`` for block 7 of projection 3.
    """
    ss = np.random.SeedSequence(int(seed), spawn_key=stream_key(*key))
    return np.random.Generator(np.random.PCG64(ss))


def blocks(n: int, size: int = BLOCK):
    """(block index, start, stop) covering range(n) in blocks of ``size``."""
    for b, start in enumerate(range(0, n, size)):
        yield b, start, min(start + size, n)
