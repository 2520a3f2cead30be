"""DeviceSession against a scripted device: handshake, image checks, streams."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from hil.device.session import DeviceSession
from hil.errors import ConfigError, DeviceError
from hil.protocol import generated as g
from hil.protocol.frames import Frame, encode
from hil.protocol.input_coding import zero_run_decode
from hil.protocol.link import Link
from hil.protocol.messages import pack, unpack
from hil.protocol.summary import encode_result

from helpers.fakedev import FakeDevice

MODEL_HASH = bytes(range(1, 9))
OUTPUT = np.arange(-5, 5, dtype=np.int8)


def hello_payload(**over) -> bytes:
    fields = dict(
        protocol_version=g.PROTOCOL_VERSION,
        protocol_hash=g.PROTOCOL_HASH,
        max_payload=g.MAX_PAYLOAD,
        build_id="b1",
        model_hash=MODEL_HASH,
        model_name="tiny",
        board_id="qemu-m7",
        core="cortex-m7",
        backend=1,
        variant=1,
        cycle_source=2,
        cycle_hz=25_000_000,
        num_layers=1,
        input_size=4,
        kernel_arena_bytes=65536,
    )
    fields.update(over)
    return pack("hello", **fields)


def device(hello=None, *, crc=None, forget_input=False):
    """Answers HELLO_REQ, acks loads, runs a one-layer 'network' returning OUTPUT.
    ``forget_input``: runs on zeros whatever was loaded (a device that rebooted)."""
    loaded = bytearray(4)
    held: dict = {}
    layer_crc = zlib.crc32(OUTPUT.tobytes()) if crc is None else crc

    def layer_done(seq: int) -> bytes:
        done = pack(
            "layer_done",
            layer=0,
            size=OUTPUT.size,
            ticks=1234,
            input_crc32=held["input_crc32"],
            crc32=layer_crc,
        )
        return encode(Frame(g.MSG_LAYER_DONE, seq, done)) + encode(
            Frame(g.MSG_RUN_DONE, seq, pack("run_done", layers_run=1))
        )

    def handler(f: Frame) -> bytes:
        if f.type == g.MSG_HELLO_REQ:
            return encode(Frame(g.MSG_HELLO, f.seq, hello or hello_payload()))
        if f.type == g.MSG_LOAD_INPUT:
            off = unpack("chunk", f.payload, exact=False)[0]["offset"]
            data = f.payload[4:]
            if f.flags & g.ENUMS["frame_flag"]["ZERO_RUN"]:
                data = zero_run_decode(data, len(loaded) - off)
            if not forget_input:
                loaded[off : off + len(data)] = data
            if f.flags & g.ENUMS["frame_flag"]["QUIET"]:
                return b""
            return encode(Frame(g.MSG_ACK, f.seq, pack("ack")))
        if f.type == g.MSG_DETAIL:
            if unpack("detail", f.payload)[0]["run_seq"] != held.get("seq"):
                return encode(Frame(g.MSG_ERROR, f.seq, pack("error", status=7)))
            return layer_done(f.seq)
        if f.type == g.MSG_RUN:
            dump = unpack("run", f.payload)[0]["dump"]
            held.update(seq=f.seq, input_crc32=zlib.crc32(loaded))
            if dump == g.ENUMS["dump"]["SUMMARY"]:
                result = encode_result(zlib.crc32(loaded), [layer_crc], [1234], num_layers=1)
                return encode(Frame(g.MSG_RESULT, f.seq, result))
            out = b""
            if dump == 0:
                out += encode(
                    Frame(
                        g.MSG_LAYER_OUTPUT,
                        f.seq,
                        pack("layer_chunk", layer=0, offset=0) + OUTPUT.tobytes(),
                    )
                )
            return out + layer_done(f.seq)
        return b""

    return FakeDevice(handler)


def session(dev) -> DeviceSession:
    return DeviceSession(Link.open(dev.url, timeout=2))


def test_hello_decodes_every_field():
    with device() as dev:
        info = session(dev).hello()
    assert info.model_hash == MODEL_HASH and info.model_name == "tiny"
    assert (info.backend, info.variant, info.cycle_source) == ("portable", "dsp", "systick")
    assert info.cycle_hz == 25_000_000 and info.input_size == 4


def test_check_image_accepts_the_expected_image():
    with device() as dev:
        s = session(dev)
        assert (
            s.check_image(MODEL_HASH + b"rest-of-hash", "qemu-m7", variant="dsp").board_id
            == "qemu-m7"
        )


@pytest.mark.parametrize(
    "hello, args, match",
    [
        (hello_payload(protocol_hash=1), (MODEL_HASH, "qemu-m7"), "protocol"),
        (hello_payload(), (bytes(8), "qemu-m7"), "model 'tiny'"),
        (hello_payload(), (MODEL_HASH, "nucleo-f746"), "board 'qemu-m7'"),
    ],
)
def test_check_image_refuses_a_mismatch_and_says_how_to_fix(hello, args, match):
    with device(hello) as dev:
        with pytest.raises(DeviceError, match=match) as info:
            session(dev).check_image(*args, model="tiny")
    assert f"hil flash --board {args[1]} --model tiny" in info.value.hint


@pytest.mark.parametrize("dump", ["all", "digest", "none"])
def test_infer_collects_layers(dump):
    with device() as dev:
        results = session(dev).infer(np.zeros(4, np.int8), dump=dump)
    (r,) = results
    assert r.index == 0 and r.ticks == 1234 and r.status == 0
    if dump == "all":
        np.testing.assert_array_equal(r.output, OUTPUT)
    else:
        assert r.output is None


def test_infer_detects_a_corrupt_dump():
    with device(crc=123) as dev:
        with pytest.raises(DeviceError, match="gave up.*layer 0: output CRC-32 differs"):
            session(dev).infer(np.zeros(4, np.int8))


@pytest.mark.parametrize(
    "x, match",
    [
        (np.zeros(4, np.float32), "int8"),
        (np.zeros(5, np.int8), "takes 4"),
    ],
)
def test_infer_rejects_bad_input(x, match):
    with device() as dev:
        with pytest.raises(ConfigError, match=match):
            session(dev).infer(x)


def test_unknown_dump_mode_is_a_config_error():
    with device() as dev:
        with pytest.raises(ConfigError, match="dump"):
            session(dev).infer(np.zeros(4, np.int8), dump="everything")


@pytest.mark.parametrize(
    "function, scalars, arrays, match",
    [
        ("arm_nope", {}, {}, "unknown kernel"),
        ("arm_relu_q7", {}, {"data": np.zeros(4, np.int8)}, "needs scalar"),
        ("arm_relu_q7", {"size": 4}, {}, "needs array 'data'"),
        ("arm_relu_q7", {"size": 4}, {"data": np.zeros(3, np.int8)}, "3 elements"),
        ("arm_relu_q7", {"size": 4}, {"data": np.zeros(4, np.int16)}, "int16"),
    ],
)
def test_run_kernel_rejects_bad_arguments(function, scalars, arrays, match):
    with device() as dev:
        with pytest.raises(ConfigError, match=match):
            session(dev).run_kernel(function, scalars, arrays)


def test_run_kernel_refuses_arrays_larger_than_the_device_arena():
    with device(hello_payload(kernel_arena_bytes=1024)) as dev:
        with pytest.raises(DeviceError, match="kernel arena has 1024") as info:
            session(dev).run_kernel(
                "arm_relu_q7", {"size": 1000}, {"data": np.zeros(1000, np.int8)}
            )
    assert "HIL_KERNEL_ARENA_BYTES" in info.value.hint


def test_check_image_can_require_a_build_id():
    with device() as dev:
        with pytest.raises(DeviceError, match="build 'b1'"):
            session(dev).check_image(MODEL_HASH, "qemu-m7", build_id="other")


def test_results_computed_on_another_input_are_never_judged():
    with device(forget_input=True) as dev:
        with pytest.raises(DeviceError, match="ran on another input"):
            session(dev).infer(np.arange(4, dtype=np.int8), dump="digest")
