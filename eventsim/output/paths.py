"""Where eventsim may write: output paths checked before anything is built or written.

Rules (README, "Output"): never write over an input (the scenario being run, the file
being analysed); never over an existing output unless the user passed ``--force``
(``force=True``); a path that cannot be written is refused up front with a clear
message (exit 2). A run's output is claimed by an exclusive lock held for the whole
run, so a second run to the same path is refused instead of mixing two runs in one
file.
"""
from __future__ import annotations

import errno
import fcntl
import os
from pathlib import Path

from eventsim.errors import InputError


def same_file(a, b) -> bool:
    """True when the two paths name the same existing file."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def check_target(path, what, *, force=False, inputs=()):
    """InputError unless ``path`` can be written as a new file: not one of ``inputs``
    (always refused), not an existing file unless ``force``, not a folder, in a folder
    that exists or can be created and is writable. ``what`` names it in messages (the
    option, e.g. "--plot")."""
    path = Path(path)
    for src in inputs:
        if src is not None and same_file(path, src):
            raise InputError(f"{what}: {path} is an input of this command ({src}); "
                             f"choose another file name")
    if path.is_dir():
        raise InputError(f"{what}: {path} is a folder; give a file name such as {path / 'out.h5'}")
    if path.exists() and not force:
        raise InputError(f"{what}: {path} exists; pass --force to overwrite it")
    check_folder(path.parent, what)


def check_folder(folder, what):
    """InputError unless ``folder`` exists or can be created, and is writable."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{what}: {folder} exists and is not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{what}: cannot create the folder {folder} "
                         f"({exc.strerror or exc})") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InputError(f"{what}: the folder {folder} is not writable")


def partial_path(path) -> Path:
    path = Path(path)
    return path.with_name(path.name + ".partial")


def checkpoint_path(path) -> Path:
    path = Path(path)
    return path.with_name(path.name + ".ckpt")


def lock_path(path) -> Path:
    path = Path(path)
    return path.with_name(path.name + ".lock")


class OutputClaim:
    """The right to write ``OUT.h5`` (through ``OUT.h5.partial``) for one run.

    Holds an exclusive ``flock`` on ``OUT.h5.lock`` (which records the owner's pid) from
    before the partial file is created until :meth:`release`. A lock file is used rather
    than the partial file itself because HDF5 readers lock the files they open (shared
    flock): a run locking its own partial file would lock out anyone watching it.
    The kernel drops the lock when the process dies, so a killed run leaves a stale lock
    file that the next run simply takes over.
    """

    def __init__(self, path, *, force=False, inputs=(), checkpoint=False, resume=False):
        """``checkpoint``: the run also writes ``OUT.h5.ckpt``. An existing ``OUT.h5.ckpt``
        is refused unless ``force`` (which removes it). ``resume``: continue the run of an
        existing ``OUT.h5.partial`` (which must exist, while ``OUT.h5`` must not)."""
        self.path = Path(path)
        self.partial = partial_path(self.path)
        self.lock = lock_path(self.path)
        self.force = force
        if resume:
            if self.path.exists():
                raise InputError(f"resume: {self.path} exists: that run is complete")
            if not self.partial.is_file():
                raise InputError(f"resume: {self.partial} is missing: nothing to resume")
        else:
            check_target(self.path, "output", force=force, inputs=inputs)
        for p in (self.partial, self.lock, checkpoint_path(self.path)):
            if p.is_dir():
                raise InputError(f"output: {p} is a folder; choose another output name")
        self._fd = None
        self._acquire()
        if resume:
            return
        if self.partial.exists() and not force:
            self.release()
            raise InputError(f"output: {self.partial} exists (left by an interrupted run); "
                             f"pass --force to replace it, or continue it with eventsim resume "
                             f"{self.partial} if it was run with checkpoints")
        # a checkpoint beside the output belongs to the run that wrote it: never left
        # next to another run's file, where resume would take it for this run's
        ckpt = checkpoint_path(self.path)
        if ckpt.exists():
            if not force:
                self.release()
                raise InputError(f"output: {ckpt} exists (the checkpoint of an earlier run); pass "
                                 f"--force to replace it{'' if checkpoint else ' (it is removed)'}")
            try:
                ckpt.unlink()
            except OSError as exc:
                self.release()
                raise InputError(f"output: cannot remove {ckpt} ({exc.strerror or exc})") from None

    def _acquire(self):
        for _ in range(10):   # the owner may remove the lock file between our open and flock
            try:
                fd = os.open(self.lock, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:
                raise InputError(f"output: cannot create the lock file {self.lock} "
                                 f"({exc.strerror or exc})") from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                owner = os.read(fd, 64).decode(errors="replace").strip()
                os.close(fd)
                if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    raise InputError(f"output: another eventsim run{f' (pid {owner})' if owner else ''} "
                                     f"is writing {self.path}; wait for it to end or choose "
                                     f"another output file") from None
                raise InputError(f"output: cannot lock {self.lock} ({exc.strerror or exc})") from None
            try:
                same = os.fstat(fd).st_ino == os.stat(self.lock).st_ino
            except FileNotFoundError:
                same = False
            if same:
                os.ftruncate(fd, 0)
                os.write(fd, str(os.getpid()).encode())
                self._fd = fd
                return
            os.close(fd)       # we locked a lock file that its owner had just removed
        raise InputError(f"output: could not lock {self.lock}")

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self):
        """Remove the lock file and drop the lock (removing first, while holding it, so
        that a waiting run never takes a lock on a file that is being removed)."""
        if self._fd is None:
            return
        try:
            os.unlink(self.lock)
        except OSError:
            pass
        os.close(self._fd)
        self._fd = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.release()
