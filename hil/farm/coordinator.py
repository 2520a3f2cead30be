"""A blocking client for a labgrid coordinator, usable from any thread.

labgrid's client is asyncio; hil is not. The session lives on an event loop
in its own daemon thread, so it keeps receiving the coordinator's updates
while hil runs vectors, and each call here waits for its coroutine with a
bound. What the coordinator says comes back as plain data (``PlaceState``,
``Resource``, ``ReservationState``); its refusals as hil errors.
"""

from __future__ import annotations

import asyncio
import getpass
import os
import socket
import threading
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

from hil.errors import CoordinatorRefused, DeviceError
from hil.farm.labgrid_api import LabgridApi, load_labgrid

DEFAULT_PORT = 20408  # labgrid's coordinator port
CALL_TIMEOUT = 20.0  # seconds for one coordinator call; they answer in milliseconds
COORDINATOR_HINT = (
    "start labgrid-coordinator there, or name the right one: --coordinator HOST:PORT, "
    "$LG_COORDINATOR, or coordinator = ... under [labgrid] in the lab file"
)


@dataclass(frozen=True)
class PlaceState:
    name: str
    tags: dict[str, str] = field(default_factory=dict)
    acquired: str | None = None  # "host/user" of the holder
    reservation: str | None = None  # token of the reservation it is allocated to
    matches: tuple[str, ...] = ()


@dataclass(frozen=True)
class Resource:
    """One resource an acquired place holds, as its exporter published it."""

    cls: str  # NetworkSerialPort, NetworkService, ...
    name: str  # the resource's name in the exporter's group (or the place's rename)
    params: dict[str, Any]
    path: str  # exporter/group/cls/name, for messages
    avail: bool = True


@dataclass(frozen=True)
class ReservationState:
    token: str
    state: str  # waiting | allocated | acquired | expired | invalid
    places: tuple[str, ...] = ()


def identity() -> str:
    """Who this client acts as, "host/user", as labgrid's client names itself."""
    host = os.environ.get("LG_HOSTNAME") or socket.gethostname()
    user = os.environ.get("LG_USERNAME") or getpass.getuser()
    return f"{host}/{user}"


def grpc_address(address: str) -> str:
    """HOST[:PORT] with labgrid's default port filled in."""
    host, sep, port = address.rpartition(":")
    if sep and port.isdigit() and "]" not in port:
        return address
    return f"{address}:{DEFAULT_PORT}"


class CoordinatorClient:
    """One session with the coordinator at ``address`` (HOST[:PORT]); close() ends it."""

    def __init__(self, address: str, *, api: LabgridApi | None = None) -> None:
        self.address = grpc_address(address)
        self.me = identity()
        self._api = api
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._session: Any = None

    @property
    def api(self) -> LabgridApi:
        if self._api is None:
            self._api = load_labgrid()
        return self._api

    # -- session ---------------------------------------------------------------

    def open(self) -> "CoordinatorClient":
        api = self.api
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="labgrid-client", daemon=True
        )
        self._thread.start()

        async def start():
            session = api.ClientSession(self.address, self._loop)
            self._session = session
            await session.start()

        try:
            self._run(start, "connecting")
        except BaseException:
            self.close()
            raise
        return self

    def close(self) -> None:
        loop, self._loop = self._loop, None
        session, self._session = self._session, None
        if loop is None:
            return
        if session is not None:

            async def stop():
                await session.stop()
                await session.close()

            try:
                asyncio.run_coroutine_threadsafe(stop(), loop).result(5)
            except BaseException:  # a coordinator that went away cannot be left politely
                pass
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(5)
        if not loop.is_running():
            loop.close()

    def __enter__(self) -> "CoordinatorClient":
        return self.open()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _run(self, make: Callable[[], Awaitable[Any]], doing: str) -> Any:
        """Run ``make()`` on the session's loop and wait for it; errors become DeviceErrors."""
        if self._loop is None:
            raise DeviceError("the coordinator session is closed", hint="open() it first")
        api = self.api

        async def call():
            return await make()

        future = asyncio.run_coroutine_threadsafe(call(), self._loop)
        try:
            return future.result(CALL_TIMEOUT)
        except TimeoutError as exc:
            future.cancel()
            raise DeviceError(
                f"the labgrid coordinator at {self.address} did not answer within "
                f"{CALL_TIMEOUT:.0f} s while {doing}",
                hint=COORDINATOR_HINT,
            ) from exc
        except api.ServerError as exc:
            raise DeviceError(
                f"cannot reach the labgrid coordinator at {self.address}: {_text(exc)}",
                hint=COORDINATOR_HINT,
            ) from exc
        except api.RpcError as exc:
            raise CoordinatorRefused(_details(exc), doing=doing) from exc

    def _sync(self) -> None:
        """Wait until the coordinator's updates for every call so far have arrived."""
        if not self._run(self._session.sync_with_coordinator, "syncing"):
            raise DeviceError(
                f"lost the labgrid coordinator at {self.address}", hint=COORDINATOR_HINT
            )

    # -- what there is ---------------------------------------------------------

    def places(self) -> dict[str, PlaceState]:
        self._sync()
        return {name: _place_state(p) for name, p in sorted(self._session.places.items())}

    def resources(self, place: str) -> list[Resource]:
        """The resources ``place`` holds now that it is acquired."""
        self._sync()
        p = self._session.places[place]
        held = []
        for path in p.acquired_resources:
            exporter, group, cls, name = path
            match = p.getmatch(tuple(path))
            entry = self._session.resources.get(exporter, {}).get(group, {}).get(name)
            if entry is None:
                raise DeviceError(
                    f"place {place}: its resource {'/'.join(path)} is gone (exporter "
                    f"{exporter} disconnected?)",
                    hint=f"check the exporter on {exporter}: labgrid-client -v resources",
                )
            held.append(
                Resource(
                    cls=entry.cls,
                    name=(match.rename if match is not None and match.rename else name),
                    params=dict(entry.params),
                    path="/".join(path),
                    avail=bool(entry.avail),
                )
            )
        return held

    # -- changing it -----------------------------------------------------------

    def _rpc(self, method: str, doing: str, **fields: Any) -> Any:
        """The coordinator's gRPC call ``method`` with its ``<method>Request`` message,
        as labgrid's own client makes it."""
        request = getattr(self.api.messages, f"{method}Request")(**fields)
        return self._run(lambda: getattr(self._session.stub, method)(request), doing)

    def acquire(self, place: str) -> None:
        self._rpc("AcquirePlace", f"acquiring place {place}", placename=place)
        self._sync()

    def release(self, place: str) -> None:
        self._rpc("ReleasePlace", f"releasing place {place}", placename=place)
        self._sync()

    def reserve(self, tags: dict[str, str]) -> ReservationState:
        """A reservation for one place whose tags include ``tags`` (labgrid allocates
        one place per reservation)."""
        main = self.api.messages.Reservation.Filter(filter=tags)
        reply = self._rpc("CreateReservation", "reserving", filters={"main": main}, prio=0.0)
        return self._state(reply.reservation)

    def poll(self, token: str) -> ReservationState:
        """The reservation's state; polling also keeps a waiting reservation from expiring."""
        reply = self._rpc("PollReservation", f"polling reservation {token}", token=token)
        return self._state(reply.reservation)

    def cancel(self, token: str) -> None:
        self._rpc("CancelReservation", f"cancelling reservation {token}", token=token)

    def _state(self, pb2: Any) -> ReservationState:
        res = self.api.Reservation.from_pb2(pb2)
        places = tuple(name for group in res.allocations.values() for name in group)
        return ReservationState(res.token, res.state.name, places)


def _place_state(p: Any) -> PlaceState:
    return PlaceState(
        name=p.name,
        tags=dict(p.tags),
        acquired=p.acquired or None,
        reservation=p.reservation or None,
        matches=tuple(str(m) for m in p.matches),
    )


def _details(exc: BaseException) -> str:
    details = getattr(exc, "details", None)
    return str(details() if callable(details) else exc)


def _text(exc: BaseException) -> str:
    return " ".join(str(a) for a in exc.args) or type(exc).__name__
