"""A run that did not finish never reads as a pass: reports, exit codes, a vanished device."""

from __future__ import annotations

import json
import os
import signal
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from hil.device.counts import count_source
from hil.errors import DeviceError, DeviceGone, Interrupted
from hil.model import Layer, Network
from hil.protocol.link import Link
from hil.report.html import render_html
from hil.report.json_file import write_json
from hil.report.junit import write_junit
from hil.validate.compare import compare_layer
from hil.validate.run_report import RunInfo, RunReport


def _network() -> Network:
    relu = Layer("relu", "arm_relu_q7", {"size": 4})
    soft = Layer("softmax", "arm_softmax_q7", {"dim_vec": 4})
    return Network("tiny", (4,), (relu, soft))


def _report(requested: int | None, judged: int, *, wrong: bool = False) -> RunReport:
    cs = count_source("timer", emulated=True, icount_shift=7)
    report = RunReport(
        _network(), RunInfo("tiny", "qemu-m7", "dsp", "portable", cs), vectors_requested=requested
    )
    x = np.arange(4, dtype=np.int8)
    for v in range(judged):
        got = x + 1 if wrong and v == 0 else x
        report.add_vector(
            [compare_layer(v, 0, x, got, None, 100), compare_layer(v, 1, x, x, None, 50)]
        )
    return report


def test_every_requested_vector_judged_and_matched_is_the_only_pass():
    report = _report(3, 3)
    assert report.complete and report.passed and report.verdict == "pass"
    d = report.to_dict()
    assert d["complete"] and d["passed"] and d["vectors_requested"] == d["vectors_done"] == 3
    assert report.summary_line().startswith("PASS: 3 of 3 vectors x 2 layers")


def test_fewer_vectors_than_requested_is_incomplete_everywhere(tmp_path):
    report = _report(400, 13)
    report.mark_incomplete("interrupted (SIGINT)")
    assert not report.passed and not report.complete and report.verdict == "incomplete"
    line = report.summary_line()
    assert line.startswith("INCOMPLETE: 13 of 400 vectors") and "interrupted (SIGINT)" in line
    assert "PASS" not in line

    write_json(report, tmp_path / "r.json")
    d = json.loads((tmp_path / "r.json").read_text())
    assert d["passed"] is False and d["complete"] is False and d["verdict"] == "incomplete"
    assert (d["vectors_requested"], d["vectors_done"]) == (400, 13)
    assert d["incomplete_reason"] == "interrupted (SIGINT)"

    write_junit(report, tmp_path / "r.xml")
    suite = ET.parse(tmp_path / "r.xml").getroot().find("testsuite")
    assert suite.get("errors") == "1"
    errors = suite.findall("testcase/error")
    assert len(errors) == 1 and "INCOMPLETE" in errors[0].get("message")
    assert "13 of 400 vectors" in errors[0].get("message")

    html = render_html(report)
    assert 'class="banner"' in html and "INCOMPLETE" in html
    assert '<span class="pass">' not in html


def test_a_device_error_alone_also_makes_the_run_incomplete():
    report = _report(2, 2)
    report.mark_incomplete("the device is gone: QEMU was killed by SIGKILL (status -9)")
    assert not report.passed
    assert report.to_dict()["incomplete_reason"].startswith("the device is gone")


def test_a_mismatch_in_a_cut_short_run_is_a_failure_not_a_pass():
    report = _report(10, 2, wrong=True)
    report.mark_incomplete("interrupted (SIGTERM)")
    assert report.verdict == "fail"
    assert report.summary_line().startswith("FAIL: 2 of 10 vectors")


def test_layer_words_count_vectors_that_differ():
    report = _report(3, 3, wrong=True)
    kind, words = report.layers[0].verdict()
    assert (kind, words) == ("differ", "1 of 3 vectors differ")
    assert _report(1, 1).summary_line().startswith("PASS: 1 of 1 vector x 2 layers")
    assert _report(5, 0).layers[0].verdict() == ("not judged", "not judged")


def _command_raising(monkeypatch, exc_factory):
    import hil.config.boards

    def boom():
        raise exc_factory()

    monkeypatch.setattr(hil.config.boards, "load_all_boards", boom)


def test_ctrl_c_in_any_command_exits_130(monkeypatch, capsys):
    from hil.cli import main

    _command_raising(monkeypatch, KeyboardInterrupt)
    assert main(["boards"]) == 130
    assert "INTERRUPTED" in capsys.readouterr().err


def test_sigterm_is_handled_like_ctrl_c(monkeypatch, capsys):
    from hil.cli import main

    def terminate():
        os.kill(os.getpid(), signal.SIGTERM)
        raise AssertionError("SIGTERM did not interrupt the command")

    _command_raising(monkeypatch, terminate)
    before = signal.getsignal(signal.SIGTERM)
    assert main(["boards"]) == 130
    assert "INTERRUPTED" in capsys.readouterr().err
    assert signal.getsignal(signal.SIGTERM) is before  # the handler does not outlive main


def test_interrupted_is_its_own_error_with_exit_130(monkeypatch, capsys):
    from hil.cli import main

    _command_raising(monkeypatch, lambda: Interrupted("INTERRUPTED after 3 of 9 vectors"))
    assert main(["boards"]) == 130
    assert "INTERRUPTED after 3 of 9 vectors" in capsys.readouterr().err


class _BrokenPort:
    """A port whose peer has gone: every read and write fails as a closed socket does."""

    timeout = 0.0

    def read(self, n):
        raise OSError(104, "Connection reset by peer")

    def write(self, data):
        raise OSError(32, "Broken pipe")

    def close(self):
        pass


def _alive_check(ended: bool):
    waited = []

    def alive(grace: float) -> None:
        waited.append(grace)
        if ended:
            raise DeviceGone("the device is gone: QEMU exited with status 0")

    return alive, waited


@pytest.mark.parametrize("action", ("read", "write"))
def test_a_failed_link_to_a_device_that_ended_is_device_gone(action):
    from hil.protocol import generated as g
    from hil.protocol.frames import Frame

    alive, waited = _alive_check(ended=True)
    link = Link(_BrokenPort(), timeout=1, alive=alive)
    with pytest.raises(DeviceGone, match="the device is gone"):
        if action == "read":
            link._read_some(0.01)
        else:
            link.send(Frame(g.MSG_ACK, 1, b""))
    assert waited and waited[-1] > 0  # it gave a dying emulator time to exit


def test_a_failed_link_to_a_live_device_stays_a_link_error():
    alive, _ = _alive_check(ended=False)
    link = Link(_BrokenPort(), timeout=1, alive=alive)
    with pytest.raises(DeviceError) as err:
        link._read_some(0.01)
    assert not isinstance(err.value, DeviceGone)
