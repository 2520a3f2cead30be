"""From a place's resources to a bench, and from a bench to a device seat and its runner.

hil.farm.wiring (UART URL, probe server, board tag), hil.farm.request's tag
parsing, hil.farm.labgrid_api's import, hil.device.connect.seats on benches,
the pyOCD runner a flashable bench drives (through tests/helpers/pyocd_fakes.py)
and hil.runners.attached. No coordinator, probe or device.
"""

from __future__ import annotations

import builtins
import dataclasses
import os
import struct
import sys
from pathlib import Path

import pytest

from hil.config.boards import load_board
from hil.config.lab import Lab
from hil.device.connect import seats
from hil.device.target import Target
from hil.errors import ConfigError, DeviceError
from hil.farm import labgrid_api
from hil.farm.coordinator import PlaceState, Resource
from hil.farm.request import FILTER_EXAMPLE, parse_tags
from hil.farm.wiring import Bench, bench_for_place
from hil.model.examples import build_example
from hil.runners import RESET, runner_for, serial_ports
from hil.runners.attached import AttachedRunner
from hil.runners.pyocd import PyocdRunner

from helpers.pyocd_fakes import Probe, install_bench

REMOTE = "remote:127.0.0.1:5555"


def serial(name="NetworkSerialPort", host="bench-a", port=4000, protocol=None, extra=None):
    params = {"host": host, "port": port, "speed": 115200}
    if protocol is not None:
        params["protocol"] = protocol
    if extra is not None:
        params["extra"] = extra
    return Resource("NetworkSerialPort", name, params, f"exp/grp/NetworkSerialPort/{name}")


def service(name="pyocd", address="bench-a", port=5555, extra=None):
    params = {"address": address, "username": "lab"}
    if port is not None:
        params["port"] = port
    if extra is not None:
        params["extra"] = extra
    return Resource("NetworkService", name, params, f"exp/grp/NetworkService/{name}")


def bench(resources, tags=None) -> Bench:
    return bench_for_place(PlaceState("P", tags or {}), resources)


# -- wiring: the UART ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "protocol, url",
    [
        ("raw", "socket://bench-a:4000"),
        ("rfc2217", "rfc2217://bench-a:4000"),
        (None, "rfc2217://bench-a:4000"),
    ],
)
def test_the_serial_port_protocol_picks_the_url_scheme(protocol, url):
    assert bench([serial(protocol=protocol)]).port == url


@pytest.mark.parametrize("broken", ["no port", "not available"])
def test_a_serial_port_the_exporter_cannot_serve_is_a_one_line_error(broken):
    """The exporter publishes a USBSerialPort it cannot see with no port, unavailable."""
    port = serial(port=None) if broken == "no port" else serial()
    if broken == "not available":
        port = dataclasses.replace(port, avail=False)
    with pytest.raises(DeviceError, match="is not available now") as caught:
        bench([port])
    assert "labgrid-client -v resources" in caught.value.hint


def test_of_two_serial_ports_the_one_named_uart_is_the_board_uart():
    got = bench([serial("debug", port=4001), serial("uart", port=4002, protocol="raw")])
    assert got.port == "socket://bench-a:4002"


def test_two_serial_ports_and_none_named_uart_is_refused():
    with pytest.raises(ConfigError, match="place P holds 2 serial ports") as err:
        bench([serial("a"), serial("b")])
    assert "exp/grp/NetworkSerialPort/a, exp/grp/NetworkSerialPort/b" in err.value.message
    assert "add-named-match" in err.value.hint and "'uart'" in err.value.hint


def test_no_serial_port_is_refused():
    with pytest.raises(ConfigError, match="place P holds no serial port") as err:
        bench([service()])
    assert "add-match" in err.value.hint


def test_an_unknown_serial_protocol_is_refused():
    with pytest.raises(ConfigError, match="speaks 'telnet'") as err:
        bench([serial(protocol="telnet")])
    assert "rfc2217 or raw" in err.value.hint


@pytest.mark.parametrize("which", ["uart", "probe"])
def test_a_resource_behind_an_ssh_proxy_is_refused(which):
    behind = {"proxy_required": True, "proxy": "gateway"}
    resources = [serial(extra=behind)] if which == "uart" else [serial(), service(extra=behind)]
    with pytest.raises(ConfigError, match="reachable only through an SSH proxy to gateway") as err:
        bench(resources)
    assert "directly" in err.value.hint


# -- wiring: the probe server and the board tag ---------------------------------------------


def test_a_pyocd_service_is_the_remote_probe():
    got = bench([serial(), service(address="10.0.0.7", port=5555)], tags={"board": "nucleo-f746"})
    assert got == Bench("P", "rfc2217://bench-a:4000", "remote:10.0.0.7:5555", "nucleo-f746")
    assert got.flashable


def test_a_service_with_another_name_is_not_a_probe():
    got = bench([serial(), service(name="ssh", port=22)])
    assert got.probe is None and not got.flashable and got.board is None


@pytest.mark.parametrize("port", [22, None])
def test_a_pyocd_service_without_its_own_port_is_refused(port):
    with pytest.raises(ConfigError, match="the pyocd service .* has no port of its own") as err:
        bench([serial(), service(port=port)])
    assert "5555" in err.value.hint


def test_ipv6_hosts_are_bracketed():
    got = bench([serial(host="fd00::2", protocol="raw"), service(address="::1", port=5555)])
    assert got.port == "socket://[fd00::2]:4000" and got.probe == "remote:[::1]:5555"
    assert bench([serial(host="[fd00::2]")]).port == "rfc2217://[fd00::2]:4000"


# -- request: --reserve tags ----------------------------------------------------------------


def test_tags_are_split_on_spaces_and_commas():
    assert parse_tags("board=nucleo-f746 rack=2,room=b1") == {
        "board": "nucleo-f746",
        "rack": "2",
        "room": "b1",
    }


@pytest.mark.parametrize(
    "text, problem",
    [
        ("board", "'board' is not a tag=value pair"),
        ("board= rack=2", "'board=' is not a tag=value pair"),
        ("Board=x", "'Board' is not a labgrid tag name"),
        ("b=x", "'b' is not a labgrid tag name"),
        ("", "needs at least one tag=value pair"),
        (" , ", "needs at least one tag=value pair"),
    ],
)
def test_bad_tags_are_refused_with_an_example(text, problem):
    with pytest.raises(ConfigError, match=problem) as err:
        parse_tags(text)
    assert err.value.message.startswith("--reserve") and err.value.hint == FILTER_EXAMPLE


# -- labgrid_api: the one import of labgrid --------------------------------------------------


def test_labgrid_loads_with_the_parts_hil_uses(monkeypatch):
    import grpc.aio

    monkeypatch.delenv("GRPC_ENABLE_FORK_SUPPORT", raising=False)
    api = labgrid_api.load_labgrid()
    assert api.RpcError is grpc.aio.AioRpcError
    assert callable(api.Reservation.from_pb2) and hasattr(api.messages, "AcquirePlaceRequest")
    assert api.version and os.environ["GRPC_ENABLE_FORK_SUPPORT"] == "0"


@pytest.mark.parametrize("how", ["sys.modules", "import"])
def test_without_labgrid_the_error_names_the_extra(monkeypatch, how):
    if how == "sys.modules":
        monkeypatch.setitem(sys.modules, "labgrid", None)
    else:
        real = builtins.__import__

        def no_labgrid(name, *args, **kwargs):
            if name.split(".")[0] == "labgrid":
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return real(name, *args, **kwargs)

        monkeypatch.setattr(builtins, "__import__", no_labgrid)
    with pytest.raises(ConfigError, match="labgrid is not installed") as err:
        labgrid_api.load_labgrid()
    assert "hil[labgrid]" in err.value.hint


# -- connect.seats: where each device is --------------------------------------------------------


@pytest.fixture(scope="module")
def lenet5():
    return build_example("lenet5")


def target_for(board: str, lenet5, tmp_path, benches=(), **kwargs) -> Target:
    return Target(
        board=load_board(board),
        network=lenet5,
        model="lenet5",
        build_root=tmp_path,
        benches=tuple(benches),
        **kwargs,
    )


EMULATED = Bench("bench-a", "socket://127.0.0.1:4000", board="qemu-m4")
PROBED = Bench("f7-1", "rfc2217://127.0.0.1:4001", probe=REMOTE, board="nucleo-f746")
UNPROBED = Bench("f7-2", "rfc2217://127.0.0.1:4002", board="nucleo-f746")


def test_an_emulated_board_on_a_bench_is_attached_on_its_port(lenet5, tmp_path):
    said = []
    target = target_for("qemu-m4", lenet5, tmp_path, [EMULATED, EMULATED])
    got = seats(target, devices=1, say=said.append)
    assert [(s.name, s.port, s.attach, s.runner_options) for s in got] == [
        ("bench-a", "socket://127.0.0.1:4000", True, {})
    ] * 2
    assert got[0].log_dir == tmp_path / "logs" / "bench-a"
    assert said == ["place bench-a is emulated: attaching to the image it runs"] * 2


def test_a_pyocd_board_on_a_probe_bench_is_flashed_through_it(lenet5, tmp_path):
    target = target_for("nucleo-f746", lenet5, tmp_path, [PROBED], lab=Lab())
    (seat,) = seats(target, flash_progress=print)
    assert not seat.attach and seat.port == PROBED.port
    assert seat.runner_options["probe"] == REMOTE and seat.runner_options["port"] == PROBED.port
    assert seat.runner_options["progress"] is print


def test_a_pyocd_board_without_a_probe_is_attached(lenet5, tmp_path):
    said = []
    (seat,) = seats(target_for("nucleo-f746", lenet5, tmp_path, [UNPROBED]), say=said.append)
    assert seat.attach and seat.port == UNPROBED.port and seat.runner_options == {}
    assert said == ["place f7-2 has no pyocd service: attaching to the image it runs"]


def test_attach_is_never_flashed_even_with_a_probe(lenet5, tmp_path):
    said = []
    target = target_for("nucleo-f746", lenet5, tmp_path, [PROBED], attach=True)
    (seat,) = seats(target, say=said.append)
    assert seat.attach and seat.port == PROBED.port and seat.runner_options == {}
    assert said == []


def test_without_benches_the_seats_are_the_targets_own(lenet5, tmp_path):
    (one,) = seats(target_for("qemu-m7", lenet5, tmp_path, port="socket://127.0.0.1:9"))
    assert (one.name, one.log_dir, one.port, one.attach) == (
        "device0",
        tmp_path / "logs",
        "socket://127.0.0.1:9",
        False,
    )
    three = seats(target_for("qemu-m7", lenet5, tmp_path), devices=3)
    assert [s.name for s in three] == ["device0", "device1", "device2"]
    assert [s.log_dir for s in three] == [tmp_path / "logs" / f"device{k}" for k in range(3)]
    assert all(s.port is None and s.runner_options == {} for s in three)


# -- the flashing boundary: a probe bench drives the pyOCD runner ----------------------------


def tiny_elf(path: Path, address: int = 0x08000000, blob: bytes = bytes(range(64))) -> Path:
    """A 32-bit Arm ELF with one PT_LOAD (what the runner programs and verifies)."""
    header = b"\x7fELF\x01\x01\x01" + bytes(9)
    header += struct.pack(
        "<HHIIIIIHHHHHH", 2, 40, 1, address | 1, 52, 0, 0x05000200, 52, 32, 1, 40, 0, 0
    )
    phdr = struct.pack("<8I", 1, 84, address, address, len(blob), len(blob), 5, 4)
    path.write_bytes(header + phdr + blob)
    return path


def test_a_probe_bench_flashes_through_the_remote_probe_and_uses_its_uart(
    lenet5, tmp_path, monkeypatch
):
    fake = install_bench(monkeypatch)
    fake.probes = [Probe(REMOTE, "remote probe")]
    checked = []
    monkeypatch.setattr(serial_ports, "list_ports", lambda: pytest.fail("the bench names the UART"))
    monkeypatch.setattr(serial_ports, "check_port", lambda url, baudrate: checked.append(url))
    target = target_for("nucleo-f746", lenet5, tmp_path, [PROBED], lab=Lab())
    (seat,) = seats(target)
    runner = runner_for(
        target.board, tiny_elf(tmp_path / "fw.elf"), seat.log_dir, **seat.runner_options
    )
    assert isinstance(runner, PyocdRunner)
    with runner as r:
        assert r.url == "rfc2217://127.0.0.1:4001"
    assert fake.calls[0] == ("list", False, REMOTE, False)
    session = next(c for c in fake.calls if c[0] == "session")
    assert session[3] == REMOTE
    assert any(c[0] == "program" for c in fake.calls) and fake.calls[-1] == ("close",)
    assert checked == ["rfc2217://127.0.0.1:4001"]
    assert (tmp_path / "logs" / "f7-1" / "pyocd-nucleo-f746.log").is_file()


# -- AttachedRunner --------------------------------------------------------------------------


def test_an_attached_runner_hands_over_its_port_and_offers_nothing_optional(tmp_path):
    with AttachedRunner(load_board("nucleo-f746"), None, tmp_path, port="socket://b:1") as r:
        assert r.url == "socket://b:1" and r.alive()
        assert RESET not in r.capabilities and r.capabilities == frozenset()
        with pytest.raises(DeviceError, match="AttachedRunner cannot reset"):
            r.reset()
    assert "no image flashed by hil" in r.log_path.read_text()


def test_an_attached_runner_without_a_port_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="--attach on qemu-m7: no port to attach to") as err:
        AttachedRunner(load_board("qemu-m7"), None, tmp_path, port=None)
    assert "--port" in err.value.hint and "--place" in err.value.hint
