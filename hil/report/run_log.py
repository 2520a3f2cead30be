"""Where `hil run` keeps its JSON Lines log, and the lock that keeps runs apart.

Every run writes a log of its own, ``<build-dir>/results/<board>-<model>-<UTC
time>.jsonl``; ``<board>-<model>-latest.jsonl`` is a symlink to the newest,
which ``--resume`` without ``--log`` continues. A build directory holds one run
at a time (an flock on ``<build-dir>/run.lock``), so two runs never write into
the same images, logs or results.
"""

from __future__ import annotations

import fcntl
import os
import time
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Iterator

from hil.errors import ConfigError

LOCK_NAME = "run.lock"


def results_dir(build_root: Path) -> Path:
    return build_root / "results"


def latest_link(build_root: Path, board: str, model: str) -> Path:
    return results_dir(build_root) / f"{board}-{model}-latest.jsonl"


def new_log_path(build_root: Path, board: str, model: str, now: float | None = None) -> Path:
    """A log name no earlier run used (call it holding the build directory's lock)."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() if now is None else now))
    base = results_dir(build_root) / f"{board}-{model}-{stamp}"
    path, n = base.with_name(base.name + ".jsonl"), 1
    while os.path.lexists(path):  # two runs within one second
        n += 1
        # "_002" sorts after the bare name and before "_010": names sort in run order.
        path = base.with_name(f"{base.name}_{n:03d}.jsonl")
    return path


def point_latest(build_root: Path, board: str, model: str, log: Path) -> None:
    """Make the latest link name ``log``; replaced atomically, so it is never missing."""
    link = latest_link(build_root, board, model)
    tmp = link.with_name(f".{link.name}.{os.getpid()}.tmp")
    with suppress(FileNotFoundError):
        os.unlink(tmp)
    try:
        os.symlink(log.name, tmp)  # relative: the build directory can be moved
        os.replace(tmp, link)
    except OSError as exc:
        with suppress(FileNotFoundError):
            os.unlink(tmp)
        raise ConfigError(
            f"cannot point {link} at {log.name}: {exc.strerror or exc}",
            hint=f"remove {link}; hil keeps it as a link to the latest log",
        ) from None


def latest_log(build_root: Path, board: str, model: str) -> Path:
    """The log the latest run of ``model`` on ``board`` wrote; ConfigError if none."""
    link = latest_link(build_root, board, model)
    if not link.exists():
        raise ConfigError(
            f"--resume: no earlier run of {model} on {board} in {results_dir(build_root)}",
            hint="run once without --resume, or pass the log with --log",
        )
    return Path(os.path.realpath(link))


@contextmanager
def build_dir_lock(build_root: Path) -> Iterator[None]:
    """Hold ``build_root`` for this run; a second run gets a ConfigError naming our pid."""
    build_root.mkdir(parents=True, exist_ok=True)
    path = build_root / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        raise ConfigError(
            f"build directory {build_root} is in use by another hil run (pid {holder})",
            hint="wait for that run to finish, or give this one another --build-dir",
        ) from None
    try:
        # The file stays (removing it would race a run that just opened it); the lock
        # is the flock, released when the descriptor closes, also when the process dies.
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)
