"""int8 (s8) models on a real labgrid farm: coordinator and exporter on loopback, two
QEMU benches running the trained LeNet-5 int8 image (helpers.labgrid_farm). The farm
path is the local one: every layer judged against the s8 reference, the accuracy line,
a bench lost mid-run finished on the other, an image of the other rounding refused."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest

from hil.cli import main

from helpers.labgrid_farm import S8_DIGITS, stop_once_running

pytestmark = [pytest.mark.qemu, pytest.mark.needs_qemu, pytest.mark.needs_arm_gcc]

REPO = Path(__file__).resolve().parents[2]


def _hil(farm, model, *args: str) -> list[str]:
    return [*args, "--model", str(model.model), "--coordinator", farm.farm.address,
            "--build-dir", str(farm.build_root)]  # fmt: skip


def _said(text: str) -> str:
    return " ".join(text.split())


def test_an_int8_model_runs_sharded_over_two_places_with_its_accuracy(
    s8_farm_with_benches, s8_bench_model, tmp_path, capsys
):
    farm, m = s8_farm_with_benches, s8_bench_model
    out = tmp_path / "r.json"
    code = main(["run", *_hil(farm, m, "--reserve", "board=qemu-m4"), "--devices", "2",
                 "--inputs", str(m.inputs), "--labels", str(m.labels),
                 "--float", str(m.float_model), "--json", str(out)])  # fmt: skip
    said = capsys.readouterr()
    text = _said(said.out)
    assert code == 0, said.out + said.err
    assert f"PASS: {S8_DIGITS} of {S8_DIGITS} vectors x 8 layers" in text
    acc = re.search(r"accuracy: float (\S+)%, int8 reference (\S+)%, device (\S+)%", text)
    assert acc and acc.group(2) == acc.group(3), text  # the devices are the reference
    report = json.loads(out.read_text())
    assert report["passed"] and report["complete"] and report["vectors"] == S8_DIGITS
    device = report["info"]["device"]  # the image's HELLO
    assert device["family"] == "s8" and device["rounding"] == "double"
    assert report["info"]["variant"] == "double"  # the reference that judged it
    assert all(layer["matched"] == S8_DIGITS for layer in report["layers"])
    assert [layer["function"] for layer in report["layers"]][:1] == ["arm_convolve_wrapper_s8"]
    devices = {d["name"]: d["vectors"] for d in report["devices"]}
    assert set(devices) == {"farm-a", "farm-b"} and all(n > 0 for n in devices.values())
    assert sum(devices.values()) == S8_DIGITS
    jsonschema.validate(report, json.loads((REPO / "docs" / "report-schema.json").read_text()))
    farm.assert_nothing_held()


def test_an_int8_bench_lost_mid_run_has_its_vectors_finished_on_the_other(
    s8_farm_with_benches, s8_bench_model, tmp_path, capsys, logged_layers
):
    farm, m = s8_farm_with_benches, s8_bench_model
    out, log = tmp_path / "r.json", tmp_path / "run.jsonl"
    killed = stop_once_running(farm.benches["farm-b"], log, logged_layers)
    code = main(["run", *_hil(farm, m, "--reserve", "board=qemu-m4"), "--devices", "2",
                 "--inputs", str(m.inputs), "--json", str(out), "--log", str(log)])  # fmt: skip
    said = capsys.readouterr()
    assert killed.is_set()
    assert code == 0, said.out + said.err
    report = json.loads(out.read_text())
    assert report["passed"] and report["complete"] and report["vectors"] == S8_DIGITS
    assert all(layer["matched"] == S8_DIGITS for layer in report["layers"])
    (failure,) = report["device_failures"]
    assert failure["device"] == "farm-b" and failure["rerun"] is True
    farm.assert_nothing_held()


def test_a_place_running_the_other_rounding_is_refused_not_passed(
    s8_farm_with_benches, s8_bench_model, tmp_path, capsys
):
    farm, m = s8_farm_with_benches, s8_bench_model
    out = tmp_path / "r.json"
    code = main(["run", *_hil(farm, m, "--place", "farm-a"), "--rounding", "single",
                 "--inputs", str(m.inputs), "--json", str(out)])  # fmt: skip
    said = capsys.readouterr()
    err = _said(said.err)
    assert code != 0, said.out
    assert "place farm-a: device image rounds double, expected single rounding" in err, err
    assert "--rounding single" in err  # the hint flashes the image the run asks for
    assert "PASS" not in said.out
    farm.assert_nothing_held()


def test_soak_and_flash_take_an_int8_place(s8_farm_with_benches, s8_bench_model, capsys):
    farm, m = s8_farm_with_benches, s8_bench_model
    code = main(["flash", *_hil(farm, m, "--place", "farm-a")])
    said = capsys.readouterr()
    assert code == 0, said.out + said.err
    assert "place farm-a runs lenet5" in _said(said.out)
    code = main(["soak", *_hil(farm, m, "--place", "farm-b"), "--vectors", "3"])
    said = capsys.readouterr()
    assert code == 0, said.out + said.err
    assert "released place farm-b" in said.out
    farm.assert_nothing_held()
