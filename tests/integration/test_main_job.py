"""The main job on emulated boards, through the same code paths as `hil run`.

Every test here really launches qemu-system-arm and talks to the firmware
over its UART.
"""

from __future__ import annotations

import json
import signal
import time

import pytest

from hil.cli import main
from hil.config.boards import load_board
from hil.device.connect import open_device, prepare_image
from hil.device.session import DeviceFault
from hil.errors import DeviceError
from hil.model.examples import build_example
from hil.model.hashing import model_hash
from hil.model.inputs import generated_inputs
from hil.validate.check import check_vectors
from hil.validate.run_report import RunInfo, RunReport

pytestmark = [pytest.mark.qemu, pytest.mark.needs_qemu, pytest.mark.needs_arm_gcc]
BOARDS = ("qemu-m7", "qemu-m4", "qemu-m3", "qemu-m55")


@pytest.fixture(scope="module")
def build_root(tmp_path_factory):
    return tmp_path_factory.mktemp("hil-build")


def _report_for(net, dev) -> RunReport:
    return RunReport(
        net, RunInfo(net.name, dev.board.id, dev.info.variant, dev.info.backend, dev.counts)
    )


@pytest.mark.parametrize("board", BOARDS)
@pytest.mark.parametrize("model", ("cifar10", "lenet5"))
def test_hil_run_passes_bit_exactly(board, model, build_root, tmp_path, capsys):
    out = tmp_path / "report.json"
    junit = tmp_path / "report.xml"
    code = main(
        [
            "run",
            "--board",
            board,
            "--model",
            model,
            "--vectors",
            "2",
            "--build-dir",
            str(build_root),
            "--json",
            str(out),
            "--junit",
            str(junit),
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0, printed
    report = json.loads(out.read_text())
    assert report["passed"] and report["vectors"] == 2
    variant = load_board(board).variant
    assert report["info"]["variant"] == variant
    assert report["info"]["count_source"]["name"] == "qemu-icount"
    assert all(layer["matched"] == 2 for layer in report["layers"])
    assert all(layer["count"] > 0 for layer in report["layers"])
    assert "PASS: 2 of 2 vectors" in printed and "instructions (qemu-icount)" in printed
    assert junit.read_text().count("<testcase") == len(report["layers"])


# qemu-m55: the same SIMD (dsp) kernel path on Armv8.1-M, built with MVE auto-vectorisation.
@pytest.mark.parametrize("board", ("qemu-m7", "qemu-m55"))
def test_on_device_conformance_simd_path(board, shared_dir, build_root, capsys):
    code = main(
        [
            "conformance",
            str(shared_dir / "conformance" / "cmsis-nn-q7"),
            "--board",
            board,
            "--build-dir",
            str(build_root),
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "709 passed, 0 failed" in printed


def test_on_device_conformance_qemu_m3_plain(shared_dir, build_root, capsys):
    plain = main(
        [
            "conformance",
            str(shared_dir / "conformance" / "cmsis-nn-q7-plain"),
            "--board",
            "qemu-m3",
            "--build-dir",
            str(build_root),
        ]
    )
    rest = main(
        [
            "conformance",
            str(shared_dir / "conformance" / "cmsis-nn-q7"),
            "--board",
            "qemu-m3",
            "--build-dir",
            str(build_root),
            "--skip-function",
            "arm_maxpool_q7_HWC",
            "--skip-function",
            "arm_avepool_q7_HWC",
        ]
    )
    printed = capsys.readouterr().out
    assert (plain, rest) == (0, 0), printed
    assert "96 passed, 0 failed" in printed and "613 passed, 0 failed" in printed


def test_plain_device_fails_the_simd_pooling_vectors(shared_dir, build_root, capsys):
    # The two paths really differ: a plain-C device cannot pass the SIMD set.
    code = main(
        [
            "conformance",
            str(shared_dir / "conformance" / "cmsis-nn-q7"),
            "--board",
            "qemu-m3",
            "--build-dir",
            str(build_root),
            "--function",
            "arm_maxpool_q7_HWC",
        ]
    )
    assert code == 5
    assert "40 passed, 8 failed" in capsys.readouterr().out


def test_wrong_kernel_is_caught_at_its_first_layer(build_root, tmp_path):
    board = load_board("qemu-m7")
    net = build_example("lenet5")
    image = prepare_image(
        board, net, build_root=build_root, defines={"HIL_TEST_WRONG_ROUNDING": "1"}
    )
    with open_device(board, image, log_dir=tmp_path) as dev:
        report = check_vectors(
            dev.session,
            net,
            generated_inputs(net, 1, seed=3),
            _report_for(net, dev),
            variant=dev.info.variant,
        )
    assert not report.passed
    bad = report.first_bad_layer()
    assert (bad.index, bad.function) == (0, "arm_convolve_HWC_q7_basic")
    assert bad.mismatching_elements > 0 and bad.max_abs_diff >= 1
    # The real firmware's wrong rounding is named as the first wrong kernel, with the hint.
    blame = report.first_wrong_kernel()
    assert blame is not None and blame.isolated and blame.layer.index == 0
    assert blame.layer.isolated_stats.hint() == "all differences are -1: a rounding offset?"
    assert "first wrong kernel: layer 0 conv1 (arm_convolve_HWC_q7_basic)" in report.summary_line()


def test_image_for_another_model_is_refused(build_root, tmp_path):
    board = load_board("qemu-m4")
    image = prepare_image(board, build_example("lenet5"), build_root=build_root)
    with open_device(board, image, log_dir=tmp_path) as dev:
        with pytest.raises(DeviceError) as err:
            dev.session.check_image(model_hash(build_example("cifar10")), board.id, model="cifar10")
    assert "expected 'cifar10'" in err.value.message
    assert "hil flash --board qemu-m4 --model cifar10" in err.value.hint


def test_firmware_fault_reports_its_registers(build_root, tmp_path):
    board = load_board("qemu-m7")
    net = build_example("lenet5")
    image = prepare_image(
        board, net, build_root=build_root, defines={"HIL_TEST_FAULT_AT_LAYER": "2"}
    )
    with open_device(board, image, log_dir=tmp_path) as dev:
        with pytest.raises(DeviceFault) as err:
            dev.session.infer(generated_inputs(net, 1, seed=0)[0])
    fault = err.value.fault
    assert (fault.context, fault.index) == ("layer", 2)
    assert "UNDEFINSTR" in fault.cfsr_flags
    assert fault.registers["pc"] != 0
    assert "CFSR" in str(err.value)


def test_fault_through_the_cli_is_one_line_and_exit_code_4(
    build_root, tmp_path, capsys, monkeypatch
):
    import hil.device.connect

    real = hil.device.connect.prepare_image
    monkeypatch.setattr(
        hil.device.connect,
        "prepare_image",
        lambda *a, **k: real(*a, **{**k, "defines": {"HIL_TEST_FAULT_AT_LAYER": "1"}}),
    )
    code = main(
        [
            "run",
            "--board",
            "qemu-m3",
            "--model",
            "lenet5",
            "-n",
            "1",
            "--build-dir",
            str(build_root),
        ]
    )
    err = capsys.readouterr().err
    assert code == DeviceError.exit_code
    assert "layer 1" in err and "Traceback" not in err


def test_emulator_that_dies_is_reported_not_hung(build_root, tmp_path):
    board = load_board("qemu-m7")
    net = build_example("lenet5")
    image = prepare_image(board, net, build_root=build_root)
    with open_device(board, image, log_dir=tmp_path, timeout=3) as dev:
        dev.runner.process.send_signal(signal.SIGKILL)
        dev.runner.process.wait(5)
        started = time.monotonic()
        with pytest.raises(DeviceError):
            dev.session.infer(generated_inputs(net, 1, seed=0)[0])
        assert time.monotonic() - started < 30


def test_emulator_that_hangs_times_out_with_a_clear_error(build_root, tmp_path):
    board = load_board("qemu-m7")
    net = build_example("lenet5")
    image = prepare_image(board, net, build_root=build_root)
    with open_device(board, image, log_dir=tmp_path, timeout=1) as dev:
        dev.runner._qmp_command("stop")  # the guest freezes; the socket stays open
        started = time.monotonic()
        with pytest.raises(DeviceError) as err:
            dev.session.infer(generated_inputs(net, 1, seed=0)[0])
        assert time.monotonic() - started < 30
    assert "waiting for" in err.value.message or "timed out" in err.value.message.lower()


def test_emulated_counts_repeat_exactly(build_root, tmp_path):
    board = load_board("qemu-m7")
    net = build_example("cifar10")
    image = prepare_image(board, net, build_root=build_root)
    x = generated_inputs(net, 1, seed=11)[0]
    runs = []
    for _ in range(2):
        with open_device(board, image, log_dir=tmp_path) as dev:
            # Raw ticks may differ by one (the timer's phase when a layer
            # starts depends on when host bytes arrived); instructions may not.
            runs.append([dev.counts.convert(r.ticks) for r in dev.session.infer(x, dump="digest")])
    assert dev.counts.unit == "instructions"
    assert runs[0] == runs[1]
    assert all(n > 0 for n in runs[0])


def test_two_devices_share_the_vectors_into_one_report(build_root, tmp_path, capsys):
    out = tmp_path / "report.json"
    code = main(
        [
            "run",
            "--board",
            "qemu-m4",
            "--model",
            "lenet5",
            "--vectors",
            "6",
            "--devices",
            "2",
            "--build-dir",
            str(build_root),
            "--json",
            str(out),
        ]
    )
    assert code == 0, capsys.readouterr().out
    report = json.loads(out.read_text())
    assert report["passed"] and report["vectors"] == 6
    assert all(layer["matched"] == 6 for layer in report["layers"])
    logs = sorted(p.parent.name for p in (build_root / "logs").rglob("*.log"))
    assert {"device0", "device1"} <= set(logs)
