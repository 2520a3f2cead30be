"""Options shared by several commands, declared once."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Optional

import typer

from hil.cli.setting_sources import as_given
from hil.config.boards import DEFAULT_BOARD  # noqa: F401  (declared with what they name)
from hil.errors import ConfigError
from hil.model.examples import DEFAULT_MODEL  # noqa: F401


def _positive_seconds(ctx: typer.Context, param: typer.CallbackParam, value: float) -> float:
    # Refused here: a zero or negative wait would later be blamed on the device.
    if not (math.isfinite(value) and value > 0):
        raise ConfigError(
            f"{as_given(ctx, param.name, f'{value:g}')} must be a positive number of seconds",
            hint="e.g. --timeout 10; more for a slow link",
        )
    return value


BoardOpt = Annotated[
    str,
    typer.Option(
        "--board",
        "-b",
        envvar="HIL_BOARD",
        help="Board id (see `hil boards`) or path of a board .toml file.",
    ),
]
ModelOpt = Annotated[
    str,
    typer.Option(
        "--model",
        "-m",
        envvar="HIL_MODEL",
        help="Built-in model (cifar10, lenet5, lenet5-mnist) or path of a .toml model file.",
    ),
]
ExportDirOpt = Annotated[
    Optional[Path],
    typer.Option(
        "--export",
        help="Build the image from this `hil export` folder instead of exporting the model "
        "again: the board then runs exactly those files, whatever their --name. It must be an "
        "export of --model, unedited (its SHA256SUMS is checked).",
    ),
]
CmsisNnOpt = Annotated[
    Optional[Path],
    typer.Option(
        "--cmsis-nn",
        envvar="HIL_CMSIS_NN",
        help="Build against a genuine CMSIS-NN instead of hil's portable kernels: the root of a "
        "CMSIS_5 checkout up to tag 5.9.0, or of a standalone CMSIS-NN checkout at commit "
        "cc3e92d (September 2022) or older (no CMSIS-NN release has the q7 API).",
    ),
]
RoundingOpt = Annotated[
    Optional[str],
    typer.Option(
        "--rounding",
        help="s8 models: double (TFLite Micro's; default) or single "
        "(CMSIS_NN_USE_SINGLE_ROUNDING): the image's requantisation.",
    ),
]
BuildDirOpt = Annotated[
    Optional[Path],
    typer.Option(
        "--build-dir",
        envvar="HIL_BUILD_DIR",
        help="Where images, generated sources and logs go [default: ./build/hil].",
    ),
]
PortOpt = Annotated[
    Optional[str],
    typer.Option(
        "--port",
        envvar="HIL_PORT",
        help="The device's UART as a pyserial URL (/dev/ttyACM0, socket://host:port, "
        "rfc2217://host:port); overrides what the runner finds.",
    ),
]
TimeoutOpt = Annotated[
    float,
    typer.Option(
        "--timeout",
        envvar="HIL_TIMEOUT",
        help="Seconds to wait for each device reply.",
        callback=_positive_seconds,
    ),
]

# Lab bench (boards of kind "pyocd"); the lab file fills in what is not given.
ProbeOpt = Annotated[
    Optional[str],
    typer.Option(
        "--probe",
        envvar="HIL_PROBE",
        help="Debug probe of a pyOCD board: its unique id (`pyocd list`), or remote:HOST:PORT for "
        "a probe served by `pyocd server` on another machine. Overrides the lab file.",
    ),
]
PackOpt = Annotated[
    Optional[Path],
    typer.Option(
        "--pack",
        envvar="HIL_PACK",
        help="CMSIS device family pack (.pack) giving pyOCD the board's target, for benches "
        "without `pyocd pack install`.",
    ),
]
LabOpt = Annotated[
    Optional[Path],
    typer.Option(
        "--lab",
        help="Lab file mapping boards to probes and ports (default: $HIL_LAB, else ./lab.toml "
        "if present).",
    ),
]

# labgrid board farms (hil.farm) and boards that already run the image.
PlaceOpt = Annotated[
    Optional[str],
    typer.Option(
        "--place",
        envvar="HIL_PLACE",
        help="Run on this labgrid place: acquired for the command and released after, "
        "its board from the place's board tag (needs hil[labgrid]).",
    ),
]
ReserveOpt = Annotated[
    Optional[str],
    typer.Option(
        "--reserve",
        envvar="HIL_RESERVE",
        help='Reserve labgrid places whose tags match, e.g. "board=nucleo-f746 rack=2"; '
        "`hil run --devices N` shards the vectors across N of them.",
    ),
]
WaitOpt = Annotated[
    bool,
    typer.Option(
        "--wait",
        help="Wait for busy places (queued by a labgrid reservation) instead of failing.",
    ),
]
CoordinatorOpt = Annotated[
    Optional[str],
    typer.Option(
        "--coordinator",
        envvar="LG_COORDINATOR",
        help="The labgrid coordinator, HOST[:PORT] [default: coordinator under [labgrid] "
        "in the lab file, else 127.0.0.1:20408].",
    ),
]
AttachOpt = Annotated[
    bool,
    typer.Option(
        "--attach",
        help="Flash nothing: talk to the board as it runs (on --port, or the place's UART); "
        "its HELLO must announce this network's model hash.",
    ),
]

# The link between host and device (fault injection, pacing).
LinkFaultsOpt = Annotated[
    Optional[str],
    typer.Option(
        "--link-faults",
        envvar="HIL_LINK_FAULTS",
        help="Inject link faults, e.g. 'drop=0.001,flip=0.001,dup=0,garbage=0.0001,"
        "cut_after=20000,cuts=1,seed=7' (see docs/reliability.md).",
    ),
]
LinkBaudOpt = Annotated[
    Optional[int],
    typer.Option(
        "--link-baud",
        envvar="HIL_LINK_BAUD",
        help="Pace the link at this baud rate (10 bits per byte), as a real UART would; "
        "emulators are otherwise unthrottled.",
    ),
]
DumpOpt = Annotated[
    Optional[str],
    typer.Option(
        "--dump",
        envvar="HIL_DUMP",
        help="Layer outputs on the wire: all (full tensors), mismatch (CRC-32 digests, full "
        "tensors re-fetched for a vector that mismatches) or digest (digests only) "
        "[default: all on emulators, mismatch on real boards].",
    ),
]

# A deliberate wrong kernel, built into the firmware (see docs/getting-started.md).
InjectFaultOpt = Annotated[
    Optional[str],
    typer.Option(
        "--inject-fault",
        metavar="LAYER:KIND",
        help="Build a firmware variant whose LAYER (name or index) computes a wrong output, to "
        "see what a failure looks like. KIND: off-by-one (+1 on every element, saturating "
        "at 127), bit-flip (bit 0 of element 0), no-saturation (elements at a rail wrap: "
        "127 -> -128, -128 -> 127; shows only where the output clips).",
    ),
]


def parse_inject_fault(text: str, layer_names: list[str]) -> tuple[int, str]:
    """``LAYER:KIND`` as (layer index, kind); a ConfigError line for anything else."""
    from hil.device.target import FAULT_KINDS

    kinds = ", ".join(FAULT_KINDS)
    layer, sep, kind = text.rpartition(":")
    if not sep or not layer or not kind:
        raise ConfigError(
            f"--inject-fault {text!r}: expected LAYER:KIND",
            hint=f"e.g. --inject-fault conv2:off-by-one; KIND is one of {kinds}",
        )
    if kind not in FAULT_KINDS:
        raise ConfigError(
            f"--inject-fault {text!r}: unknown kind {kind!r}",
            hint=f"KIND is one of {kinds}",
        )
    if layer in layer_names:
        return layer_names.index(layer), kind
    if layer.isdigit() and int(layer) < len(layer_names):
        return int(layer), kind
    raise ConfigError(
        f"--inject-fault {text!r}: the model has no layer {layer!r}",
        hint=f"a layer name ({', '.join(layer_names)}) or an index 0..{len(layer_names) - 1}",
    )


def inject_fault_line(fault: tuple[int, str], layer_names: list[str]) -> str:
    """The note printed before a faulted run's results."""
    index, kind = fault
    return f"fault injected: {layer_names[index]} (layer {index}) {kind} (build variant)"
