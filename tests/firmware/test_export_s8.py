"""The exported s8 module, compiled and run: small_cnn lowered from TFLite, exported,
built with the host gcc (-Werror, ASan and UBSan; its own copied kernels), with the
generated CMakeLists.txt and Makefile fragment, and against the genuine CMSIS-NN
($CMSIS_NN_PATH) gives TFLite Micro's and the numpy reference's bytes for every layer
and TFLite Micro's float output; it cross-compiles for Cortex-M55 and M7; exports are
deterministic, and the ctx sizes follow the C *_get_buffer_size functions.

The C driver is tests/firmware/export_c/run_s8.c.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from hil import __version__
from hil.export.files import build_export, write_export
from hil.export.s8_buffers import FORMS, buffer_size
from hil.export.s8_plan import plan_s8
from hil.model.io import load_model
from hil.model.s8 import S8Network
from hil.model.tflite.lower import lower_graph
from hil.reference.s8 import run_network

from helpers import s8lib
from helpers.export_build import DRIVERS, SANITIZERS, STRICT, run_program
from helpers.s8_models import small_cnn

NAME = "cnn"
SEED = 0
CORES = {
    "cortex-m55": ("-mcpu=cortex-m55", "-mthumb", "-mfloat-abi=hard"),
    "cortex-m7": ("-mcpu=cortex-m7", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv5-sp-d16"),
}
SANITIZE = " ".join(SANITIZERS["address"])
GENUINE_DIRS = (
    "ConvolutionFunctions",
    "FullyConnectedFunctions",
    "NNSupportFunctions",
    "PoolingFunctions",
    "SoftmaxFunctions",
)
_FLOAT = ("_f16", "_f32", "_flt")


@pytest.fixture(scope="module")
def model():
    graph, x = small_cnn(SEED)
    return graph, lower_graph(graph, "small_cnn"), x


@pytest.fixture(scope="module")
def expected(model):
    """Per input: the int8 input, every layer's output (reference == TFLM, checked
    here), TFLM's float output."""
    from helpers import tflm

    graph, net, x = model
    index = {t.name: i for i, t in enumerate(graph.tensors)}
    tensors = tuple(index[layer.tensor] for layer in net.layers)
    rows = []
    for xi in x:
        q = net.input_quant.quantise(xi[None])
        layers = run_network(net, q)
        final, *micro = tflm.run(graph, xi[None], tensors)
        for layer, ours, theirs in zip(net.layers, layers, micro, strict=True):
            assert np.array_equal(ours, theirs.reshape(-1)), f"reference vs TFLM at {layer.name}"
        rows.append((q.reshape(-1), layers, np.asarray(final, np.float32).reshape(-1)))
    return rows


def alias_header(name: str) -> str:
    up = name.upper()
    lines = [f'#include "{name}.h"']
    for what in ("INPUT_SIZE", "OUTPUT_SIZE", "SCRATCH_SIZE", "SCRATCH_ALIGN", "NUM_LAYERS"):
        lines.append(f"#define NET_{what} {up}_{what}")
    for what in ("OK", "LAYER_BEGIN", "LAYER_END"):
        lines.append(f"#define NET_{what} {up}_{what}")
    for fn in ("run", "run_traced", "quantize_input", "dequantize_output"):
        lines.append(f"#define net_{fn} {name}_{fn}")
    return "\n".join(lines) + "\n"


def _gcc(args: list[str], cwd: Path | None = None, cc: str = "gcc") -> None:
    result = subprocess.run([cc, *args], cwd=cwd, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"{cc} {' '.join(args)}\n{result.stderr[-4000:]}"


def _export(net: S8Network, folder: Path, backend: str = "portable") -> Path:
    write_export(build_export(net, NAME, backend), folder)
    (folder.parent / "net_alias.h").write_text(alias_header(NAME))
    return folder


def _check(exe: Path, net: S8Network, x: np.ndarray, expected) -> None:
    out = run_program(exe, [str(len(x))], np.ascontiguousarray(x, np.float32).tobytes())
    sizes = [net.input_size, *(layer.output_size for layer in net.layers)]
    record = sum(sizes) + 4 * net.layers[-1].output_size
    assert len(out) == len(x) * record
    for i, (q, layers, final) in enumerate(expected):
        row = out[i * record : (i + 1) * record]
        ints = np.frombuffer(row[: sum(sizes)], np.int8)
        got = np.split(ints, np.cumsum(sizes)[:-1])
        np.testing.assert_array_equal(got[0], q, err_msg=f"input {i}: quantize_input")
        for layer, have, want in zip(net.layers, got[1:], layers, strict=True):
            np.testing.assert_array_equal(have, want, err_msg=f"input {i}: layer {layer.name}")
        y = np.frombuffer(row[sum(sizes) :], np.float32)
        np.testing.assert_array_equal(y.view(np.uint32), final.view(np.uint32), f"input {i}")


def _host_build(folder: Path, sources: list[Path], includes: list[Path], exe: Path) -> Path:
    _gcc(
        [
            "-std=c99",
            *STRICT,
            *SANITIZERS["address"],
            f"-I{folder.parent}",
            *(f"-I{d}" for d in includes),
            *map(str, sources),
            str(DRIVERS / "run_s8.c"),
            "-lm",
            "-o",
            str(exe),
        ]  # fmt: skip
    )
    return exe


@pytest.fixture(scope="module")
def portable(model, tmp_path_factory) -> Path:
    return _export(model[1], tmp_path_factory.mktemp("s8_export") / NAME)


@pytest.fixture(scope="module")
def host_exe(portable, require_tool) -> Path:
    require_tool("gcc")
    sources = sorted(portable.glob("*.c")) + sorted((portable / "kernels" / "src").glob("*.c"))
    includes = [portable, portable / "kernels" / "include"]
    return _host_build(portable, sources, includes, portable.parent / "run_s8")


# --- (a, b) host gcc: every layer and the float output ---------------------------------


@pytest.mark.needs_gcc
def test_every_layer_and_the_float_output_equal_tflite_micro(model, expected, host_exe):
    _graph, net, x = model
    _check(host_exe, net, x, expected)


@pytest.mark.needs_gcc
def test_run_refuses_null_pointers_and_a_misaligned_scratch(host_exe):
    assert run_program(host_exe, ["errors"]).decode().split() == ["-1", "-1", "-1", "-2", "0"]


@pytest.mark.needs_gcc
def test_quantize_input_is_quant_quantise_on_awkward_floats(model, host_exe):
    _graph, net, _x = model
    q = net.input_quant
    steps = (np.arange(-300, 300) + 0.5 - q.zero_point).astype(np.float32)
    halves = steps * np.float32(q.scale)
    edge = np.concatenate(
        [
            halves,
            np.nextafter(halves, np.float32(0)),
            np.nextafter(halves, np.float32(np.inf)),
            [0.0, -0.0, 1e-45, -1e-45, 3.4028235e38, -3.4028235e38, np.inf, -np.inf],
        ]
    ).astype(np.float32)
    n = -(-edge.size // net.input_size)
    x = np.resize(edge, n * net.input_size).reshape(n, net.input_size)
    out = run_program(host_exe, [str(n)], x.tobytes())
    record = (
        net.input_size + sum(la.output_size for la in net.layers) + 4 * net.layers[-1].output_size
    )
    got = np.frombuffer(out, np.int8).reshape(n, record)[:, : net.input_size]
    with np.errstate(over="ignore"):  # the float range over a small scale
        want = q.quantise(x)
    np.testing.assert_array_equal(got, want)


# --- (c) the generated CMakeLists.txt and Makefile fragment ----------------------------

MAKEFILE = """\
include cnn/cnn.mk
CFLAGS += -std=c11 {flags} $(HIL_EXPORT_CFLAGS) -I.
SRCS := run_s8.c $(HIL_EXPORT_SRCS) $(HIL_KERNEL_SRCS)
OBJS := $(patsubst %.c,build/%.o,$(SRCS))

run_s8: $(OBJS)
\t$(CC) $(CFLAGS) $^ -lm -o $@

build/%.o: %.c
\t@mkdir -p $(dir $@)
\t$(CC) $(CFLAGS) -c $< -o $@
"""

CMAKELISTS = """\
cmake_minimum_required(VERSION 3.13)
project(run_s8 C)
add_subdirectory(cnn)
add_executable(run_s8 run_s8.c)
target_include_directories(run_s8 PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
target_link_libraries(run_s8 PRIVATE cnn)
"""


def _project(portable: Path, root: Path) -> Path:
    root.mkdir(parents=True)
    shutil.copytree(portable, root / NAME)
    shutil.copy(portable.parent / "net_alias.h", root)
    shutil.copy(DRIVERS / "run_s8.c", root)
    return root


@pytest.mark.needs_gcc
@pytest.mark.needs_make
def test_the_makefile_fragment_builds_it(model, expected, portable, tmp_path):
    root = _project(portable, tmp_path / "make")
    (root / "Makefile").write_text(MAKEFILE.format(flags=" ".join([*STRICT, SANITIZE])))
    done = subprocess.run(["make", "-j2", "CC=gcc"], cwd=root, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    _graph, net, x = model
    _check(root / "run_s8", net, x[:2], expected[:2])


@pytest.mark.needs_gcc
@pytest.mark.needs_cmake
def test_the_cmake_target_builds_it(model, expected, portable, tmp_path):
    root = _project(portable, tmp_path / "cmake")
    (root / "CMakeLists.txt").write_text(CMAKELISTS)
    build = tmp_path / "build"
    flags = " ".join(["-std=c11", *STRICT, SANITIZE])
    configure = [
        "cmake", "-S", str(root), "-B", str(build), "-DCMAKE_C_COMPILER=gcc",
        f"-DCMAKE_C_FLAGS={flags}", f"-DCMAKE_EXE_LINKER_FLAGS={SANITIZE}",
    ]  # fmt: skip
    for cmd in (configure, ["cmake", "--build", str(build), "-j2"]):
        done = subprocess.run(cmd, capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr
    _graph, net, x = model
    _check(build / "run_s8", net, x[:2], expected[:2])


# --- (d) cross builds ------------------------------------------------------------------


def _cross(folder: Path, includes: list[Path], core: str, out: Path) -> None:
    sources = sorted(folder.glob("*.c")) + sorted((folder / "kernels" / "src").glob("*.c"))
    out.mkdir(parents=True, exist_ok=True)
    cmd = [
        *CORES[core], "-std=c11", *STRICT, *(f"-I{d}" for d in includes), "-c",
        *map(str, sources),
    ]  # fmt: skip
    _gcc(cmd, cwd=out, cc="arm-none-eabi-gcc")
    assert len(list(out.glob("*.o"))) == len(sources)


@pytest.mark.needs_arm_gcc
@pytest.mark.parametrize("core", sorted(CORES))
def test_it_cross_compiles_warning_free(portable, core, tmp_path):
    _cross(portable, [portable, portable / "kernels" / "include"], core, tmp_path)


# --- (e) the genuine CMSIS-NN ----------------------------------------------------------


@pytest.fixture(scope="module")
def genuine() -> Path:
    root = os.environ.get("CMSIS_NN_PATH")
    if not root:
        pytest.skip("set CMSIS_NN_PATH to a CMSIS-NN (v7) tree to build against it")
    path = Path(root)
    if not (path / "Include" / "arm_nnfunctions.h").is_file():
        pytest.fail(f"CMSIS_NN_PATH={root} has no Include/arm_nnfunctions.h")
    return path


def _genuine_sources(root: Path) -> list[Path]:
    return [
        s
        for d in GENUINE_DIRS
        for s in sorted((root / "Source" / d).glob("*.c"))
        if not any(k in s.stem for k in _FLOAT)
    ]


@pytest.mark.needs_gcc
def test_the_cmsis_nn_backend_gives_the_same_bytes(model, expected, genuine, tmp_path):
    _graph, net, x = model
    folder = _export(net, tmp_path / "export" / NAME, "cmsis-nn")
    assert not (folder / "kernels").exists()
    objs = tmp_path / "genuine"
    objs.mkdir()
    flags = ["-std=c99", "-O1", f"-I{genuine / 'Include'}"]
    sources = _genuine_sources(genuine)
    halves = [sources[::2], sources[1::2]]
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(lambda part: _gcc([*flags, "-c", *map(str, part)], cwd=objs), halves))
    library = tmp_path / "libcmsis-nn.a"
    subprocess.run(["ar", "rcs", str(library), *map(str, sorted(objs.glob("*.o")))], check=True)
    module = sorted(folder.glob("*.c"))
    _host_build(folder, [*module, library], [folder, genuine / "Include"], tmp_path / "run_s8")
    _check(tmp_path / "run_s8", net, x, expected)


@pytest.mark.needs_arm_gcc
def test_the_cmsis_nn_backend_cross_compiles_for_helium(model, genuine, tmp_path):
    """On M55 the module fills ctx.buf with arm_vector_sum_s8 for each FC layer."""
    folder = _export(model[1], tmp_path / "export" / NAME, "cmsis-nn")
    assert "arm_vector_sum_s8(" in (folder / f"{NAME}.c").read_text()
    _cross(folder, [folder, genuine / "Include"], "cortex-m55", tmp_path / "obj")


# --- (f) determinism, the q7 exports, the ctx sizes ------------------------------------


def test_two_exports_are_identical_and_declare_the_family(model):
    net = model[1]
    for backend in ("portable", "cmsis-nn"):
        a, b = build_export(net, NAME, backend), build_export(lower_graph(model[0], "small_cnn"),
                                                              NAME, backend)  # fmt: skip
        assert a.files == b.files
        assert b'"family": "s8"' in a.files["hil-export.json"]
        assert f'#define {NAME.upper()}_FAMILY "s8"'.encode() in a.files[f"{NAME}.h"]
        assert a.sizes["scratch"] == plan_s8(net).scratch_size


# The generated files of the q7 lenet5-mnist export, hil's version written as VERSION:
# the s8 family must not change a byte of them.
Q7_GOLDEN = {
    "portable": {
        "CMakeLists.txt": "0154e463352e447fdc4099bc087e912c7ef621e1344ddcfdceaacd36dee5867d",
        "README.md": "dddf3e2edd75347421b2b7927c47b78763b8be6788015af888f67bb614fb54c8",
        "lenet.c": "0c18cae69578008ba8fd3aac0d79859020a1d3246766727e38c3edd7780a6645",
        "lenet.h": "8b0abb0f297a49e025de96316c5f16e2e71cdb560bca9e620b6a8b212c656f9d",
        "lenet.mk": "1ef5bed2c36f170596eb5da5e124a259b0352f996fa4231de2f8fa44b1c8b041",
        "lenet_weights.c": "292cb2765021949ac08a8dc0b6b0fbb6e955cb0eacaf06493df0db76898dd5ee",
    },
    "cmsis-nn": {
        "CMakeLists.txt": "7c82748bd0651aada07ae8433a59474d9a6e785da984a139da323b0d4355504c",
        "README.md": "7b0e215d2500d238450ef65c7feae894e8d845ede9388cc291e25768b45c11e6",
        "lenet.c": "0c18cae69578008ba8fd3aac0d79859020a1d3246766727e38c3edd7780a6645",
        "lenet.h": "a5b26c651bfe4798c7d543a459c3fd3d432744a4148dd61ef7a322986a220f96",
        "lenet.mk": "a67f611bf1f3340cff478a199e03d659e37d3e8e820ec73be5612b3dac782167",
        "lenet_weights.c": "292cb2765021949ac08a8dc0b6b0fbb6e955cb0eacaf06493df0db76898dd5ee",
    },
}


def _q7_digests(backend: str) -> dict[str, str]:
    export = build_export(load_model("lenet5-mnist"), "lenet", backend)
    return {
        path: hashlib.sha256(data.replace(__version__.encode(), b"VERSION")).hexdigest()
        for path, data in sorted(export.files.items())
        if not path.startswith("kernels/") and path not in ("SHA256SUMS", "hil-export.json")
    }


@pytest.mark.parametrize("backend", sorted(Q7_GOLDEN))
def test_q7_exports_are_unchanged(backend):
    assert _q7_digests(backend) == Q7_GOLDEN[backend]


@functools.cache
def _size_lib(out_dir: str) -> ctypes.CDLL:
    return ctypes.CDLL(str(s8lib.build_library(Path(out_dir))))


def _shapes(count: int):
    rng = np.random.default_rng(12)
    for _ in range(count):
        in_c = int(rng.choice([1, 2, 3, 4, 8, 16, 17]))
        p = dict(
            input_n=int(rng.choice([1, 1, 2])), input_h=int(rng.choice([1, 1, 5, 9])),
            input_w=int(rng.integers(1, 12)), input_c=in_c,
            filter_h=int(rng.choice([1, 1, 3, 5])), filter_w=int(rng.choice([1, 2, 3, 5])),
            stride_h=int(rng.choice([1, 1, 2, 3])), stride_w=int(rng.choice([1, 2])),
            padding_h=int(rng.choice([0, 1, 2])), padding_w=int(rng.choice([0, 1, 2])),
            dilation_h=int(rng.choice([1, 1, 2])), dilation_w=int(rng.choice([1, 1, 2])),
            input_offset=0, output_offset=0, activation_min=-128, activation_max=127,
        )  # fmt: skip
        for a in ("h", "w"):
            span = p[f"dilation_{a}"] * (p[f"filter_{a}"] - 1) + 1
            out = (p[f"input_{a}"] + 2 * p[f"padding_{a}"] - span) // p[f"stride_{a}"] + 1
            p[f"output_{a}"] = max(1, out)
        yield p, int(rng.choice([in_c, 5, 12])), int(rng.choice([1, 1, 2, 3]))


@pytest.mark.needs_gcc
def test_ctx_sizes_equal_the_c_get_buffer_size_functions(tmp_path):
    lib = _size_lib(str(tmp_path))
    suffix = {"plain": "", "dsp": "_dsp", "mve": "_mve"}
    compared = 0
    for p, oc, ch_mult in _shapes(400):
        for fn in ("arm_convolve_wrapper_s8", "arm_depthwise_conv_wrapper_s8"):
            q = dict(p, output_c=oc if fn == "arm_convolve_wrapper_s8" else p["input_c"] * ch_mult)
            q["ch_mult"] = ch_mult
            structs = [ctypes.byref(s) for s in s8lib.conv_structs(fn, q)]
            for form in FORMS:
                want = getattr(lib, f"{fn}_get_buffer_size{suffix[form]}")(*structs)
                assert buffer_size(fn, q, form) == want, f"{fn}{suffix[form]} {q}"
                compared += 1
        fc = dict(accum_depth=p["input_w"] * p["input_c"], output_depth=oc)
        for form in FORMS:
            dims = ctypes.byref(s8lib.Dims(fc["accum_depth"], 1, 1, oc))
            want = getattr(lib, f"arm_fully_connected_s8_get_buffer_size{suffix[form]}")(dims)
            assert buffer_size("arm_fully_connected_s8", fc, form) == want
            want = getattr(lib, f"arm_avgpool_s8_get_buffer_size{suffix[form]}")(
                ctypes.c_int(p["output_w"]), ctypes.c_int(p["input_c"])
            )
            assert buffer_size("arm_avgpool_s8", p, form) == want
    assert compared == 400 * 2 * len(FORMS)
