"""`hil build`: generate the model tables and build the firmware image."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from hil.cli.console import console
from hil.cli.option_groups import ROUNDING, TARGET, Options, with_options


def check_outputs(
    build_dir: Path | None,
    files: dict[str, Path | None] | None = None,
    folders: tuple[str, ...] = (),
) -> Path:
    """Check every path a command will write before it starts any work: the output
    ``files`` by option, the build directory (and its sub-``folders``) and the object
    cache. Returns the build directory."""
    from hil.device.connect import default_build_root
    from hil.firmware.build import check_cache_dir
    from hil.outputs import check_distinct, check_output_dir, check_output_file

    files = files or {}
    for option, path in files.items():
        if path is not None:
            check_output_file(path, option)
    check_distinct(files)
    root = build_dir or default_build_root()
    check_output_dir(root, "--build-dir")
    for sub in folders:
        check_output_dir(root / sub, "--build-dir")
    check_cache_dir()
    return root


def build_with_status(target):
    """hil.device.connect.build with its progress on the console."""
    from hil.device.connect import build

    with console.status(f"building {target.network.name} for {target.board.id}") as status:
        return build(target, say=status.update)


def memory_table(board, image) -> Table:
    t = Table(title=f"firmware for {board.id} ({image.backend} kernels, {image.variant} path)")
    for col in ("region", "used", "size", "use"):
        t.add_column(col, justify="right" if col != "region" else "left")
    for name, used, region in (
        ("flash", image.flash_bytes, board.flash),
        ("RAM (static)", image.ram_bytes, board.ram),
    ):
        t.add_row(name, f"{used:,} B", f"{region.size:,} B", f"{100 * used / region.size:.1f}%")
    return t


def register(app: typer.Typer) -> None:
    @app.command("build")
    @with_options(TARGET, ROUNDING)
    def build_cmd(opts: Options) -> None:
        """Build the firmware image that runs MODEL on BOARD; report flash and RAM use."""
        target = opts.resolve(folders=())
        image = build_with_status(target)
        console.print(memory_table(target.board, image))
        console.print(f"image {image.elf}  (build id {image.build_id})", markup=False)
