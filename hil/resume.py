"""`hil run --resume`: carry on from the JSON Lines log a previous run left.

The log's first record describes the run (model, board, inputs); a resumed
run must be the same run, or its verdicts would be mixed with another's.
Vectors are judged in order, so the longest prefix of vectors whose every
layer is in the log is kept; a vector cut off half-way, and a last line cut
off mid-write, are run again.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from hil.compare import LayerVerdict
from hil.errors import ConfigError

_VERDICT_FIELDS = {f.name for f in fields(LayerVerdict)}


def inputs_digest(x: np.ndarray) -> str:
    """sha256 of the input tensors, shape and dtype included."""
    h = hashlib.sha256(f"{x.dtype.str}{tuple(x.shape)}".encode())
    h.update(np.ascontiguousarray(x).tobytes())
    return h.hexdigest()


@dataclass
class PreviousRun:
    run: dict                          # the log's run record
    vectors: list[list[LayerVerdict]]  # complete vectors 0..k-1, in order

    @property
    def done(self) -> int:
        return len(self.vectors)


def read_log(path: Path, num_layers: int) -> PreviousRun:
    """The complete vectors in ``path``; ConfigError if it is not a hil run log."""
    if not path.is_file():
        raise ConfigError(f"--resume: no log at {path}",
                          hint="run once without --resume, or pass the log with --log")
    records = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            break   # a run killed mid-write leaves a partial last line
    if not records or records[0].get("record") != "run":
        raise ConfigError(f"--resume: {path} is not a hil run log (no run record first)",
                          hint="pass the JSON Lines log written by hil run --log")
    by_vector: dict[int, dict[int, LayerVerdict]] = {}
    for rec in records[1:]:
        if rec.get("record") != "layer":
            continue
        v = LayerVerdict(**{k: rec[k] for k in _VERDICT_FIELDS if k in rec})
        by_vector.setdefault(v.vector, {})[v.layer] = v
    vectors = []
    while len(by_vector.get(len(vectors), {})) == num_layers:
        layers = by_vector[len(vectors)]
        vectors.append([layers[i] for i in range(num_layers)])
    return PreviousRun(records[0], vectors)


def check_same_run(previous: PreviousRun, expected: dict[str, str], path: Path) -> None:
    """Refuse to resume a log written for another model, board or input set."""
    for key, want in expected.items():
        got = previous.run
        for part in key.split("."):   # "device.model_hash" looks into the device record
            got = got.get(part) if isinstance(got, dict) else None
        if got != want:
            got, want = _short(got), _short(want)
            raise ConfigError(
                f"--resume: {path} was written for {key.split('.')[-1]} {got!r}, "
                f"this run has {want!r}",
                hint="resume with the same --board, --model and inputs, or start a new log "
                     "(without --resume, or another --log)")


def _short(value):
    return value[:12] + "..." if isinstance(value, str) and len(value) > 16 else value


class LazyLog:
    """A log file created on the first write, so a run that fails before its
    first record (no device, bad image) leaves the previous log intact."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file = None

    def write(self, text: str) -> int:
        if self._file is None:
            self._file = self.path.open("w")
        return self._file.write(text)

    def flush(self) -> None:
        if self._file is not None:
            self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()

    def __enter__(self) -> "LazyLog":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
