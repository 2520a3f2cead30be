"""The float model an imported network came from, run through onnxruntime.

Besides the final output, any intermediate tensor can be asked for: those are
added as graph outputs, which is how calibration sees every layer's float
values. onnx and onnxruntime are an optional extra (``pip install 'hil[onnx]'``);
without them every entry point raises one ConfigError with that hint.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any, Sequence

import numpy as np

from hil.errors import ConfigError

INSTALL_HINT = "pip install 'hil[onnx]' (or run ./scripts/bootstrap)"


def require_onnx() -> tuple[ModuleType, ModuleType]:
    """The onnx and onnxruntime modules, or a ConfigError naming the install."""
    try:
        import onnx
        import onnxruntime
    except ImportError as exc:
        raise ConfigError(
            f"ONNX support is not installed ({exc.name} is missing)", hint=INSTALL_HINT
        ) from None
    return onnx, onnxruntime


def load_onnx(path: str | Path) -> Any:
    """The parsed ONNX ModelProto at ``path``; a missing or non-ONNX file is one error."""
    onnx, _ = require_onnx()
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"ONNX model {path} does not exist", hint="give the path of a .onnx file")
    try:
        model = onnx.load(str(path))
    except Exception as exc:  # protobuf raises its own DecodeError and others
        raise ConfigError(
            f"{path} is not an ONNX model ({type(exc).__name__})",
            hint="export it with torch.onnx.export or tf2onnx",
        ) from None
    if not model.graph.node:
        raise ConfigError(
            f"{path} is not an ONNX model (it has no graph nodes)",
            hint="export it with torch.onnx.export or tf2onnx",
        )
    return model


class FloatModel:
    """An ONNX model in onnxruntime, able to return intermediate tensors."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._proto = load_onnx(self.path)
        self.input_name: str = self._graph_inputs()[0]
        self.output_name: str = self._proto.graph.output[0].name
        self._sessions: dict[tuple[str, ...], Any] = {}

    def _graph_inputs(self) -> list[str]:
        initialisers = {t.name for t in self._proto.graph.initializer}
        names = [i.name for i in self._proto.graph.input if i.name not in initialisers]
        if len(names) != 1:
            raise ConfigError(
                f"{self.path}: the model has {len(names)} inputs, hil takes models with one",
                hint="export the model with a single input tensor",
            )
        return names

    @property
    def input_dims(self) -> list[int]:
        """The input's dims, -1 where the model leaves one open (a batch axis)."""
        (spec,) = [i for i in self._proto.graph.input if i.name == self.input_name]
        dims = spec.type.tensor_type.shape.dim
        return [d.dim_value if d.HasField("dim_value") else -1 for d in dims]

    def tensor_names(self) -> set[str]:
        """Every tensor a node of the graph produces: what ``run`` can return."""
        return {name for node in self._proto.graph.node for name in node.output}

    def _session(self, extra: tuple[str, ...]) -> Any:
        if extra not in self._sessions:
            onnx, ort = require_onnx()
            proto = type(self._proto)()
            proto.CopyFrom(self._proto)
            present = {o.name for o in proto.graph.output}
            for name in extra:
                if name not in present:
                    proto.graph.output.append(onnx.ValueInfoProto(name=name))
            options = ort.SessionOptions()
            options.intra_op_num_threads = 1  # the machine is shared; results do not change
            options.log_severity_level = 3
            try:
                self._sessions[extra] = ort.InferenceSession(
                    proto.SerializeToString(), options, providers=["CPUExecutionProvider"]
                )
            except Exception as exc:  # onnxruntime raises its own exception types
                raise ConfigError(
                    f"{self.path}: onnxruntime cannot load the model: {_first_line(exc)}",
                    hint="check the model with onnx.checker.check_model",
                ) from None
        return self._sessions[extra]

    def run(self, x: np.ndarray, tensors: Sequence[str] = ()) -> dict[str, np.ndarray]:
        """The final output (under its name) and every tensor in ``tensors`` for batch ``x``."""
        extra = tuple(t for t in dict.fromkeys(tensors) if t != self.output_name)
        session = self._session(extra)
        names = [self.output_name, *extra]
        try:
            values = session.run(names, {self.input_name: np.ascontiguousarray(x, np.float32)})
        except Exception as exc:  # onnxruntime raises its own exception types
            raise ConfigError(
                f"{self.path}: onnxruntime failed on the inputs: {_first_line(exc)}",
                hint="check that the inputs have the model's input shape",
            ) from None
        return dict(zip(names, values))


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
