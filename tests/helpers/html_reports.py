"""Run reports from the real check flow (hil.validate.check) for lenet5, driven by a
fake device that answers with the reference outputs, optionally with conv2's
channel 5 broken in a patch. Shared by tests/unit/test_report_html.py and
tests/integration/test_report_html_chromium.py."""

from __future__ import annotations

from hil.device.counts import count_source
from hil.device.session import LayerResult
from hil.model.inputs import generated_inputs
from hil.model.io import load_model
from hil.reference.network import run_network
from hil.validate.check import check_vectors
from hil.validate.run_report import RunInfo, RunReport

BAD_LAYER = 3  # lenet5 conv2, output 10x10x16
BAD_CHANNEL = 5


class FakeSession:
    """Answers like a device: the reference outputs, with conv2's channel 5 broken in a patch."""

    def __init__(self, network, perturb: bool, dump_digests: bool = False) -> None:
        self.network, self.perturb, self.digests = network, perturb, dump_digests

    def infer(self, x, dump="all", next_x=None):
        outs = run_network(self.network, x, "dsp")
        results = []
        for i, y in enumerate(outs):
            y = y.copy()
            if self.perturb and i == BAD_LAYER:
                cube = y.reshape(self.network.layers[i].output_shape)
                cube[2:5, 6:9, BAD_CHANNEL] += 3
            ticks = 100 + self.network.layers[i].macs // 4
            results.append(LayerResult(i, None if self.digests else y, 0, ticks, 0))
        return results


def make_report(
    *, perturb: bool, source: str = "systick", digests: bool = False, vectors: int = 2
) -> RunReport:
    net = load_model("lenet5")
    cs = count_source(source, emulated=source != "dwt", icount_shift=3)
    report = RunReport(
        net,
        RunInfo(
            net.name,
            "qemu-m7",
            "dsp",
            "portable",
            cs,
            device={"build_id": "0123abcd", "model_hash": "e86dbf0aa1a84bf8"},
        ),
    )
    check_vectors(
        FakeSession(net, perturb, digests),
        net,
        generated_inputs(net, vectors, 0),
        report,
        variant="dsp",
        dump="digest" if digests else "all",
    )
    return report
