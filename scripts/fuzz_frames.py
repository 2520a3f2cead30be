#!/usr/bin/env python3
"""Build and run the libFuzzer target for the firmware's frame parser and dispatcher.

    python scripts/fuzz_frames.py --seconds 30        # fuzz for 30 s, print the figures
    python scripts/fuzz_frames.py --write-seeds       # regenerate fuzz/corpus from valid frames

The target (fuzz/fuzz_frames.c) is compiled with clang -fsanitize=fuzzer,
address,undefined together with firmware/src, firmware/nn and the tables of
a three-layer network (fuzz_network), with a KERNEL_ARENA_BYTES small enough
that no fuzzed KERNEL_RUN can work for long (a call past TIMEOUT_SECONDS
counts as a crash). New inputs go to build/fuzz/corpus (not committed);
fuzz/corpus holds the small seed set: request streams as on the wire, and
kernel calls and zero-run coded inputs as the [type][flags][length][payload]
records the target hands to the dispatcher as intact frames. A crash
leaves its input in build/fuzz/crash-* and makes this script exit 1.
"""

from __future__ import annotations

import argparse
import re
import shutil
import struct
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FIRMWARE = ROOT / "firmware"
SEEDS = ROOT / "fuzz" / "corpus"
TARGET = ROOT / "fuzz" / "fuzz_frames.c"
SANITIZERS = (
    "-fsanitize=fuzzer,address,undefined",
    "-fno-sanitize-recover=undefined",
    "-fno-omit-frame-pointer",
)
# Regions and scratch bound a kernel call's parameters, so the arena bounds its
# work: at 2 KiB no call does more than about a million multiply-adds or
# pooling-window steps (milliseconds under the sanitizers).
KERNEL_ARENA_BYTES = 2048
TIMEOUT_SECONDS = 10


@dataclass
class FuzzResult:
    executions: int
    crashes: int
    seconds: float
    output: str


def require_clang() -> None:
    if shutil.which("clang") is None:
        raise SystemExit(
            "fuzz_frames: clang not found; scripts/bootstrap installs it "
            "(Debian: clang libclang-rt-dev, which holds libFuzzer)"
        )


def fuzz_network():
    """A three-layer network: RUN exercises the runner and the output streamer
    without spending the fuzzer's time on convolutions."""
    import numpy as np

    from hil.model.layer import Layer, Network

    rng = np.random.default_rng(0)
    return Network(
        "fuzz",
        (48,),
        (
            Layer("relu", "arm_relu_q7", {"size": 48}),
            Layer(
                "fc",
                "arm_fully_connected_q7",
                dict(dim_vec=48, num_of_rows=10, bias_shift=0, out_shift=7),
                rng.integers(-128, 128, 480, dtype=np.int8),
                rng.integers(-128, 128, 10, dtype=np.int8),
            ),
            Layer("softmax", "arm_softmax_q7", {"dim_vec": 10}),
        ),
    )


def build(out_dir: Path) -> Path:
    from hil.firmware.codegen import generate_model_sources

    require_clang()
    out_dir.mkdir(parents=True, exist_ok=True)
    model = generate_model_sources(fuzz_network(), out_dir / "model")
    sources = [p for p in sorted((FIRMWARE / "src").glob("*.c")) if p.name != "main.c"]
    sources += sorted((FIRMWARE / "nn" / "src").glob("*.c"))
    exe = out_dir / "fuzz_frames"
    cmd = [
        "clang",
        "-std=c11",
        "-g",
        "-O1",
        *SANITIZERS,
        f"-I{FIRMWARE / 'include'}",
        f"-I{FIRMWARE / 'nn' / 'include'}",
        f"-I{FIRMWARE / 'src'}",
        *(f"-I{d}" for d in model.include_dirs),
        '-DHIL_BUILD_ID="fuzz"',
        '-DHIL_BOARD_ID="host"',
        '-DHIL_CORE="host"',
        f"-DHIL_KERNEL_ARENA_BYTES={KERNEL_ARENA_BYTES}",
        *map(str, sources),
        *map(str, model.sources),
        "-lm",
        str(TARGET),
        "-o",
        str(exe),
    ]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"fuzz target build failed:\n{result.stderr}")
    return exe


# One small valid call per function: the seeds the kernel checks are fuzzed from.
_SQUARE = dict(
    dim_im_in=5,
    ch_im_in=4,
    ch_im_out=2,
    dim_kernel=3,
    padding=1,
    stride=1,
    bias_shift=0,
    out_shift=7,
    dim_im_out=5,
)
_NONSQUARE = dict(
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
)
_POOL = dict(dim_im_in=6, ch_im_in=3, dim_kernel=3, padding=1, stride=2, dim_im_out=3)
_FC = dict(dim_vec=20, num_of_rows=6, bias_shift=0, out_shift=7)
SEED_CALLS = {
    "arm_convolve_HWC_q7_basic": {**_SQUARE, "ch_im_in": 3},
    "arm_convolve_HWC_q7_fast": _SQUARE,
    "arm_convolve_HWC_q7_RGB": {**_SQUARE, "ch_im_in": 3, "stride": 2, "dim_im_out": 3},
    "arm_convolve_HWC_q7_basic_nonsquare": {**_NONSQUARE, "ch_im_in": 3},
    "arm_convolve_HWC_q7_fast_nonsquare": _NONSQUARE,
    "arm_convolve_1x1_HWC_q7_fast_nonsquare": {
        **_NONSQUARE,
        "dim_kernel_x": 1,
        "dim_kernel_y": 1,
        "padding_x": 0,
        "stride_y": 1,
        "dim_im_out_y": 5,
    },
    "arm_depthwise_separable_conv_HWC_q7": {**_SQUARE, "ch_im_out": 4},
    "arm_depthwise_separable_conv_HWC_q7_nonsquare": {**_NONSQUARE, "ch_im_out": 4},
    "arm_relu_q7": dict(size=16),
    "arm_maxpool_q7_HWC": _POOL,
    "arm_avepool_q7_HWC": _POOL,
    "arm_fully_connected_q7": _FC,
    "arm_fully_connected_q7_opt": _FC,
    "arm_softmax_q7": dict(dim_vec=10),
    "arm_nn_activations_direct_q7": dict(size=16, int_width=2, type=1),
}


def kernel_requests(function: str, params: dict[str, int]) -> list[tuple[int, bytes]]:
    """(type, payload) of KERNEL_SETUP with the regions the call needs, then KERNEL_RUN."""
    from hil.protocol import generated as g
    from hil.protocol.messages import pack
    from hil.reference.spec import FUNCTION_IDS, KERNEL_SPECS

    spec = KERNEL_SPECS[function]
    sizes = dict(
        input_size=spec.input_size(params),
        output_size=spec.output_size(params),
        weights_size=spec.weights_size(params) if spec.weights else 0,
        bias_size=spec.bias_size(params) if spec.bias else 0,
    )
    values = [params[n] for n in spec.scalars]
    return [
        (g.MSG_KERNEL_SETUP, pack("kernel_setup", **sizes)),
        (
            g.MSG_KERNEL_RUN,
            pack(
                "kernel_run",
                function=FUNCTION_IDS[function],
                n_params=len(values),
                dump=g.ENUMS["dump"]["DIGEST"],
            )
            + struct.pack(f"<{len(values)}i", *values),
        ),
    ]


def seed_frames() -> dict[str, bytes]:
    """Valid request streams, one file each: the fuzzer mutates from real traffic."""
    from hil.protocol import generated as g
    from hil.protocol.frames import Frame, encode
    from hil.protocol.messages import pack

    def f(msg: int, payload: bytes = b"", seq: int = 1, flags: int = 0) -> bytes:
        return encode(Frame(msg, seq, payload, flags))

    quiet, zero_run = (g.ENUMS["frame_flag"][k] for k in ("QUIET", "ZERO_RUN"))
    summary = g.ENUMS["dump"]["SUMMARY"]

    load = f(g.MSG_LOAD_INPUT, pack("chunk", offset=0) + bytes(range(48)), 2)
    setup = f(
        g.MSG_KERNEL_SETUP,
        pack("kernel_setup", input_size=64, weights_size=32, bias_size=4, output_size=16),
        5,
    )
    kload = f(g.MSG_KERNEL_LOAD, pack("kernel_chunk", region=1, offset=0) + bytes(32), 6)
    krun = f(
        g.MSG_KERNEL_RUN,
        pack("kernel_run", function=9, n_params=1, dump=0) + struct.pack("<i", 16),
        7,
    )

    def kernel_call(function: str, params: dict[str, int]) -> bytes:
        """As frames on the wire (the target's first pass)."""
        return b"".join(
            f(t, payload, 8 + i) for i, (t, payload) in enumerate(kernel_requests(function, params))
        )

    def record(t: int, payload: bytes, flags: int = 0) -> bytes:
        """One [type][flags][length u16][payload] record (the target's second pass)."""
        return bytes([t, flags]) + struct.pack("<H", len(payload)) + payload

    def as_requests(function: str, params: dict[str, int]) -> bytes:
        return b"".join(record(t, payload) for t, payload in kernel_requests(function, params))

    coded = pack("chunk", offset=4) + bytes([0x83, 2, 5, 0, 7, 0x90])  # 4 zeros, 3 bytes, 17 zeros

    return {
        "hello": f(g.MSG_HELLO_REQ),
        "load_input": load,
        "run_digest": load + f(g.MSG_RUN, pack("run", dump=1), 3),
        "run_all_small_chunks": f(g.MSG_RUN, pack("run", dump=0, max_chunk=64), 4),
        # A quiet zero-run input, a SUMMARY run, the same RUN again (answered
        # from what the device holds), its DETAIL, a RUN coded against it.
        "run_summary": f(g.MSG_LOAD_INPUT, coded, 2, quiet | zero_run)
        + f(g.MSG_RUN, pack("run", dump=summary), 3)
        + f(g.MSG_RUN, pack("run", dump=summary), 3)
        + f(g.MSG_DETAIL, pack("detail", run_seq=3), 4)
        + f(g.MSG_RUN, pack("run", dump=summary, base=3), 5)
        + f(g.MSG_DETAIL, pack("detail", run_seq=3), 6),
        "requests_zero_run": record(g.MSG_LOAD_INPUT, coded, zero_run)
        + record(g.MSG_LOAD_INPUT, pack("chunk", offset=0) + bytes([0x05, 1, 2]), zero_run)
        + record(g.MSG_RUN, pack("run", dump=summary)),
        "kernel": setup + kload + krun,
        # A well-formed conv call on the wire; every function's call as records.
        "kernel_conv": kernel_call(
            "arm_convolve_HWC_q7_basic", SEED_CALLS["arm_convolve_HWC_q7_basic"]
        ),
        **{f"call_{fn}": as_requests(fn, params) for fn, params in SEED_CALLS.items()},
        "unknown_type": f(0x7F, b"\x01\x02"),
        "bad_crc": f(g.MSG_HELLO_REQ)[:-2] + b"\x55\x00",
        "oversized": b"\x01" * (g.MAX_ENCODED + 10) + b"\x00",
        # Found by review of the first fuzz run's blind spot: region sizes near
        # 2^32 wrapped KERNEL_SETUP's layout sum (fixed in firmware/src/kernel.c).
        "kernel_setup_wrap": f(g.MSG_KERNEL_SETUP, pack("kernel_setup", input_size=0xFFFFFFFC), 1)
        + f(g.MSG_KERNEL_LOAD, pack("kernel_chunk", region=0, offset=200000) + bytes(64), 2),
    }


def write_seeds(directory: Path = SEEDS) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, data in seed_frames().items():
        (directory / name).write_bytes(data)


def run(exe: Path, seconds: int, work_dir: Path) -> FuzzResult:
    corpus = work_dir / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    cmd = [
        str(exe),
        str(corpus),
        str(SEEDS),
        f"-max_total_time={seconds}",
        f"-artifact_prefix={work_dir}/",
        "-print_final_stats=1",
        "-max_len=4096",
        f"-timeout={TIMEOUT_SECONDS}",
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, cwd=work_dir)
    out = result.stderr + result.stdout
    execs = re.search(r"stat::number_of_executed_units:\s*(\d+)", out)
    secs = re.search(r"stat::\S*?time\S*:\s*(\d+)", out)
    crashes = (
        len(list(work_dir.glob("crash-*")))
        + len(list(work_dir.glob("leak-*")))
        + len(list(work_dir.glob("timeout-*")))
    )
    if result.returncode != 0 and crashes == 0:
        crashes = 1
    return FuzzResult(
        int(execs.group(1)) if execs else 0,
        crashes,
        float(secs.group(1)) if secs else float(seconds),
        out,
    )


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--seconds", type=int, default=30)
    ap.add_argument("--out", type=Path, default=ROOT / "build" / "fuzz")
    ap.add_argument("--write-seeds", action="store_true", help="regenerate fuzz/corpus and exit")
    args = ap.parse_args()
    if args.write_seeds:
        write_seeds()
        print(f"wrote {len(seed_frames())} seeds to {SEEDS}")
        return 0
    exe = build(args.out)
    res = run(exe, args.seconds, args.out)
    print(
        f"fuzz_frames: {res.executions:,} executions in {args.seconds} s, {res.crashes} crash(es)"
    )
    if res.crashes:
        print(res.output[-4000:])
    return 1 if res.crashes else 0


if __name__ == "__main__":
    sys.exit(main())
