"""Options shared by several commands, declared once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

BoardOpt = Annotated[str, typer.Option(
    "--board", "-b", envvar="HIL_BOARD",
    help="Board id (see `hil boards`) or path of a board .toml file.")]
ModelOpt = Annotated[str, typer.Option(
    "--model", "-m", envvar="HIL_MODEL",
    help="Built-in example (cifar10, lenet5) or path of a .toml model file.")]
CmsisNnOpt = Annotated[Optional[Path], typer.Option(
    "--cmsis-nn", envvar="HIL_CMSIS_NN",
    help="Build against a genuine CMSIS-NN (CMSIS_5 <= 5.9.0 checkout or CMSIS-NN <= 3.1.0) "
         "instead of hil's portable kernels.")]
BuildDirOpt = Annotated[Optional[Path], typer.Option(
    "--build-dir", envvar="HIL_BUILD_DIR",
    help="Where images, generated sources and logs go [default: ./build/hil].")]
PortOpt = Annotated[Optional[str], typer.Option(
    "--port", envvar="HIL_PORT",
    help="The device's UART as a pyserial URL (/dev/ttyACM0, socket://host:port, "
         "rfc2217://host:port); overrides what the runner finds.")]
TimeoutOpt = Annotated[float, typer.Option(
    "--timeout", envvar="HIL_TIMEOUT", help="Seconds to wait for each device reply.")]

DEFAULT_BOARD = "qemu-m7"
DEFAULT_MODEL = "cifar10"

# Lab bench (boards of kind "pyocd"); the lab file fills in what is not given.
ProbeOpt = Annotated[Optional[str], typer.Option(
    "--probe", envvar="HIL_PROBE",
    help="Debug probe of a pyOCD board: its unique id (`pyocd list`), or remote:HOST:PORT for "
         "a probe served by `pyocd server` on another machine. Overrides the lab file.")]
PackOpt = Annotated[Optional[Path], typer.Option(
    "--pack", envvar="HIL_PACK",
    help="CMSIS device family pack (.pack) giving pyOCD the board's target, for benches "
         "without `pyocd pack install`.")]
LabOpt = Annotated[Optional[Path], typer.Option(
    "--lab",
    help="Lab file mapping boards to probes and ports (default: $HIL_LAB, else ./lab.toml "
         "if present).")]
