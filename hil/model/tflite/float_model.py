"""The float model an int8 TFLite model came from (.tflite or .onnx), run on the
same inputs, for the float accuracy beside the int8 one."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hil.errors import ConfigError
from hil.model.tflite import micro
from hil.model.tflite.reader import read_model


def _onnx(path: Path, x: np.ndarray) -> np.ndarray:
    try:
        import onnxruntime as ort
    except ImportError as exc:
        raise ConfigError(
            "an ONNX float model needs onnxruntime", hint="pip install 'hil[onnx]'"
        ) from exc
    try:
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own exception types
        raise ConfigError(
            f"--float {path} cannot be loaded: {str(exc).splitlines()[0]}",
            hint="give a valid .onnx model",
        ) from None
    spec = session.get_inputs()[0]
    x = onnx_layout(x, spec.shape)
    return np.asarray(session.run(None, {spec.name: x.astype(np.float32)})[0]).reshape(len(x), -1)


def onnx_layout(x: np.ndarray, dims) -> np.ndarray:
    """NHWC images (TFLite's layout) as NCHW when the ONNX input ``dims`` take that."""
    dims = [d if isinstance(d, int) else -1 for d in dims]
    if x.ndim == 4 and len(dims) == 4 and dims[1] == x.shape[3] and dims[3] != x.shape[3]:
        return x.transpose(0, 3, 1, 2)
    return x


def _tflite(path: Path, x: np.ndarray) -> np.ndarray:
    graph = read_model(path)
    first = graph.tensors[graph.inputs[0]]
    if first.dtype != "FLOAT32":
        raise ConfigError(
            f"--float {path} takes {first.dtype} input, so it is not a float model",
            hint="give the float model the int8 one was converted from",
        )
    interp = micro.interpreter(graph)
    return np.stack([micro.run(interp, row[None].astype(np.float32))[0].reshape(-1) for row in x])


def float_outputs(path: Path, x: np.ndarray) -> np.ndarray:
    """The float model's final output (N, classes) for float inputs x (N, H, W, C)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"--float {path} does not exist", hint="give the float model's path")
    if path.suffix == ".onnx":
        return _onnx(path, x)
    if path.suffix == ".tflite":
        return _tflite(path, x)
    raise ConfigError(
        f"--float {path} is neither .tflite nor .onnx", hint="give the float model itself"
    )
