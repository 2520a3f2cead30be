"""Import of the CMSIS-NN CIFAR-10 example snapshot (.npz) as a Network.

The snapshot holds the example's trained weights, biases and shifts, its
geometry constants (lower-cased macro names of the example's parameter
header: ``conv1_im_dim``, ``pool1_out_dim``, ...) and its quantised test
image ``input_q7``. The layer sequence is the example program's, the same
as the built-in ``cifar10`` architecture.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from hil.errors import ConfigError
from hil.model.layer import Layer, Network
from hil.model.validate import validate_network

_SOURCE = "CMSIS_5 5.7.0 CMSIS/NN/Examples/ARM/arm_nn_examples/cifar10"


class _Snapshot:
    """Key access that names the file and the missing key on failure."""

    def __init__(self, path: Path, data: dict[str, np.ndarray]) -> None:
        self.path, self.data = path, data

    def array(self, key: str) -> np.ndarray:
        if key not in self.data:
            raise ConfigError(
                f"{self.path}: key '{key}' missing",
                hint="use the CMSIS-NN CIFAR-10 example snapshot (example.npz)",
            )
        return np.asarray(self.data[key])

    def int8(self, key: str) -> np.ndarray:
        a = self.array(key)
        if a.dtype != np.int8:
            raise ConfigError(
                f"{self.path}: '{key}' is {a.dtype}, expected int8",
                hint="use the snapshot's quantised arrays unchanged",
            )
        return a.ravel().copy()

    def scalar(self, key: str) -> int:
        a = self.array(key)
        if a.size != 1 or not np.issubdtype(a.dtype, np.integer):
            raise ConfigError(
                f"{self.path}: '{key}' is not an integer scalar",
                hint="use the snapshot's geometry constants unchanged",
            )
        return int(a.reshape(()))


def _conv(s: _Snapshot, n: int, function: str) -> Layer:
    c = f"conv{n}"
    params = dict(
        dim_im_in=s.scalar(f"{c}_im_dim"),
        ch_im_in=s.scalar(f"{c}_im_ch"),
        ch_im_out=s.scalar(f"{c}_out_ch"),
        dim_kernel=s.scalar(f"{c}_ker_dim"),
        padding=s.scalar(f"{c}_padding"),
        stride=s.scalar(f"{c}_stride"),
        bias_shift=s.scalar(f"{c}_bias_lshift"),
        out_shift=s.scalar(f"{c}_out_rshift"),
        dim_im_out=s.scalar(f"{c}_out_dim"),
    )
    return Layer(c, function, params, s.int8(f"{c}_wt"), s.int8(f"{c}_bias"))


def _pool(s: _Snapshot, n: int, conv: Layer) -> Layer:
    p = f"pool{n}"
    params = dict(
        dim_im_in=conv.params["dim_im_out"],
        ch_im_in=conv.params["ch_im_out"],
        dim_kernel=s.scalar(f"{p}_ker_dim"),
        padding=s.scalar(f"{p}_padding"),
        stride=s.scalar(f"{p}_stride"),
        dim_im_out=s.scalar(f"{p}_out_dim"),
    )
    return Layer(p, "arm_maxpool_q7_HWC", params)


def _read(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except FileNotFoundError:
        raise ConfigError(
            f"snapshot {path} does not exist",
            hint="give the path of the CIFAR-10 example's example.npz",
        ) from None
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise ConfigError(
            f"{path}: not a readable .npz: {exc}",
            hint="give the CIFAR-10 example snapshot (example.npz)",
        ) from None


def import_cmsis_cifar10_example(npz_path: str | Path) -> tuple[Network, np.ndarray]:
    """The example network with its trained weights, and its input (32x32x3 int8)."""
    path = Path(npz_path)
    s = _Snapshot(path, _read(path))
    layers: list[Layer] = []
    for n, function in (
        (1, "arm_convolve_HWC_q7_RGB"),
        (2, "arm_convolve_HWC_q7_fast"),
        (3, "arm_convolve_HWC_q7_fast"),
    ):
        conv = _conv(s, n, function)
        layers += [
            conv,
            Layer(f"relu{n}", "arm_relu_q7", {"size": conv.output_size}),
            _pool(s, n, conv),
        ]
    rows = s.scalar("ip1_out")
    ip1 = Layer(
        "ip1",
        "arm_fully_connected_q7_opt",
        dict(
            dim_vec=s.scalar("ip1_dim"),
            num_of_rows=rows,
            bias_shift=s.scalar("ip1_bias_lshift"),
            out_shift=s.scalar("ip1_out_rshift"),
        ),
        s.int8("ip1_wt"),
        s.int8("ip1_bias"),
    )
    layers += [ip1, Layer("softmax", "arm_softmax_q7", {"dim_vec": rows})]
    first = layers[0].params
    input_shape = (first["dim_im_in"], first["dim_im_in"], first["ch_im_in"])
    network = Network(
        "cmsis_cifar10",
        input_shape,
        tuple(layers),
        description="Arm's CMSIS-NN CIFAR-10 example with its trained weights",
        metadata={"source": _SOURCE, "license": "Apache-2.0"},
    )
    validate_network(network, source=str(path))
    x = s.int8("input_q7")
    if x.size != network.input_size:
        raise ConfigError(
            f"{path}: input_q7 has {x.size} elements, the network takes {network.input_size}",
            hint="use an unmodified snapshot",
        )
    return network, x.reshape(input_shape)
