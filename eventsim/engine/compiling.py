"""Compilation apart from simulation.

numba compiles a kernel the first time it is called with new types (a first run, a new
model, a new thread count); afterwards the compiled code comes from its disk cache in
milliseconds. A run watches numba's "numba:compile" events (fired only when something is
really compiled, not for cache loads) so that compile time is shown as such while it
happens and is reported apart: events/s and real-time factors count simulation only.
"""
from __future__ import annotations

import time
from contextlib import contextmanager

import numba.core.event as ev


class CompileWatch(ev.Listener):
    """Seconds spent compiling (outermost compiles only: a kernel compiling the functions
    it calls is one compilation); ``started()``/``ended(seconds)`` callbacks around each."""

    def __init__(self, started=None, ended=None):
        self.seconds = 0.0
        self.count = 0
        self._depth = 0
        self._t0 = 0.0
        self._started, self._ended = started, ended

    def on_start(self, event):
        if self._depth == 0:
            self._t0 = time.perf_counter()
            if self._started is not None:
                self._started()
        self._depth += 1

    def on_end(self, event):
        self._depth -= 1
        if self._depth == 0:
            dt = time.perf_counter() - self._t0
            self.seconds += dt
            self.count += 1
            if self._ended is not None:
                self._ended(dt)


@contextmanager
def watch_compiles(started=None, ended=None):
    """``with watch_compiles() as w: ...``; then ``w.seconds`` were spent compiling."""
    watch = CompileWatch(started, ended)
    with ev.install_listener("numba:compile", watch):
        yield watch
