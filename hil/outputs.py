"""Output files and folders: checked before work starts, written without harm.

A command checks every path it will write (``check_output_file``,
``check_output_dir``) before it builds or runs anything, so a bad path is
one error up front rather than a traceback after the work. Writing follows
one rule: only a regular file (or nothing) is ever replaced, atomically
through a temporary file in the same folder; a character device
(/dev/stdout, /dev/null) or a FIFO is written through; a symlink is
followed, never replaced; a folder is refused.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
from contextlib import suppress
from pathlib import Path

from hil.errors import ConfigError

_NAME_MAX = 255
_PATH_MAX = 4096
# An open descriptor under another name (/dev/stdout -> /proc/self/fd/1): what it
# resolves to may be a regular file (stdout redirected), but replacing that would
# detach it from the descriptor, so it is written through.
_FD_ALIAS = re.compile(r"^/(dev/(stdout|stderr|fd/\d+)|proc/(self|thread-self|\d+)/fd/\d+)$")


def check_output_file(path: Path, option: str) -> None:
    """Refuse, naming ``option``, a ``path`` that a report could not be written to."""
    shown = _show(path)
    _check_lengths(path, option)
    try:
        st = os.stat(path)  # follows symlinks: the target is what gets written
    except FileNotFoundError:
        st = None
    except OSError as exc:  # a symlink loop, a parent that is a file, ...
        _check_folder_for(Path(os.path.abspath(path)), path, option)
        raise ConfigError(
            f"{option} {shown}: {exc.strerror}",
            hint=f"give {option} the path of a file in a writable folder",
        ) from None
    if st is None:
        _check_folder_for(Path(os.path.realpath(path)), path, option)
        return
    kind = _kind(st, path)
    if kind == "dir":
        raise ConfigError(
            f"{option} {shown} is a folder, not a file",
            hint=f"give {option} the path of a file, e.g. one inside that folder",
        )
    if kind == "other":
        raise ConfigError(
            f"{option} {shown} is {_what(st)}: hil writes only regular files, "
            "character devices and FIFOs",
            hint=f"give {option} the path of a regular file",
        )
    if not os.access(path, os.W_OK):
        raise ConfigError(
            f"{option} {shown} is not writable",
            hint=f"give {option} a path you can write, or change its permissions",
        )
    if kind == "file":  # replaced through a temporary file beside it
        _check_folder_for(Path(os.path.realpath(path)), path, option)


def check_output_dir(path: Path, option: str, *, hint: str | None = None) -> None:
    """Refuse, naming ``option``, a folder that could not be created or written."""
    shown = _show(path)
    fix = hint or f"give {option} a folder you can write"
    _check_lengths(path, option, hint)
    if os.path.lexists(path):
        if not os.path.isdir(path):
            raise ConfigError(f"{option} {shown} is not a folder", hint=fix)
        problem = _cannot_create_in(Path(path))
        if problem:
            raise ConfigError(f"{option} {shown}: cannot create files there ({problem})", hint=fix)
        return
    _check_folder_for(Path(os.path.abspath(path)), path, option, hint)


def check_distinct(paths: dict[str, Path | None]) -> None:
    """Refuse two options naming the same file: one would overwrite the other."""
    seen: dict[str, str] = {}
    for option, path in paths.items():
        if path is None or _kind_of(path) == "stream":
            continue
        key = os.path.realpath(path)
        if key in seen:
            raise ConfigError(
                f"{seen[key]} and {option} both name {_show(path)}",
                hint="give each report its own file",
            )
        seen[key] = option


def write_text(path: Path, text: str, what: str = "") -> None:
    """Write ``text`` to ``path`` by the rule above; an OS failure is one ConfigError."""
    write_bytes(path, text.encode("utf-8"), what)


def write_bytes(path: Path, data: bytes, what: str = "") -> None:
    """Write ``data`` to ``path`` by the rule above (an .npy, say)."""
    try:
        kind = _writable_kind(path, what)
        if kind == "stream":
            with open(path, "wb") as f:
                f.write(data)
        else:
            _replace(Path(os.path.realpath(path)), data)
    except OSError as exc:
        raise write_error(path, exc, what) from None


def open_for_writing(path: Path, what: str = ""):
    """``path`` opened for writing in place (a log that grows as results arrive)."""
    _writable_kind(path, what)
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return open(path, "w", encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"cannot write {_label(path, what)}: {exc.strerror or exc}", hint="give another path"
        ) from None


def write_error(path: Path, exc: OSError, what: str = "") -> ConfigError:
    """The one-line error for a write to ``path`` that failed part-way."""
    return ConfigError(
        f"cannot write {_label(path, what)}: {exc.strerror or exc}",
        hint="free space there or give another path",
    )


def _writable_kind(path: Path, what: str) -> str:
    """``path``'s kind (see _kind_of), refusing the kinds no report is written to."""
    kind = _kind_of(path)
    if kind == "dir":
        raise ConfigError(
            f"cannot write {_label(path, what)}: it is a folder", hint="give the path of a file"
        )
    if kind == "other":
        raise ConfigError(
            f"cannot write {_label(path, what)}: it is not a regular file, a character "
            "device or a FIFO",
            hint="give the path of a file",
        )
    return kind


def _label(path: Path, what: str) -> str:
    return f"{what} {_show(path)}" if what else _show(path)


# -- helpers ----------------------------------------------------------------


def _kind(st: os.stat_result, path: Path) -> str:
    if stat.S_ISDIR(st.st_mode):
        return "dir"
    if stat.S_ISCHR(st.st_mode) or stat.S_ISFIFO(st.st_mode):
        return "stream"
    if stat.S_ISREG(st.st_mode):
        return "stream" if _is_fd_alias(path) else "file"
    return "other"


def _is_fd_alias(path: Path) -> bool:
    """Whether ``path``, or a symlink on the way from it, names an open descriptor."""
    p = os.path.abspath(path)
    for _ in range(40):  # the kernel's own limit on symlinks followed
        if _FD_ALIAS.match(p):
            return True
        if not os.path.islink(p):
            return False
        p = os.path.normpath(os.path.join(os.path.dirname(p), os.readlink(p)))
    return False


def _kind_of(path: Path) -> str:
    """ "absent", "file" (replace atomically), "stream" (write through), "dir" or "other"."""
    try:
        return _kind(os.stat(path), path)
    except FileNotFoundError:
        return "absent"


def _what(st: os.stat_result) -> str:
    if stat.S_ISBLK(st.st_mode):
        return "a block device"
    if stat.S_ISSOCK(st.st_mode):
        return "a socket"
    return "not a regular file"


def _replace(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name[:32]}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, mode)  # mkstemp makes 0600; a report keeps the usual permissions
        os.replace(tmp, target)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _check_lengths(path: Path, option: str, hint: str | None = None) -> None:
    raw = os.fsencode(path)
    if len(raw) >= _PATH_MAX:
        raise ConfigError(
            f"{option} {_show(path)}: the path is {len(raw)} bytes, the limit is {_PATH_MAX - 1}",
            hint=hint or f"give {option} a shorter path",
        )
    for part in Path(path).parts:
        n = len(os.fsencode(part))
        if n > _NAME_MAX:
            raise ConfigError(
                f"{option} {_show(path)}: the name {_show(part, 24)} is {n} "
                f"bytes, the limit is {_NAME_MAX}",
                hint=hint or f"give {option} a shorter file name",
            )


def _check_folder_for(target: Path, given: Path, option: str, hint: str | None = None) -> None:
    """``target`` does not exist: its nearest existing ancestor must be a writable folder
    (missing folders in between are created when the file is written)."""
    folder = target.parent
    while not os.path.lexists(folder) and folder != folder.parent:
        folder = folder.parent
    if not os.path.isdir(folder):
        raise ConfigError(
            f"{option} {_show(given)}: {_show(folder)} is not a folder",
            hint=hint or f"give {option} a path whose parent is a folder",
        )
    problem = _cannot_create_in(folder)
    if problem:
        raise ConfigError(
            f"{option} {_show(given)}: cannot create files in {_show(folder)} ({problem})",
            hint=hint or f"give {option} a path in a writable folder",
        )


def _cannot_create_in(folder: Path) -> str | None:
    """Why no file can be created in ``folder`` (None: one can). Tried, not guessed:
    permission bits say nothing for root, a read-only mount or /proc."""
    try:
        fd, name = tempfile.mkstemp(prefix=".hil-check-", dir=folder)
    except OSError as exc:
        return exc.strerror or str(exc)
    os.close(fd)
    os.unlink(name)
    return None


def _show(path, keep: int = 80) -> str:
    """A path short enough for a one-line message."""
    text = os.fspath(path)
    return text if len(text) <= keep else f"{text[: keep // 2]}...{text[-(keep // 4) :]}"
