"""A target: a network on a board, with every setting needed to build its image
and reach the device, and where each setting came from.

Commands and the pytest plugin resolve their options into one Target and hand
it to hil.device.connect; nothing after that point reads options again.
Settings resolve command line > environment > lab file > board file > default.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from hil.config.boards import Board
from hil.config.lab import Lab
from hil.export.files import Export
from hil.farm.request import FarmRequest
from hil.farm.wiring import Bench
from hil.model import Network
from hil.model.s8 import S8Network
from hil.transport.faults import LinkFaults

# --inject-fault kinds -> HIL_INJECT_FAULT_KIND (firmware/src/runner.c says what each does).
FAULT_KINDS: dict[str, int] = {"off-by-one": 1, "bit-flip": 2, "no-saturation": 3}


@dataclass(frozen=True)
class Target:
    board: Board
    network: Network | S8Network
    model: str  # as the user named it: the image check reports it in its messages
    build_root: Path
    cmsis_nn: Path | None = None
    export: Export | None = None  # a user's export (--export) the image is built from
    port: str | None = None  # overrides the port the runner finds
    timeout: float = 10.0  # seconds to wait for each device reply
    probe: str | None = None  # pyOCD boards: given on the command line (else the lab file's)
    pack: Path | None = None
    lab: Lab | None = None  # the bench's lab file, loaded (a place's board may be pyOCD)
    link_faults: LinkFaults | None = None  # fault injection and throttle under the link
    logs: Path | None = None  # device logs [default: <build_root>/logs]
    # (layer index, FAULT_KINDS name): a build variant that corrupts that layer's output.
    inject_fault: tuple[int, str] | None = None
    attach: bool = False  # talk to the image the board already runs: no flashing
    farm: FarmRequest | None = None  # labgrid places to run on (--place, --reserve)
    benches: tuple[Bench, ...] = ()  # the places acquired for farm, once they are
    board_given: bool = True  # False when --board was left to its default (a place's tag decides)
    # Setting name -> where its value came from ("command line (--board)", "lab file ...").
    sources: Mapping[str, str] = field(default_factory=dict)
    rounding: str = "double"  # an s8 network's requantisation (CMSIS_NN_USE_SINGLE_ROUNDING)

    @property
    def family(self) -> str:
        """The kernel family the image holds: the network's."""
        return self.network.family

    @property
    def reference_variant(self) -> str:
        """The host reference the device's outputs must equal: the board's kernel path
        for q7, the rounding for s8 (whose kernels give the same bytes on every core)."""
        return self.rounding if self.family == "s8" else self.board.variant

    @property
    def emulated(self) -> bool:
        return self.board.emulated

    @property
    def layer_macs(self) -> list[int]:
        return [layer.macs for layer in self.network.layers]

    @property
    def log_dir(self) -> Path:
        return self.logs or self.build_root / "logs"

    def build_defines(self) -> dict[str, str]:
        """Firmware defines this target adds to a normal build (none for a normal target)."""
        if self.inject_fault is None:
            return {}
        layer, kind = self.inject_fault
        return {
            "HIL_INJECT_FAULT_LAYER": str(layer),
            "HIL_INJECT_FAULT_KIND": str(FAULT_KINDS[kind]),
        }

    def runner_options(self, progress=None) -> dict:
        """Keyword options for the board's runner: the probe settings, pyOCD boards only."""
        if self.board.kind != "pyocd":
            return {}
        return {
            "probe": self.probe,
            "pack": self.pack,
            "lab": self.lab,
            "port": self.port,
            "progress": progress,
        }

    def provenance(self) -> list[tuple[str, str]]:
        """(setting, where it came from), with the lab file's settings for a pyOCD board."""
        rows = dict(self.sources)
        if self.lab is not None and self.lab.path is not None:
            wiring = self.lab.board(self.board.id)
            for name, given, fallback in (
                ("probe", self.probe, wiring.probe),
                ("pack", self.pack, wiring.pack),
                ("port", self.port, wiring.port),
            ):
                if given is None and fallback is not None:
                    rows[name] = f"lab file {self.lab.path}: {fallback}"
        return sorted(rows.items())
