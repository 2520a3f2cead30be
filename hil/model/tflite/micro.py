"""TFLite Micro's interpreter (the tflite-micro package): the s8 family's oracle.

``hil import`` runs a model through it beside hil's reference to prove, on the
user's own inputs, that every layer hil will check on the board is what
TFLite Micro computes; the tests use it the same way.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hil.errors import ConfigError
from hil.model.tflite.graph import Graph
from hil.model.tflite.schema import runtime as tflite_runtime
from hil.model.tflite.writer import serialise

ARENA_BYTES = 8 << 20


def interpreter(model: bytes | Graph) -> Any:
    """A TFLM interpreter that keeps every intermediate tensor."""
    runtime = tflite_runtime("running TFLite models")
    data = serialise(model) if isinstance(model, Graph) else model
    try:
        return runtime.Interpreter.from_bytes(
            data,
            arena_size=ARENA_BYTES,
            intrepreter_config=runtime.InterpreterConfig.kPreserveAllTensors,
        )
    except RuntimeError as exc:
        raise ConfigError(
            f"TFLite Micro cannot load the model: {str(exc).splitlines()[0]}",
            hint="check the model with the TFLite converter's own interpreter",
        ) from exc


def run(
    model: bytes | Graph | Any, x: np.ndarray, tensors: tuple[int, ...] = ()
) -> list[np.ndarray]:
    """The model's output for one input ``x`` (with its batch axis), then each
    tensor index asked for. ``model`` may be an interpreter, reused."""
    interp: Any = interpreter(model) if isinstance(model, (bytes, Graph)) else model
    interp.set_input(x, 0)
    interp.invoke()
    out = [np.array(interp.get_output(0))]
    return out + [np.array(interp.GetTensor(i, 0)["tensor_data"]) for i in tensors]
