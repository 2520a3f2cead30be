"""Reliability on the emulator: device faults decoded with symbols, stack
overflow, hangs, a run killed half-way and resumed, cuts and resets mid-run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hil.cli import main
from hil.config.boards import load_board
from hil.device.connect import open_device, prepare_image
from hil.errors import DeviceError
from hil.firmware.image import symbolized
from hil.model.examples import build_example
from hil.model.inputs import generated_inputs
from hil.protocol.fault import DeviceFault
from hil.transport.faults import LinkFaults

pytestmark = [pytest.mark.qemu, pytest.mark.needs_qemu, pytest.mark.needs_arm_gcc]
BOARD = "qemu-m3"
MODEL = "lenet5"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def build_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("hil-reliability")


@pytest.fixture(scope="module")
def net():
    return build_example(MODEL)


def _device_error(
    build_root, net, tmp_path, defines, retries: int = 5, board_id: str = BOARD
) -> DeviceError:
    board = load_board(board_id)
    image = prepare_image(board, net, build_root=build_root, defines=defines)
    with pytest.raises(DeviceError) as info:
        with (
            symbolized(image.elf),
            open_device(
                board, image, log_dir=tmp_path, timeout=2, layer_macs=[l.macs for l in net.layers]
            ) as dev,
        ):
            dev.session.vector_retries = retries
            dev.session.infer(generated_inputs(net, 1, seed=0)[0], dump="digest")
    return info.value


def test_usage_fault_is_decoded_with_the_function_name(build_root, net, tmp_path):
    err = _device_error(build_root, net, tmp_path, {"HIL_TEST_FAULT_AT_LAYER": "3"})
    assert isinstance(err, DeviceFault)
    assert "device fault in layer 3" in err.message
    assert "UNDEFINSTR" in err.message and "(hil_layer_event+0x" in err.message
    assert len(err.results) == 3  # the layers before the fault were kept


# qemu-m3: the MPU guard of the armv7m port (MemManage, MSTKERR); qemu-m55: MSPLIM of
# the armv8m port (UsageFault, STKOF). Both read as the same report.
@pytest.mark.parametrize("board_id", [BOARD, "qemu-m55"])
def test_stack_overflow_hits_the_guard_and_says_so(build_root, net, tmp_path, board_id):
    err = _device_error(
        build_root, net, tmp_path, {"HIL_TEST_STACK_OVERFLOW_AT_LAYER": "1"}, board_id=board_id
    )
    assert isinstance(err, DeviceFault)
    assert "stack overflow in layer 1" in err.message, err.message
    if board_id == "qemu-m55":
        # MSPLIM refuses the push before memory below the limit is touched, so the
        # fault frame is intact (the MPU guard on armv7m leaves it unstacked).
        assert "(test_recurse+0x" in err.message and "STKOF" in err.message, err.message


@pytest.mark.parametrize("board_id", [BOARD, "qemu-m55"])
def test_a_hung_layer_is_reported_by_the_device_watchdog(build_root, net, tmp_path, board_id):
    err = _device_error(
        build_root, net, tmp_path, {"HIL_TEST_HANG_AT_LAYER": "2"}, board_id=board_id
    )
    assert isinstance(err, DeviceFault) and err.fault.watchdog
    assert "device watchdog expired in layer 2" in err.message
    assert "(hil_layer_event+0x" in err.message  # where it stopped making progress
    assert "watchdog_ms" in err.hint
    assert len(err.results) == 2


def test_without_a_watchdog_the_host_timeout_still_ends_a_hang(build_root, net, tmp_path):
    err = _device_error(
        build_root,
        net,
        tmp_path,
        {"HIL_TEST_HANG_AT_LAYER": "2", "HIL_WATCHDOG_MS": "0u"},
        retries=2,
    )
    assert "gave up on a vector" in err.message and "timed out" in err.message
    assert "qemu.log" in err.hint
    # A digest run reports its layers in one frame at the end, or ahead of a
    # fault report: a hang that nothing reports leaves none of them.
    assert err.results == []


def test_waiting_for_the_host_never_trips_the_watchdog(build_root, net, tmp_path):
    """The watchdog stops while the firmware waits for bytes: an idle device
    outlives its timeout (virtual time follows real time while QEMU sleeps)."""
    board = load_board(BOARD)
    image = prepare_image(board, net, build_root=build_root, defines={"HIL_WATCHDOG_MS": "1500u"})
    x = generated_inputs(net, 2, seed=5)
    with open_device(board, image, log_dir=tmp_path, timeout=3) as dev:
        first = dev.session.infer(x[0], dump="digest")
        time.sleep(2.5)  # longer than the watchdog, spent waiting for the next request
        second = dev.session.infer(x[1], dump="digest")
        assert dev.runner.alive()
    assert len(first) == len(second) == len(net.layers)


def test_cuts_and_resets_mid_run_lose_nothing(build_root, net, tmp_path):
    board = load_board(BOARD)
    image = prepare_image(board, net, build_root=build_root)
    faults = LinkFaults("cut_after=15000,cuts=3,drop=0.0005,flip=0.0005,seed=4")
    x = generated_inputs(net, 12, seed=3)
    from hil.reference.network import run_network

    with open_device(
        board,
        image,
        log_dir=tmp_path,
        timeout=3,
        link_faults=faults,
        layer_macs=[l.macs for l in net.layers],
    ) as dev:
        for i, v in enumerate(x):
            if i in (3, 7, 10):
                dev.runner.reset()  # the device reboots between requests
            results = dev.session.infer(v, dump="all")
            expected = run_network(net, v, dev.info.variant)
            assert [r.output.tolist() for r in results] == [e.ravel().tolist() for e in expected]
        stats = dev.session.link_stats()
    assert faults.counts.cuts == 3 and stats["reconnects"] == 3
    assert stats["resets_seen"] + stats["resyncs"] >= 3


def test_a_killed_run_leaves_a_valid_log_and_resume_completes_it(
    build_root, net, tmp_path, logged_layers
):
    log = tmp_path / "run.jsonl"
    args = [
        "run",
        "--board",
        BOARD,
        "--model",
        MODEL,
        "--vectors",
        "16",
        "--dump",
        "digest",
        "--build-dir",
        str(build_root),
        "--log",
        str(log),
    ]
    assert main(args[:-2] + ["--vectors", "1"]) == 0  # build once, outside the killed run
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from hil.cli import main; sys.exit(main(sys.argv[1:]))",
            *args,
        ],
        cwd=REPO,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if log.exists() and len(logged_layers(log)) >= 4 * len(net.layers) + 3:
                break
            time.sleep(0.05)
        assert proc.poll() is None, "the run ended before it could be killed"
    finally:
        # The run and its emulator share the new session's process group.
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    partial = logged_layers(log)
    assert 0 < len(partial) < 16 * len(net.layers)
    assert json.loads(log.read_text().splitlines()[0])["record"] == "run"

    assert main(args + ["--resume"]) == 0
    records = logged_layers(log)
    assert sorted(records) == [(v, l) for v in range(16) for l in range(len(net.layers))]


def test_resume_refuses_a_log_of_another_run(build_root, tmp_path, capsys):
    log = tmp_path / "run.jsonl"
    base = [
        "run",
        "--board",
        BOARD,
        "--model",
        MODEL,
        "--vectors",
        "2",
        "--dump",
        "digest",
        "--build-dir",
        str(build_root),
        "--log",
        str(log),
    ]
    assert main(base) == 0
    before = log.read_text()
    code = main(base[:-2] + ["--seed", "5", "--log", str(log), "--resume"])
    err = capsys.readouterr().err
    assert code == 2 and "was written for inputs" in err
    assert log.read_text() == before


def test_soak_command_reports_recovery_and_zero_mismatches(build_root, tmp_path, capsys):
    out = tmp_path / "soak.json"
    code = main(
        [
            "soak",
            "--board",
            BOARD,
            "--model",
            MODEL,
            "-n",
            "4",
            "--dump",
            "all",
            "--link-faults",
            "drop=0.001,flip=0.001,garbage=0.0005,seed=1",
            "--reset-every",
            "2",
            "--build-dir",
            str(build_root),
            "--json",
            str(out),
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0, printed
    figures = json.loads(out.read_text())
    assert figures["vectors"] == 4 and figures["mismatched"] == 0
    assert figures["injected"]["dropped"] > 0 and figures["link"]["retransmissions"] > 0
    assert "PASS: 4 of 4 vectors" in printed and "retransmissions" in printed
