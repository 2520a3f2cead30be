"""Acquiring labgrid places for a run and giving them back, and the board their tag names.

hil.farm.acquire and hil.device.benches against FakeCoordinator
(tests/helpers/labgrid_fakes.py), which allocates reservations as labgrid's
coordinator does. The real coordinator: tests/integration/.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect

import pytest

from hil.config.boards import load_board
from hil.device import benches as benches_module
from hil.device.benches import on_benches
from hil.device.target import Target
from hil.errors import (
    ConfigError,
    CoordinatorRefused,
    DeviceError,
    PlaceBusy,
    ResourceUnavailable,
)
from hil.farm.acquire import POLL_SECONDS, acquired_benches
from hil.farm.coordinator import CoordinatorClient
from hil.farm.request import FarmRequest
from hil.model.examples import build_example

from helpers.labgrid_fakes import ALICE, ME, FakeCoordinator, FakeSleep, uart

# -- fixtures ------------------------------------------------------------------------------


@pytest.fixture
def farm() -> FakeCoordinator:
    fake = FakeCoordinator()
    for name in ("A", "B", "C"):
        fake.add(name, {"board": "qemu-m4"})
    fake.add("F7", {"board": "nucleo-f746", "rack": "2"})
    return fake


@pytest.fixture
def said() -> list[str]:
    return []


def take(farm, request: FarmRequest, count: int = 1, said=None, sleep=None, clock=None):
    """acquired_benches on the fake coordinator."""
    return acquired_benches(
        request,
        count,
        say=said.append if said is not None else None,
        client=farm,
        sleep=sleep or FakeSleep(limit=1),
        **({"clock": clock} if clock is not None else {}),
    )


def place(name: str, wait: bool = False) -> FarmRequest:
    return FarmRequest(coordinator="fake", place=name, wait=wait)


def tagged(tags: dict[str, str], wait: bool = False) -> FarmRequest:
    return FarmRequest(coordinator="fake", tags=tags, wait=wait, source="--reserve")


def assert_nothing_held(farm: FakeCoordinator) -> None:
    assert farm.acquired_by_me() == []
    assert farm.reservations == {}
    assert not farm.is_open


def test_the_fake_has_the_clients_interface():
    def interface(cls) -> dict[str, list[str]]:
        return {
            name: list(inspect.signature(member).parameters)
            for name, member in vars(cls).items()
            if callable(member) and (not name.startswith("_") or name in ("__enter__", "__exit__"))
        }

    real = interface(CoordinatorClient)
    fake = interface(FakeCoordinator)
    assert {name: fake.get(name) for name in real} == real
    client = CoordinatorClient("farm.example.org")
    assert client.address == "farm.example.org:20408" and "/" in client.me


# -- one named place -------------------------------------------------------------------------


def test_a_named_place_is_acquired_and_released_at_exit(farm, said):
    with take(farm, place("B"), said=said) as benches:
        assert farm.acquired_by_me() == ["B"] and farm.is_open
        assert [(b.place, b.port, b.board) for b in benches] == [
            ("B", "socket://127.0.0.1:40001", "qemu-m4")
        ]
    assert_nothing_held(farm)
    assert farm.sessions == 1
    assert "place B: socket://127.0.0.1:40001" in said and said[-1] == "released place B"


@pytest.mark.parametrize("error", [ValueError("boom"), KeyboardInterrupt()])
def test_the_place_is_released_when_the_body_raises(farm, said, error):
    with pytest.raises(type(error)):
        with take(farm, place("A"), said=said):
            raise error
    assert_nothing_held(farm)
    assert "released place A" in said


def test_a_place_another_user_holds_is_busy_and_names_the_holder(farm):
    farm.hold("A", by=ALICE)
    with pytest.raises(PlaceBusy, match=f"place A is acquired by {ALICE}") as err:
        with take(farm, place("A")):
            pytest.fail("the body must not run on a busy place")
    assert err.value.owner == ALICE and err.value.exit_code == DeviceError.exit_code
    assert "--wait" in err.value.hint and "labgrid-client -p A release" in err.value.hint
    assert_nothing_held(farm)
    assert farm.state("A").acquired == ALICE


def test_a_place_reserved_for_another_job_is_busy(farm):
    farm.me = ALICE
    with farm:
        token = farm.reserve({"name": "A"}).token
    farm.me = ME
    with pytest.raises(PlaceBusy, match=f"reserved for another job \\(reservation {token}\\)"):
        with take(farm, place("A")):
            pass
    assert farm.acquired_by_me() == [] and list(farm.reservations) == [token]


def test_a_place_acquired_in_the_race_is_busy(farm):
    farm.before_acquire = lambda name: farm.hold(name, by=ALICE)
    with pytest.raises(PlaceBusy, match=f"acquired by {ALICE}") as err:
        with take(farm, place("C")):
            pass
    assert isinstance(err.value.__cause__, CoordinatorRefused)
    assert_nothing_held(farm)


def test_a_place_i_already_hold_is_used_and_not_released(farm, said):
    farm.hold("A", by=ME)
    with take(farm, place("A"), said=said) as benches:
        assert benches[0].place == "A"
    assert farm.acquired_by_me() == ["A"]  # the user acquired it, the user releases it
    assert f"place A is already acquired by you ({ME}): using it as it is" in said
    assert not any(line.startswith("released") for line in said)


def test_an_unknown_place_lists_the_known_ones(farm):
    with pytest.raises(ConfigError, match="no place 'Z'") as err:
        with take(farm, place("Z")):
            pass
    assert "fake-coordinator:20408" in err.value.message
    assert "(places: A, B, C, F7)" in err.value.message
    assert "labgrid-client -p Z create" in err.value.hint
    assert_nothing_held(farm)


def test_wait_waits_for_the_holder_to_release_then_acquires(farm, said):
    farm.hold("A", by=ALICE)
    sleep = FakeSleep({3: lambda: farm.let_go("A")})
    with take(farm, place("A", wait=True), said=said, sleep=sleep) as benches:
        assert farm.acquired_by_me() == ["A"] and benches[0].place == "A"
        assert len(farm.reservations) == 1  # the wait was queued through a reservation
    assert sleep.calls == [POLL_SECONDS] * 3
    waiting = [line for line in said if line.startswith("waiting for place A")]
    assert waiting == [f"waiting for place A: 0 of 1 allocated (A acquired by {ALICE})"]
    assert_nothing_held(farm)


def test_ctrl_c_while_waiting_cancels_the_reservation(farm):
    farm.hold("A", by=ALICE)

    def interrupt():
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        with take(farm, place("A", wait=True), sleep=FakeSleep({2: interrupt})):
            pytest.fail("the body must not run before the place is free")
    assert_nothing_held(farm)
    assert farm.state("A").acquired == ALICE and farm.state("A").reservation is None


def test_a_reservation_that_expires_while_waiting_is_a_device_error(farm):
    farm.hold("A", by=ALICE)
    sleep = FakeSleep({1: lambda: farm.expire(next(iter(farm.reservations)))})
    with pytest.raises(DeviceError, match="reservation TOKEN1 for A is expired") as err:
        with take(farm, place("A", wait=True), sleep=sleep):
            pass
    assert "retry" in err.value.hint
    assert_nothing_held(farm)


# -- places matching tags ---------------------------------------------------------------------


def test_two_reservations_get_two_distinct_places(farm, said):
    with take(farm, tagged({"board": "qemu-m4"}), 2, said=said) as benches:
        names = [b.place for b in benches]
        assert len(set(names)) == 2 and set(names) <= {"A", "B", "C"}
        assert sorted(farm.acquired_by_me()) == sorted(names)
        assert len({b.port for b in benches}) == 2
    assert_nothing_held(farm)
    assert {f"released place {n}" for n in names} <= set(said)


def test_the_place_name_is_a_tag_too(farm):
    with take(farm, tagged({"name": "F7", "rack": "2"})) as benches:
        assert [(b.place, b.board) for b in benches] == [("F7", "nucleo-f746")]


def test_fewer_matching_places_than_wanted_is_a_config_error(farm):
    with pytest.raises(ConfigError, match="only 3 places match on the coordinator") as err:
        with take(farm, tagged({"board": "qemu-m4"}), 4):
            pass
    assert "4 wanted" in err.value.message and "F7 [board=nucleo-f746 rack=2]" in err.value.message
    assert "--devices" in err.value.hint
    with pytest.raises(ConfigError, match="no place matches") as err:
        with take(farm, tagged({"board": "qemu-m99"})):
            pass
    assert "set-tags" in err.value.hint
    assert_nothing_held(farm)


def test_busy_places_without_wait_cancel_every_reservation(farm):
    farm.hold("A", by=ALICE)
    farm.hold("B", by=ALICE)
    with pytest.raises(PlaceBusy, match="only 1 of the 2 places matching 'board=qemu-m4' is free"):
        with take(farm, tagged({"board": "qemu-m4"}), 2) as benches:
            pytest.fail(f"the body must not run: {benches}")
    assert_nothing_held(farm)
    assert farm.state("C").reservation is None and farm.state("C").acquired is None


def test_busy_places_with_wait_are_acquired_once_freed(farm, said):
    farm.hold("A", by=ALICE)
    farm.hold("B", by=ALICE)
    sleep = FakeSleep({2: lambda: farm.let_go("B")})
    with take(farm, tagged({"board": "qemu-m4"}, wait=True), 2, said=said, sleep=sleep) as got:
        assert sorted(b.place for b in got) == ["B", "C"]
        assert sorted(farm.acquired_by_me()) == ["B", "C"]
    assert len(sleep.calls) == 2
    assert any(
        line.startswith("waiting for 2 places matching 'board=qemu-m4': 1 of 2") for line in said
    )
    assert_nothing_held(farm)


def test_a_place_without_a_uart_is_refused_and_given_back(farm):
    farm.add("bare", {"board": "qemu-m4"}, resources=[])
    with pytest.raises(ConfigError, match="place bare holds no serial port"):
        with take(farm, place("bare")):
            pass
    assert_nothing_held(farm)


def test_a_failed_release_is_said_and_the_rest_is_still_given_back(farm, said):
    farm.refuse_release.add("A")
    with take(farm, tagged({"board": "qemu-m4"}), 2, said=said) as benches:
        names = [b.place for b in benches]
    assert names[0] == "A"
    assert any(
        line.startswith("warning: could not release place A: the labgrid coordinator refused")
        for line in said
    )
    assert f"released place {names[1]}" in said
    assert farm.acquired_by_me() == ["A"] and farm.reservations == {}


# -- on_benches: the board from the place's tag -------------------------------------------------


@pytest.fixture(scope="module")
def lenet5():
    return build_example("lenet5")


def target_on(farm_request, lenet5, tmp_path, board="qemu-m7", board_given=False) -> Target:
    return Target(
        board=load_board(board),
        network=lenet5,
        model="lenet5",
        build_root=tmp_path,
        farm=farm_request,
        board_given=board_given,
    )


@pytest.fixture
def on_fake(farm, monkeypatch):
    """on_benches, reaching the fake coordinator."""
    monkeypatch.setattr(
        benches_module, "acquired_benches", functools.partial(acquired_benches, client=farm)
    )
    return farm


def test_the_place_tag_decides_the_board_when_none_is_given(on_fake, lenet5, tmp_path):
    with on_benches(target_on(place("A"), lenet5, tmp_path)) as target:
        assert target.board.id == "qemu-m4"
        assert [b.place for b in target.benches] == ["A"]
    assert_nothing_held(on_fake)


def test_reserve_with_devices_gets_that_many_benches(on_fake, lenet5, tmp_path):
    request = tagged({"board": "qemu-m4"})
    with on_benches(target_on(request, lenet5, tmp_path), devices=3) as target:
        assert sorted(b.place for b in target.benches) == ["A", "B", "C"]


def test_a_given_board_that_differs_from_the_tag_is_refused(on_fake, lenet5, tmp_path):
    request = target_on(place("A"), lenet5, tmp_path, board="qemu-m7", board_given=True)
    with pytest.raises(ConfigError, match="place A holds a qemu-m4") as err:
        with on_benches(request):
            pass
    assert "the board asked for is qemu-m7" in err.value.message and "--board" in err.value.hint
    assert_nothing_held(on_fake)


def test_a_given_board_that_matches_is_kept(on_fake, lenet5, tmp_path):
    request = target_on(place("F7"), lenet5, tmp_path, board="nucleo-f746", board_given=True)
    with on_benches(request) as target:
        assert target.board.id == "nucleo-f746"


def test_places_holding_different_boards_are_refused(on_fake, lenet5, tmp_path):
    on_fake.add("A2", {"board": "qemu-m3", "rack": "2"})
    request = target_on(tagged({"rack": "2"}), lenet5, tmp_path)
    with pytest.raises(ConfigError, match="the places hold different boards") as err:
        with on_benches(request, devices=2):
            pass
    assert (
        "A2 (board=qemu-m3)" in err.value.message and "F7 (board=nucleo-f746)" in err.value.message
    )
    assert_nothing_held(on_fake)


def test_an_untagged_place_needs_board(on_fake, lenet5, tmp_path):
    on_fake.add("plain")
    with pytest.raises(ConfigError, match="place plain has no board tag") as err:
        with on_benches(target_on(place("plain"), lenet5, tmp_path)):
            pass
    assert "set-tags board=ID" in err.value.hint and "--board" in err.value.hint
    given = target_on(place("plain"), lenet5, tmp_path, board="qemu-m3", board_given=True)
    with on_benches(given) as target:
        assert target.board.id == "qemu-m3"


def test_a_tag_naming_no_known_board_says_it_came_from_the_place(on_fake, lenet5, tmp_path):
    on_fake.add("odd", {"board": "qemu-m99"})
    with pytest.raises(ConfigError, match="place odd is tagged board=qemu-m99: unknown board") as e:
        with on_benches(target_on(place("odd"), lenet5, tmp_path)):
            pass
    assert "set-tags board=ID" in e.value.hint
    assert_nothing_held(on_fake)


def test_a_target_without_a_farm_passes_through(monkeypatch, lenet5, tmp_path):
    monkeypatch.setattr(
        benches_module, "acquired_benches", lambda *a, **k: pytest.fail("no farm was asked for")
    )
    target = target_on(None, lenet5, tmp_path)
    with on_benches(target, devices=2) as same:
        assert same is target


def test_a_serial_port_published_a_moment_after_the_acquire_is_waited_for(farm, said):
    """An exporter starts a USB serial port's ser2net when the place is acquired."""
    starting = dataclasses.replace(uart(40100), params={"host": "127.0.0.1", "port": None})
    farm.add("U", {"board": "qemu-m4"}, [starting])
    started = lambda: farm.state("U").resources.__setitem__(0, uart(40100))  # noqa: E731
    with take(farm, place("U"), said=said, sleep=FakeSleep({3: started})) as (bench,):
        assert bench.port == "socket://127.0.0.1:40100"
    assert farm.acquired_by_me() == []


def test_a_serial_port_that_never_comes_up_is_an_error_and_the_place_is_released(farm):
    never = dataclasses.replace(uart(40101), avail=False)
    farm.add("N", {"board": "qemu-m4"}, [never])
    clock = iter(range(0, 1000, 5)).__next__  # 5 s per look: the wait runs out after a few
    with pytest.raises(ResourceUnavailable, match="is not available now"):
        with take(farm, place("N"), sleep=FakeSleep(), clock=clock):
            pass
    assert farm.acquired_by_me() == []
