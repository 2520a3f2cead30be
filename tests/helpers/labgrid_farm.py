"""A real labgrid board farm on loopback: coordinator, exporter and emulated benches.

``LabgridFarm`` runs labgrid's own ``labgrid-coordinator`` and ``labgrid-exporter``
on 127.0.0.1 and drives them with ``labgrid-client``, so hil's farm support is
tested against the real thing, not a fake. The exporter publishes
``NetworkSerialPort`` resources that point at emulated benches (``EmulatedBench``):
QEMU running hil's lenet5 image for qemu-m4, its UART a TCP server on loopback.

Fixtures (tests/integration/conftest.py makes them available to every
integration test; elsewhere, import them from here):

- ``labgrid_farm``: a running coordinator, no exporter yet.
- ``emulated_benches``: call it with n to start n benches; all stop at teardown.
- ``farm_with_benches``: a ``BenchFarm``: two benches, exported as groups
  bench-a and bench-b, and places farm-a and farm-b matching them, tagged
  board=qemu-m4.
- ``bench_image`` / ``bench_build_root``: the benches' image and the build root
  it sits in (session scope, built once); give ``hil run --build-dir`` the root
  so hil finds the same image instead of building another.
- ``s8_farm_with_benches``: the same two places, their benches running the
  trained LeNet-5 int8 model (``s8_bench_model``: model file, digits, labels,
  float twin; ``s8_bench_image``: its qemu-m4 image in the same build root).

Bench fixtures need QEMU and the Arm toolchain (``require_tool``); every fixture
needs labgrid's programs, which the test extra installs next to the Python
running the tests.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import pytest
import yaml

from hil.config.boards import load_board
from hil.device.connect import prepare_image
from hil.model.io import load_any_model, load_model
from hil.runners.qemu import QemuRunner

# Before anything imports grpc (hil's labgrid client does so in the test process):
# gRPC's fork handler can abort the children a test forks, as labgrid's own tests note.
os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "0")

EXPORTER_NAME = "testhost"
BENCH_BOARD = "qemu-m4"
BENCH_MODEL = "lenet5"  # small: about a second per vector on QEMU
S8_DIGITS = 16  # test digits for the s8 benches
READY_TIMEOUT = 30.0  # for a start on a loaded machine; never part of an assertion
STOP_TIMEOUT = 10.0  # SIGTERM, then SIGKILL after this
CLIENT_TIMEOUT = 30.0
COORDINATOR_ATTEMPTS = 3  # a free port can be taken between picking and binding it
POLL = 0.1
TAIL_LINES = 30


class FarmError(RuntimeError):
    """The test farm did not do what a test asked of it; the message quotes its output."""


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def labgrid_program(name: str) -> str:
    """The path of ``labgrid-<name>``; skip the test when labgrid is absent (fail under CI=true)."""
    # The test extra installs labgrid into the venv running the tests, which need not be on PATH.
    beside_python = Path(sys.executable).parent / f"labgrid-{name}"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which(f"labgrid-{name}")
    if found:
        return found
    message = f"labgrid-{name} is not installed; pip install -e '.[test]' installs labgrid"
    if _in_ci():
        pytest.fail(f"CI=true and {message}", pytrace=False)
    pytest.skip(message)


def free_port() -> int:
    """A loopback TCP port nothing listens on right now (it may be taken before it is used)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None


def _end_with_parent() -> None:
    """In the child before exec: SIGTERM it if the test process dies without tearing down."""
    if _libc is not None:
        _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def live_in_group(pgid: int) -> list[int]:
    """PIDs of running (not zombie) processes in process group ``pgid``."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        state, group = fields[0], int(fields[2])
        if group == pgid and state != "Z":
            found.append(int(stat.parent.name))
    return found


class FarmProcess:
    """One daemon of the farm: its output appended to a log file (no pipe can fill), its
    own process group (so stopping it also reaches anything it started)."""

    def __init__(self, name: str, cmd: list[str], *, cwd: Path, env: dict[str, str]) -> None:
        self.name = name
        self.program = Path(cmd[0]).name  # for messages: "labgrid-exporter"
        self.log_path = cwd / f"{name}.log"
        with open(self.log_path, "ab") as log:
            log.write(f"=== {' '.join(cmd)}\n".encode())
            log.flush()
            self._log_start = log.tell()
            self.process = subprocess.Popen(
                cmd,
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                process_group=0,
                preexec_fn=_end_with_parent,
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self) -> str:
        """What it wrote since this start."""
        with open(self.log_path, "rb") as log:
            log.seek(self._log_start)
            return log.read().decode(errors="replace")

    def tail(self) -> str:
        lines = self.output().strip().splitlines()
        return "\n".join(lines[-TAIL_LINES:]) or "(nothing)"

    def alive(self) -> bool:
        return self.process.poll() is None

    def wait_for(self, mark: str, timeout: float = READY_TIMEOUT) -> None:
        """Return once ``mark`` is in its output; FarmError if it ends or stays silent."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if mark in self.output():
                return
            if not self.alive():
                raise FarmError(
                    f"{self.program} exited with status {self.process.returncode} before "
                    f"{mark!r}; its output ({self.log_path}):\n{self.tail()}"
                )
            time.sleep(POLL)
        raise FarmError(
            f"{self.program} did not say {mark!r} within {timeout:.0f} s; "
            f"its output ({self.log_path}):\n{self.tail()}"
        )

    def stop(self) -> None:
        """SIGTERM (labgrid shuts down cleanly on it), SIGKILL to the group after a bound."""
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(STOP_TIMEOUT)
        self.kill_group()
        with contextlib.suppress(subprocess.TimeoutExpired):  # the survivor check reports it
            self.process.wait(STOP_TIMEOUT)

    def kill_group(self) -> None:
        """SIGKILL whatever of its group still runs (the leader too, unless it ended)."""
        # Only while the group has members: an empty group's id may be reused.
        if self.alive() or self.survivors():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGKILL)

    def survivors(self) -> list[int]:
        """Processes of its group still running (the leader included)."""
        return live_in_group(self.pid)


def _labgrid_env() -> dict[str, str]:
    # A developer's own LG_PLACE, LG_PROXY, LG_ENV ... must not steer the test farm.
    env = dict(os.environ)
    for key in [k for k in env if k.startswith("LG_")]:
        if key not in ("LG_HOSTNAME", "LG_USERNAME"):
            del env[key]
    return env


class LabgridFarm:
    """A labgrid coordinator on a free loopback port, an optional exporter, and
    ``labgrid-client`` to drive them. A context manager: on exit every process it
    started is stopped, and FarmError is raised if one survived."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root else Path(tempfile.mkdtemp(prefix="labgrid-farm-"))
        self.root.mkdir(parents=True, exist_ok=True)
        self.port: int | None = None
        self.coordinator: FarmProcess | None = None
        self.exporter: FarmProcess | None = None
        self._started: list[FarmProcess] = []  # every process, for the survivor check

    @property
    def address(self) -> str:
        if self.port is None:
            raise FarmError("the farm's coordinator is not running; use LabgridFarm as `with`")
        return f"127.0.0.1:{self.port}"

    # -- coordinator ------------------------------------------------------

    def start(self) -> "LabgridFarm":
        program = labgrid_program("coordinator")
        failures = []
        for _ in range(COORDINATOR_ATTEMPTS):
            port = free_port()
            # cwd: the coordinator keeps its places.yaml in the directory it runs in.
            coordinator = self.spawn("coordinator", [program, "--listen", f"127.0.0.1:{port}"])
            try:
                coordinator.wait_for("Coordinator ready")
            except FarmError as exc:
                exited = not coordinator.alive()
                coordinator.stop()
                failures.append(str(exc))
                if exited:
                    continue  # most likely the port was taken between picking and binding it
                break
            self.coordinator, self.port = coordinator, port
            return self
        raise FarmError("labgrid-coordinator did not start:\n" + "\n".join(failures))

    def spawn(self, name: str, cmd: list[str], env: dict[str, str] | None = None) -> FarmProcess:
        """Start ``cmd`` in the farm's directory, logged to NAME.log; ``close`` stops it."""
        process = FarmProcess(name, cmd, cwd=self.root, env=env or _labgrid_env())
        self._started.append(process)
        return process

    def __enter__(self) -> "LabgridFarm":
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Stop every process the farm started, newest first (so the exporter before the
        coordinator it talks to); FarmError if any of them still runs after that."""
        for process in reversed(self._started):
            process.stop()
        self.exporter = self.coordinator = None
        self.port = None
        survivors = {p.name: p.survivors() for p in self._started if p.survivors()}
        for process in self._started:
            process.kill_group()
        if survivors:
            raise FarmError(f"processes outlived the labgrid farm: {survivors}")

    # -- labgrid-client ---------------------------------------------------

    def env(self, user: str | None = None, host: str | None = None) -> dict[str, str]:
        """An environment for labgrid's client (or hil) pointing at this farm; with
        ``user``, acting as that user (on this host, unless ``host`` names another)."""
        env = _labgrid_env()
        env["LG_COORDINATOR"] = self.address
        if user is not None:
            env["LG_USERNAME"] = user
            env["LG_HOSTNAME"] = host or socket.gethostname()
        return env

    def client(
        self,
        *args: str,
        user: str | None = None,
        check: bool = True,
        timeout: float = CLIENT_TIMEOUT,
    ) -> subprocess.CompletedProcess:
        """``labgrid-client ARGS`` against this farm; FarmError with its output if it fails
        and ``check`` is set (subprocess kills it if it outlasts ``timeout``)."""
        cmd = [labgrid_program("client"), *args]
        try:
            done = subprocess.run(
                cmd,
                env=self.env(user),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise FarmError(
                f"labgrid-client {' '.join(args)} did not finish within {timeout:.0f} s"
            ) from exc
        if check and done.returncode != 0:
            raise FarmError(
                f"labgrid-client {' '.join(args)} failed with status {done.returncode}:\n"
                f"{done.stdout}{done.stderr}"
            )
        return done

    # -- exporter ---------------------------------------------------------

    def start_exporter(self, groups: dict[str, dict]) -> FarmProcess:
        """Export ``{group: {resource name: resource yaml}}`` as exporter "testhost" and
        return once the coordinator lists every resource. Replaces a running exporter."""
        self.stop_exporter()
        exports = self.root / "exports.yaml"
        exports.write_text(yaml.safe_dump(groups, sort_keys=False))
        cmd = [
            labgrid_program("exporter"),
            "--coordinator",
            self.address,
            "--name",
            EXPORTER_NAME,
            "--hostname",
            "127.0.0.1",
            str(exports),
        ]
        self.exporter = self.spawn("exporter", cmd)
        self.exporter.wait_for("Exporter ready")
        wanted = [
            f"Resource '{name}' ({EXPORTER_NAME}/{group}/"
            for group, resources in groups.items()
            for name in resources
        ]
        self._wait_resources(lambda listing: all(w in listing for w in wanted), "appear")
        return self.exporter

    def stop_exporter(self) -> None:
        """Stop the exporter, and return once the coordinator no longer lists its resources."""
        if self.exporter is None:
            return
        self.exporter.stop()
        self.exporter = None
        self._wait_resources(lambda listing: f"Exporter '{EXPORTER_NAME}'" not in listing, "go")

    def _wait_resources(self, done: Callable[[str], bool], what: str) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        listing = ""
        while time.monotonic() < deadline:
            if self.exporter is not None and not self.exporter.alive():
                raise FarmError(
                    f"labgrid-exporter exited with status {self.exporter.process.returncode}; "
                    f"its output ({self.exporter.log_path}):\n{self.exporter.tail()}"
                )
            listing = self.client("-v", "resources").stdout
            if done(listing):
                return
            time.sleep(POLL)
        exporter_log = f"\nexporter log: {self.root / 'exporter.log'}"
        raise FarmError(
            f"the exported resources did not {what} within {READY_TIMEOUT:.0f} s; "
            f"labgrid-client -v resources says:\n{listing or '(nothing)'}{exporter_log}"
        )

    # -- places -----------------------------------------------------------

    def add_place(self, name: str, group: str, **tags: str) -> str:
        """Create place ``name`` matching every resource of ``group``, with ``tags``."""
        self.client("-p", name, "create")
        self.client("-p", name, "add-match", f"{EXPORTER_NAME}/{group}/*")
        if tags:
            self.client("-p", name, "set-tags", *(f"{k}={v}" for k, v in tags.items()))
        return name

    def show(self, name: str) -> str:
        return self.client("-p", name, "show").stdout

    def acquired_by(self, name: str) -> str | None:
        """Who holds place ``name`` ("host/user"), or None when it is free."""
        found = re.search(r"^\s*acquired: (\S+)\s*$", self.show(name), re.M)
        if found is None:
            raise FarmError(f"labgrid-client show of {name!r} has no 'acquired:' line")
        return None if found.group(1) == "None" else found.group(1)

    def reservations(self) -> str:
        return self.client("reservations").stdout


def stop_once_running(bench: "EmulatedBench", log: Path, logged_layers) -> threading.Event:
    """Stop ``bench`` (a bench dying mid-run) once the run log at ``log`` holds a judged
    layer; the returned event is set when it has been stopped."""
    stopped = threading.Event()

    def watch() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not logged_layers(log):
            time.sleep(0.02)
        bench.stop()
        stopped.set()

    threading.Thread(target=watch, daemon=True).start()
    return stopped


class EmulatedBench:
    """One bench: hil's image in QEMU (through hil's own runner), its UART a TCP server
    on 127.0.0.1 that waits for its first client and takes a new one after a disconnect."""

    def __init__(self, elf: Path, log_dir: Path, board_id: str = BENCH_BOARD) -> None:
        self.runner = QemuRunner(load_board(board_id), elf, log_dir)
        self.runner.prepare()
        try:
            self.url = self.runner.start()  # socket://127.0.0.1:PORT
        except BaseException:
            self.runner.stop()
            raise
        self.port = int(self.url.rsplit(":", 1)[1])

    @property
    def pid(self) -> int:
        assert self.runner.process is not None
        return self.runner.process.pid

    def stop(self) -> None:
        """Stop QEMU (idempotent); mid-run, that is a bench that died."""
        self.runner.stop()

    def alive(self) -> bool:
        return self.runner.alive()


def serial_port_resource(bench: EmulatedBench) -> dict:
    """The exporter's NetworkSerialPort entry for ``bench``'s UART."""
    return {"NetworkSerialPort": {"host": "127.0.0.1", "port": bench.port, "protocol": "raw"}}


@dataclass
class BenchFarm:
    """A farm whose places farm-a and farm-b lead to their own emulated bench."""

    farm: LabgridFarm
    benches: dict[str, EmulatedBench]  # by place name
    build_root: Path  # where the benches' image was built: hil run --build-dir

    def assert_nothing_held(self) -> None:
        """Every place released and every reservation cancelled, whatever the run's end."""
        for place in self.benches:
            assert self.farm.acquired_by(place) is None, f"{place} is still acquired"
        assert "Reservation '" not in self.farm.reservations()


# -- pytest fixtures ------------------------------------------------------


@pytest.fixture(scope="session")
def bench_build_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("labgrid-bench-build")


@pytest.fixture(scope="session")
def bench_image(bench_build_root, require_tool):
    """hil's lenet5 image for qemu-m4, built once per session."""
    require_tool("qemu")
    require_tool("arm_gcc")
    return prepare_image(
        load_board(BENCH_BOARD), load_model(BENCH_MODEL), build_root=bench_build_root
    )


@dataclass(frozen=True)
class S8BenchModel:
    """The trained LeNet-5 int8 (examples/lenet5_mnist/to_int8_tflite.py), imported,
    with digits, labels and its float twin, for a farm of s8 benches."""

    model: Path
    inputs: Path
    labels: Path
    float_model: Path


@pytest.fixture(scope="session")
def s8_bench_model(tmp_path_factory) -> S8BenchModel:
    from hil.cli import main

    d = tmp_path_factory.mktemp("labgrid-s8-model")
    script = Path(__file__).resolve().parents[2] / "examples" / "lenet5_mnist" / "to_int8_tflite.py"
    subprocess.run([sys.executable, str(script), str(d)], check=True, capture_output=True)
    model = d / "lenet5_int8.toml"
    if main(["import", str(d / "lenet5_mnist_int8.tflite"), "--out", str(model)]) != 0:
        raise FarmError(f"hil import of {d / 'lenet5_mnist_int8.tflite'} failed")
    np.save(d / "x.npy", np.load(d / "mnist_test_x.npy")[:S8_DIGITS])
    np.save(d / "y.npy", np.load(d / "mnist_test_y.npy")[:S8_DIGITS])
    return S8BenchModel(model, d / "x.npy", d / "y.npy", d / "lenet5_mnist_float.tflite")


@pytest.fixture(scope="session")
def s8_bench_image(s8_bench_model, bench_build_root, require_tool):
    """The LeNet-5 int8 image for qemu-m4 (hil's s8 kernels), built once per session."""
    require_tool("qemu")
    require_tool("arm_gcc")
    return prepare_image(
        load_board(BENCH_BOARD), load_any_model(s8_bench_model.model), build_root=bench_build_root
    )


@pytest.fixture
def labgrid_farm(tmp_path) -> Iterator[LabgridFarm]:
    """A running coordinator (logs in the test's tmp_path/farm); torn down after the test."""
    with LabgridFarm(tmp_path / "farm") as farm:
        yield farm


@contextlib.contextmanager
def _benches_of(elf: Path, log_root: Path) -> Iterator[Callable[[int], list[EmulatedBench]]]:
    """``start(n)`` starts n benches running ``elf``; every one is stopped on leaving."""
    started: list[EmulatedBench] = []

    def start(n: int) -> list[EmulatedBench]:
        new = []
        for _ in range(n):
            # One log directory each: a runner names its log after the board.
            new.append(EmulatedBench(elf, log_root / f"bench{len(started)}"))
            started.append(new[-1])
        return new

    try:
        yield start
    finally:
        for bench in started:
            bench.stop()
    assert not [b.pid for b in started if b.alive()], "a bench outlived its fixture"


@pytest.fixture
def emulated_benches(bench_image, tmp_path) -> Iterator[Callable[[int], list[EmulatedBench]]]:
    """``emulated_benches(n)``: start n benches; every one is stopped at teardown."""
    with _benches_of(bench_image.elf, tmp_path) as start:
        yield start


def _two_place_farm(
    farm: LabgridFarm, start: Callable[[int], list[EmulatedBench]], build_root: Path
) -> BenchFarm:
    first, second = start(2)
    farm.start_exporter(
        {"bench-a": serial_port_resource(first), "bench-b": serial_port_resource(second)}
    )
    benches = {}
    for suffix, bench in (("a", first), ("b", second)):
        farm.add_place(f"farm-{suffix}", f"bench-{suffix}", board=BENCH_BOARD)
        benches[f"farm-{suffix}"] = bench
    return BenchFarm(farm, benches, build_root)


@pytest.fixture
def farm_with_benches(labgrid_farm, emulated_benches, bench_build_root) -> BenchFarm:
    """Two benches exported as groups bench-a and bench-b; places farm-a and farm-b
    match one each, tagged board=qemu-m4."""
    return _two_place_farm(labgrid_farm, emulated_benches, bench_build_root)


@pytest.fixture
def s8_farm_with_benches(labgrid_farm, s8_bench_image, bench_build_root, tmp_path):
    """As farm_with_benches, the benches running the LeNet-5 int8 image (s8_bench_model)."""
    with _benches_of(s8_bench_image.elf, tmp_path) as start:
        yield _two_place_farm(labgrid_farm, start, bench_build_root)
