"""firmware/nn/s8 on the host: every kernel bit-exact with TFLite Micro.

One host build per (path, rounding) for the session: the plain C path and
the DSP path (ARM_MATH_DSP against the ACLE C models), each with the default
double rounding and with CMSIS_NN_USE_SINGLE_ROUNDING. The double-rounding
builds must give TFLite Micro's own int8 output for every case of
helpers.s8_cases; the single-rounding builds the numpy reference's
single-rounding output. Also: argument errors write nothing, the buffer
sizes equal the genuine CMSIS-NN's (with $CMSIS_NN_PATH), and the sources
cross-compile warning-free for the plain, DSP and Helium paths.
"""

from __future__ import annotations

import ctypes
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from hil.reference.s8 import FUNCTIONS, run_layer

from helpers import s8lib

N_CASES = 200
SEED = 20240
PATHS = tuple(s8lib.PATHS)


@pytest.fixture(scope="session")
def s8_libs(tmp_path_factory, require_tool) -> dict[tuple[str, str], s8lib.S8Lib]:
    require_tool("gcc")
    return s8lib.build_variants(tmp_path_factory.mktemp("nn_s8"))


@pytest.fixture(scope="session")
def s8_cases():
    from helpers import s8_cases

    cache: dict[str, list] = {}

    def get(function: str) -> list:
        if function not in cache:
            cache[function] = s8_cases.cases(function, N_CASES, SEED)
        return cache[function]

    return get


def _run_chain(lib: s8lib.S8Lib, layers, x: np.ndarray) -> np.ndarray:
    for layer in layers:
        x = lib.run(layer.function, layer.params, layer.arrays, x)
    return x


def _reference_chain(layers, x: np.ndarray, rounding: str) -> np.ndarray:
    for layer in layers:
        x = run_layer(layer, x, rounding)
    return x


def _first_difference(got: np.ndarray, want: np.ndarray) -> str:
    bad = np.flatnonzero(got != want)
    return f"{bad.size} of {want.size} differ, first at {bad[0]}: {got[bad[0]]} vs {want[bad[0]]}"


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_double_rounding_matches_tflite_micro(s8_libs, s8_cases, function):
    cases = s8_cases(function)
    assert len(cases) == N_CASES
    for i, case in enumerate(cases):
        assert [layer.function for layer in case.layers][-1] == function
        want = np.asarray(case.expected, dtype=np.int8).reshape(-1)
        for path in PATHS:
            got = _run_chain(s8_libs[path, "double"], case.layers, case.x)
            assert np.array_equal(got, want), f"case {i} ({path}): {_first_difference(got, want)}"


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_single_rounding_matches_the_reference(s8_libs, s8_cases, function):
    for i, case in enumerate(s8_cases(function)):
        want = _reference_chain(case.layers, case.x, "single")
        for path in PATHS:
            got = _run_chain(s8_libs[path, "single"], case.layers, case.x)
            assert np.array_equal(got, want), f"case {i} ({path}): {_first_difference(got, want)}"


def test_single_rounding_build_differs_from_double(s8_libs, s8_cases):
    # Proves the define reaches the kernels: some conv case must round differently.
    lib_d, lib_s = s8_libs["plain", "double"], s8_libs["plain", "single"]
    differ = 0
    for case in s8_cases("arm_convolve_wrapper_s8"):
        a = _run_chain(lib_d, case.layers, case.x)
        b = _run_chain(lib_s, case.layers, case.x)
        differ += int(not np.array_equal(a, b))
    assert differ > 0


@pytest.mark.parametrize("path", PATHS)
def test_relu6_clamps_in_place(s8_libs, path):
    rng = np.random.default_rng(6)
    lib = s8_libs[path, "double"]
    for size in (0, 1, 7, 256, 1000):
        x = rng.integers(-128, 128, size, dtype=np.int8)
        got = lib.run("arm_relu6_s8", {}, {}, x)
        assert np.array_equal(got, np.clip(x, 0, 6))


def _conv_args(**overrides: int) -> tuple[dict[str, int], dict[str, np.ndarray], np.ndarray]:
    p = dict(
        input_n=1, input_h=4, input_w=4, input_c=4, filter_h=3, filter_w=3,
        output_h=4, output_w=4, output_c=2, stride_h=1, stride_w=1,
        padding_h=1, padding_w=1, dilation_h=1, dilation_w=1,
        input_offset=1, output_offset=0, activation_min=-128, activation_max=127,
    )  # fmt: skip
    p.update(overrides)
    oc = p["output_c"]
    arrays = {
        "weights": np.ones(
            (oc, p["filter_h"], p["filter_w"], p.get("filter_c", p["input_c"])), dtype=np.int8
        ),
        "bias": np.zeros(oc, dtype=np.int32),
        "multiplier": np.full(oc, 1 << 30, dtype=np.int32),
        "shift": np.zeros(oc, dtype=np.int32),
    }
    x = np.zeros(p["input_h"] * p["input_w"] * p["input_c"], dtype=np.int8)
    return p, arrays, x


def _assert_refused(lib: s8lib.S8Lib, function: str, p, arrays, x) -> None:
    status, out, _ = lib.call(function, p, arrays, x)
    assert status == s8lib.ARG_ERROR
    assert (out.raw == out.fill).all(), "an argument error wrote output"


def test_argument_errors_write_nothing(s8_libs):
    lib = s8_libs["plain", "double"]
    # Filter channels must divide the input's (groups), and the groups the outputs.
    p, arrays, x = _conv_args(filter_c=3)
    _assert_refused(lib, "arm_convolve_wrapper_s8", p, arrays, x)
    p, arrays, x = _conv_args(filter_c=2, output_c=3)
    _assert_refused(lib, "arm_convolve_wrapper_s8", p, arrays, x)
    p, arrays, x = _conv_args(stride_h=0)
    _assert_refused(lib, "arm_convolve_wrapper_s8", p, arrays, x)
    p, arrays, x = _conv_args(output_c=3, ch_mult=1)
    arrays["weights"] = np.ones((1, 3, 3, 3), dtype=np.int8)
    _assert_refused(lib, "arm_depthwise_conv_wrapper_s8", p, arrays, x)
    pool = dict(
        input_n=1, input_h=2, input_w=2, input_c=1, filter_h=2, filter_w=2,
        output_h=2, output_w=2, stride_h=3, stride_w=3, padding_h=0, padding_w=0,
        activation_min=-128, activation_max=127,
    )  # fmt: skip
    x = np.zeros(4, dtype=np.int8)  # the second row and column of windows lie past the input
    _assert_refused(lib, "arm_avgpool_s8", pool, {}, x)
    assert lib.call("arm_max_pool_s8", pool, {}, x)[0] == s8lib.SUCCESS


def test_null_bias_counts_as_zero(s8_libs):
    lib = s8_libs["plain", "double"]
    p, arrays, _ = _conv_args(input_c=3)
    x = np.arange(48, dtype=np.int8)
    want = lib.run("arm_convolve_wrapper_s8", p, arrays, x)
    conv, in_dims, f_dims, out_dims = s8lib.conv_structs("arm_convolve_wrapper_s8", p)
    out = np.zeros(out_dims.h * out_dims.w * out_dims.c, dtype=np.int8)
    quant = s8lib.PerChannelQuant(
        arrays["multiplier"].ctypes.data_as(ctypes.POINTER(ctypes.c_int32)),
        arrays["shift"].ctypes.data_as(ctypes.POINTER(ctypes.c_int32)),
    )
    status = lib.dll.arm_convolve_wrapper_s8(
        ctypes.byref(s8lib.Context(None, 0)),
        ctypes.byref(conv),
        ctypes.byref(quant),
        ctypes.byref(in_dims),
        x.ctypes.data_as(ctypes.c_void_p),
        ctypes.byref(f_dims),
        arrays["weights"].ctypes.data_as(ctypes.c_void_p),
        ctypes.byref(s8lib.Dims(1, 1, 1, out_dims.c)),
        None,
        ctypes.byref(out_dims),
        out.ctypes.data_as(ctypes.c_void_p),
    )
    assert status == s8lib.SUCCESS
    assert np.array_equal(out, want)


@pytest.mark.parametrize("path", PATHS)
def test_grouped_convolution_is_one_convolution_per_group(s8_libs, path):
    # TFLite Micro's grouped CONV_2D: input_c / filter_c groups, each with
    # output_c / groups filters. Each group alone must give its slice.
    lib = s8_libs[path, "double"]
    rng = np.random.default_rng(3)
    groups, filter_c, per_group = 3, 5, 2
    p, _, _ = _conv_args(input_c=groups * filter_c, filter_c=filter_c, output_c=groups * per_group)
    p.update(input_offset=7, output_offset=-2)
    oc = groups * per_group
    arrays = {
        "weights": rng.integers(-128, 128, (oc, 3, 3, filter_c), dtype=np.int8),
        "bias": rng.integers(-3000, 3000, oc).astype(np.int32),
        "multiplier": rng.integers(1 << 30, (1 << 31) - 1, oc).astype(np.int32),
        "shift": rng.integers(-9, 0, oc).astype(np.int32),
    }
    x = rng.integers(-128, 128, (4, 4, groups * filter_c), dtype=np.int8)
    got = lib.run("arm_convolve_wrapper_s8", p, arrays, x).reshape(4, 4, oc)
    for g in range(groups):
        sl = slice(g * per_group, (g + 1) * per_group)
        part = dict(p, input_c=filter_c, output_c=per_group)
        del part["filter_c"]
        want = lib.run(
            "arm_convolve_wrapper_s8",
            part,
            {k: v[sl] for k, v in arrays.items()},
            x[:, :, g * filter_c : (g + 1) * filter_c],
        )
        assert np.array_equal(got[:, :, sl].reshape(-1), want), f"group {g}"


# --- against the genuine library ($CMSIS_NN_PATH) ----------------------------

GENUINE_SIZE_SOURCES = (
    "Source/ConvolutionFunctions/arm_convolve_get_buffer_sizes_s8.c",
    "Source/ConvolutionFunctions/arm_depthwise_conv_get_buffer_sizes_s8.c",
    "Source/FullyConnectedFunctions/arm_fully_connected_get_buffer_sizes_s8.c",
    "Source/PoolingFunctions/arm_avgpool_get_buffer_sizes_s8.c",
)
SIZE_FORMS = ("", "_dsp", "_mve")


@pytest.fixture(scope="module")
def genuine_sizes(tmp_path_factory, require_tool) -> ctypes.CDLL:
    root = os.environ.get("CMSIS_NN_PATH")
    if not root:
        pytest.skip("set CMSIS_NN_PATH to a CMSIS-NN (>= 4.0) tree to compare buffer sizes")
    require_tool("gcc")
    root_path = Path(root)
    missing = [s for s in GENUINE_SIZE_SOURCES if not (root_path / s).is_file()]
    if missing:
        pytest.fail(f"CMSIS_NN_PATH={root} has no {missing[0]}: not a CMSIS-NN >= 4.0 tree")
    out = tmp_path_factory.mktemp("genuine_sizes") / "libgenuine_sizes.so"
    cmd = [
        "gcc", "-std=c99", "-O2", "-fPIC", "-shared", f"-I{root_path / 'Include'}",
        *(str(root_path / s) for s in GENUINE_SIZE_SOURCES), "-o", str(out),
    ]  # fmt: skip
    result = subprocess.run(cmd, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return ctypes.CDLL(str(out))


@pytest.fixture(scope="module")
def genuine_kernels(tmp_path_factory, require_tool) -> s8lib.S8Lib:
    """The genuine library's integer kernels built for the host (its plain C path)."""
    root = os.environ.get("CMSIS_NN_PATH")
    if not root:
        pytest.skip("set CMSIS_NN_PATH to a CMSIS-NN (>= 4.0) tree to compare with it")
    require_tool("gcc")
    root_path = Path(root)
    float_kernel = ("_f16", "_f32", "_flt")
    sources = [
        str(s)
        for s in sorted((root_path / "Source").glob("*/*.c"))
        if s.parent.name != "Bindings" and not any(k in s.stem for k in float_kernel)
    ]
    out = tmp_path_factory.mktemp("genuine_kernels") / "libgenuine_s8.so"
    cmd = ["gcc", "-std=c99", "-O2", "-fPIC", "-shared", f"-I{root_path / 'Include'}"]
    result = subprocess.run([*cmd, *sources, "-o", str(out)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    return s8lib.S8Lib(out)


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_kernels_equal_the_genuine_library(s8_libs, s8_cases, genuine_kernels, function):
    ours = s8_libs["plain", "double"]
    for i, case in enumerate(s8_cases(function)):
        x_ours = x_genuine = case.x
        for layer in case.layers:
            args = (layer.function, layer.params, layer.arrays)
            x_ours = ours.run(*args, x_ours)
            x_genuine = genuine_kernels.run(*args, x_genuine, scratch=1 << 20)
        assert np.array_equal(x_ours, x_genuine), (
            f"case {i}: {_first_difference(x_ours, x_genuine)}"
        )


def _size_shapes():
    rng = np.random.default_rng(11)
    shapes = []
    for _ in range(300):
        in_c = int(rng.choice([1, 2, 3, 4, 8, 16, 17]))
        ch_mult = int(rng.choice([1, 1, 2, 3]))
        shapes.append(
            dict(
                n=int(rng.choice([1, 1, 2])),
                h=int(rng.choice([1, 1, 5, 9])),
                w=int(rng.integers(1, 12)),
                in_c=in_c,
                out_c=int(rng.choice([in_c, in_c * ch_mult, 5, 12])),
                fh=int(rng.choice([1, 1, 3, 5])),
                fw=int(rng.choice([1, 2, 3, 5])),
                stride=(int(rng.choice([1, 1, 2, 3])), int(rng.choice([1, 2]))),
                pad=(int(rng.choice([0, 1, 2])), int(rng.choice([0, 1, 2]))),
                dil=(int(rng.choice([1, 1, 2])), int(rng.choice([1, 1, 2]))),
            )
        )
    return shapes


def _size_structs(s):
    (sw, sh), (pw, ph), (dw, dh) = s["stride"], s["pad"], s["dil"]
    tiles = dict(stride=s8lib.Tile(sw, sh), padding=s8lib.Tile(pw, ph), dilation=s8lib.Tile(dw, dh))
    act = s8lib.Activation(-128, 127)
    oh = max(1, (s["h"] + 2 * ph - dh * (s["fh"] - 1) - 1) // sh + 1)
    ow = max(1, (s["w"] + 2 * pw - dw * (s["fw"] - 1) - 1) // sw + 1)
    conv = s8lib.ConvParams(0, 0, activation=act, **tiles)
    dwp = s8lib.DwConvParams(0, 0, max(1, s["out_c"] // s["in_c"]), activation=act, **tiles)
    in_dims = s8lib.Dims(s["n"], s["h"], s["w"], s["in_c"])
    conv_filter = s8lib.Dims(s["out_c"], s["fh"], s["fw"], s["in_c"])
    dw_filter = s8lib.Dims(1, s["fh"], s["fw"], s["out_c"])
    out_dims = s8lib.Dims(s["n"], oh, ow, s["out_c"])
    return conv, dwp, in_dims, conv_filter, dw_filter, out_dims


def test_buffer_sizes_equal_the_genuine_library(s8_libs, genuine_sizes):
    ours = s8_libs["plain", "double"].dll
    compared = 0
    for s in _size_shapes():
        conv, dwp, in_dims, conv_filter, dw_filter, out_dims = _size_structs(s)
        for form in SIZE_FORMS:
            calls = {
                f"arm_convolve_wrapper_s8_get_buffer_size{form}": (
                    ctypes.byref(conv), ctypes.byref(in_dims),
                    ctypes.byref(conv_filter), ctypes.byref(out_dims),
                ),
                f"arm_depthwise_conv_wrapper_s8_get_buffer_size{form}": (
                    ctypes.byref(dwp), ctypes.byref(in_dims),
                    ctypes.byref(dw_filter), ctypes.byref(out_dims),
                ),
                f"arm_fully_connected_s8_get_buffer_size{form}": (
                    ctypes.byref(s8lib.Dims(s["w"] * s["in_c"], 1, 1, s["out_c"])),
                ),
                f"arm_avgpool_s8_get_buffer_size{form}": (
                    ctypes.c_int(out_dims.w), ctypes.c_int(s["in_c"]),
                ),
            }  # fmt: skip
            for name, args in calls.items():
                got, want = getattr(ours, name)(*args), getattr(genuine_sizes, name)(*args)
                assert got == want, f"{name} {s}: ours {got}, genuine {want}"
                compared += 1
    assert compared == 300 * 4 * len(SIZE_FORMS)


# --- cross-compilation -------------------------------------------------------

# core -> (extra flags, the path macros the probe expects: DSP, MVEI)
CORES = {
    "cortex-m3": ((), (0, 0)),
    "cortex-m7": ((), (1, 0)),
    "cortex-m55": (("-mfloat-abi=hard",), (1, 1)),
}


@pytest.mark.needs_arm_gcc
@pytest.mark.parametrize("core", sorted(CORES))
def test_sources_cross_compile_warning_free(tmp_path, core):
    flags, (dsp, mve) = CORES[core]
    probe = tmp_path / "probe.c"
    probe.write_text(
        '#include "arm_nnfunctions.h"\n'
        f"#if defined(ARM_MATH_DSP) != {dsp} || defined(ARM_MATH_MVEI) != {mve}\n"
        "#error wrong kernel path for this core\n#endif\n"
        "int hil_nn_s8_probe;\n"
    )
    cmd = [
        "arm-none-eabi-gcc", f"-mcpu={core}", "-mthumb", *flags, *s8lib.WARNINGS,
        f"-I{s8lib.INCLUDE_DIR}", "-c", str(probe), *map(str, s8lib.sources()),
    ]  # fmt: skip
    result = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert len(list(tmp_path.glob("*.o"))) == len(s8lib.sources()) + 1
