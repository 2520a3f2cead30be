"""hil on a real labgrid farm: coordinator and exporter on loopback, QEMU benches behind
NetworkSerialPort resources (helpers.labgrid_farm). Every place hil acquires is
released and every reservation cancelled, whatever the run's end."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import jsonschema
import pytest

from hil.cli import main

from helpers.labgrid_farm import stop_once_running
from helpers.signals import default_sigint

pytestmark = [pytest.mark.qemu, pytest.mark.needs_qemu, pytest.mark.needs_arm_gcc]

REPO = Path(__file__).resolve().parents[2]
MODEL = "lenet5"  # what the benches run (helpers.labgrid_farm)


def _hil(farm, *args: str) -> list[str]:
    """A hil command line on the farm: its coordinator, the benches' build directory."""
    return [*args, "--model", MODEL, "--coordinator", farm.farm.address,
            "--build-dir", str(farm.build_root)]  # fmt: skip


def _said(text: str) -> str:
    return " ".join(text.split())  # the console wraps long lines


def test_run_on_a_place_takes_the_board_from_its_tag(farm_with_benches, tmp_path, capsys):
    out = tmp_path / "r.json"
    code = main(["run", *_hil(farm_with_benches, "--place", "farm-a"), "-n", "3",
                 "--json", str(out)])  # fmt: skip
    said = capsys.readouterr()
    assert code == 0, said.out + said.err
    report = json.loads(out.read_text())
    assert report["passed"] and report["vectors"] == 3
    assert report["info"]["board"] == "qemu-m4"  # no --board: the place's tag named it
    assert [d["name"] for d in report["devices"]] == ["farm-a"]
    assert "released place farm-a" in said.out
    farm_with_benches.assert_nothing_held()


def test_reserve_two_places_shards_the_vectors_into_one_report(farm_with_benches, tmp_path, capsys):
    out = tmp_path / "r.json"
    code = main(["run", *_hil(farm_with_benches, "--reserve", "board=qemu-m4"),
                 "--devices", "2", "-n", "8", "--json", str(out)])  # fmt: skip
    said = capsys.readouterr()
    assert code == 0, said.out + said.err
    report = json.loads(out.read_text())
    assert report["passed"] and report["vectors"] == 8
    assert all(layer["matched"] == 8 for layer in report["layers"])
    devices = {d["name"]: d["vectors"] for d in report["devices"]}
    assert set(devices) == {"farm-a", "farm-b"}
    assert sum(devices.values()) == 8 and all(n > 0 for n in devices.values())
    assert report["device_failures"] == []
    farm = report["context"]["farm"]
    assert farm["coordinator"] == farm_with_benches.farm.address
    assert farm["asked"] == "board=qemu-m4"
    assert sorted(p["place"] for p in farm["places"]) == ["farm-a", "farm-b"]
    jsonschema.validate(report, json.loads((REPO / "docs" / "report-schema.json").read_text()))
    farm_with_benches.assert_nothing_held()


def test_a_bench_killed_mid_run_has_its_vectors_finished_on_the_other(
    farm_with_benches, tmp_path, capsys, logged_layers
):
    out, log = tmp_path / "r.json", tmp_path / "run.jsonl"
    killed = stop_once_running(farm_with_benches.benches["farm-b"], log, logged_layers)
    code = main(["run", *_hil(farm_with_benches, "--reserve", "board=qemu-m4"),
                 "--devices", "2", "-n", "40", "--json", str(out), "--log", str(log)])  # fmt: skip
    said = capsys.readouterr()
    assert killed.is_set()
    assert code == 0, said.out + said.err
    report = json.loads(out.read_text())
    assert report["passed"] and report["complete"] and report["vectors"] == 40
    assert all(layer["matched"] == 40 for layer in report["layers"])
    (failure,) = report["device_failures"]
    assert failure["device"] == "farm-b" and failure["rerun"] is True
    devices = {d["name"]: d for d in report["devices"]}
    assert devices["farm-b"]["failed"] and devices["farm-a"]["failed"] is None
    assert devices["farm-a"]["vectors"] + devices["farm-b"]["vectors"] == 40
    assert "warning: device farm-b failed" in _said(said.out)
    farm_with_benches.assert_nothing_held()


def test_a_lab_file_entry_can_name_a_place(farm_with_benches, tmp_path, capsys):
    lab = tmp_path / "lab.toml"
    lab.write_text(
        f'[boards.qemu-m4]\nplace = "farm-b"\n\n'
        f'[labgrid]\ncoordinator = "{farm_with_benches.farm.address}"\n'
    )
    out = tmp_path / "r.json"
    code = main(["run", "--board", "qemu-m4", "--model", MODEL, "--lab", str(lab), "-n", "2",
                 "--build-dir", str(farm_with_benches.build_root), "--json", str(out)])  # fmt: skip
    said = capsys.readouterr()
    assert code == 0, said.out + said.err
    assert [d["name"] for d in json.loads(out.read_text())["devices"]] == ["farm-b"]
    farm_with_benches.assert_nothing_held()


def test_a_place_locked_by_another_user_is_refused_naming_the_owner(farm_with_benches, capsys):
    farm = farm_with_benches.farm
    farm.client("-p", "farm-a", "acquire", user="alice")
    code = main(["run", *_hil(farm_with_benches, "--place", "farm-a"), "-n", "1"])
    err = _said(capsys.readouterr().err)
    assert code == 4
    assert "error: place farm-a is acquired by" in err and "/alice" in err
    assert "--wait" in err
    assert farm.acquired_by("farm-a").endswith("/alice")  # alice keeps it
    farm.client("-p", "farm-a", "release", user="alice")


def test_wait_gets_the_place_once_its_owner_releases_it(farm_with_benches, capsys):
    farm = farm_with_benches.farm
    farm.client("-p", "farm-a", "acquire", user="alice")
    waiting = threading.Event()

    def release_when_waited_for() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and "Reservation '" not in farm.reservations():
            time.sleep(0.1)
        waiting.set()
        farm.client("-p", "farm-a", "release", user="alice")

    threading.Thread(target=release_when_waited_for, daemon=True).start()
    code = main(["run", *_hil(farm_with_benches, "--place", "farm-a", "--wait"), "-n", "2"])
    said = capsys.readouterr()
    assert code == 0, said.out + said.err
    assert waiting.is_set()
    assert "waiting for place farm-a" in _said(said.out)
    farm_with_benches.assert_nothing_held()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_releases_every_place_and_cancels_the_reservations(
    sig, farm_with_benches, tmp_path, logged_layers
):
    """Ctrl-C in a terminal (SIGINT to the group), or a CI job cancelled (SIGTERM)."""
    log = tmp_path / "run.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-c", "import sys; from hil.cli import main; sys.exit(main(sys.argv[1:]))",
         "run", *_hil(farm_with_benches, "--reserve", "board=qemu-m4"), "--devices", "2",
         "-n", "2000", "--log", str(log)],
        cwd=REPO, env=farm_with_benches.farm.env(), start_new_session=True,
        preexec_fn=default_sigint, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not logged_layers(log):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "no vector was judged"
            time.sleep(0.05)
        assert farm_with_benches.farm.acquired_by("farm-a") is not None
        os.killpg(proc.pid, sig) if sig == signal.SIGINT else proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, err
    assert "released place farm-a" in out and "released place farm-b" in out
    farm_with_benches.assert_nothing_held()


def test_attach_talks_to_the_running_image_and_checks_its_model(
    farm_with_benches, tmp_path, capsys
):
    """--attach needs no labgrid: a board already running the image, on a port."""
    bench = farm_with_benches.benches["farm-a"]
    root = str(farm_with_benches.build_root)
    code = main(["run", "--board", "qemu-m4", "--model", MODEL, "--attach", "--port", bench.url,
                 "-n", "2", "--build-dir", root])  # fmt: skip
    said = capsys.readouterr()
    assert code == 0, said.out + said.err
    code = main(["run", "--board", "qemu-m4", "--model", "cifar10", "--attach", "--port",
                 bench.url, "-n", "1", "--build-dir", root])  # fmt: skip
    err = _said(capsys.readouterr().err)
    assert code != 0
    assert "device runs model 'lenet5'" in err and "expected 'cifar10'" in err


def test_flash_soak_and_conformance_take_a_place(farm_with_benches, shared_dir, capsys):
    code = main(["flash", *_hil(farm_with_benches, "--place", "farm-a")])
    said = capsys.readouterr()
    assert code == 0, said.out + said.err
    assert "place farm-a runs lenet5 (attached, nothing flashed)" in _said(said.out)

    code = main(["soak", *_hil(farm_with_benches, "--place", "farm-b"), "--vectors", "3"])
    said = capsys.readouterr()
    assert code == 0, said.out + said.err
    assert "released place farm-b" in said.out

    cases = shared_dir / "conformance" / "cmsis-nn-q7"
    code = main(["conformance", str(cases), "--function", "arm_relu_q7", "--place", "farm-a",
                 "--coordinator", farm_with_benches.farm.address,
                 "--build-dir", str(farm_with_benches.build_root)])  # fmt: skip
    said = capsys.readouterr()
    assert code == 0, said.out + said.err
    assert "released place farm-a" in said.out
    farm_with_benches.assert_nothing_held()


def test_the_pytest_plugin_runs_users_tests_on_a_place(farm_with_benches, tmp_path):
    tests = tmp_path / "test_on_place.py"
    tests.write_text(
        "import numpy as np\n\n"
        "def test_first_layer(hil_device, hil_reference, hil_network, hil_board):\n"
        "    assert hil_board.id == 'qemu-m4'\n"
        "    x = np.zeros(hil_network.input_shape, dtype=np.int8)\n"
        "    got = hil_device.session.infer(x)\n"
        "    assert np.array_equal(got[0].output, hil_reference(x)[0])\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:labgrid",
         str(tests), "--hil-place", "farm-b", "--hil-model", MODEL,
         "--hil-coordinator", farm_with_benches.farm.address,
         "--hil-build-dir", str(farm_with_benches.build_root)],
        cwd=tmp_path, env=farm_with_benches.farm.env(), text=True, capture_output=True,
        timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout
    farm_with_benches.assert_nothing_held()
