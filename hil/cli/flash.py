"""`hil flash`: build, put the image on the board, and handshake with it."""

from __future__ import annotations

import typer
from rich.markup import escape
from rich.table import Table

from hil.cli.console import console
from hil.cli.flash_bar import FlashBar
from hil.cli.option_groups import DEVICE, FARM, ROUNDING, TARGET, Options, with_options


def hello_table(info) -> Table:
    t = Table(title="device", show_header=False)
    t.add_column("field")
    t.add_column("value")
    for k, v in (
        ("board", info.board_id),
        ("core", info.core),
        ("model", info.model_name),
        ("model hash", info.model_hash.hex()),
        ("export hash", info.export_hash.hex()),
        ("firmware build", info.build_id),
        ("kernels", _kernels(info)),
        ("cycle source", f"{info.cycle_source} @ {info.cycle_hz:,} Hz"),
        ("protocol", f"v{info.protocol_version} ({info.protocol_hash:08x})"),
        ("layers", str(info.num_layers)),
        ("input", f"{info.input_size} B"),
        ("last reset", info.reset_cause),
    ):
        t.add_row(k, v)
    return t


def register(app: typer.Typer) -> None:
    @app.command("flash")
    @with_options(TARGET, ROUNDING, DEVICE, FARM, timeout=5.0)
    def flash_cmd(opts: Options) -> None:
        """Build MODEL for BOARD, put it on the board (for an emulator: boot it) and handshake.

        With --attach nothing is flashed: the handshake checks what the board runs."""
        from hil.cli.build import build_with_status
        from hil.cli.console import say_plain
        from hil.device.benches import on_benches
        from hil.device.connect import connect

        with on_benches(opts.resolve(), say=say_plain) as target:
            b = target.board
            image = build_with_status(target)
            with (
                FlashBar(console, f"flashing {b.id}") as bar,
                connect(target, image=image, flash_progress=bar, say=say_plain) as (dev,),
            ):
                console.print(hello_table(dev.info))
            where = f"place {dev.name}" if target.benches else escape(b.id)
            how = "attached, nothing flashed" if dev.attached else escape(str(image.elf))
            console.print(f"[green]{where} runs {target.network.name}[/] ({how})")


def _kernels(info) -> str:
    """``portable, dsp path`` (q7) or ``s8, portable, dsp path, double rounding``."""
    text = f"{info.backend}, {info.variant} path"
    if info.family == "s8":
        text = f"s8, {text}, {info.rounding} rounding"
    return text
