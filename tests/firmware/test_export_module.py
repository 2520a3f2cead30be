"""The exported C module, compiled and run: with the host gcc (-Werror, ASan and
UBSan) its outputs, every layer's through run_traced, and its float conversions
equal hil's own byte for byte; every catalogued kernel is covered; it cross
compiles for Cortex-M with its weights in flash and no mutable state; two exports
link into one program with make and with CMake; two threads may run it at once.

Each build is made once per module (the ``build`` fixture) and runs many inputs
per process; the C drivers are in tests/firmware/export_c/.
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from hil.export.module import weight_symbols
from hil.kernels.catalogue import KERNELS
from hil.model.datasets import load_dataset
from hil.model.float_inputs import quantise_inputs
from hil.model.io import load_model
from hil.reference.network import run_network_batch

from helpers.export_build import (
    DRIVERS,
    SANITIZERS,
    STRICT,
    ExportedModule,
    build_driver,
    export_module,
    hil_infer,
    run_program,
    run_records,
    split_layers,
)
from helpers.kernel_networks import kernel_network, quantised

REPO = Path(__file__).resolve().parents[2]
MODULE_NAMES = {"cifar10": "cifar", "lenet5-mnist": "lenet"}
# (model, C standard, reference variant): both standards and both pooling paths per model.
HOST_BUILDS = [
    ("cifar10", "c99", "plain"),
    ("lenet5-mnist", "c11", "plain"),
    ("cifar10", "c11", "dsp"),
    ("lenet5-mnist", "c99", "dsp"),
]
CORES = {
    "cortex-m7": ("-mcpu=cortex-m7", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv5-sp-d16"),
    "cortex-m3": ("-mcpu=cortex-m3", "-mthumb"),
}
KERNEL_NETWORKS = {"square": "ksquare", "nonsquare": "knonsquare"}
# A (quantised) square kernel network: three NCHW input channels to transpose.
NCHW_NETWORK = "kernels-square-nchw"


def random_inputs(network, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng([seed, network.input_size])
    return rng.integers(-128, 128, (n, *network.input_shape), dtype=np.int8)


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("export_module")


@pytest.fixture(scope="module")
def networks():
    nets = {model: load_model(model) for model in MODULE_NAMES}
    nets.update({kind: kernel_network(kind) for kind in KERNEL_NETWORKS})
    nets[NCHW_NETWORK] = quantised(kernel_network("square"), input_frac_bits=5, out_frac_bits=4)
    return nets


@pytest.fixture(scope="module")
def exported(work, networks):
    """``exported(key)``: the network ``key`` exported once into work/exports/."""
    names = {**MODULE_NAMES, **KERNEL_NETWORKS, NCHW_NETWORK: "knchw"}

    @functools.cache
    def get(key: str) -> ExportedModule:
        name = names[key]
        return export_module(networks[key], name, work / "exports" / name)

    return get


@pytest.fixture(scope="module")
def build(work, exported):
    """``build(key, driver, std, variant, sanitizer)``: a host executable, made once."""

    @functools.cache
    def get(
        key: str,
        driver: str = "run_net.c",
        std: str = "c11",
        variant: str = "plain",
        sanitizer: str = "address",
    ) -> Path:
        module = exported(key)
        out = work / "builds" / f"{module.name}-{Path(driver).stem}-{std}-{variant}-{sanitizer}"
        return build_driver(module, driver, out, std=std, variant=variant, sanitizer=sanitizer)

    return get


# --- 1. the built-in models equal hil infer -------------------------------------------


@pytest.mark.needs_gcc
@pytest.mark.parametrize(("model", "std", "variant"), HOST_BUILDS)
def test_outputs_equal_hil_infer(model, std, variant, networks, build, tmp_path):
    net = networks[model]
    x = random_inputs(net, 50, seed=1)
    np.save(tmp_path / "x.npy", x)
    expected = hil_infer(model, tmp_path / "x.npy", tmp_path, variant)
    exe = build(model, std=std, variant=variant)
    got = run_records(exe, ["run", str(len(x))], x, net.layers[-1].output_size)
    np.testing.assert_array_equal(got, expected)


def _lenet_float_inputs(source: str) -> np.ndarray:
    if source == "calibration":
        return np.load(REPO / "examples" / "lenet5_mnist" / "calibration.npy")
    return load_dataset("mnist-test").x[:300]


@pytest.mark.needs_gcc
@pytest.mark.parametrize("source", ["calibration", "mnist-test"])
def test_lenet_on_its_own_data_equals_hil_infer(source, networks, build, tmp_path):
    net = networks["lenet5-mnist"]
    floats = _lenet_float_inputs(source).astype(np.float32)
    np.save(tmp_path / "x.npy", floats)
    expected = hil_infer("lenet5-mnist", tmp_path / "x.npy", tmp_path, "plain")
    exe = build("lenet5-mnist")
    q7, _saturated = quantise_inputs(floats, net)
    size = net.layers[-1].output_size
    np.testing.assert_array_equal(run_records(exe, ["run", str(len(q7))], q7, size), expected)
    # The module's own quantize_input on the float data, then its run.
    got = run_records(exe, ["float", str(len(floats))], floats.view(np.int8), size)
    np.testing.assert_array_equal(got, expected)


@pytest.mark.needs_gcc
@pytest.mark.parametrize("model", sorted(MODULE_NAMES))
def test_every_traced_layer_equals_hil_infer_layers(model, networks, build, tmp_path):
    net = networks[model]
    x = random_inputs(net, 12, seed=2)
    np.save(tmp_path / "x.npy", x)
    expected = hil_infer(model, tmp_path / "x.npy", tmp_path, "plain", layers=True)
    assert list(expected) == [layer.name for layer in net.layers]
    exe = build(model)
    total = sum(layer.output_size for layer in net.layers)
    got = split_layers(run_records(exe, ["layers", str(len(x))], x, total), net)
    for (name, want), have in zip(expected.items(), got, strict=True):
        np.testing.assert_array_equal(have, want, err_msg=f"layer {name}")


@pytest.mark.needs_gcc
def test_the_trace_names_each_layer_with_its_size(networks, build):
    net = networks["lenet5-mnist"]
    lines = run_program(build("lenet5-mnist"), ["names"]).decode().splitlines()
    assert lines == [f"{i} {layer.name} {layer.output_size}" for i, layer in enumerate(net.layers)]


@pytest.mark.needs_gcc
def test_run_refuses_null_pointers_and_a_misaligned_scratch(build):
    out = run_program(build("cifar10"), ["errors"]).decode().split()
    statuses = dict(zip(out[::2], map(int, out[1::2])))
    assert statuses == {
        "null_input": -1,
        "null_output": -1,
        "null_scratch": -1,
        "misaligned": -2,
        "aligned": 0,
    }


# --- 2. every catalogued kernel --------------------------------------------------------


def test_the_kernel_networks_call_every_catalogued_function(networks):
    called = {layer.function for kind in KERNEL_NETWORKS for layer in networks[kind].layers}
    assert called == {spec.name for spec in KERNELS}


@pytest.mark.needs_gcc
@pytest.mark.parametrize("variant", ["plain", "dsp"])
@pytest.mark.parametrize("kind", sorted(KERNEL_NETWORKS))
def test_every_kernel_equals_the_reference(kind, variant, networks, build):
    net = networks[kind]
    x = random_inputs(net, 64, seed=3)
    total = sum(layer.output_size for layer in net.layers)
    got = split_layers(run_records(build(kind, variant=variant), ["layers", "64"], x, total), net)
    expected = run_network_batch(net, x, variant)
    for layer, have, want in zip(net.layers, got, expected, strict=True):
        np.testing.assert_array_equal(have, want, err_msg=f"layer {layer.name}")
        assert len(np.unique(want)) > 2, f"layer {layer.name} computes next to nothing"
    if kind == "square":  # its padded pooling tells the two paths apart
        other = run_network_batch(net, x, "dsp" if variant == "plain" else "plain")
        assert not np.array_equal(got[-1], other[-1])


# --- 3. quantize_input and dequantize_output -----------------------------------------------


def _awkward_floats(net, seed: int) -> np.ndarray:
    """Float inputs full of edge cases for x * 2**frac: exact halves, the values
    just beside them, beyond the rails, signed zeros, denormals, the float range."""
    q = net.quantisation
    step = 2.0**-q.input_frac_bits
    halves = (np.arange(-140, 140) + 0.5) * step
    edges = np.concatenate(
        [
            halves,
            np.nextafter(halves.astype(np.float32), np.float32(0)),
            np.nextafter(halves.astype(np.float32), np.float32(np.inf)),
            np.arange(-130, 131) * step,
            [0.0, -0.0, 1e-45, -1e-45, 1e3, -1e3, 3.4028235e38, -3.4028235e38],
        ]
    ).astype(np.float32)
    size = int(np.prod(q.input_float_shape))
    rng = np.random.default_rng(seed)
    n = -(-edges.size // size) + 4
    flat = (rng.normal(0.0, 1.2, n * size) * 128 * step).astype(np.float32)
    flat[rng.permutation(flat.size)[: edges.size]] = edges
    return flat.reshape(n, *q.input_float_shape)


@pytest.mark.needs_gcc
@pytest.mark.parametrize("key", ["lenet5-mnist", NCHW_NETWORK])
def test_quantize_input_equals_quantise_inputs(key, networks, build):
    net = networks[key]
    floats = _awkward_floats(net, seed=4)
    expected, saturated = quantise_inputs(floats, net)
    assert saturated > 0
    exe = build(key)
    got = run_records(exe, ["quantize", str(len(floats))], floats.view(np.int8), net.input_size)
    np.testing.assert_array_equal(got, expected.reshape(len(floats), net.input_size))


@pytest.mark.needs_gcc
@pytest.mark.parametrize("key", ["lenet5-mnist", NCHW_NETWORK])
def test_dequantize_output_is_q_over_two_to_the_frac_bits(key, networks, build):
    net = networks[key]
    size, frac = net.layers[-1].output_size, net.layers[-1].out_frac_bits
    q = np.resize(np.arange(-128, 128, dtype=np.int8), (-(-256 // size) * size,))
    q = q.reshape(-1, size)
    out = run_program(build(key), ["dequantize", str(len(q))], q.tobytes())
    got = np.frombuffer(out, dtype=np.float32).reshape(q.shape)
    expected = (q.astype(np.float64) / 2.0**frac).astype(np.float32)
    np.testing.assert_array_equal(got.view(np.uint32), expected.view(np.uint32))


# --- 4. cross builds for Cortex-M ---------------------------------------------------------

WRITABLE_SECTIONS = re.compile(r"^\.(data|bss|sdata|sbss)\b|^COMMON$|^\*COM\*$")


def _arm_symbols(obj: Path) -> list[tuple[str, str]]:
    """(symbol, section) of every symbol ``obj`` defines, from nm's SysV format."""
    out = subprocess.run(
        ["arm-none-eabi-nm", "--format=sysv", "--defined-only", str(obj)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rows = [[c.strip() for c in line.split("|")] for line in out.splitlines() if "|" in line]
    return [(row[0], row[6]) for row in rows if len(row) == 7 and row[0] != "Name"]


def _writable_bytes(obj: Path) -> dict[str, int]:
    """Bytes in the writable sections of ``obj`` (arm-none-eabi-size -A), by section."""
    out = subprocess.run(
        ["arm-none-eabi-size", "-A", str(obj)], capture_output=True, text=True, check=True
    ).stdout
    sizes = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[1].isdigit() and WRITABLE_SECTIONS.match(parts[0]):
            sizes[parts[0]] = int(parts[1])
    return {name: n for name, n in sizes.items() if n}


@pytest.mark.needs_arm_gcc
@pytest.mark.parametrize("core", sorted(CORES))
@pytest.mark.parametrize("model", sorted(MODULE_NAMES))
def test_cross_build_keeps_weights_in_flash_and_no_mutable_state(model, core, exported, tmp_path):
    module = exported(model)
    objects = {}
    for source in module.sources:
        obj = tmp_path / f"{source.stem}.o"
        cmd = [
            "arm-none-eabi-gcc",
            *CORES[core],
            "-std=c11",
            *STRICT,
            *module.include_flags,
            "-c",
            str(source),
            "-o",
            str(obj),
        ]
        result = subprocess.run(cmd, capture_output=True, text=True, check=False)
        assert result.returncode == 0, f"{' '.join(cmd)}\n{result.stderr}"
        objects[source.name] = obj
    name = module.name
    weights = dict(_arm_symbols(objects[f"{name}_weights.c"]))
    arrays = [symbol for pair in weight_symbols(name, module.network) for symbol in pair if symbol]
    assert arrays and set(arrays) <= set(weights)
    for symbol in arrays:
        assert weights[symbol].startswith(".rodata"), f"{symbol} is in {weights[symbol]}"
    # No static mutable state anywhere in the export, kernels included.
    for source, obj in objects.items():
        assert _writable_bytes(obj) == {}, f"{source} has writable data"
        writable = [(s, sec) for s, sec in _arm_symbols(obj) if WRITABLE_SECTIONS.match(sec)]
        assert writable == [], f"{source} defines writable symbols"


# --- 5. two exports in one program ----------------------------------------------------------

MAKEFILE = """\
include cifar/cifar.mk
include lenet/lenet.mk
CFLAGS += -std=c11 {flags} -DHIL_NN_POOL_PLAIN $(HIL_EXPORT_CFLAGS)
SRCS := two_nets.c $(HIL_EXPORT_SRCS) $(HIL_KERNEL_SRCS)
OBJS := $(patsubst %.c,build/%.o,$(SRCS))

two_nets: $(OBJS)
\t$(CC) $(CFLAGS) $^ -lm -o $@

build/%.o: %.c
\t@mkdir -p $(dir $@)
\t$(CC) $(CFLAGS) -c $< -o $@
"""

CMAKELISTS = """\
cmake_minimum_required(VERSION 3.13)
project(two_nets C)
add_subdirectory(cifar)
add_subdirectory(lenet)
add_executable(two_nets two_nets.c)
target_link_libraries(two_nets PRIVATE cifar lenet)
"""
SANITIZE = " ".join(SANITIZERS["address"])


def _program_folder(root: Path, exported) -> Path:
    """cifar/ and lenet/ exported side by side, with the two_nets.c driver."""
    root.mkdir(parents=True)
    for model, name in MODULE_NAMES.items():
        shutil.copytree(exported(model).folder, root / name)
    shutil.copy(DRIVERS / "two_nets.c", root / "two_nets.c")
    return root


def _shared_kernel_files(exported) -> dict[str, int]:
    """Every kernel .c file of the two exports, with how many exports carry it."""
    counts: dict[str, int] = {}
    for model in MODULE_NAMES:
        for path in exported(model).export.kernel_sources:
            counts[Path(path).name] = counts.get(Path(path).name, 0) + 1
    return counts


def _check_both_networks(exe: Path, networks, tmp_path: Path) -> None:
    for model, name in MODULE_NAMES.items():
        net = networks[model]
        x = random_inputs(net, 10, seed=5)
        np.save(tmp_path / f"{name}.npy", x)
        expected = hil_infer(model, tmp_path / f"{name}.npy", tmp_path, "plain")
        got = run_records(exe, [name, str(len(x))], x, net.layers[-1].output_size)
        np.testing.assert_array_equal(got, expected, err_msg=name)


@pytest.mark.needs_gcc
@pytest.mark.needs_make
def test_two_exports_link_into_one_program_with_make(exported, networks, tmp_path):
    root = _program_folder(tmp_path / "make", exported)
    (root / "Makefile").write_text(MAKEFILE.format(flags=" ".join([*STRICT, SANITIZE])))
    result = subprocess.run(
        ["make", "-j2", "CC=gcc"], cwd=root, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    compiled = re.findall(r" -c (\S+\.c) ", result.stdout)
    kernels = [Path(c).name for c in compiled if "/kernels/src/" in c]
    shared = _shared_kernel_files(exported)
    assert sorted(kernels) == sorted(shared)  # each kernel file once, from one export
    assert shared["arm_relu_q7.c"] == 2
    _check_both_networks(root / "two_nets", networks, tmp_path)


def _cmake(root: Path, build: Path) -> subprocess.CompletedProcess:
    flags = " ".join(["-std=c11", *STRICT, SANITIZE, "-DHIL_NN_POOL_PLAIN"])
    return subprocess.run(
        [
            "cmake",
            "-S",
            str(root),
            "-B",
            str(build),
            "-DCMAKE_C_COMPILER=gcc",
            f"-DCMAKE_C_FLAGS={flags}",
            f"-DCMAKE_EXE_LINKER_FLAGS={SANITIZE}",
        ],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.needs_gcc
@pytest.mark.needs_cmake
def test_two_exports_link_into_one_program_with_cmake(exported, networks, tmp_path):
    root = _program_folder(tmp_path / "cmake", exported)
    (root / "CMakeLists.txt").write_text(CMAKELISTS)
    build = tmp_path / "cmake-build"
    configured = _cmake(root, build)
    assert configured.returncode == 0, configured.stdout + configured.stderr
    built = subprocess.run(
        ["cmake", "--build", str(build), "-j2"], capture_output=True, text=True, check=False
    )
    assert built.returncode == 0, built.stdout + built.stderr
    objects = [p.name.removesuffix(".o") for p in build.rglob("*.c.o")]
    kernels = [o for o in objects if o.startswith(("arm_", "hil_nn_"))]
    assert sorted(kernels) == sorted(_shared_kernel_files(exported))
    _check_both_networks(build / "two_nets", networks, tmp_path)


@pytest.mark.needs_gcc
@pytest.mark.needs_cmake
def test_cmake_stops_when_two_copies_of_a_kernel_differ(exported, tmp_path):
    root = _program_folder(tmp_path / "cmake", exported)
    (root / "CMakeLists.txt").write_text(CMAKELISTS)
    with open(root / "lenet" / "kernels" / "src" / "arm_relu_q7.c", "a") as f:
        f.write("/* edited by hand */\n")
    configured = _cmake(root, tmp_path / "cmake-build")
    assert configured.returncode != 0
    message = " ".join(configured.stderr.split())
    assert "lenet: kernels/src/arm_relu_q7.c differs from the copy another export added" in (
        message
    )


# --- 6. two threads ----------------------------------------------------------------------------


# Inputs per thread and rounds over them; ThreadSanitizer runs several times slower.
THREAD_LOADS = {"address": (8, 3), "thread": (4, 2)}


@pytest.mark.needs_gcc
@pytest.mark.parametrize("sanitizer", sorted(SANITIZERS))
def test_two_threads_with_two_scratch_buffers(sanitizer, networks, build, tmp_path):
    net = networks["cifar10"]
    count, rounds = THREAD_LOADS[sanitizer]
    x = random_inputs(net, 2 * count, seed=6)
    np.save(tmp_path / "x.npy", x)
    expected = hil_infer("cifar10", tmp_path / "x.npy", tmp_path, "plain")
    exe = build("cifar10", driver="threads.c", sanitizer=sanitizer)
    got = run_records(exe, [str(count), str(rounds)], x, net.layers[-1].output_size)
    np.testing.assert_array_equal(got, expected)
