"""TFLite Micro's interpreter (the tflite-micro package) as the s8 family's oracle."""

from __future__ import annotations

import numpy as np
from tflite_micro.python.tflite_micro import runtime

from hil.model.tflite.graph import Graph
from hil.model.tflite.writer import serialise

ARENA = 8 << 20


def interpreter(model: bytes | Graph) -> runtime.Interpreter:
    data = serialise(model) if isinstance(model, Graph) else model
    return runtime.Interpreter.from_bytes(
        data,
        arena_size=ARENA,
        intrepreter_config=runtime.InterpreterConfig.kPreserveAllTensors,
    )


def run(model: bytes | Graph, x: np.ndarray, tensors: tuple[int, ...] = ()) -> list[np.ndarray]:
    """The model's first output for input ``x`` (then each tensor index asked for)."""
    interp = interpreter(model)
    interp.set_input(x, 0)
    interp.invoke()
    out = [np.array(interp.get_output(0))]
    return out + [np.array(interp.GetTensor(i, 0)["tensor_data"]) for i in tensors]
