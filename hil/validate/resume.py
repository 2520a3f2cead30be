"""`hil run --resume`: carry on from the JSON Lines log a previous run left.

The log's first record describes the run (model, board, inputs: their sha256
and how they were made); a resumed run must be the same run, or its verdicts
would be mixed with another's, and a refusal says in words what differs.
Vectors are judged in order, so the longest prefix of vectors whose every
layer is in the log is kept; a vector cut off half-way, and a last line cut
off mid-write, are run again. Records other than verdicts (a device lost
mid-run) are skipped: the vector that device was on is judged in the log
wherever it was re-run, or else run again.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Callable

import numpy as np

from hil.errors import ConfigError
from hil.outputs import open_for_writing, write_error
from hil.validate.compare import LayerVerdict

_VERDICT_FIELDS = {f.name for f in fields(LayerVerdict)}


def inputs_digest(x: np.ndarray) -> str:
    """sha256 of the input tensors, shape and dtype included."""
    h = hashlib.sha256(f"{x.dtype.str}{tuple(x.shape)}".encode())
    h.update(np.ascontiguousarray(x).tobytes())
    return h.hexdigest()


@dataclass
class PreviousRun:
    run: dict  # the log's run record
    vectors: list[list[LayerVerdict]]  # complete vectors 0..k-1, in order

    @property
    def done(self) -> int:
        return len(self.vectors)


def read_log(path: Path, num_layers: int) -> PreviousRun:
    """The complete vectors in ``path``; ConfigError if it is not a hil run log."""
    if not path.is_file():
        raise ConfigError(
            f"--resume: no log at {path}",
            hint="run once without --resume, or pass the log with --log",
        )
    records = []
    for line in path.read_text().splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            break  # a run killed mid-write leaves a partial last line
    if not records or records[0].get("record") != "run":
        raise ConfigError(
            f"--resume: {path} is not a hil run log (no run record first)",
            hint="pass the JSON Lines log written by hil run --log",
        )
    by_vector: dict[int, dict[int, LayerVerdict]] = {}
    for rec in records[1:]:
        if rec.get("record") != "layer":
            continue  # a device_failure (or a record of a later hil) judges no vector
        v = LayerVerdict(**{k: rec[k] for k in _VERDICT_FIELDS if k in rec})
        by_vector.setdefault(v.vector, {})[v.layer] = v
    vectors = []
    while len(by_vector.get(len(vectors), {})) == num_layers:
        layers = by_vector[len(vectors)]
        vectors.append([layers[i] for i in range(num_layers)])
    return PreviousRun(records[0], vectors)


def inputs_record(path: Path | None, vectors: int, seed: int) -> dict[str, Any]:
    """How the inputs were made, for the run record: a file, or -n and --seed."""
    if path is not None:
        return {"path": str(Path(path).resolve())}
    return {"vectors": vectors, "seed": seed}


_OPTIONS = {"model": "--model", "board": "--board"}
_AGAIN = "or without --resume"


def check_same_run(previous: PreviousRun, expected: dict[str, Any], path: Path) -> None:
    """Refuse to resume a log written for another model, board or input set, saying in
    words what differs. ``expected["inputs"]`` (see inputs_record) explains a
    difference of ``inputs_sha256``."""
    for key, want in expected.items():
        if key == "inputs":
            continue
        got = previous.run
        for part in key.split("."):  # "device.model_hash" looks into the device record
            got = got.get(part) if isinstance(got, dict) else None
        if got == want:
            continue
        if key in _OPTIONS:
            opt = _OPTIONS[key]
            raise ConfigError(
                f"--resume: {path} was written for another {key}: the logged "
                f"run used {opt} {got}, this one {opt} {want}",
                hint=f"rerun with {opt} {got}, {_AGAIN}",
            )
        if key == "inputs_sha256":
            detail, fix = _inputs_differ(previous.run.get("inputs"), expected.get("inputs"))
            raise ConfigError(
                f"--resume: {path} was written for inputs of another run: {detail}", hint=fix
            )
        raise ConfigError(
            f"--resume: {path} was written for {key.split('.')[-1]} "
            f"{_short(got)!r}, this run has {_short(want)!r}",
            hint="resume with the same --board, --model and inputs, or start a "
            "new log (without --resume, or another --log)",
        )


def _inputs_differ(logged: dict | None, now: dict | None) -> tuple[str, str]:
    """(what differs, how to fix it) between two inputs_record()s."""
    if not logged or not now:  # a log from before runs recorded their options
        return (
            "its input tensors differ from this run's",
            f"rerun with the options of the logged run, {_AGAIN}",
        )
    if "path" in logged and "path" in now:
        if logged["path"] == now["path"]:
            return (
                f"{logged['path']} changed since the logged run",
                f"restore that file, {_AGAIN}",
            )
        return (
            f"the logged run used --inputs {logged['path']}, this one --inputs {now['path']}",
            f"rerun with --inputs {logged['path']}, {_AGAIN}",
        )
    if "path" in logged:
        return (
            f"the logged run used --inputs {logged['path']}, this one generated vectors "
            f"({_generated(now)})",
            f"rerun with --inputs {logged['path']}, {_AGAIN}",
        )
    if "path" in now:
        return (
            f"the logged run used generated vectors ({_generated(logged)}), this one "
            f"--inputs {now['path']}",
            f"rerun with {_generated(logged)} instead of --inputs, {_AGAIN}",
        )
    differing = {k: v for k, v in logged.items() if now.get(k) != v}
    if not differing:
        return (
            f"the vectors generated from {_generated(now)} differ from the logged run's",
            f"rerun {_AGAIN}",
        )
    return (
        f"the logged run used {_generated(differing)}, this one "
        f"{_generated({k: now.get(k) for k in differing})}",
        f"rerun with {_generated(differing)}, {_AGAIN}",
    )


def _generated(record: dict) -> str:
    flags = {"vectors": "-n", "seed": "--seed"}
    return " ".join(f"{flags[k]} {record[k]}" for k in ("vectors", "seed") if k in record)


def _short(value):
    return value[:12] + "..." if isinstance(value, str) and len(value) > 16 else value


class LazyLog:
    """A log file created on the first write, so a run that fails before its
    first record (no device, bad image) leaves the previous log intact.
    ``on_open`` runs once the file exists (hil.report.run_log points the latest link)."""

    def __init__(self, path: Path, on_open: Callable[[], None] | None = None) -> None:
        self.path = path
        self._on_open = on_open
        self._file = None

    def write(self, text: str) -> int:
        if self._file is None:
            self._file = open_for_writing(self.path, "the log")
            if self._on_open is not None:
                self._on_open()
        try:
            return self._file.write(text)
        except OSError as exc:
            raise write_error(self.path, exc, "the log") from None

    def flush(self) -> None:
        if self._file is not None:
            try:
                self._file.flush()
            except OSError as exc:
                raise write_error(self.path, exc, "the log") from None

    def close(self) -> None:
        if self._file is not None:
            file, self._file = self._file, None
            try:
                file.close()
            except OSError as exc:  # what was buffered could not be written
                raise write_error(self.path, exc, "the log") from None

    def __enter__(self) -> "LazyLog":
        return self

    def __exit__(self, exc_type, *_) -> None:
        try:
            self.close()
        except ConfigError:
            if exc_type is None:  # never hide the error that is already on its way out
                raise
