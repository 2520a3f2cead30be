"""Find a debug probe's virtual COM port, and open ports with errors that name the fix.

An ST-LINK's virtual COM port (VCP) reports the same USB serial number as
the probe's unique id, which pairs a port with a probe even when several
boards share a bench. Any pyserial URL given by the user (``--port``, the
lab file) bypasses discovery: ``/dev/ttyACM0``, ``COM5``,
``rfc2217://bench2:4000`` for a board on another machine.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

from hil.errors import ConfigError, DeviceError

ST_VID = 0x0483
PERMISSION_HINT = (
    "on Linux add yourself to the group that owns the port (usually dialout: "
    "sudo usermod -aG dialout $USER, then log in again) or install ST's udev rules"
)
BUSY_HINT = (
    "close the program holding it (a serial terminal, another hil run, "
    "STM32CubeIDE's console, ModemManager) and try again"
)


@dataclass(frozen=True)
class PortInfo:
    """The fields of a pyserial ``ListPortInfo`` that discovery uses."""

    device: str
    vid: int | None
    pid: int | None
    serial_number: str | None
    description: str = ""

    @classmethod
    def of(cls, entry) -> "PortInfo":
        return cls(
            entry.device,
            entry.vid,
            entry.pid,
            entry.serial_number,
            getattr(entry, "description", "") or "",
        )


def list_ports() -> list[PortInfo]:
    """Every serial port the OS knows, as pyserial's list_ports sees them."""
    from serial.tools import list_ports as lp

    return [PortInfo.of(p) for p in lp.comports()]


def is_remote_probe(probe_id: str | None) -> bool:
    return bool(probe_id) and probe_id.lower().startswith("remote:")


def remote_port_needed(probe_id: str) -> ConfigError:
    return ConfigError(
        f"the probe {probe_id} is on another machine, so its virtual COM port is too",
        hint="pass the port as a URL: --port rfc2217://HOST:PORT (serve it on the bench machine "
        "with pyserial's rfc2217_server.py or ser2net), or set port in the lab file",
    )


def vcp_for_probe(
    unique_id: str,
    *,
    vid: int = ST_VID,
    pids: Iterable[int] = (),
    ports: Sequence[PortInfo] | None = None,
) -> str:
    """The device path of the VCP whose USB serial number is ``unique_id``.

    ``pids`` (when given) narrows the match to the probe's product ids.
    Raises DeviceError when the probe has no VCP on this machine.
    """
    if is_remote_probe(unique_id):
        raise remote_port_needed(unique_id)
    ports = list_ports() if ports is None else list(ports)
    pids = frozenset(pids)
    ours = [p for p in ports if p.vid == vid and (not pids or p.pid in pids)]
    wanted = unique_id.strip().upper()
    matches = sorted(
        (p for p in ours if (p.serial_number or "").strip().upper() == wanted),
        key=lambda p: p.device,
    )
    if matches:
        # An ST-LINK/V3 with two VCPs lists both; the first is the target's UART.
        return matches[0].device
    others = ", ".join(f"{p.device} (serial {p.serial_number or '?'})" for p in ours)
    raise DeviceError(
        f"debug probe {unique_id} has no virtual COM port on this machine"
        + (f"; ST-LINK ports present: {others}" if others else "; no ST-LINK serial ports present"),
        hint="use an ST-LINK with a virtual COM port (V2-1 or V3; update its firmware with ST's "
        "STSW-LINK007 if the port is missing), or name the port: --port /dev/ttyACM0 "
        "(or port = ... in the lab file)",
    )


def check_port(url: str, *, baudrate: int = 115200, opener: Callable | None = None) -> None:
    """Open and close ``url`` once so a missing, busy or forbidden port fails with its fix."""
    import serial

    opener = opener or serial.serial_for_url
    try:
        port = opener(url, baudrate=baudrate, timeout=0)
    except (serial.SerialException, OSError, ValueError) as exc:
        raise port_error(url, exc) from exc
    port.close()


def port_error(url: str, exc: BaseException) -> DeviceError:
    """A DeviceError for a port that would not open, by cause."""
    code = getattr(exc, "errno", None)
    text = str(exc)
    if code == errno.EBUSY or "busy" in text.lower():
        return DeviceError(
            f"serial port {url} is busy: another program has it open", hint=BUSY_HINT
        )
    if code in (errno.EACCES, errno.EPERM) or "permission denied" in text.lower():
        return DeviceError(f"no permission to open serial port {url}", hint=PERMISSION_HINT)
    if code == errno.ENOENT or "no such file" in text.lower() or "could not find" in text.lower():
        return DeviceError(
            f"serial port {url} does not exist",
            hint="check the board is plugged in and the name is right (ports: python -m "
            "serial.tools.list_ports -v), or leave --port out to find the ST-LINK's port",
        )
    return DeviceError(
        f"cannot open serial port {url}: {text}",
        hint="check the URL (/dev/ttyACM0, COM5, rfc2217://host:port) and that "
        "the port's server is running",
    )
