"""Cases written as golden-vector files, the format hil.validate.conformance.load_case reads.

One ``<function>/<case_id>.npz`` per case: every non-scratch C parameter under
its C name in argument order (pointers as flat int8, scalars as 0-d uint16, the
activation enum as 0-d int32), the output under its C name (``<name>__out``
after the input for in-place functions), ``pM_rowmajor`` beside the
interleaved weights of arm_fully_connected_q7_opt, and ``__function__``.
One key of the golden set is left out: ``Im_in__out``, the pooling input
buffer after the call, which a device run does not return (and no reader needs).
A ``README.md`` at the top says where the outputs came from.
"""

from __future__ import annotations

import io
from datetime import datetime, timezone
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from hil.errors import ConfigError
from hil.outputs import check_output_dir, write_bytes, write_text
from hil.reference import deinterleave_q7_opt_weights
from hil.reference.spec import KERNEL_SPECS
from hil.validate.conformance import FUNCTION_KEY
from hil.validate.random_cases import Case

README = "README.md"
# Weights stored a second time, row-major, for readers that want them so (FORMAT.md).
ROWMAJOR_COPY = {"arm_fully_connected_q7_opt": ("pM", "pM_rowmajor")}


def case_arrays(case: Case, output: np.ndarray) -> dict[str, np.ndarray]:
    """The keys of ``case``'s file, in order, with ``output`` as its expected output."""
    spec = KERNEL_SPECS[case.function]
    copy = ROWMAJOR_COPY.get(case.function)
    out: dict[str, np.ndarray] = {}
    for name in spec.args:
        if name == spec.output and not spec.in_place:
            out[name] = np.asarray(output, dtype=np.int8).reshape(-1)
        elif name in case.arrays:
            out[name] = np.ascontiguousarray(case.arrays[name], dtype=np.int8).reshape(-1)
            if spec.in_place and name == spec.output:
                out[spec.output_key] = np.asarray(output, dtype=np.int8).reshape(-1)
            if copy is not None and name == copy[0]:
                p = case.params
                out[copy[1]] = deinterleave_q7_opt_weights(
                    out[name], p["dim_vec"], p["num_of_rows"]
                )
        else:
            dtype = np.int32 if name == spec.enum_param else np.uint16
            out[name] = np.array(case.params[name], dtype=dtype)
    out[FUNCTION_KEY] = np.array(case.function)
    return out


def case_path(directory: Path, case: Case) -> Path:
    return Path(directory) / case.function / f"{case.case_id}.npz"


def write_case(directory: Path, case: Case, output: np.ndarray) -> Path:
    """Write ``case`` with ``output`` as its expected output under ``directory``."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **case_arrays(case, output))  # type: ignore[arg-type]
    path = case_path(directory, case)
    write_bytes(path, buffer.getvalue(), "golden case")
    return path


def check_new_set_dir(directory: Path, option: str) -> None:
    """A folder a new set can go to: creatable, writable, and not already holding one."""
    check_output_dir(directory, option)
    if Path(directory).is_dir() and any(Path(directory).rglob("*.npz")):
        raise ConfigError(
            f"{option} {directory} already holds golden vectors",
            hint="give a new or empty folder, or remove the old set first",
        )


def write_readme(
    directory: Path, title: str, paragraphs: Sequence[str], facts: Mapping[str, object]
) -> Path:
    """A README.md: a title, paragraphs, a table of ``facts`` (board, seed, ...) and
    the cases per function."""
    written = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    counts = {
        d.name: sum(1 for _ in d.glob("*.npz"))
        for d in sorted(Path(directory).iterdir())
        if d.is_dir()
    }
    table = [
        "| item | value |",
        "| --- | --- |",
        *(f"| {k} | {v} |" for k, v in {**facts, "written": written}.items()),
    ]
    per_function = ["| function | cases |", "| --- | --- |"]
    per_function += [f"| {name} | {n} |" for name, n in counts.items() if n]
    text = "\n".join(
        [
            f"# {title}",
            "",
            "\n\n".join(paragraphs),
            "",
            *table,
            "",
            f"{sum(counts.values())} cases:",
            "",
            *per_function,
            "",
        ]
    )
    path = Path(directory) / README
    write_text(path, text, "golden-set README")
    return path
