"""The device's own KERNEL_RUN checks (firmware/src/kcheck.c) against the host's.

Both interpret the rules of hil/kernels/catalogue.py (the device through the
tables scripts/gen_kernels.py writes), so these tests catch an interpreter or a
generator that drifts.

Raw KERNEL_SETUP / KERNEL_RUN frames bypass the host-side validation, so the
host-built firmware (AddressSanitizer, UBSan) has to refuse by itself exactly
the parameter sets hil.reference.validation refuses, naming the same
parameter, and refuse regions too small for the parameters.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hil.device.session import DeviceSession
from hil.errors import KernelParameterError, KernelRefused
from hil.model.layer import Layer, Network
from hil.protocol import generated as g
from hil.protocol.link import Link
from hil.protocol.messages import pack, unpack
from hil.reference.spec import FUNCTION_IDS, KERNEL_SPECS
from hil.reference.validation import validate_params

from helpers import hostfw

pytestmark = pytest.mark.needs_gcc

KS = g.KERNEL_STATUS
NO_PARAM = 0xFF
DUMP_NONE = g.ENUMS["dump"]["NONE"]
REGIONS = ("input", "weights", "bias", "output", "scratch")

# Small valid calls, one per function: the starting points of the mutations.
BASE = {
    "arm_convolve_HWC_q7_basic": dict(
        dim_im_in=5,
        ch_im_in=3,
        ch_im_out=3,
        dim_kernel=3,
        padding=1,
        stride=1,
        bias_shift=0,
        out_shift=7,
        dim_im_out=5,
    ),
    "arm_convolve_HWC_q7_fast": dict(
        dim_im_in=5,
        ch_im_in=4,
        ch_im_out=2,
        dim_kernel=3,
        padding=1,
        stride=1,
        bias_shift=0,
        out_shift=7,
        dim_im_out=5,
    ),
    "arm_convolve_HWC_q7_RGB": dict(
        dim_im_in=6,
        ch_im_in=3,
        ch_im_out=2,
        dim_kernel=3,
        padding=1,
        stride=2,
        bias_shift=1,
        out_shift=6,
        dim_im_out=3,
    ),
    "arm_convolve_HWC_q7_basic_nonsquare": dict(
        dim_im_in_x=6,
        dim_im_in_y=5,
        ch_im_in=3,
        ch_im_out=3,
        dim_kernel_x=3,
        dim_kernel_y=2,
        padding_x=1,
        padding_y=0,
        stride_x=1,
        stride_y=2,
        bias_shift=1,
        out_shift=6,
        dim_im_out_x=6,
        dim_im_out_y=2,
    ),
    "arm_convolve_HWC_q7_fast_nonsquare": dict(
        dim_im_in_x=6,
        dim_im_in_y=5,
        ch_im_in=4,
        ch_im_out=2,
        dim_kernel_x=3,
        dim_kernel_y=2,
        padding_x=1,
        padding_y=0,
        stride_x=1,
        stride_y=2,
        bias_shift=1,
        out_shift=6,
        dim_im_out_x=6,
        dim_im_out_y=2,
    ),
    "arm_convolve_1x1_HWC_q7_fast_nonsquare": dict(
        dim_im_in_x=4,
        dim_im_in_y=3,
        ch_im_in=8,
        ch_im_out=4,
        dim_kernel_x=1,
        dim_kernel_y=1,
        padding_x=0,
        padding_y=0,
        stride_x=1,
        stride_y=1,
        bias_shift=0,
        out_shift=7,
        dim_im_out_x=4,
        dim_im_out_y=3,
    ),
    "arm_depthwise_separable_conv_HWC_q7": dict(
        dim_im_in=5,
        ch_im_in=4,
        ch_im_out=4,
        dim_kernel=3,
        padding=1,
        stride=1,
        bias_shift=0,
        out_shift=7,
        dim_im_out=5,
    ),
    "arm_depthwise_separable_conv_HWC_q7_nonsquare": dict(
        dim_im_in_x=6,
        dim_im_in_y=5,
        ch_im_in=4,
        ch_im_out=4,
        dim_kernel_x=3,
        dim_kernel_y=2,
        padding_x=1,
        padding_y=1,
        stride_x=2,
        stride_y=1,
        bias_shift=0,
        out_shift=7,
        dim_im_out_x=3,
        dim_im_out_y=6,
    ),
    "arm_relu_q7": dict(size=16),
    "arm_maxpool_q7_HWC": dict(
        dim_im_in=6, ch_im_in=3, dim_kernel=3, padding=1, stride=2, dim_im_out=3
    ),
    "arm_avepool_q7_HWC": dict(
        dim_im_in=6, ch_im_in=3, dim_kernel=3, padding=1, stride=2, dim_im_out=3
    ),
    "arm_fully_connected_q7": dict(dim_vec=10, num_of_rows=6, bias_shift=0, out_shift=7),
    "arm_fully_connected_q7_opt": dict(dim_vec=10, num_of_rows=6, bias_shift=0, out_shift=7),
    "arm_softmax_q7": dict(dim_vec=10),
    "arm_nn_activations_direct_q7": dict(size=16, int_width=2, type=1),
}

# Values at and around every limit in validation.py, and far outside.
EDGES = (
    -(2**31),
    -65536,
    -1,
    0,
    1,
    2,
    3,
    4,
    5,
    7,
    24,
    25,
    30,
    31,
    32,
    255,
    256,
    32767,
    32768,
    65535,
    65536,
    2**31 - 1,
)


def scratch_bytes(function: str, p: dict[str, int]) -> int:
    """Scratch each function takes (arm_nnfunctions.h, the genuine library's contract)."""
    if function == "arm_convolve_HWC_q7_RGB":
        return 2 * 2 * 3 * p["dim_kernel"] ** 2
    if function == "arm_convolve_1x1_HWC_q7_fast_nonsquare":
        return 2 * 2 * p["ch_im_in"]
    if "dim_kernel_x" in p:
        return 2 * 2 * p["ch_im_in"] * p["dim_kernel_x"] * p["dim_kernel_y"]
    if "ch_im_out" in p:
        return 2 * 2 * p["ch_im_in"] * p["dim_kernel"] ** 2
    if function.startswith("arm_fully_connected"):
        return 2 * p["dim_vec"]
    if function == "arm_avepool_q7_HWC":
        return 2 * p["dim_im_out"] * p["ch_im_in"]
    return 0


def test_the_catalogue_scratch_is_the_library_contract():
    """kcheck.c's scratch sizes come from the catalogue; they must be the header's."""
    for function, p in BASE.items():
        assert KERNEL_SPECS[function].scratch_size(p) == scratch_bytes(function, p), function


def region_sizes(function: str, p: dict[str, int]) -> list[int]:
    spec = KERNEL_SPECS[function]
    return [
        spec.input_size(p),
        spec.weights_size(p) if spec.weights else 0,
        spec.bias_size(p) if spec.bias else 0,
        spec.output_size(p),
    ]


def host_verdict(function: str, p: dict[str, int]) -> tuple[int, int]:
    """(status, param) the device must answer when the regions fit."""
    try:
        validate_params(function, p)
    except KernelParameterError as exc:
        name = str(exc).split(": ", 1)[1].split(" ", 1)[0]
        return KS["PARAM_RANGE"], KERNEL_SPECS[function].scalars.index(name)
    return KS["SUCCESS"], NO_PARAM


class Probe:
    """Raw kernel frames to a running host firmware."""

    def __init__(self, link: Link, arena: int) -> None:
        self.link = link
        self.arena = arena

    def setup(self, sizes) -> int:
        """Declare the regions; the scratch left over (device's ACK value)."""
        payload = pack(
            "kernel_setup",
            input_size=sizes[0],
            weights_size=sizes[1],
            bias_size=sizes[2],
            output_size=sizes[3],
        )
        frame = self.link.request(g.MSG_KERNEL_SETUP, payload, expect={g.MSG_ACK}, retries=0)
        return unpack("ack", frame.payload)[0]["value"]

    def run(self, function: str, p: dict[str, int]) -> tuple[int, int, int]:
        """(status, param, size) of one KERNEL_RUN with dump NONE."""
        values = [p[n] for n in KERNEL_SPECS[function].scalars]
        payload = pack(
            "kernel_run", function=FUNCTION_IDS[function], n_params=len(values), dump=DUMP_NONE
        ) + struct.pack(f"<{len(values)}i", *values)
        frame = self.link.request(g.MSG_KERNEL_RUN, payload, expect={g.MSG_KERNEL_DONE}, retries=0)
        f, _ = unpack("kernel_done", frame.payload)
        return f["status"], f["param"], f["size"]

    def layout_fits(self, sizes) -> bool:
        return sum((n + 4 + 3) & ~3 for n in sizes) <= self.arena

    def check(self, function: str, p: dict[str, int]) -> str | None:
        """Run one call with regions sized by the parameters; a disagreement, or None."""
        want = host_verdict(function, p)
        if want[0] == KS["SUCCESS"]:
            sizes = region_sizes(function, p)
            if not self.layout_fits(sizes):
                return None  # no room to run it here; nothing to compare
            scratch = self.setup(sizes)
            if scratch_bytes(function, p) > scratch:
                want = (KS["REGION_SIZE"], REGIONS.index("scratch"))
        # A refused parameter set is refused whatever the regions: run it on
        # whatever the previous call declared.
        got = self.run(function, p)
        if got[:2] != want:
            return f"{function} {p}: device {got[:2]}, host {want}"
        if got[0] != KS["SUCCESS"] and got[2] != 0:
            return f"{function} {p}: a refused call reported {got[2]} output bytes"
        return None


@pytest.fixture(scope="module")
def firmware(tmp_path_factory) -> Path:
    net = Network("kcheck", (16,), (Layer("relu", "arm_relu_q7", {"size": 16}),))
    return hostfw.build_host_firmware(net, tmp_path_factory.mktemp("kcheck"), sanitize=True)


@pytest.fixture(scope="module")
def device(firmware):
    dev = hostfw.HostDevice(firmware)
    dev.__enter__()
    link = Link.open(dev.url, timeout=10, log_path=dev.log_path)
    session = DeviceSession(link)
    info = session.hello()
    probe = Probe(link, info.kernel_arena_bytes)
    probe.setup([0, 0, 0, 0])  # calls refused by their parameters need no regions
    yield probe, session
    link.close()
    code = dev.stop()
    log = dev.log()
    assert "Sanitizer" not in log and "runtime error" not in log, log
    assert code == 0, log


@pytest.fixture
def probe(device) -> Probe:
    return device[0]


def test_base_calls_are_valid_and_accepted(probe):
    for function, p in BASE.items():
        validate_params(function, p)
        assert probe.check(function, p) is None


def _golden_params(root: Path):
    for path in sorted(root.glob("*/*.npz")):
        d = np.load(path)
        spec = KERNEL_SPECS[str(d["__function__"])]
        yield path, spec.name, {n: int(d[n]) for n in spec.scalars}


def test_every_golden_case_is_accepted(probe, vectors_dir, plain_vectors_dir):
    refused = []
    for root in (vectors_dir, plain_vectors_dir):
        for path, function, p in _golden_params(root):
            sizes = region_sizes(function, p)
            assert probe.layout_fits(sizes), path
            probe.setup(sizes)
            status, param, _ = probe.run(function, p)
            if (status, param) != (KS["SUCCESS"], NO_PARAM):
                refused.append(f"{path.parent.name}/{path.name}: {status} param {param}")
    assert not refused, refused


def _one_field_mutations():
    for function, base in BASE.items():
        for name in base:
            near = {base[name] - 1, base[name] + 1} | {
                v + d for v in base.values() for d in (-1, 0, 1)
            }
            for value in sorted(set(EDGES) | near):
                if value != base[name] and -(2**31) <= value < 2**31:
                    yield function, {**base, name: value}


def test_one_field_pushed_to_every_edge(probe):
    cases = list(_one_field_mutations())
    refused = sum(host_verdict(f, p)[0] != KS["SUCCESS"] for f, p in cases)
    assert refused > len(cases) // 2 and refused < len(cases)  # both sides are exercised
    problems = [msg for f, p in cases if (msg := probe.check(f, p))]
    assert not problems, problems[:20]


_FUNCTIONS = st.sampled_from(sorted(BASE))
_VALUES = st.one_of(st.integers(-2, 10), st.sampled_from(EDGES))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(function=_FUNCTIONS, data=st.data())
def test_random_parameter_sets_agree(device, function, data):
    probe = device[0]
    p = {
        n: data.draw(_VALUES, label=n) if data.draw(st.booleans()) else v
        for n, v in BASE[function].items()
    }
    assert probe.check(function, p) is None


@pytest.mark.parametrize("function", sorted(BASE))
def test_each_region_one_byte_short_is_refused(probe, function):
    p = BASE[function]
    sizes = region_sizes(function, p)
    for r, n in enumerate(sizes):
        if n == 0:
            continue
        short = list(sizes)
        short[r] = n - 1
        probe.setup(short)
        status, param, size = probe.run(function, p)
        assert (status, param, size) == (KS["REGION_SIZE"], r, 0), REGIONS[r]
    probe.setup(sizes)
    assert probe.run(function, p)[:2] == (KS["SUCCESS"], NO_PARAM)


def test_too_little_scratch_is_refused(probe):
    # vec_buffer is dim_vec q15: 2 bytes per input element besides input and weights.
    p = dict(dim_vec=20000, num_of_rows=1, bias_shift=0, out_shift=7)
    sizes = region_sizes("arm_fully_connected_q7", p)
    scratch = probe.setup(sizes)
    assert scratch < scratch_bytes("arm_fully_connected_q7", p)
    assert probe.run("arm_fully_connected_q7", p) == (KS["REGION_SIZE"], 4, 0)
    p["dim_vec"] = 8000  # now it fits
    probe.setup(region_sizes("arm_fully_connected_q7", p))
    assert probe.run("arm_fully_connected_q7", p)[:2] == (KS["SUCCESS"], NO_PARAM)


def test_unknown_function_and_wrong_count_are_refused_without_output(probe):
    probe.setup([4, 0, 0, 4])
    run = pack("kernel_run", function=0, n_params=0, dump=g.ENUMS["dump"]["ALL"])
    frame = probe.link.request(g.MSG_KERNEL_RUN, run, expect={g.MSG_KERNEL_DONE}, retries=0)
    f, _ = unpack("kernel_done", frame.payload)
    assert (f["status"], f["param"], f["size"], f["crc32"]) == (KS["BAD_FUNCTION"], NO_PARAM, 0, 0)


def test_session_turns_a_refusal_into_an_error_naming_the_parameter(device):
    session = device[1]
    p = {**BASE["arm_convolve_HWC_q7_fast"], "ch_im_in": 3}
    spec = KERNEL_SPECS["arm_convolve_HWC_q7_fast"]
    arrays = {
        "Im_in": np.zeros(spec.input_size(p), np.int8),
        "wt": np.zeros(spec.weights_size(p), np.int8),
        "bias": np.zeros(spec.bias_size(p), np.int8),
    }
    with pytest.raises(KernelRefused, match="ch_im_in = 3") as info:
        session.run_kernel(spec.name, p, arrays)
    assert info.value.status == KS["PARAM_RANGE"] and info.value.what == "ch_im_in"
    assert "multiple of 4" in str(info.value) and "_basic" in info.value.hint


def test_a_refusal_of_a_valid_call_says_host_and_device_disagree():
    from hil.device.kernel_runs import _kernel_refusal

    spec = KERNEL_SPECS["arm_fully_connected_q7"]
    done = {"status": KS["PARAM_RANGE"], "param": 3}  # out_shift, valid on the host
    err = _kernel_refusal(spec, BASE[spec.name], done)
    assert err.what == "out_shift" and "out_shift = 7" in str(err)
    assert "disagree" in err.hint and "rebuild" in err.hint
    done = {"status": KS["REGION_SIZE"], "param": 1}
    assert _kernel_refusal(spec, BASE[spec.name], done).what == "weights"
    assert _kernel_refusal(spec, BASE[spec.name], {"status": KS["SUCCESS"], "param": 0xFF}) is None
    assert (
        _kernel_refusal(spec, BASE[spec.name], {"status": KS["SIZE_MISMATCH"], "param": 0xFF})
        is None
    )


def test_session_names_a_too_small_scratch(device):
    session = device[1]
    p = dict(dim_vec=20000, num_of_rows=1, bias_shift=0, out_shift=7)
    arrays = {
        "pV": np.zeros(20000, np.int8),
        "pM": np.zeros(20000, np.int8),
        "bias": np.zeros(1, np.int8),
    }
    with pytest.raises(KernelRefused, match="scratch") as info:
        session.run_kernel("arm_fully_connected_q7", p, arrays)
    assert "HIL_KERNEL_ARENA_BYTES" in info.value.hint
    # the device is still in step: the next call runs
    result = session.run_kernel(
        "arm_relu_q7", {"size": 4}, {"data": np.arange(-2, 2, dtype=np.int8)}
    )
    assert result.status == 0 and result.output.tolist() == [0, 0, 0, 1]


def test_device_conformance_refuses_bad_cases_on_the_host(device, tmp_path):
    """A case the reference refuses fails as an "error" case, as on the host;
    the device never sees it."""
    from hil.device.counts import CountSource
    from hil.validate.conformance import run_case
    from hil.validate.device_conformance import device_runner

    runner = device_runner(device[1], CountSource("host", "ticks", 1.0))
    p = {**BASE["arm_softmax_q7"]}
    vec = np.arange(10, dtype=np.int8)
    good = tmp_path / "good.npz"
    np.savez(
        good,
        __function__="arm_softmax_q7",
        vec_in=vec,
        p_out=np.zeros(10, np.int8),
        **{k: np.uint16(v) for k, v in p.items()},
    )
    assert run_case(good, "arm_softmax_q7", runner).kind != "error"
    bad = tmp_path / "bad.npz"
    np.savez(
        bad,
        __function__="arm_softmax_q7",
        vec_in=np.zeros(0, np.int8),
        p_out=np.zeros(0, np.int8),
        dim_vec=np.uint16(0),
    )
    result = run_case(bad, "arm_softmax_q7", runner)
    assert result.kind == "error" and "dim_vec" in result.message
