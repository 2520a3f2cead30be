"""Acquire places for a run and give them back, whatever happens.

``acquired_benches(request, count)`` yields one Bench per place and, on the
way out (an error, Ctrl-C, SIGTERM), releases every place it acquired and
cancels every reservation it made. A place held by someone else is a
PlaceBusy error naming the holder unless the request waits, through a
labgrid reservation, so that waiting jobs are served in the coordinator's
order rather than by whoever polls first.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Callable, Iterator

from hil.errors import (
    ConfigError,
    CoordinatorRefused,
    DeviceError,
    PlaceBusy,
    ResourceUnavailable,
)
from hil.farm.coordinator import CoordinatorClient, PlaceState
from hil.farm.request import FarmRequest, tags_text
from hil.farm.wiring import Bench, bench_for_place

Say = Callable[[str], None]
POLL_SECONDS = 1.0  # how often a waiting reservation is polled (which also keeps it alive)
READY_SECONDS = 10.0  # how long an acquired place's resources may take to become usable
READY_POLL = 0.2
ENDED = ("expired", "invalid")


@contextmanager
def acquired_benches(
    request: FarmRequest,
    count: int = 1,
    *,
    say: Say | None = None,
    client: CoordinatorClient | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[list[Bench]]:
    """``count`` benches for ``request`` (one for a named place), released at exit."""
    say = say or (lambda _text: None)
    client = client or CoordinatorClient(request.coordinator)
    with client:
        taking = _Taking(client, request, say, sleep, clock)
        try:
            names = taking.reserved(count) if request.reserves else [taking.place()]
            benches = [taking.bench(n) for n in names]
            for bench in benches:
                say(
                    f"place {bench.place}: {bench.port}"
                    + (f", probe {bench.probe}" if bench.probe else "")
                )
            yield benches
        finally:
            taking.give_back()


class _Taking:
    """What one request has acquired and reserved, so that all of it can be given back."""

    def __init__(self, client: CoordinatorClient, request: FarmRequest, say: Say, sleep, clock):
        self.clock = clock
        self.client = client
        self.request = request
        self.say = say
        self.sleep = sleep
        self.acquired: list[str] = []
        self.tokens: list[str] = []

    # -- one named place -------------------------------------------------------

    def place(self) -> str:
        name = self.request.place
        assert name is not None
        places = self.client.places()
        if name not in places:
            known = ", ".join(places) or "none"
            raise ConfigError(
                f"{self.request.source}: no place {name!r} on the labgrid coordinator at "
                f"{self.client.address} (places: {known})",
                hint=f"check the name, or create it: labgrid-client -p {name} create",
            )
        state = places[name]
        if state.acquired == self.client.me:
            # labgrid's way: acquire with labgrid-client, then run tests on the place.
            self.say(
                f"place {name} is already acquired by you ({state.acquired}): using it as it is"
            )
            return name
        if self.request.wait:
            self._wait_for([self.client.reserve({"name": name}).token])
        elif state.acquired or state.reservation:
            raise self._busy(state)
        self._acquire(name)
        return name

    # -- places matching tags ----------------------------------------------------

    def reserved(self, count: int) -> list[str]:
        tags = self.request.tags
        places = self.client.places()
        matching = [p for p in places.values() if _matches(p, tags)]
        if len(matching) < count:
            listed = "; ".join(
                f"{p.name} [{tags_text(p.tags) or 'no tags'}]" for p in places.values()
            )
            have = (
                f"only {len(matching)} place{'s' if len(matching) != 1 else ''} "
                f"match{'es' if len(matching) == 1 else ''}"
                if matching
                else "no place matches"
            )
            raise ConfigError(
                f"{self.request.source} {tags_text(tags)!r}: {have} on the coordinator at "
                f"{self.client.address}, {count} wanted (places: {listed or 'none'})",
                hint="ask for fewer with --devices, or tag more places"
                if matching
                else "tag the places: labgrid-client -p PLACE set-tags board=ID ...",
            )
        for _ in range(count):
            self.tokens.append(self.client.reserve(tags).token)
        states = [self.client.poll(t) for t in self.tokens]
        if not all(s.state in ("allocated", "acquired") for s in states) and not self.request.wait:
            free = sum(s.state == "allocated" for s in states)
            busy = [
                p
                for p in matching
                if p.acquired or (p.reservation and p.reservation not in self.tokens)
            ]
            held = ", ".join(_holder(p) for p in busy) or "reserved by others"
            what = (
                f"only {free} of the {count} places matching {tags_text(tags)!r} "
                f"{'is' if free == 1 else 'are'} free"
                if free
                else f"no place matching {tags_text(tags)!r} is free"
            )
            raise PlaceBusy(
                f"{what} ({held})",
                owner=busy[0].acquired if busy else None,
                hint="add --wait to wait for them, or ask for fewer with --devices",
            )
        names = self._wait_for(self.tokens)
        for name in names:
            self._acquire(name)
        return names

    # -- shared steps ------------------------------------------------------------

    def bench(self, name: str) -> Bench:
        """The acquired place as a bench. An exporter starts a USB serial port's ser2net
        when the place is acquired and publishes its port a moment later: wait for it."""
        deadline = self.clock() + READY_SECONDS
        while True:
            try:
                return bench_for_place(self.client.places()[name], self.client.resources(name))
            except ResourceUnavailable:
                if self.clock() >= deadline:
                    raise
            self.sleep(READY_POLL)

    def _wait_for(self, tokens: list[str]) -> list[str]:
        """Poll ``tokens`` until each has its place allocated; the places' names."""
        if tokens is not self.tokens:
            self.tokens.extend(tokens)
        said = None
        while True:
            states = [self.client.poll(t) for t in tokens]
            for s in states:
                if s.state in ENDED:
                    raise DeviceError(
                        f"the labgrid reservation {s.token} for {self.request.describe()} "
                        f"is {s.state}",
                        hint="a place it held was deleted, or it was not polled in time; retry",
                    )
            ready = [s for s in states if s.state in ("allocated", "acquired") and s.places]
            if len(ready) == len(states):
                return [s.places[0] for s in ready]
            news = f"waiting for {self._what(len(states))}: {len(ready)} of {len(states)} allocated"
            if news != said:
                self.say(news + self._holders())
                said = news
            self.sleep(POLL_SECONDS)

    def _what(self, count: int) -> str:
        if self.request.place is not None:
            return f"place {self.request.place}"
        return f"{count} place{'s' if count > 1 else ''} matching {tags_text(self.request.tags)!r}"

    def _holders(self) -> str:
        places = self.client.places()
        if self.request.place is not None:
            busy = [places[self.request.place]] if self.request.place in places else []
        else:
            busy = [p for p in places.values() if _matches(p, self.request.tags)]
        held = [_holder(p) for p in busy if p.acquired]
        return f" ({', '.join(held)})" if held else ""

    def _acquire(self, name: str) -> None:
        try:
            self.client.acquire(name)
        except CoordinatorRefused as exc:
            state = self.client.places().get(name)
            if state is not None and (state.acquired or state.reservation):
                raise self._busy(state) from exc
            raise
        self.acquired.append(name)

    def _busy(self, state: PlaceState) -> PlaceBusy:
        if state.acquired:
            what = f"place {state.name} is acquired by {state.acquired}"
        else:
            what = (
                f"place {state.name} is reserved for another job (reservation {state.reservation})"
            )
        return PlaceBusy(
            what,
            owner=state.acquired,
            hint=f"add --wait to wait until it is free, or ask {state.acquired or 'its owner'} "
            f"to release it (labgrid-client -p {state.name} release)",
        )

    def give_back(self) -> None:
        """Release what was acquired and cancel what was reserved; a failure here is said,
        never allowed to hide the run's own outcome."""
        for name in reversed(self.acquired):
            try:
                self.client.release(name)
                self.say(f"released place {name}")
            except DeviceError as exc:
                self.say(f"warning: could not release place {name}: {exc}")
        self.acquired.clear()
        for token in self.tokens:
            try:
                self.client.cancel(token)
            except DeviceError as exc:
                self.say(f"warning: could not cancel reservation {token}: {exc}")
        self.tokens.clear()


def _matches(place: PlaceState, tags: dict[str, str]) -> bool:
    """labgrid's rule: every filter tag is one of the place's tags (or its name)."""
    have = {**place.tags, "name": place.name}
    return all(have.get(k) == v for k, v in tags.items())


def _holder(place: PlaceState) -> str:
    return (
        f"{place.name} acquired by {place.acquired}" if place.acquired else f"{place.name} reserved"
    )
