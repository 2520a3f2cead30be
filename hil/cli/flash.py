"""`hil flash`: build, put the image on the board, and handshake with it."""

from __future__ import annotations

import typer
from rich.markup import escape
from rich.table import Table

from hil.cli.build import build_image
from hil.cli.console import console
from hil.cli.lab_bench import runner_options
from hil.cli.options import (
    DEFAULT_BOARD,
    DEFAULT_MODEL,
    BoardOpt,
    BuildDirOpt,
    CmsisNnOpt,
    LabOpt,
    ModelOpt,
    PackOpt,
    PortOpt,
    ProbeOpt,
    TimeoutOpt,
)


def hello_table(info) -> Table:
    t = Table(title="device", show_header=False)
    t.add_column("field")
    t.add_column("value")
    for k, v in (
        ("board", info.board_id),
        ("core", info.core),
        ("model", info.model_name),
        ("model hash", info.model_hash.hex()),
        ("firmware build", info.build_id),
        ("kernels", f"{info.backend}, {info.variant} path"),
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
    def flash_cmd(
        board: BoardOpt = DEFAULT_BOARD,
        model: ModelOpt = DEFAULT_MODEL,
        cmsis_nn: CmsisNnOpt = None,
        build_dir: BuildDirOpt = None,
        port: PortOpt = None,
        timeout: TimeoutOpt = 5.0,
        probe: ProbeOpt = None,
        pack: PackOpt = None,
        lab: LabOpt = None,
    ) -> None:
        """Build MODEL for BOARD, put it on the board (for an emulator: boot it) and handshake."""
        from hil.cli.build import check_outputs
        from hil.cli.option_checks import check_cmsis_nn, check_lab_options
        from hil.config.boards import load_board
        from hil.device.connect import open_device
        from hil.model.hashing import model_hash
        from hil.model.io import load_model

        check_cmsis_nn(cmsis_nn)
        root = check_outputs(build_dir, folders=("logs",))
        b = load_board(board)
        check_lab_options(b, {"probe": "--probe", "pack": "--pack", "lab": "--lab"})
        net = load_model(model)
        image = build_image(b, net, root, cmsis_nn)
        with (
            runner_options(b, console, probe=probe, pack=pack, lab=lab, port=port) as options,
            open_device(
                b, image, log_dir=root / "logs", port=port, timeout=timeout, runner_options=options
            ) as dev,
        ):
            dev.session.check_image(model_hash(net), b.id, model=model, variant=b.variant)
            console.print(hello_table(dev.info))
        console.print(f"[green]{escape(b.id)} runs {net.name}[/] ({escape(str(image.elf))})")
