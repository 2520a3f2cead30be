"""A labgrid coordinator in memory, with CoordinatorClient's interface (no gRPC).

``FakeCoordinator`` allocates reservations the way labgrid's coordinator does
(one place per reservation, oldest first; a place is free when it is neither
acquired nor allocated; a filter matches when every filter tag equals the
place's tag or its ``name``), and answers refusals as CoordinatorRefused, so
hil.farm.acquire and hil.device.benches are tested without a coordinator.
``FakeSleep`` stands in for time.sleep while a request waits. Used by
tests/unit/test_farm_acquire.py; the real coordinator is in tests/integration/.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hil.errors import CoordinatorRefused
from hil.farm.coordinator import PlaceState, ReservationState, Resource

ME = "here/me"
ALICE = "there/alice"


def uart(port: int, name: str = "NetworkSerialPort", protocol: str = "raw") -> Resource:
    return Resource(
        "NetworkSerialPort",
        name,
        {"host": "127.0.0.1", "port": port, "protocol": protocol},
        f"exporter/group/NetworkSerialPort/{name}",
    )


@dataclass
class FakePlace:
    name: str
    tags: dict[str, str]
    resources: list[Resource]
    acquired: str | None = None
    reservation: str | None = None


@dataclass
class FakeReservation:
    token: str
    owner: str
    filters: dict[str, str]
    state: str = "waiting"
    places: list[str] = field(default_factory=list)


class FakeCoordinator:
    """Places and reservations in memory, changed the way labgrid's coordinator changes them."""

    def __init__(self, address: str = "fake-coordinator:20408", me: str = ME) -> None:
        self.address = address
        self.me = me
        self._places: dict[str, FakePlace] = {}
        self.reservations: dict[str, FakeReservation] = {}  # in creation order
        self.is_open = False
        self.sessions = 0
        self.refuse_release: set[str] = set()
        self.before_acquire = None  # called with the place's name: another user's race
        self._next = 0

    # -- the farm, as a test sets it up ----------------------------------------------------

    def add(self, name: str, tags: dict[str, str] | None = None, resources=None) -> FakePlace:
        port = 40000 + len(self._places)
        wiring = [uart(port)] if resources is None else list(resources)
        place = FakePlace(name, dict(tags or {}), wiring)
        self._places[name] = place
        return place

    def hold(self, name: str, by: str = ALICE) -> None:
        """Another user acquires ``name`` (labgrid-client -p name acquire)."""
        self._places[name].acquired = by
        self._schedule()

    def let_go(self, name: str) -> None:
        """The other user releases ``name``."""
        self._places[name].acquired = None
        self._schedule()

    def expire(self, token: str) -> None:
        res = self.reservations[token]
        for name in res.places:
            self._places[name].reservation = None
        res.state, res.places = "expired", []

    def acquired_by_me(self) -> list[str]:
        return [p.name for p in self._places.values() if p.acquired == self.me]

    def state(self, name: str) -> FakePlace:
        return self._places[name]

    # -- CoordinatorClient's interface -----------------------------------------------------

    def open(self) -> "FakeCoordinator":
        self.is_open = True
        self.sessions += 1
        return self

    def close(self) -> None:
        self.is_open = False

    def __enter__(self) -> "FakeCoordinator":
        return self.open()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _session(self) -> None:
        assert self.is_open, "a coordinator call outside the session"

    def places(self) -> dict[str, PlaceState]:
        self._session()
        return {
            n: PlaceState(n, dict(p.tags), p.acquired, p.reservation)
            for n, p in sorted(self._places.items())
        }

    def resources(self, place: str) -> list[Resource]:
        self._session()
        held = self._places[place]
        return list(held.resources) if held.acquired else []

    def acquire(self, place: str) -> None:
        self._session()
        doing = f"acquiring place {place}"
        if self.before_acquire is not None:
            self.before_acquire(place)
        held = self._places.get(place)
        if held is None:
            raise CoordinatorRefused(f"Place {place} does not exist", doing=doing)
        if held.acquired:
            raise CoordinatorRefused(f"Place {place} is already acquired", doing=doing)
        if held.reservation and self.reservations[held.reservation].owner != self.me:
            raise CoordinatorRefused(f"Place {place} was not reserved for {self.me}", doing=doing)
        held.acquired = self.me
        self._schedule()

    def release(self, place: str) -> None:
        self._session()
        doing = f"releasing place {place}"
        if place in self.refuse_release:
            raise CoordinatorRefused("the exporter did not answer", doing=doing)
        held = self._places[place]
        if not held.acquired:
            raise CoordinatorRefused(f"Place {place} is not acquired", doing=doing)
        held.acquired = None
        self._schedule()

    def reserve(self, tags: dict[str, str]) -> ReservationState:
        self._session()
        self._next += 1
        token = f"TOKEN{self._next}"
        self.reservations[token] = FakeReservation(token, self.me, dict(tags))
        self._schedule()
        return self._state(token)

    def poll(self, token: str) -> ReservationState:
        self._session()
        if token not in self.reservations:
            raise CoordinatorRefused(f"unknown reservation {token}", doing=f"polling {token}")
        return self._state(token)

    def cancel(self, token: str) -> None:
        self._session()
        res = self.reservations.pop(token)
        for name in res.places:
            self._places[name].reservation = None
        self._schedule()

    # -- labgrid's scheduling --------------------------------------------------------------

    def _state(self, token: str) -> ReservationState:
        res = self.reservations[token]
        return ReservationState(token, res.state, tuple(res.places))

    def _schedule(self) -> None:
        for res in self.reservations.values():
            held = [n for n in res.places if self._places[n].acquired]
            if res.state == "allocated" and held:
                res.state = "acquired"
            elif res.state == "acquired" and not held:
                res.state = "allocated"
        for res in self.reservations.values():  # oldest first, one place each
            if res.state != "waiting":
                continue
            free = [p for p in self._places.values() if not p.acquired and not p.reservation]
            fit = next((p for p in free if _matches(p, res.filters)), None)
            if fit is not None:
                fit.reservation = res.token
                res.state, res.places = "allocated", [fit.name]


def _matches(place: FakePlace, filters: dict[str, str]) -> bool:
    have = {**place.tags, "name": place.name}
    return all(have.get(k) == v for k, v in filters.items())


class FakeSleep:
    """time.sleep for a waiting request: runs ``actions[n]`` on its n-th call, and gives up
    (failing the test) instead of waiting for ever."""

    def __init__(self, actions: dict | None = None, limit: int = 50) -> None:
        self.actions = dict(actions or {})
        self.limit = limit
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        action = self.actions.get(len(self.calls))
        if action is not None:
            action()
        if len(self.calls) >= self.limit:
            raise AssertionError(f"still waiting after {self.limit} polls")
