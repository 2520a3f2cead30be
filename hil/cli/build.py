"""`hil build`: generate the model tables and build the firmware image."""

from __future__ import annotations

import typer
from rich.table import Table

from hil.cli.console import console
from hil.cli.options import (DEFAULT_BOARD, DEFAULT_MODEL, BoardOpt, BuildDirOpt, CmsisNnOpt,
                             ModelOpt)


def build_image(board, network, build_root, cmsis_nn=None):
    """prepare_image with the build's progress shown on the console."""
    from hil.deploy import prepare_image

    with console.status(f"building {network.name} for {board.id}") as status:
        return prepare_image(board, network, build_root=build_root, cmsis_nn=cmsis_nn,
                             say=status.update)


def memory_table(board, image) -> Table:
    t = Table(title=f"firmware for {board.id} ({image.backend} kernels, {image.variant} path)")
    for col in ("region", "used", "size", "use"):
        t.add_column(col, justify="right" if col != "region" else "left")
    for name, used, region in (("flash", image.flash_bytes, board.flash),
                               ("RAM (static)", image.ram_bytes, board.ram)):
        t.add_row(name, f"{used:,} B", f"{region.size:,} B", f"{100 * used / region.size:.1f}%")
    return t


def register(app: typer.Typer) -> None:
    @app.command("build")
    def build_cmd(
        board: BoardOpt = DEFAULT_BOARD,
        model: ModelOpt = DEFAULT_MODEL,
        cmsis_nn: CmsisNnOpt = None,
        build_dir: BuildDirOpt = None,
    ) -> None:
        """Build the firmware image that runs MODEL on BOARD; report flash and RAM use."""
        from hil.boards import load_board
        from hil.model.io import load_model

        b = load_board(board)
        image = build_image(b, load_model(model), build_dir, cmsis_nn)
        console.print(memory_table(b, image))
        console.print(f"image {image.elf}  (build id {image.build_id})")
