"""Private stand-ins for the special files an output path can be, so tests never write
to the machine's own /dev/stdout or /dev/full: a symlink to /dev/stdout, a mknod'ed
copy of /dev/full and a FIFO in the test's own folder. Shared by
tests/unit/test_output_paths.py and tests/integration/test_output_paths_runs.py."""

from __future__ import annotations

import os
import stat
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest


def regular_file(path: Path) -> Path:
    """A plain file at ``path``: the one kind of target a writer may replace."""
    path.write_text("x")
    return path


@contextmanager
def fifo_reader(path: Path) -> Iterator[list[bytes]]:
    """A FIFO at ``path`` drained by a reader thread; the list holds what arrived.

    The test keeps a writer end open until the end, so the reader sees EOF only
    then: a run that replaced the FIFO instead of writing it shows as nothing read,
    never as a hang."""
    os.mkfifo(path)
    got: list[bytes] = []
    r = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    keeper = os.open(path, os.O_WRONLY)
    os.set_blocking(r, True)

    def drain() -> None:
        chunks = []
        while chunk := os.read(r, 65536):
            chunks.append(chunk)
        got.append(b"".join(chunks))

    reader = threading.Thread(target=drain)
    reader.start()
    try:
        yield got
    finally:
        os.close(keeper)
        reader.join()
        os.close(r)


def stdout_link_in(tmp_path: Path) -> Path:
    """A symlink to /dev/stdout: written through, it lands in the test's captured output."""
    link = tmp_path / "stdout"
    link.symlink_to("/dev/stdout")
    return link


def full_device_in(tmp_path: Path) -> Path:
    """A character device like /dev/full (every write fails with ENOSPC)."""
    path = tmp_path / "full"
    try:
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 7))
    except PermissionError:
        pytest.skip("cannot create a device node here")
    return path


def one_error(err: str, *words: str) -> str:
    lines = err.strip().splitlines()
    errors = [l for l in lines if l.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in err, err
    assert any(l.startswith("hint:") for l in lines), err
    for w in words:
        assert w in errors[0], (w, errors[0])
    return errors[0]
