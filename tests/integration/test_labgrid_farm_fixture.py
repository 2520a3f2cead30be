"""The labgrid farm fixture itself, for real: labgrid's coordinator, exporter and
client on loopback, and QEMU benches answering hil's HELLO behind its places."""

from __future__ import annotations

import re
import socket
import time
from pathlib import Path

import pytest

from hil.device.session import DeviceSession
from hil.model.hashing import model_hash
from hil.model.io import load_model
from hil.protocol.link import Link

from helpers import labgrid_farm as farm_module
from helpers.labgrid_farm import (
    EXPORTER_NAME,
    EmulatedBench,
    FarmError,
    LabgridFarm,
    serial_port_resource,
)

HELLO_TIMEOUT = 10.0  # generous for a loaded machine; never part of an assertion


def needs_benches(test):
    """QEMU runs the benches' firmware, which the Arm toolchain builds."""
    for mark in (pytest.mark.qemu, pytest.mark.needs_qemu, pytest.mark.needs_arm_gcc):
        test = mark(test)
    return test


def _group_alive(pid: int) -> bool:
    return farm_module.live_in_group(pid) != []


@needs_benches
def test_places_carry_their_tags_and_matches(farm_with_benches) -> None:
    farm = farm_with_benches.farm
    assert farm.client("places").stdout.split() == ["farm-a", "farm-b"]
    for place, group in (("farm-a", "bench-a"), ("farm-b", "bench-b")):
        shown = farm.show(place)
        assert "tags: board=qemu-m4" in shown
        assert f"{EXPORTER_NAME}/{group}/*" in shown
        # The place leads to its own bench's UART, and only to it.
        ports = [int(p) for p in re.findall(r"'port': (\d+)", shown)]
        assert ports == [farm_with_benches.benches[place].port]
        assert farm.acquired_by(place) is None
    assert farm_with_benches.benches["farm-a"].port != farm_with_benches.benches["farm-b"].port


@needs_benches
def test_acquire_as_another_user_and_release(farm_with_benches) -> None:
    farm = farm_with_benches.farm
    farm.client("-p", "farm-a", "acquire", user="alice")
    assert farm.acquired_by("farm-a") == f"{socket.gethostname()}/alice"
    assert farm.acquired_by("farm-b") is None
    # Someone else cannot release alice's place without --kick.
    refused = farm.client("-p", "farm-a", "release", user="bob", check=False)
    assert refused.returncode != 0 and "acquired by a different user" in refused.stderr
    assert farm.acquired_by("farm-a").endswith("/alice")
    farm.client("-p", "farm-a", "release", user="alice")
    assert farm.acquired_by("farm-a") is None
    farm.client("reserve", "board=qemu-m4", user="alice")
    assert "board=qemu-m4" in farm.reservations()


@needs_benches
def test_the_bench_behind_a_place_answers_hello(farm_with_benches) -> None:
    farm = farm_with_benches.farm
    farm.client("-p", "farm-a", "acquire")
    (port,) = re.findall(r"'port': (\d+)", farm.show("farm-a"))
    url = f"socket://127.0.0.1:{port}"
    # Twice: the bench takes a new connection once the last one closed, as a farm's are.
    for _ in range(2):
        with Link.open(url, timeout=HELLO_TIMEOUT) as link:
            info = DeviceSession(link).hello()
        assert (info.board_id, info.model_name) == ("qemu-m4", "lenet5")
        assert info.model_hash == model_hash(load_model("lenet5"))[: len(info.model_hash)]
    assert farm_with_benches.benches["farm-a"].alive()


@needs_benches
def test_a_stopped_bench_refuses_connections(emulated_benches) -> None:
    (bench,) = emulated_benches(1)
    assert bench.alive() and bench.url == f"socket://127.0.0.1:{bench.port}"
    bench.stop()
    bench.stop()  # idempotent
    assert not bench.alive()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", bench.port), timeout=HELLO_TIMEOUT).close()


@needs_benches
def test_nothing_outlives_the_farm(bench_image, tmp_path: Path, qemu_children) -> None:
    bench = EmulatedBench(bench_image.elf, tmp_path / "bench")
    try:
        with LabgridFarm(tmp_path / "farm") as farm:
            farm.start_exporter({"bench-a": serial_port_resource(bench)})
            farm.add_place("farm-a", "bench-a", board="qemu-m4")
            farm.client("-p", "farm-a", "acquire")  # left acquired: teardown must not mind
            daemons = [farm.coordinator.pid, farm.exporter.pid]
            assert all(_group_alive(pid) for pid in daemons)
    finally:
        bench.stop()
    assert not any(_group_alive(pid) for pid in daemons)
    assert qemu_children() == []


@pytest.mark.parametrize(
    "script",
    [
        'trap "" TERM; sleep 60 & wait',  # deaf to SIGTERM: killed after the bound
        "sleep 60 & wait",  # ends on SIGTERM, but leaves its child behind
    ],
)
def test_teardown_kills_what_sigterm_leaves(tmp_path: Path, monkeypatch, script: str) -> None:
    monkeypatch.setattr(farm_module, "STOP_TIMEOUT", 0.5)
    with LabgridFarm(tmp_path / "farm") as farm:
        daemon = farm.spawn("daemon", ["sh", "-c", script])
        deadline = time.monotonic() + farm_module.READY_TIMEOUT
        while len(farm_module.live_in_group(daemon.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)  # until sh has started its child
        assert len(farm_module.live_in_group(daemon.pid)) == 2
        farm.close()  # what the `with` does too; here, to look before it is done twice
        assert not _group_alive(daemon.pid)


def test_a_taken_port_makes_the_coordinator_try_another(tmp_path: Path, monkeypatch) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        ports = iter([taken.getsockname()[1]])
        real = farm_module.free_port
        monkeypatch.setattr(farm_module, "free_port", lambda: next(ports, None) or real())
        with LabgridFarm(tmp_path / "farm") as farm:
            assert farm.port != taken.getsockname()[1]
            assert farm.client("places").returncode == 0
    log = (tmp_path / "farm" / "coordinator.log").read_text()
    assert log.count("=== ") == 2  # the failed start, then the one that bound


def test_a_failed_client_command_raises_with_its_output(labgrid_farm) -> None:
    with pytest.raises(FarmError, match="nowhere") as err:
        labgrid_farm.client("-p", "nowhere", "show")
    assert "failed with status" in str(err.value)
    assert labgrid_farm.client("-p", "nowhere", "show", check=False).returncode != 0
    assert labgrid_farm.env(user="alice")["LG_USERNAME"] == "alice"
    assert labgrid_farm.env()["LG_COORDINATOR"] == labgrid_farm.address


def test_an_exporter_that_dies_raises_with_its_output(labgrid_farm) -> None:
    with pytest.raises(FarmError, match="labgrid-exporter exited with status 1") as err:
        labgrid_farm.start_exporter({"bench-a": ["not", "a", "mapping"]})
    assert "'list' object has no attribute 'items'" in str(err.value)  # the exporter's words
