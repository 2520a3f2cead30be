"""Run reports from the real check flow (hil.validate.check), driven by a fake device
that answers with the reference outputs: for lenet5 optionally with conv2's channel 5
broken in a patch, or (``noisy``) with every layer of any model off by random amounts,
the worst case for the HTML page's size. Shared by tests/unit/test_report_html.py and
tests/integration/test_report_html_chromium.py."""

from __future__ import annotations

import numpy as np

from hil.device.counts import count_source
from hil.device.session import LayerResult
from hil.model.inputs import generated_inputs
from hil.model.io import load_model
from hil.reference.network import run_network
from hil.validate.check import check_vectors
from hil.validate.resume import inputs_digest, inputs_record
from hil.validate.run_report import RunInfo, RunReport

BAD_LAYER = 3  # lenet5 conv2, output 10x10x16
BAD_CHANNEL = 5


class FakeSession:
    """Answers like a device: the reference outputs, with conv2's channel 5 broken in a patch."""

    def __init__(
        self, network, perturb: bool, dump_digests: bool = False, noisy: bool = False
    ) -> None:
        self.network, self.perturb, self.digests = network, perturb, dump_digests
        self.noise = np.random.default_rng(7) if noisy else None

    def infer(self, x, dump="all", next_x=None, expected_crcs=None):
        outs = run_network(self.network, x, "dsp")
        results = []
        for i, y in enumerate(outs):
            y = y.copy()
            if self.perturb and i == BAD_LAYER:
                cube = y.reshape(self.network.layers[i].output_shape)
                cube[2:5, 6:9, BAD_CHANNEL] += 3
            if self.noise is not None:  # incompressible: about half the elements off by 1..4
                off = self.noise.integers(-4, 5, y.size) * (self.noise.random(y.size) < 0.5)
                y = np.clip(y.astype(np.int16) + off, -128, 127).astype(y.dtype)
            ticks = 100 + self.network.layers[i].macs // 4
            results.append(LayerResult(i, None if self.digests else y, 0, ticks, 0))
        return results


def make_report(
    *,
    perturb: bool,
    source: str = "systick",
    digests: bool = False,
    vectors: int = 2,
    model: str = "lenet5",
    noisy: bool = False,
) -> RunReport:
    net = load_model(model)
    x = generated_inputs(net, vectors, 0)
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
            inputs_sha256=inputs_digest(x),
            inputs=inputs_record(None, vectors, 0),
        ),
    )
    check_vectors(
        FakeSession(net, perturb, digests, noisy),
        net,
        x,
        report,
        variant="dsp",
        dump="digest" if digests else "all",
    )
    return report


def run_context(board: str = "qemu-m7") -> dict:
    """The context `hil run` would collect for ``board``, with a stand-in image and a clean link."""
    import time
    from datetime import datetime, timezone
    from pathlib import Path
    from types import SimpleNamespace

    from hil.config.boards import load_board
    from hil.firmware.build import FirmwareImage
    from hil.report.context import collect_context, finish_context

    image = FirmwareImage(
        Path("fw.elf"), Path("fw.bin"), 61_234, 18_432, "0123abcd", "portable", board, "dsp"
    )
    target = SimpleNamespace(
        board=load_board(board), probe="0669FF", lab=None, farm=None, attach=False, benches=()
    )
    started = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    context = collect_context(target, image, dump="all", started=started)
    finish_context(
        context, time.monotonic() - 12.5, [{"crc_errors": 0, "retries": 2, "stale_frames": 1}]
    )
    return context
