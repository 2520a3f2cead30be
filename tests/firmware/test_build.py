"""Cross build of the port test firmware (tests/fixtures/firmware) for every QEMU board."""

from __future__ import annotations

import dataclasses
import shutil
import struct
from pathlib import Path

import pytest

from hil.config.boards import MemoryRegion, load_board
from hil.errors import BuildError
from hil.firmware.build import FirmwareImage, build_firmware
from hil.firmware.codegen import ModelSources

REPO = Path(__file__).resolve().parents[2]
APP = REPO / "tests" / "fixtures" / "firmware"
BOARDS = ("qemu-m7", "qemu-m4", "qemu-m3", "qemu-m55")

pytestmark = pytest.mark.needs_arm_gcc


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.getbasetemp() / "object-cache"


def build(board, out: Path, cache: Path, **kwargs) -> FirmwareImage:
    kwargs.setdefault("with_nn", False)
    return build_firmware(
        board,
        hand_written_model(kwargs.pop("generated", None)),
        out,
        app_dir=kwargs.pop("app", APP),
        cache_dir=cache,
        **kwargs,
    )


def hand_written_model(gen: Path | None) -> ModelSources | None:
    """A folder of hand-written model sources, as the build takes generated ones."""
    if gen is None:
        return None
    return ModelSources(
        sources=tuple(sorted(gen.glob("*.c"))) or (gen / "model_data.c",), include_dirs=(gen,)
    )


@pytest.fixture(scope="session")
def images(tmp_path_factory, cache_dir) -> dict[str, FirmwareImage]:
    out = tmp_path_factory.mktemp("fw")
    return {b: build(load_board(b), out / b, cache_dir) for b in BOARDS}


def first_words(elf: Path, address: int, count: int) -> tuple[int, ...]:
    """Words at a load address, read through the ELF program headers."""
    data = elf.read_bytes()
    assert data[:4] == b"\x7fELF" and data[4] == 1 and data[5] == 1, "not a 32-bit LE ELF"
    (phoff,) = struct.unpack_from("<I", data, 28)
    phentsize, phnum = struct.unpack_from("<HH", data, 42)
    for i in range(phnum):
        p_type, p_offset, _vaddr, p_paddr, p_filesz = struct.unpack_from(
            "<5I", data, phoff + i * phentsize
        )
        if p_type == 1 and p_paddr <= address < p_paddr + p_filesz:
            return struct.unpack_from(f"<{count}I", data, p_offset + address - p_paddr)
    raise AssertionError(f"no loadable segment holds {address:#x}")


@pytest.mark.parametrize("board_id", BOARDS)
def test_vector_table_at_zero(images, board_id: str) -> None:
    board = load_board(board_id)
    image = images[board_id]
    sp, reset, nmi, hardfault = first_words(image.elf, 0, 4)
    assert board.ram.origin < sp <= board.ram.end and sp % 8 == 0
    for handler in (reset, nmi, hardfault):
        assert handler & 1, "handlers must be Thumb addresses"
        assert board.flash.origin <= handler - 1 < board.flash.origin + image.flash_bytes


@pytest.mark.parametrize("board_id", BOARDS)
def test_image_facts(images, board_id: str) -> None:
    image = images[board_id]
    assert image.elf.is_file() and image.bin.stat().st_size > 0
    assert 0 < image.flash_bytes < 64 * 1024 and 0 < image.ram_bytes < 64 * 1024
    assert len(image.build_id) == 16 and int(image.build_id, 16) >= 0
    assert image.board_id == board_id and image.variant == load_board(board_id).variant
    assert image.bin.read_bytes()[:8] == struct.pack("<2I", *first_words(image.elf, 0, 2))


def test_build_ids_differ_per_board(images) -> None:
    assert len({img.build_id for img in images.values()}) == len(BOARDS)


def test_rebuild_comes_from_cache_and_keeps_the_build_id(images, cache_dir, tmp_path) -> None:
    again = build(load_board("qemu-m7"), tmp_path, cache_dir)
    assert again.compiled == ()
    assert again.build_id == images["qemu-m7"].build_id


def test_build_id_follows_every_source_byte(cache_dir, tmp_path) -> None:
    app = tmp_path / "app"
    shutil.copytree(APP, app)
    board = load_board("qemu-m3")
    first = build(board, tmp_path / "a", cache_dir, app=app)
    with open(app / "test_main.c", "a") as f:
        f.write("/* changed */\n")
    second = build(board, tmp_path / "b", cache_dir, app=app)
    assert first.build_id != second.build_id
    third = build(board, tmp_path / "c", cache_dir, app=app, defines={"HIL_EXTRA": "1"})
    assert third.build_id != second.build_id


def test_new_model_recompiles_only_what_changed(cache_dir, tmp_path) -> None:
    board = load_board("qemu-m4")
    for n in (1, 2):
        gen = tmp_path / f"gen{n}"
        gen.mkdir()
        (gen / "model_data.c").write_text(f"const unsigned char model_blob[] = {{{n}}};\n")
        image = build(board, tmp_path / f"out{n}", cache_dir, generated=gen)
    # test_main.c expands HIL_BUILD_ID, which covers the model; the port comes from the cache.
    assert {p.name for p in image.compiled} == {"model_data.c", "test_main.c"}


def test_compile_error_shows_the_compiler_message(cache_dir, tmp_path) -> None:
    app = tmp_path / "app"
    app.mkdir()
    (app / "main.c").write_text("int main(void) { return undeclared_thing; }\n")
    with pytest.raises(BuildError) as err:
        build(load_board("qemu-m3"), tmp_path / "out", cache_dir, app=app)
    assert "undeclared_thing" in err.value.message and "main.c" in err.value.message


def test_link_error_is_a_build_error(cache_dir, tmp_path) -> None:
    app = tmp_path / "app"
    app.mkdir()
    (app / "main.c").write_text("void missing(void); int main(void) { missing(); return 0; }\n")
    with pytest.raises(BuildError, match="undefined reference to `missing'"):
        build(load_board("qemu-m3"), tmp_path / "out", cache_dir, app=app)


def test_flash_overflow_names_the_sizes(cache_dir, tmp_path) -> None:
    board = dataclasses.replace(load_board("qemu-m3"), flash=MemoryRegion(0, 2048))
    with pytest.raises(BuildError, match=r"image needs \d+ B of flash but qemu-m3 has 2048 B"):
        build(board, tmp_path / "out", cache_dir)


def test_ram_overflow_names_the_sizes(cache_dir, tmp_path) -> None:
    board = dataclasses.replace(load_board("qemu-m3"), ram=MemoryRegion(0x20000000, 0x10000))
    app, gen = tmp_path / "app", tmp_path / "gen"
    app.mkdir()
    gen.mkdir()
    (app / "main.c").write_text(
        '#include "hal.h"\n'
        "extern unsigned char arena[];\n"
        "void hil_on_fault(const struct hal_fault *f) { (void)f; hal_reset(); }\n"
        "int main(void) { hal_init(); arena[0] = 1; return arena[1]; }\n"
    )
    (gen / "model_data.c").write_text("unsigned char arena[0x9000];\n")
    with pytest.raises(
        BuildError, match=r"image needs \d+ B of RAM plus 32768 B of stack but qemu-m3 has 65536 B"
    ):
        build(board, tmp_path / "out", cache_dir, app=app, generated=gen)


def test_missing_generated_dir(cache_dir, tmp_path) -> None:
    with pytest.raises(BuildError, match="does not exist"):
        build(load_board("qemu-m3"), tmp_path / "out", cache_dir, generated=tmp_path / "nope")


def test_missing_compiler_gives_the_install_hint(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(BuildError) as err:
        build(load_board("qemu-m3"), tmp_path / "out", tmp_path / "cache")
    assert "arm-none-eabi-gcc not found" in err.value.message
    assert "apt-get install gcc-arm-none-eabi" in err.value.hint


def test_firmware_dir_override(monkeypatch, tmp_path) -> None:
    board = load_board("qemu-m3")
    monkeypatch.setenv("HIL_FIRMWARE_DIR", str(tmp_path))
    with pytest.raises(BuildError, match="no firmware port for family 'mps2'"):
        build(board, tmp_path / "out", tmp_path / "cache")
