"""The firmware's model sources (glue + exported module + its kernels) compiled with the
host gcc under -Werror and sanitizers, driven by a stand-in layer runner: the events
come in order with the planned sizes, and the hashes and sizes reach the firmware."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from hil.firmware.codegen import generate_model_sources
from hil.model.hashing import model_hash
from hil.reference.network import run_network_batch

from helpers.hostfw import SANITIZE, WARNINGS
from helpers.tiny_network import tiny_network

REPO = Path(__file__).resolve().parents[2]

RUNNER = r"""
#include <stdio.h>
#include <string.h>
#include "hil_model.h"

void hil_layer_event(void *user, int event, uint16_t layer, const char *name, q7_t *out,
                     uint32_t size, int32_t status)
{
    FILE *f = user;
    fprintf(f, "%s %u %s %u %d", event == HIL_LAYER_BEGIN ? "begin" : "end", layer, name,
            (unsigned)size, (int)status);
    if (event == HIL_LAYER_END)
        for (uint32_t i = 0; i < size; i++)
            fprintf(f, " %d", out[i]);
    fprintf(f, "\n");
}

int main(void)
{
    printf("name %s layers %u input %u\n", hil_model_name, hil_num_layers,
           (unsigned)hil_input_size);
    printf("hash");
    for (int i = 0; i < 8; i++) printf(" %02x", hil_model_hash[i]);
    printf("\nexport");
    for (int i = 0; i < 8; i++) printf(" %02x", hil_export_hash[i]);
    printf("\n");
    if (fread(hil_input, 1, hil_input_size, stdin) != hil_input_size)
        return 2;
    printf("status %d\n", (int)hil_model_run(stdout));
    return 0;
}
"""


@pytest.mark.needs_gcc
def test_glue_and_module_run_the_network_through_the_runner_callback(tmp_path):
    net = tiny_network()
    model = generate_model_sources(net, tmp_path / "gen")
    main = tmp_path / "runner.c"
    main.write_text(RUNNER)
    exe = tmp_path / "runner"
    subprocess.run(
        [
            "gcc", "-std=c11", "-O1", *WARNINGS, *SANITIZE,
            f"-I{REPO / 'firmware' / 'include'}",
            *(f"-I{d}" for d in model.include_dirs),
            str(main), *map(str, model.sources), *map(str, model.kernel_sources),
            "-lm", "-o", str(exe),
        ],
        check=True,
    )  # fmt: skip
    x = np.random.default_rng(3).integers(-128, 128, net.input_shape, dtype=np.int8)
    out = subprocess.run(
        [str(exe)], input=x.tobytes(), capture_output=True, check=True
    ).stdout.decode()
    lines = out.splitlines()
    assert lines[0] == f"name tiny layers {len(net.layers)} input {net.input_size}"
    assert lines[1] == "hash " + " ".join(f"{b:02x}" for b in model_hash(net)[:8])
    assert model.export is not None
    assert lines[2] == "export " + " ".join(
        f"{b:02x}" for b in bytes.fromhex(model.export.hash)[:8]
    )
    assert lines[-1] == "status 0"
    expected = run_network_batch(net, x[None], "plain")
    events = lines[3:-1]
    assert len(events) == 2 * len(net.layers)
    for i, (layer, want) in enumerate(zip(net.layers, expected)):
        begin, end = events[2 * i].split(), events[2 * i + 1].split()
        assert begin == ["begin", str(i), layer.name, str(layer.output_size), "0"]
        assert end[:5] == ["end", str(i), layer.name, str(layer.output_size), "0"]
        assert [int(v) for v in end[5:]] == want[0].ravel().tolist()
