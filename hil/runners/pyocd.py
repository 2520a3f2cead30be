"""Flash and run an image on a real board through pyOCD (the only module that imports pyocd).

prepare() picks the probe (``--probe``, else the lab file, else the only
one attached), programs the image (ELF or Intel HEX) with pyOCD's
FileProgrammer, reads the flash back to verify it, and lets the target run.
start() resets the target and returns the board's UART: ``--port``, else
the lab file's port, else the ST-LINK virtual COM port whose USB serial
number is the probe's unique id. The pyOCD session stays open until stop(),
so reset() works.

pyOCD has no built-in STM32F746; its target comes from ST's device family
pack (``pyocd pack install stm32f746zgtx``, or ``--pack FILE`` offline).
Every pyOCD failure is turned into a DeviceError or ConfigError that names
the fix; nothing here prints or renders (progress goes to a callback).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from hil.config.boards import Board
from hil.config.lab import Lab, load_lab
from hil.errors import ConfigError, DeviceError
from hil.firmware.image import load_segments, require_image
from hil.runners import serial_ports
from hil.runners.base import RESET, Runner

Progress = Callable[[float], None]
log = logging.getLogger(__name__)

NO_PROBE_HINT = (
    "connect the board's ST-LINK USB port (CN1 on a NUCLEO-144) with a data cable; "
    "`pyocd list` must show it (on Linux install the udev rules from pyOCD's "
    "udev/ folder); for a probe on another machine use --probe remote:HOST:PORT"
)
RECONNECT_HINT = (
    "reconnect the board's USB cable (and avoid unpowered hubs), then retry; if it "
    "keeps failing, lower the SWD clock (frequency = 1000000 in the lab file) or "
    "update the ST-LINK firmware (ST's STSW-LINK007)"
)

REMOTE_HINT = (
    "run `pyocd server` on the machine the board is plugged into (it listens on port "
    "5555; add --allow-remote so other machines may connect) and check HOST:PORT and "
    "the firewall"
)


@dataclass(frozen=True)
class PyocdApi:
    """The parts of pyOCD this runner uses: the seam tests replace with fakes."""

    ConnectHelper: Any
    FileProgrammer: Any
    Error: type[BaseException]  # pyocd.core.exceptions.Error, the root
    TargetSupportError: type[BaseException]
    ProbeError: type[BaseException]  # includes ProbeDisconnected
    TransferError: type[BaseException]
    FlashFailure: type[BaseException]


def load_pyocd() -> PyocdApi:
    """Import pyOCD on first use (it is slow to import and only the lab bench needs it)."""
    try:
        from pyocd.core import exceptions
        from pyocd.core.helpers import ConnectHelper
        from pyocd.flash.file_programmer import FileProgrammer
    except ImportError as exc:
        raise ConfigError(
            "pyOCD is not installed; real boards are flashed through it", hint="pip install pyocd"
        ) from exc
    # pyOCD's chatter goes to the runner's log file (see PyocdRunner), never the terminal.
    logging.getLogger("pyocd").setLevel(logging.ERROR)
    return PyocdApi(
        ConnectHelper,
        FileProgrammer,
        exceptions.Error,
        exceptions.TargetSupportError,
        exceptions.ProbeError,
        exceptions.TransferError,
        exceptions.FlashFailure,
    )


class PyocdRunner(Runner):
    """A board of kind "pyocd" on a debug probe, local or behind `pyocd server`."""

    capabilities = frozenset({RESET})

    def __init__(
        self,
        board: Board,
        elf: Path,
        log_dir: Path,
        probe: str | None = None,
        pack: Path | str | None = None,
        port: str | None = None,
        lab: Lab | Path | str | None = None,
        frequency: int | None = None,
        progress: Progress | None = None,
        *,
        api: PyocdApi | None = None,
    ) -> None:
        if board.kind != "pyocd" or not board.target:
            raise ConfigError(
                f"board {board.id!r} is of kind {board.kind!r}, not a pyOCD board",
                hint='pick a board whose file has kind = "pyocd" and a [pyocd] target',
            )
        lab = lab if isinstance(lab, Lab) else load_lab(lab)
        wiring = lab.board(board.id)
        where = f"lab file {lab.path}" if lab.path else "lab"
        # Where each setting came from (CLI > lab file), for the log.
        self.sources = {
            name: ("option" if given else where if fallback else "default")
            for name, given, fallback in (
                ("probe", probe, wiring.probe),
                ("pack", pack, wiring.pack),
                ("port", port, wiring.port),
                ("frequency", frequency, wiring.frequency),
            )
        }
        self.board = board
        self.elf = Path(elf)
        self.log_dir = Path(log_dir)
        self.probe_id = probe or wiring.probe  # CLI > lab file
        self.pack = Path(pack) if pack else wiring.pack
        self.port = port or wiring.port
        self.frequency = frequency or wiring.frequency
        self.progress = progress
        self._api = api
        self._session = None
        self._unique_id: str | None = None
        self._probe_desc = self.probe_id or "?"
        self._log_path = self.log_dir / f"pyocd-{board.id}.log"
        self._log_handler: logging.Handler | None = None
        self.url = None

    @property
    def log_path(self) -> Path:
        """pyOCD's own log of the session plus what this runner did."""
        return self._log_path

    def _open_log(self) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(self._log_path, mode="w")
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s: %(message)s"))
        for name in ("pyocd", __name__):
            logger = logging.getLogger(name)
            logger.addHandler(handler)
            logger.setLevel(logging.INFO)
            # The file is their place: never the terminal, even when another library
            # (labgrid's client) has given the root logger a stderr handler.
            logger.propagate = False
        self._log_handler = handler

    def _close_log(self) -> None:
        handler, self._log_handler = self._log_handler, None
        if handler is None:
            return
        for name in ("pyocd", __name__):
            logging.getLogger(name).removeHandler(handler)
            logging.getLogger(name).propagate = True
        logging.getLogger("pyocd").setLevel(logging.ERROR)
        handler.close()

    def api(self) -> PyocdApi:
        if self._api is None:
            self._api = load_pyocd()
        return self._api

    # -- lifecycle -------------------------------------------------------------

    def prepare(self) -> None:
        require_image(self.elf)
        if self.pack is not None and not self.pack.is_file():
            raise ConfigError(
                f"CMSIS pack {self.pack} does not exist",
                hint="download ST's STM32F7xx device family pack (.pack) and pass its path",
            )
        if serial_ports.is_remote_probe(self.probe_id) and not self.port:
            raise serial_ports.remote_port_needed(self.probe_id)  # fail before flashing, not after
        api = self.api()
        self._open_log()
        probe = self._choose_probe(api)
        self._unique_id = probe.unique_id
        self._probe_desc = f"{probe.unique_id} ({probe.description})"
        log.info("probe %s, session options %s", self._probe_desc, self._options())
        log.info("settings from: %s", ", ".join(f"{k}: {v}" for k, v in self.sources.items()))
        self._session = self._open_session(api, probe.unique_id)
        self._program(api)
        self._verify(api)
        log.info("verified %s", self.elf)
        self._call(api, "resetting", lambda: self._session.target.reset())

    def start(self) -> str:
        if self._session is None:
            raise DeviceError("the board was not prepared", hint="call prepare() before start()")
        url = self.port or serial_ports.vcp_for_probe(
            self._unique_id or "",
            vid=self.board.usb.vid if self.board.usb else serial_ports.ST_VID,
            pids=self.board.usb.pids if self.board.usb else (),
        )
        serial_ports.check_port(url, baudrate=self.board.baud)
        log.info("UART %s at %d baud", url, self.board.baud)
        self.reset()
        return url

    def reset(self) -> None:
        self.require(RESET)
        if self._session is None:
            raise DeviceError("the board is not connected", hint="call prepare() first")
        self._call(self.api(), "resetting", lambda: self._session.target.reset())

    def alive(self) -> bool:
        return self._session is not None

    def stop(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            try:
                session.close()
            except Exception as exc:  # a probe that went away cannot be closed cleanly
                log.info("closing the session: %s", exc)
        self._close_log()

    # -- steps -----------------------------------------------------------------

    def _choose_probe(self, api: PyocdApi):
        try:
            probes = list(
                api.ConnectHelper.get_all_connected_probes(
                    blocking=False, unique_id=self.probe_id, print_wait_message=False
                )
                or []
            )
        except api.Error as exc:
            raise ConfigError(
                f"pyOCD rejected the probe {self.probe_id!r}: {exc}",
                hint="give a unique id from `pyocd list`, or remote:HOST:PORT for a "
                "probe behind `pyocd server`",
            ) from exc
        if not probes:
            if self.probe_id:
                raise DeviceError(
                    f"no debug probe matches {self.probe_id!r}",
                    hint=f"check `pyocd list` and the id in --probe or the lab file; {NO_PROBE_HINT}",
                )
            raise DeviceError(
                "no debug probe found: connect the board's ST-LINK USB to this machine",
                hint=NO_PROBE_HINT,
            )
        if len(probes) > 1:
            listed = "; ".join(f"{p.unique_id} ({p.description})" for p in probes)
            which = (
                f"{len(probes)} debug probes match {self.probe_id!r}"
                if self.probe_id
                else f"{len(probes)} debug probes are connected"
            )
            raise ConfigError(
                f"{which}: {listed}",
                hint=f'choose one: --probe UID, or probe = "UID" under '
                f"[boards.{self.board.id}] in the lab file",
            )
        return probes[0]

    def _options(self) -> dict[str, Any]:
        options: dict[str, Any] = {"target_override": self.board.target}
        if self.pack is not None:
            options["pack"] = str(self.pack)
        if self.frequency:
            options["frequency"] = self.frequency
        return options

    def _open_session(self, api: PyocdApi, unique_id: str):
        def connect():
            session = api.ConnectHelper.session_with_chosen_probe(
                blocking=False, return_first=True, unique_id=unique_id, options=self._options()
            )
            if session is None:
                raise DeviceError(
                    f"debug probe {self._probe_desc} went away before it could be opened",
                    hint=RECONNECT_HINT,
                )
            try:
                session.open()
            except BaseException:
                session.close()
                raise
            return session

        return self._call(api, "connecting to the target", connect)

    def _program(self, api: PyocdApi) -> None:
        def program():
            fmt = "hex" if self.elf.suffix.lower() == ".hex" else "elf"
            api.FileProgrammer(self._session, progress=self.progress).program(
                str(self.elf), file_format=fmt
            )

        self._call(api, "programming flash", program)
        log.info("programmed %s", self.elf)
        if self.progress is not None:
            self.progress(
                1.0
            )  # pyOCD skips the callback when smart flashing finds nothing to write

    def _verify(self, api: PyocdApi) -> None:
        target = self._session.target
        for address, expected in load_segments(self.elf):
            actual = self._call(
                api,
                "verifying flash",
                lambda a=address, n=len(expected): bytes(target.read_memory_block8(a, n)),
            )
            if actual != expected:
                offset = (
                    next(i for i, (a, b) in enumerate(zip(actual, expected)) if a != b)
                    if len(actual) == len(expected)
                    else 0
                )
                raise DeviceError(
                    f"verify failed: flash at {address + offset:#010x} differs from {self.elf}",
                    hint=f"flash again; if it persists erase the chip (pyocd erase --chip -t "
                    f"{self.board.target}) and check the option bytes for write protection",
                )

    def _call(self, api: PyocdApi, doing: str, fn: Callable[[], Any]) -> Any:
        """Run one pyOCD step; its exceptions become hil errors that name the fix."""
        try:
            return fn()
        except api.TargetSupportError as exc:
            raise self._missing_target(exc) from exc
        except api.FlashFailure as exc:
            raise DeviceError(
                f"{doing} on {self.board.id} failed: {exc}",
                hint=f"the flash may be read- or write-protected: check the option "
                f"bytes (STM32CubeProgrammer) or erase the chip (pyocd erase "
                f"--chip -t {self.board.target})",
            ) from exc
        except (api.ProbeError, api.TransferError) as exc:
            raise DeviceError(
                f"debug probe {self._probe_desc} failed while {doing}: {exc}",
                hint=f"{RECONNECT_HINT}; pyOCD's log: {self._log_path}",
            ) from exc
        except api.Error as exc:
            raise DeviceError(
                f"pyOCD failed while {doing} on {self.board.id}: {exc}",
                hint=f"{RECONNECT_HINT}; pyOCD's log: {self._log_path}",
            ) from exc
        except OSError as exc:  # the remote probe's socket, or USB access itself
            if serial_ports.is_remote_probe(self._unique_id or self.probe_id):
                raise DeviceError(
                    f"cannot reach the probe server {self._probe_desc}: {exc}", hint=REMOTE_HINT
                ) from exc
            raise DeviceError(
                f"debug probe {self._probe_desc} failed while {doing}: {exc}", hint=RECONNECT_HINT
            ) from exc

    def _missing_target(self, exc: BaseException) -> ConfigError:
        target = self.board.target
        if self.pack is not None:
            return ConfigError(
                f"pyOCD has no target {target}: the pack {self.pack} does not define it",
                hint=f"use ST's STM32F7xx device family pack, or install the target: "
                f"pyocd pack install {target}",
            )
        return ConfigError(
            f"pyOCD has no target {target}",
            hint=f"install its pack once: pyocd pack install {target} (needs the "
            f"internet), or pass --pack FILE with a downloaded .pack (offline benches)",
        )
