"""The firmware's model sources: the exported module plus the glue, deterministic,
rewritten only when the network changes, names escaped for C. Compiling them with
gcc: tests/firmware/test_codegen_build.py."""

from __future__ import annotations

from hil.export.files import SUMS, build_export
from hil.firmware.codegen import GLUE_SOURCE, generate_model_sources, render_glue

from helpers.tiny_network import tiny_network


def test_output_is_deterministic_and_not_rewritten(tmp_path):
    model = generate_model_sources(tiny_network(), tmp_path)
    files = [*model.sources, *model.kernel_sources]
    first = {p: p.read_bytes() for p in files}
    mtimes = {p: p.stat().st_mtime_ns for p in files}
    again = generate_model_sources(tiny_network(), tmp_path)
    assert [*again.sources, *again.kernel_sources] == files
    assert {p: p.read_bytes() for p in files} == first
    assert {p: p.stat().st_mtime_ns for p in files} == mtimes
    generate_model_sources(tiny_network(seed=1), tmp_path)
    weights = tmp_path / "export" / "tiny_weights.c"
    assert weights.read_bytes() != first[weights]


def test_the_firmware_compiles_the_module_hil_export_writes(tmp_path):
    model = generate_model_sources(tiny_network(), tmp_path)
    export = build_export(tiny_network(), "tiny")
    assert model.export is not None and model.export.hash == export.hash
    for relpath, data in export.files.items():
        assert (tmp_path / "export" / relpath).read_bytes() == data
    assert model.sources[0].name == GLUE_SOURCE
    assert {p.name for p in model.sources[1:]} == {"tiny.c", "tiny_weights.c"}
    assert (tmp_path / "export" / SUMS).is_file()


def test_the_glue_carries_both_hashes_and_an_escaped_name():
    net = tiny_network(name="we_ird-name")
    export = build_export(net, "we_ird_name")
    text = render_glue(export)
    assert 'const char hil_model_name[] = "we_ird-name";' in text
    first = ", ".join(f"0x{b:02x}" for b in bytes.fromhex(export.hash)[:8])
    assert f"hil_export_hash[8] = {{ {first} }};" in text
    assert "we_ird_name_run_traced(hil_input, output, scratch, hil_layer_event, user)" in text
