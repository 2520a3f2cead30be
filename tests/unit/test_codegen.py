"""model_data.c as text: deterministic, rewritten only when the network changes,
names escaped for C. Compiling it with gcc: tests/firmware/test_codegen_build.py."""

from __future__ import annotations

from hil.firmware.codegen import generate_model_sources, render_model_source
from hil.reference.spec import FUNCTION_IDS

from helpers.tiny_network import tiny_network


def test_output_is_deterministic_and_not_rewritten(tmp_path):
    (path,) = generate_model_sources(tiny_network(), tmp_path)
    first = path.read_bytes()
    mtime = path.stat().st_mtime_ns
    (path_again,) = generate_model_sources(tiny_network(), tmp_path)
    assert path_again == path and path.read_bytes() == first
    assert path.stat().st_mtime_ns == mtime
    generate_model_sources(tiny_network(seed=1), tmp_path)
    assert path.read_bytes() != first


def test_names_are_escaped_for_c():
    net = tiny_network(name="we_ird-name")
    text = render_model_source(net)
    assert 'const char hil_model_name[] = "we_ird-name";' in text
    assert f"{FUNCTION_IDS['arm_softmax_q7']}, 1, {{ 10 }}" in text
