"""pytest plugin: a connected hil device and the host reference for users' own tests.

Registered through the ``pytest11`` entry point, so installing hil is enough.
Give a board on the command line and the device fixtures build the image,
start it and handshake once per test session::

    pytest --hil-board qemu-m7 --hil-model lenet5

    def test_first_layer(hil_device, hil_reference, hil_network):
        x = np.zeros(hil_network.input_shape, dtype=np.int8)
        got = hil_device.session.infer(x)
        assert np.array_equal(got[0].output, hil_reference(x)[0])

Models of both kernel families work. An s8 (int8) model file (``hil import
M.tflite``) gives an ``hil.model.s8.S8Network`` and an s8 image; its input is
int8, or float quantised with the network's input quantisation::

    pytest --hil-board qemu-m7 --hil-model models/cnn.toml [--hil-rounding single]

    def test_every_layer(hil_device, hil_reference, hil_network):
        x = hil_network.input_quant.quantise(np.full(hil_network.input_shape, 0.5))
        for got, want in zip(hil_device.session.infer(x), hil_reference(x)):
            assert np.array_equal(got.output, want), got.index

The reference variant is the family's: for q7 the board's kernel path (dsp or
plain, read from the device's image), for s8 the requantisation's rounding
(``--hil-rounding double|single``, default double), which the image is built
with and which needs no board.

On a labgrid board farm, ``--hil-place NAME`` acquires the place for the
session (its ``board`` tag names the board) and releases it at the end;
``--hil-wait`` waits for it when it is busy.

Without ``--hil-board`` (or ``--hil-place``) every test that needs a device is skipped, with a
reason that says how to give one; tests that only need the network or the
reference of a board-independent variant still run.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import pytest

_ROUNDING = "--hil-rounding"
_NO_BOARD = (
    "no hil board given: run pytest with --hil-board BOARD (see `hil boards`) "
    "or --hil-place PLACE (a labgrid place)"
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("hil", "hardware-in-the-loop tests with hil")
    group.addoption(
        "--hil-board",
        default=None,
        metavar="BOARD",
        help="Board id (see `hil boards`) or board .toml; without it, tests that "
        "need a device are skipped.",
    )
    group.addoption(
        "--hil-model",
        default=None,
        metavar="MODEL",
        help="Built-in model (cifar10, lenet5, lenet5-mnist) or .toml model file [default: cifar10].",
    )
    group.addoption(
        "--hil-port",
        default=None,
        metavar="URL",
        help="The device's UART as a pyserial URL; overrides what the runner finds.",
    )
    group.addoption(
        "--hil-build-dir",
        default=None,
        metavar="DIR",
        help="Where images and logs go [default: $HIL_BUILD_DIR or ./build/hil].",
    )
    group.addoption(
        "--hil-timeout",
        default=10.0,
        type=float,
        metavar="SECONDS",
        help="Seconds to wait for each device reply [default: 10].",
    )
    group.addoption(
        "--hil-place",
        default=None,
        metavar="PLACE",
        help="A labgrid place to run on, acquired for the session (needs hil[labgrid]).",
    )
    group.addoption(
        "--hil-wait",
        action="store_true",
        help="Wait for the --hil-place place while someone else holds it.",
    )
    group.addoption(
        "--hil-coordinator",
        default=None,
        metavar="HOST:PORT",
        help="The labgrid coordinator [default: $LG_COORDINATOR, else 127.0.0.1:20408].",
    )
    group.addoption(
        _ROUNDING,
        default=None,
        metavar="ROUNDING",
        help="s8 (int8) models: double (TFLite Micro's; default) or single "
        "(CMSIS_NN_USE_SINGLE_ROUNDING), the image's and the reference's requantisation.",
    )
    group.addoption(
        "--hil-attach",
        action="store_true",
        help="Flash nothing: use the image the board already runs (its model hash is checked).",
    )


def pytest_configure(config: pytest.Config) -> None:
    """A wrong --hil-rounding stops the run before any test, in one line."""
    rounding = config.getoption(_ROUNDING)
    if rounding is not None:
        _check_rounding(rounding, _model_spec(config))


def _check_rounding(rounding: str, spec: str) -> None:
    """--hil-rounding names an s8 rounding, and the model is s8 (a q7 model's variant
    is its board's kernel path, not a choice)."""
    from hil.errors import HilError
    from hil.model.io import load_any_model
    from hil.reference.s8 import ROUNDINGS

    if rounding not in ROUNDINGS:
        raise pytest.UsageError(
            f"{_ROUNDING} {rounding!r} is not a rounding: use {_ROUNDING} double or single"
        )
    try:
        network = load_any_model(spec)
    except HilError as exc:
        hint = f" ({exc.hint})" if exc.hint else ""
        raise pytest.UsageError(f"hil: {exc.message}{hint}") from None
    if not _is_s8(network):
        raise pytest.UsageError(
            f"{_ROUNDING} is for s8 (int8) models; {spec} is q7, whose reference variant "
            f"(dsp or plain) is the board's kernel path: leave out {_ROUNDING}"
        )


def _is_s8(network) -> bool:
    return network.family == "s8"


def _rounding(config: pytest.Config) -> str:
    """The s8 requantisation rounding the image is built with and judged by."""
    return config.getoption(_ROUNDING) or "double"


def pytest_report_header(config: pytest.Config) -> str | None:
    board = config.getoption("--hil-board")
    place = config.getoption("--hil-place")
    if board is None and place is None:
        return None
    where = f"place {place}" if board is None else f"board {board}"
    rounding = config.getoption(_ROUNDING)
    extra = f", rounding {rounding}" if rounding else ""
    return f"hil: {where}, model {_model_spec(config)}{extra}"


def _model_spec(config: pytest.Config) -> str:
    from hil.model.examples import DEFAULT_MODEL

    return config.getoption("--hil-model") or DEFAULT_MODEL


@contextmanager
def _as_pytest_failure() -> Iterator[None]:
    """A HilError in a fixture fails the test with hil's message and hint, not a traceback."""
    from hil.errors import HilError

    try:
        yield
    except HilError as exc:
        hint = f"\nhint: {exc.hint}" if exc.hint else ""
        raise pytest.fail.Exception(f"hil: {exc.message}{hint}", pytrace=False) from None


@pytest.fixture(scope="session")
def hil_board(pytestconfig: pytest.Config, request: pytest.FixtureRequest):
    """The hil.config.boards.Board given with --hil-board (or the --hil-place place's);
    skips the test when neither was given."""
    if pytestconfig.getoption("--hil-place") is not None:
        return request.getfixturevalue("hil_target").board
    spec = pytestconfig.getoption("--hil-board")
    if spec is None:
        pytest.skip(_NO_BOARD)
    from hil.config.boards import load_board

    with _as_pytest_failure():
        return load_board(spec)


@pytest.fixture(scope="session")
def hil_network(pytestconfig: pytest.Config):
    """The network given with --hil-model (needs no board): a hil.model.Network (q7) or
    a hil.model.s8.S8Network (an s8 model file)."""
    from hil.model.io import load_any_model

    with _as_pytest_failure():
        return load_any_model(_model_spec(pytestconfig))


@pytest.fixture(scope="session")
def hil_target(pytestconfig: pytest.Config, hil_network):
    """The hil.device.target.Target the device fixtures run on; with --hil-place its
    place is acquired here and released when the session ends."""
    import os

    from hil.config.boards import DEFAULT_BOARD, load_board
    from hil.device.benches import on_benches
    from hil.device.connect import default_build_root
    from hil.device.target import Target
    from hil.farm.request import DEFAULT_COORDINATOR, FarmRequest

    opt = pytestconfig.getoption
    place, spec = opt("--hil-place"), opt("--hil-board")
    if place is None and spec is None:
        pytest.skip(_NO_BOARD)
    farm = None
    if place is not None:
        farm = FarmRequest(
            coordinator=opt("--hil-coordinator")
            or os.environ.get("LG_COORDINATOR")
            or DEFAULT_COORDINATOR,
            place=place,
            wait=opt("--hil-wait"),
            source="--hil-place",
        )
    with _as_pytest_failure():
        target = Target(
            board=load_board(spec or DEFAULT_BOARD),
            network=hil_network,
            model=_model_spec(pytestconfig),
            build_root=Path(opt("--hil-build-dir"))
            if opt("--hil-build-dir")
            else default_build_root(),
            port=opt("--hil-port"),
            timeout=opt("--hil-timeout"),
            attach=opt("--hil-attach"),
            farm=farm,
            board_given=spec is not None,
            rounding=_rounding(pytestconfig),
        )
    with _as_pytest_failure(), on_benches(target) as target:
        yield target


@pytest.fixture(scope="session")
def hil_device(hil_target):
    """A connected, handshaken hil.device.connect.Device running ``hil_network`` on ``hil_board``.

    Built and started once per session and shut down at its end. The image is
    checked against the network (model hash, board) before any test uses it.
    """
    from hil.device.connect import connect

    with _as_pytest_failure(), connect(hil_target) as (device,):
        yield device


@pytest.fixture(scope="session")
def hil_reference(
    pytestconfig: pytest.Config, request: pytest.FixtureRequest, hil_network
) -> Callable[[np.ndarray], list[np.ndarray]]:
    """``reference(x)``: every layer's expected output (flat int8) for input ``x``.

    Uses the reference variant the device's image is built with, so it is what
    the device must compute bit for bit: for q7 the image's kernel path (SIMD
    or plain C pooling; this connects the device), for s8 the --hil-rounding
    rounding (s8 kernels give the same bytes on every core, so no board is
    needed; the device's image is checked to have that rounding).
    """
    from hil.reference.network import run_network

    if _is_s8(hil_network):
        variant = _rounding(pytestconfig)
    else:
        variant = request.getfixturevalue("hil_device").info.variant

    def reference(x: np.ndarray) -> list[np.ndarray]:
        with _as_pytest_failure():
            return run_network(hil_network, x, variant)

    return reference
