"""The firmware application built for the host and driven through hil.device.session.

Same sources as on a board (firmware/src + firmware/nn + generated
model_data.c), with firmware/port/host as the HAL: its UART is a TCP socket
opened as pyserial socket://, the code path of the QEMU runs.
"""

from __future__ import annotations

import subprocess
import zlib
from pathlib import Path

import numpy as np
import pytest

from hil.device.session import DeviceSession, KernelRefused
from hil.errors import ProtocolError
from hil.model.examples import build_example, example_inputs
from hil.model.hashing import model_hash
from hil.model.layer import Layer, Network
from hil.protocol import generated as g
from hil.protocol.fault import DeviceFault
from hil.protocol.frames import Frame, encode
from hil.protocol.link import Link
from hil.protocol.messages import pack, unpack
from hil.reference.network import run_network
from hil.reference.spec import KERNEL_SPECS

from helpers import hostfw

pytestmark = pytest.mark.needs_gcc
CORTEX_M = ("cortex-m3", "cortex-m4", "cortex-m7")


@pytest.fixture(scope="module")
def cifar10() -> Network:
    return build_example("cifar10")


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("host_fw")


@pytest.fixture(scope="module")
def plain_fw(cifar10, build_dir) -> Path:
    return hostfw.build_host_firmware(cifar10, build_dir, name="plain")


@pytest.fixture(scope="module")
def dsp_asan_fw(cifar10, build_dir) -> Path:
    """Pooling forced onto the DSP path, with AddressSanitizer and UBSan."""
    return hostfw.build_host_firmware(
        cifar10, build_dir, name="dsp_asan", sanitize=True, defines=["HIL_NN_POOL_DSP"]
    )


class Running:
    """A started host device with a session on it."""

    def __init__(self, exe: Path, *, halts: bool = False) -> None:
        self.device = hostfw.HostDevice(exe)
        self.halts = halts  # a faulted device spins forever: do not wait for it

    def __enter__(self) -> DeviceSession:
        self.device.__enter__()
        self.link = Link.open(self.device.url, timeout=10, log_path=self.device.log_path)
        return DeviceSession(self.link)

    def __exit__(self, *exc) -> None:
        self.link.close()
        code = self.device.stop(wait=0 if self.halts else 5)
        log = self.device.log()
        assert "Sanitizer" not in log and "runtime error" not in log, log
        assert code in (0, -9), log


@pytest.mark.needs_arm_gcc
@pytest.mark.parametrize("cpu", CORTEX_M)
def test_sources_compile_warning_free_for_cortex_m(cpu, tmp_path):
    inc = [f"-I{hostfw.FIRMWARE / 'include'}", f"-I{hostfw.FIRMWARE / 'nn' / 'include'}"]
    sources = [str(s) for s in sorted((hostfw.FIRMWARE / "src").glob("*.c"))]
    for extra in ([], ["-DHIL_TEST_FAULT_AT_LAYER=2", "-DHIL_KERNEL_ARENA_BYTES=32768"]):
        cmd = [
            "arm-none-eabi-gcc",
            "-std=c11",
            "-O2",
            f"-mcpu={cpu}",
            "-mthumb",
            *hostfw.WARNINGS,
            *inc,
            *extra,
            "-c",
            *sources,
        ]
        result = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path)
        assert result.returncode == 0, result.stderr


def test_hello_describes_the_image(plain_fw, cifar10):
    with Running(plain_fw) as s:
        info = s.check_image(model_hash(cifar10), "host", variant="plain")
    assert info.protocol_hash == g.PROTOCOL_HASH
    assert (info.model_name, info.core, info.build_id) == ("cifar10", "host", "host-test")
    assert (info.backend, info.cycle_source, info.cycle_hz) == ("portable", "host", 10**9)
    assert info.num_layers == len(cifar10.layers)
    assert info.input_size == cifar10.input_size


@pytest.mark.parametrize("fw, variant", [("plain_fw", "plain"), ("dsp_asan_fw", "dsp")])
def test_every_layer_matches_the_reference(fw, variant, cifar10, request):
    xs = example_inputs(cifar10, 2, seed=7)
    with Running(request.getfixturevalue(fw)) as s:
        assert s.hello().variant == variant
        for x in xs:
            expected = run_network(cifar10, x, variant)
            full = s.infer(x, dump="all")
            digest = s.infer(x, dump="digest")
            quiet = s.infer(x, dump="none")
            assert [r.index for r in full] == list(range(len(cifar10.layers)))
            for r, d, q, e in zip(full, digest, quiet, expected):
                np.testing.assert_array_equal(r.output, e.ravel(), err_msg=f"layer {r.index}")
                assert r.status == 0 and r.ticks > 0
                assert d.output is None and d.crc32 == zlib.crc32(e.tobytes())
                assert q.output is None and q.crc32 == 0


def _golden_cases(root: Path, per_function: int | None):
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        files = sorted(folder.glob("*.npz"))
        yield from files[:per_function] if per_function else files


def _run_case(s: DeviceSession, path: Path):
    d = np.load(path)
    spec = KERNEL_SPECS[str(d["__function__"])]
    scalars = {n: int(d[n]) for n in spec.scalars}
    arrays = {n: d[n] for n in (spec.input, spec.weights, spec.bias) if n}
    result = s.run_kernel(spec.name, scalars, arrays)
    return result, d[spec.output_key]


def test_golden_vectors_through_kernel_run(plain_fw, vectors_dir, plain_vectors_dir):
    """All of the main set except pooling (plain build), plus plain pooling."""
    failures = []
    with Running(plain_fw) as s:
        for path in _golden_cases(vectors_dir, None):
            if path.parent.name in ("arm_maxpool_q7_HWC", "arm_avepool_q7_HWC"):
                path = plain_vectors_dir / path.parent.name / path.name
            result, expected = _run_case(s, path)
            if result.status != 0 or not np.array_equal(result.output, expected):
                failures.append(f"{path.parent.name}/{path.name}")
    assert not failures, failures


def test_golden_vectors_under_sanitizers(dsp_asan_fw, vectors_dir):
    with Running(dsp_asan_fw) as s:
        for path in _golden_cases(vectors_dir, 4):
            result, expected = _run_case(s, path)
            assert result.status == 0, path.name
            np.testing.assert_array_equal(result.output, expected, err_msg=str(path))


def test_kernel_status_is_reported(plain_fw):
    p = dict(
        dim_im_in=4,
        ch_im_in=3,
        ch_im_out=2,
        dim_kernel=3,
        padding=1,
        stride=1,
        bias_shift=0,
        out_shift=7,
        dim_im_out=4,
    )
    arrays = {
        "Im_in": np.ones(48, np.int8),
        "wt": np.ones(54, np.int8),
        "bias": np.zeros(2, np.int8),
    }
    with Running(plain_fw) as s:
        # refused by the device's own checks (kcheck.c) before the kernel's SIZE_MISMATCH
        with pytest.raises(KernelRefused, match="ch_im_in = 3"):
            s.run_kernel("arm_convolve_HWC_q7_fast", p, arrays)


def _raw(link: Link, msg: int, payload: bytes, expect=(g.MSG_ACK,)):
    return link.request(msg, payload, expect=set(expect), retries=0)


def test_device_refuses_bad_requests(plain_fw, cifar10):
    with Running(plain_fw) as s:
        link = s.link
        with pytest.raises(ProtocolError, match="OUT_OF_RANGE"):
            _raw(link, g.MSG_LOAD_INPUT, pack("chunk", offset=cifar10.input_size - 2) + b"abc")
        with pytest.raises(ProtocolError, match="UNKNOWN_MESSAGE"):
            _raw(link, 0x7E, b"")
        with pytest.raises(ProtocolError, match="NO_SPACE"):
            _raw(link, g.MSG_KERNEL_SETUP, pack("kernel_setup", input_size=1 << 30))
        with pytest.raises(ProtocolError, match="BAD_REQUEST"):
            _raw(link, g.MSG_RUN, pack("run", dump=9))
        with pytest.raises(ProtocolError, match="BAD_LENGTH"):
            _raw(link, g.MSG_KERNEL_RUN, pack("kernel_run", function=9, n_params=2) + bytes(4))
        run = pack("kernel_run", function=99, n_params=0, dump=g.ENUMS["dump"]["NONE"])
        _raw(link, g.MSG_KERNEL_SETUP, pack("kernel_setup", input_size=4, output_size=4))
        done = _raw(link, g.MSG_KERNEL_RUN, run, expect=(g.MSG_KERNEL_DONE,))
        assert unpack("kernel_done", done.payload)[0]["status"] == g.KERNEL_STATUS["BAD_FUNCTION"]
        relu = g.FUNCTION_IDS["arm_relu_q7"]
        run = pack("kernel_run", function=relu, n_params=40, dump=g.ENUMS["dump"]["NONE"])
        done = _raw(link, g.MSG_KERNEL_RUN, run + bytes(160), expect=(g.MSG_KERNEL_DONE,))
        assert unpack("kernel_done", done.payload)[0]["status"] == g.KERNEL_STATUS["BAD_PARAMS"]
        assert s.hello().model_name == "cifar10"  # still serving


def test_damaged_and_oversized_frames_are_answered_and_survived(plain_fw):
    with Running(plain_fw) as s:
        link = s.link
        port = link._port
        s.hello()  # the boot HELLO (seq 0) precedes this answer and is dropped as stale
        port.write(b"\x01" * (g.MAX_ENCODED + 50) + b"\x00")
        err = link.receive(5, "ERROR")
        assert err.type == g.MSG_ERROR
        assert unpack("error", err.payload, exact=False)[0]["status"] == g.STATUS["BAD_FRAME"]

        wire = bytearray(encode(Frame(g.MSG_HELLO_REQ, 4242, b"")))
        wire[3] ^= 0x10  # inside the seq byte's neighbourhood, not the delimiter
        port.write(bytes(wire))
        err = link.receive(5, "ERROR")
        assert err.type == g.MSG_ERROR
        status = unpack("error", err.payload, exact=False)[0]["status"]
        assert status in (g.STATUS["BAD_CRC"], g.STATUS["BAD_FRAME"])
        assert s.hello().model_name == "cifar10"


def test_fault_at_a_layer_is_reported(build_dir):
    net = Network(
        "faulty",
        (8,),
        (
            Layer("r0", "arm_relu_q7", {"size": 8}),
            Layer("r1", "arm_relu_q7", {"size": 8}),
            Layer("sm", "arm_softmax_q7", {"dim_vec": 8}),
        ),
    )
    exe = hostfw.build_host_firmware(
        net, build_dir, name="fault", defines=["HIL_TEST_FAULT_AT_LAYER=1"]
    )
    with Running(exe, halts=True) as s:
        with pytest.raises(DeviceFault) as info:
            s.infer(np.arange(-4, 4, dtype=np.int8))
    fault = info.value.fault
    assert fault.context == "layer" and fault.index == 1
    assert "UNDEFINSTR" in fault.cfsr_flags
    assert [r.index for r in info.value.results] == [0]
    np.testing.assert_array_equal(info.value.results[0].output, [0, 0, 0, 0, 0, 1, 2, 3])
