"""The protocol spec is generated into C and Python, and both agree (the C struct
layout, compiled with gcc: tests/firmware/test_protocol_c_layout.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from hil.protocol import generated as g
from hil.reference.spec import FUNCTION_IDS, KERNEL_SPECS

REPO = Path(__file__).resolve().parents[2]


def _generator():
    spec = importlib.util.spec_from_file_location(
        "gen_protocol", REPO / "scripts" / "gen_protocol.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_files_are_up_to_date():
    for path, text in _generator().render().items():
        assert path.read_text() == text, f"{path.name} is stale: run scripts/gen_protocol.py"


def test_hash_changes_with_the_spec(tmp_path):
    gen = _generator()
    spec = (REPO / "hil" / "protocol" / "spec.toml").read_text()
    changed = tmp_path / "spec.toml"
    changed.write_text(spec.replace("max_payload = 4096", "max_payload = 512"))
    assert gen.load(changed)["hash"] != g.PROTOCOL_HASH
    assert gen.load(REPO / "hil" / "protocol" / "spec.toml")["hash"] == g.PROTOCOL_HASH


def test_function_ids_follow_the_reference_spec():
    assert g.FUNCTION_IDS == FUNCTION_IDS
    assert g.FUNCTION_N_PARAMS == {n: len(KERNEL_SPECS[n].scalars) for n in FUNCTION_IDS}
    header = (REPO / "firmware" / "include" / "hil_protocol.h").read_text()
    for name, fid in FUNCTION_IDS.items():
        assert f"#define HIL_FN_{name} {fid}u" in header


def test_payload_limits_are_consistent():
    assert g.MAX_FRAME == g.HEADER_BYTES + g.MAX_PAYLOAD + g.CRC_BYTES
    for name, (_, size, fields, offsets) in g.STRUCTS.items():
        assert size <= g.MAX_PAYLOAD
        assert len(fields) == len(offsets) == len(set(fields)), name
    # The largest kernel parameter list fits one KERNEL_RUN frame.
    assert g.STRUCTS["kernel_run"][1] + 4 * max(g.FUNCTION_N_PARAMS.values()) <= g.MAX_PAYLOAD
