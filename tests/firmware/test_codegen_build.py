"""model_data.c: compiled with the host gcc and read back through a tiny C main."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from hil.firmware.codegen import generate_model_sources
from hil.firmware.plan import plan_memory
from hil.model.hashing import model_hash
from hil.model.layer import Network
from hil.reference.spec import FUNCTION_IDS

from helpers.tiny_network import tiny_network

REPO = Path(__file__).resolve().parents[2]
NN_INCLUDE = REPO / "firmware" / "nn" / "include"

STAND_IN_NN_HEADER = """
#include <stdint.h>
typedef int8_t q7_t;
typedef int16_t q15_t;
typedef int32_t q31_t;
"""

PRINTER = r"""
#include <stdio.h>
#include <stdint.h>
#include "hil_model.h"

static unsigned long sum(const q7_t *p, uint32_t n) {
    unsigned long s = 0;
    for (uint32_t i = 0; i < n; i++) s = s * 31u + (uint8_t)p[i];
    return s;
}

int main(void) {
    printf("name %s\n", hil_model_name);
    printf("hash");
    for (int i = 0; i < 8; i++) printf(" %02x", hil_model_hash[i]);
    printf("\n");
    printf("totals %u %u %u %u %u %zu %zu\n", hil_num_layers, hil_input_size,
           hil_input_offset, hil_arena_size, hil_scratch_size,
           (size_t)((uintptr_t)hil_arena % 4),
           (size_t)((uintptr_t)hil_scratch % 4));
    for (int i = 0; i < hil_num_layers; i++) {
        const hil_layer_t *l = &hil_layers[i];
        printf("layer %u %u", l->function, l->n_params);
        for (int j = 0; j < l->n_params; j++) printf(" %u", l->params[j]);
        printf(" | %u %u %u %u", l->in_offset, l->out_offset, l->in_size, l->out_size);
        printf(" | %s %lu %s %lu\n",
               l->weights ? ((uintptr_t)l->weights % 4 ? "misaligned" : "w") : "none",
               l->weights ? sum(l->weights, WSIZE(i)) : 0ul,
               l->bias ? "b" : "none",
               l->bias ? sum(l->bias, BSIZE(i)) : 0ul);
    }
    return 0;
}
"""


def _checksum(a) -> int:
    s = 0
    for v in np.asarray(a, np.int8).view(np.uint8):
        s = (s * 31 + int(v)) % 2**64
    return s


def _include_dirs(tmp: Path) -> list[Path]:
    if (NN_INCLUDE / "arm_nnfunctions.h").exists():
        return [REPO / "firmware" / "include", NN_INCLUDE]
    stand_in = tmp / "stand_in"
    stand_in.mkdir()
    (stand_in / "arm_nnfunctions.h").write_text(STAND_IN_NN_HEADER)
    return [REPO / "firmware" / "include", stand_in]


def _compile_and_run(net: Network, tmp: Path) -> list[str]:
    (src,) = generate_model_sources(net, tmp / "gen")
    sizes = [
        (
            l.spec.weights_size(l.params) if l.weights is not None else 0,
            l.spec.bias_size(l.params) if l.bias is not None else 0,
        )
        for l in net.layers
    ]
    wsize = " : ".join(f"(i) == {i} ? {w}u" for i, (w, _) in enumerate(sizes)) + " : 0u"
    bsize = " : ".join(f"(i) == {i} ? {b}u" for i, (_, b) in enumerate(sizes)) + " : 0u"
    main = tmp / "main.c"
    main.write_text(f"#define WSIZE(i) ({wsize})\n#define BSIZE(i) ({bsize})\n" + PRINTER)
    exe = tmp / "printer"
    includes = [f"-I{d}" for d in _include_dirs(tmp)]
    subprocess.run(
        [
            "gcc",
            "-std=c11",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-O1",
            *includes,
            str(src),
            str(main),
            "-o",
            str(exe),
        ],
        check=True,
        capture_output=True,
    )
    return subprocess.run(
        [str(exe)], check=True, capture_output=True, text=True
    ).stdout.splitlines()


@pytest.mark.needs_gcc
def test_generated_tables_compile_and_hold_the_network(tmp_path):
    net = tiny_network()
    out = _compile_and_run(net, tmp_path)
    plan = plan_memory(net)
    assert out[0] == "name tiny"
    assert out[1] == "hash " + " ".join(f"{b:02x}" for b in model_hash(net)[:8])
    assert out[2] == (
        f"totals {len(net.layers)} {net.input_size} {plan.input_offset} "
        f"{plan.arena_size} {plan.scratch_size} 0 0"
    )
    for line, layer, slot in zip(out[3:], net.layers, plan.layers, strict=True):
        params = " ".join(str(layer.params[n]) for n in layer.spec.scalars)
        w = f"w {_checksum(layer.weights)}" if layer.weights is not None else "none 0"
        b = f"b {_checksum(layer.bias)}" if layer.bias is not None else "none 0"
        assert line == (
            f"layer {FUNCTION_IDS[layer.function]} {len(layer.spec.scalars)} "
            f"{params} | {slot.in_offset} {slot.out_offset} {slot.in_size} "
            f"{slot.out_size} | {w} {b}"
        )
