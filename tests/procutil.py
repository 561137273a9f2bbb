"""Child processes that a test pauses at known points (tests/paused_run.py) and observes
itself: stops (SIGSTOP), exits and signals, without timing anything."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

PAUSED_RUN = Path(__file__).parent / "paused_run.py"
HANG_GUARD_S = 900.0    # only against a hung child; no check is timed


_SYS_TGKILL = {"x86_64": 234, "aarch64": 131, "arm64": 131}


def signal_main_thread(pid, sig):
    """Send ``sig`` to the main thread of process ``pid`` (tgkill), not to the process:
    a process-directed signal may be handed to any of its threads (OpenBLAS and OpenMP
    start some), whose handler then runs while the main thread goes on for a while;
    the main thread takes a thread-directed one before it runs another line."""
    import ctypes
    number = _SYS_TGKILL.get(os.uname().machine)
    if number is None:
        os.kill(pid, sig)
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.syscall(number, pid, pid, int(sig)) != 0:
        raise OSError(ctypes.get_errno(), f"tgkill({pid}, {sig})")


def paused_cli(scenario, out, *points, commit_every=10.0, args=()):
    """argv of the real CLI running ``scenario`` into ``out``, with pause points."""
    return [sys.executable, str(PAUSED_RUN), "--commit-every", str(commit_every), *points,
            "--", "run", str(scenario), "-o", str(out), "--quiet", *args]


def wait(pid):
    """Wait until the child stops (SIGSTOP) or ends: ("stopped", sig) / ("exited", code) /
    ("signaled", sig). A child that ended is reaped here."""
    deadline = time.monotonic() + HANG_GUARD_S
    while time.monotonic() < deadline:
        got, status = os.waitpid(pid, os.WNOHANG | os.WUNTRACED)
        if got:
            if os.WIFSTOPPED(status):
                return "stopped", os.WSTOPSIG(status)
            if os.WIFEXITED(status):
                return "exited", os.WEXITSTATUS(status)
            return "signaled", os.WTERMSIG(status)
        time.sleep(0.01)
    os.kill(pid, signal.SIGKILL)
    pytest.fail(f"child {pid} hung for {HANG_GUARD_S} s")


class Child:
    """A paused_run.py process whose stops and end the test observes itself (not Popen's
    wait: reaping here would make Popen report exit code 0)."""

    def __init__(self, argv, tmp_path, name):
        self.report = Path(tmp_path) / f"{name}.points"
        self.stderr_path = Path(tmp_path) / f"{name}.stderr"
        argv = argv[:2] + ["--report", str(self.report)] + argv[2:]
        with open(self.stderr_path, "w") as err:
            self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err)
        self.pid = self.proc.pid
        self.ended = None

    def wait(self):
        state = wait(self.pid)
        if state[0] != "stopped":
            self.ended = state
        return state

    def points(self):
        """The pause points reached so far: [(kind, k, t)]."""
        if not self.report.exists():
            return []
        return [(kind, int(k), float(t)) for kind, k, t in
                (line.split() for line in self.report.read_text().splitlines())]

    @property
    def stderr(self):
        return self.stderr_path.read_text()

    def kill(self):
        if self.ended is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.kill(self.pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
            self.ended = wait(self.pid)
