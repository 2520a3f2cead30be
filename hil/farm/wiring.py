"""From an acquired place's resources to a bench hil can use.

What a place must hold (docs/board-farm.md shows an exporter for it):

- its UART, a ``NetworkSerialPort`` (ser2net behind the exporter, or an
  emulated bench's socket): ``protocol: rfc2217`` becomes an ``rfc2217://``
  URL, ``raw`` a ``socket://`` one. A place with several names the UART
  ``uart``;
- optionally a ``NetworkService`` named ``pyocd``: a ``pyocd server`` on the
  exporter's machine, reached as pyOCD's ``remote:HOST:PORT`` probe. Without
  one the board cannot be flashed from here, so hil attaches to the image it
  already runs (and checks that image's model hash in HELLO);
- the tag ``board``: a boards/*.toml id.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from hil.errors import ConfigError, ResourceUnavailable
from hil.farm.coordinator import PlaceState, Resource

UART_NAME = "uart"
PROBE_NAME = "pyocd"
BOARD_TAG = "board"
PROTOCOLS = {"rfc2217": "rfc2217", "raw": "socket"}


@dataclass(frozen=True)
class Bench:
    """One acquired place, as hil reaches it."""

    place: str
    port: str  # pyserial URL of the board's UART
    probe: str | None = None  # "remote:HOST:PORT" of the place's pyOCD server
    board: str | None = None  # the place's board tag

    @property
    def flashable(self) -> bool:
        return self.probe is not None


def bench_for_place(place: PlaceState, resources: Sequence[Resource]) -> Bench:
    """The bench behind ``place``; a ConfigError names what the place lacks."""
    return Bench(
        place=place.name,
        port=_uart(place.name, resources),
        probe=_probe(place.name, resources),
        board=place.tags.get(BOARD_TAG),
    )


def _uart(place: str, resources: Sequence[Resource]) -> str:
    ports = [r for r in resources if r.cls == "NetworkSerialPort"]
    if len(ports) > 1:
        named = [r for r in ports if r.name == UART_NAME]
        if len(named) != 1:
            listed = ", ".join(r.path for r in ports)
            raise ConfigError(
                f"place {place} holds {len(ports)} serial ports ({listed}) and none is "
                f"named {UART_NAME!r}",
                hint=f"name the board's UART {UART_NAME!r} in the exporter configuration, or "
                f"rename it in the place's match: labgrid-client -p {place} add-named-match "
                f"EXPORTER/GROUP/NetworkSerialPort {UART_NAME}",
            )
        ports = named
    if not ports:
        raise ConfigError(
            f"place {place} holds no serial port (NetworkSerialPort): hil talks to the board "
            "through its UART",
            hint="export the board's USB serial port (USBSerialPort, published through "
            f"ser2net) and add it to the place: labgrid-client -p {place} add-match "
            "EXPORTER/GROUP/NetworkSerialPort",
        )
    port = ports[0]
    _check_reachable(place, port)
    params = port.params
    if not port.avail or not params.get("port") or not params.get("host"):
        raise ResourceUnavailable(
            f"place {place}: its serial port {port.path} is not available now (the exporter "
            "sees no USB serial device, or its ser2net did not start)",
            hint="check the board's USB cable and the exporter's log, then retry; "
            "labgrid-client -v resources shows what the exporter publishes",
        )
    protocol = params.get("protocol", "rfc2217")
    scheme = PROTOCOLS.get(protocol)
    if scheme is None:
        raise ConfigError(
            f"place {place}: serial port {port.path} speaks {protocol!r}",
            hint=f"publish it with protocol rfc2217 or raw (known: {', '.join(PROTOCOLS)})",
        )
    return f"{scheme}://{_host(params['host'])}:{int(params['port'])}"


def _probe(place: str, resources: Sequence[Resource]) -> str | None:
    services = [r for r in resources if r.cls == "NetworkService" and r.name == PROBE_NAME]
    if not services:
        return None
    service = services[0]
    _check_reachable(place, service)
    port = service.params.get("port")
    if not port or int(port) == 22:  # NetworkService's default is SSH's port
        raise ConfigError(
            f"place {place}: the {PROBE_NAME} service {service.path} has no port of its own",
            hint="give it the pyocd server's port (pyocd server --port, 5555 by default)",
        )
    return f"remote:{_host(service.params['address'])}:{int(port)}"


def _check_reachable(place: str, resource: Resource) -> None:
    """labgrid reaches some resources through an SSH tunnel to the exporter; hil does not."""
    extra = resource.params.get("extra") or {}
    if extra.get("proxy_required"):
        raise ConfigError(
            f"place {place}: {resource.path} is reachable only through an SSH proxy to "
            f"{extra.get('proxy')}",
            hint="publish it under a host name or address this machine can reach directly "
            "(hil opens the socket itself, without labgrid's SSH tunnel)",
        )


def _host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host
