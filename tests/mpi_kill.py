"""``eventsim run`` on this process's rank (under mpiexec), committing the output at fixed
simulated times, where the rank given kills itself (SIGKILL) right after its K-th commit:
a rank dying mid-run at a known point, whatever the machine's speed (tests/test_mpi.py).

    mpiexec -n R python tests/mpi_kill.py COMMIT_EVERY_MS KILL_RANK KILL_AT_COMMIT -- ARGS...
"""
import os
import signal
import sys

from eventsim.engine.comm import launched_rank
from eventsim.engine.simulation import Simulation


def main(commit_every, kill_rank, kill_at, args):
    Simulation.__init__.__kwdefaults__["commit_every"] = float(commit_every)
    init = Simulation.__init__
    commits = {"n": 0}

    def patched_init(self, *a, **kw):
        init(self, *a, **kw)

        def after_commit(t):
            commits["n"] += 1
            if launched_rank() == int(kill_rank) and commits["n"] == int(kill_at):
                os.kill(os.getpid(), signal.SIGKILL)
        self.after_commit = after_commit
    Simulation.__init__ = patched_init
    from eventsim.cli import main as cli
    return cli(args)


if __name__ == "__main__":
    sep = sys.argv.index("--")
    sys.exit(main(*sys.argv[1:sep], sys.argv[sep + 1:]))
