"""`hil export`: write a network as a self-contained C module for the user's firmware,
with its hashes and what it costs in flash and RAM on a board."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.table import Table

from hil.cli.console import console
from hil.cli.options import DEFAULT_BOARD, DEFAULT_MODEL, BoardOpt, ModelOpt
from hil.errors import ConfigError

FRESH_HINT = "give --out a new or empty folder"


def check_out_dir(out: Path, force: bool) -> None:
    """Refuse an --out that is a file, cannot be written, or (without --force) holds files."""
    from hil.outputs import check_output_dir

    check_output_dir(out, "--out")
    if not force and out.is_dir() and any(out.iterdir()):
        raise ConfigError(
            f"--out {out} is not empty",
            hint=f"{FRESH_HINT}, or add --force to replace an earlier export there "
            "(other files are left alone)",
        )


def check_targets(out: Path, relpaths: list[str]) -> None:
    """With --force: every path the export writes must be a file or absent, and the
    folders on the way folders, so writing cannot fail half-way on one of them."""
    for relpath in relpaths:
        path = out / relpath
        for folder in reversed(path.parents):
            if folder in out.parents or folder == out:
                continue
            if os.path.lexists(folder) and not folder.is_dir():
                raise ConfigError(
                    f"--out {out}: {folder} is in the way of the export's folder "
                    f"{folder.relative_to(out)}/",
                    hint=f"remove it, or {FRESH_HINT}",
                )
        if os.path.lexists(path) and not path.is_file():
            raise ConfigError(
                f"--out {out}: {path} is in the way of the export's file {relpath}",
                hint=f"remove it, or {FRESH_HINT}",
            )


def cmsis_nn_include_dirs(backend: str, cmsis_nn: Path | None) -> list[Path]:
    """The include folders of the user's CMSIS-NN, which a cmsis-nn export includes."""
    from hil.cli.option_checks import check_needs
    from hil.firmware.nn_backend import SUPPORTED, core_include_from_env, genuine_backend

    if backend != "cmsis-nn":
        check_needs("--cmsis-nn", "cmsis_nn", "--backend cmsis-nn", False)
        return []
    if cmsis_nn is None:
        raise ConfigError(
            "--backend cmsis-nn: the module includes arm_nnfunctions.h from your CMSIS-NN "
            "(the legacy q7 API, CMSIS_5 up to 5.9.0), and none was given",
            hint=f"point --cmsis-nn (or HIL_CMSIS_NN) at the root of {SUPPORTED}; "
            "or use --backend portable, which copies hil's kernels in",
        )
    return genuine_backend(cmsis_nn, core_include_from_env()).include_dirs


def s8_cmsis_nn_include_dirs(backend: str, cmsis_nn: Path | None) -> list[Path]:
    """An s8 export's cmsis-nn backend: the Include folder of a CMSIS-NN >= 7.0."""
    from hil.cli.option_checks import check_needs

    if backend != "cmsis-nn":
        check_needs("--cmsis-nn", "cmsis_nn", "--backend cmsis-nn", False)
        return []
    header = None if cmsis_nn is None else cmsis_nn / "Include" / "arm_nnfunctions.h"
    text = header.read_text(errors="replace") if header is not None and header.is_file() else ""
    if "arm_convolve_wrapper_s8" not in text or "arm_vector_sum_s8" not in text:
        given = "none was given" if cmsis_nn is None else f"{cmsis_nn} is not one"
        raise ConfigError(
            "--backend cmsis-nn: an s8 module includes arm_nnfunctions.h from a CMSIS-NN "
            f"7.0 or later, and {given}",
            hint="point --cmsis-nn (or HIL_CMSIS_NN) at a checkout of ARM-software/CMSIS-NN; "
            "or use --backend portable, which copies hil's s8 kernels in",
        )
    return [cmsis_nn / "Include"]  # type: ignore[operator]


def files_lines(files: list[str]) -> list[str]:
    """The files written, with the kernel files in one line per folder."""
    top = [f for f in files if "/" not in f]
    folders: dict[str, list[str]] = {}
    for f in files:
        if "/" in f:
            folder, name = f.rsplit("/", 1)
            folders.setdefault(folder, []).append(name)
    return ["  " + "  ".join(top)] + [
        f"  {folder}/: {'  '.join(names)}" for folder, names in sorted(folders.items())
    ]


def size_table(report, name: str) -> Table:
    """Flash and RAM per compiled file and section kind, then the caller's RAM."""
    up = name.upper()
    t = Table(
        title=f"{name} on {report.board}, in bytes",
        caption=f"arm-none-eabi-gcc {' '.join(report.cflags)}; each file on its own, "
        "before the linker drops what the program does not call",
    )
    t.add_column("file")
    for col in (".text", ".rodata", ".data", ".bss", "flash", "RAM"):
        t.add_column(col, justify="right")
    for o in report.objects:
        t.add_row(
            escape(o.source), *(f"{v:,}" for v in (o.text, o.rodata, o.data, o.bss, o.flash, o.ram))
        )
    t.add_section()
    kinds = ("text", "rodata", "data", "bss", "flash", "ram")
    t.add_row("[bold]module, total[/]", *(f"[bold]{report.total(k):,}[/]" for k in kinds))
    t.add_section()
    for label, value in (
        (f"scratch ({up}_SCRATCH_SIZE)", report.scratch),
        (f"input ({up}_INPUT_SIZE)", report.input),
        (f"output ({up}_OUTPUT_SIZE)", report.output),
    ):
        t.add_row(label, "", "", "", "", "", f"{value:,}")
    t.add_row("[bold]RAM you provide[/]", "", "", "", "", "", f"[bold]{report.caller_ram:,}[/]")
    return t


def known_table(report, name: str) -> Table:
    """The sizes known without compiling."""
    up = name.upper()
    t = Table(title=f"{name}: sizes known without compiling, in bytes", show_header=False)
    t.add_column("what")
    t.add_column("bytes", justify="right")
    for label, value in (
        ("weights and biases (const, flash)", report.weights),
        (f"scratch ({up}_SCRATCH_SIZE, RAM you provide)", report.scratch),
        (f"input ({up}_INPUT_SIZE)", report.input),
        (f"output ({up}_OUTPUT_SIZE)", report.output),
    ):
        t.add_row(label, f"{value:,}")
    return t


def register(app: typer.Typer) -> None:
    @app.command("export")
    def export_cmd(
        out: Annotated[
            Path,
            typer.Option(
                "--out",
                help="The folder to write the module to: new or empty, or one an earlier "
                "export wrote with --force.",
            ),
        ],
        model: ModelOpt = DEFAULT_MODEL,
        name: Annotated[
            Optional[str],
            typer.Option(
                "--name",
                help="The module's C name: NAME.h, NAME_run, NAME_INPUT_SIZE ... "
                "[default: the model's name as a C identifier, e.g. lenet5_mnist].",
            ),
        ] = None,
        backend: Annotated[
            str,
            typer.Option(
                "--backend",
                help="portable: copy hil's portable CMSIS-NN kernels in (only those the "
                "network calls); cmsis-nn: include arm_nnfunctions.h from your own CMSIS-NN.",
            ),
        ] = "portable",
        force: Annotated[
            bool,
            typer.Option(
                "--force",
                help="Write into a folder that is not empty: replace the files of an earlier "
                "export there and remove those it wrote that this one does not; other files "
                "are left alone.",
            ),
        ] = False,
        cmsis_nn: Annotated[
            Optional[Path],
            typer.Option(
                "--cmsis-nn",
                envvar="HIL_CMSIS_NN",
                help="With --backend cmsis-nn: your CMSIS-NN, the root of a CMSIS_5 checkout up "
                "to tag 5.9.0 (or of a standalone CMSIS-NN at commit cc3e92d or older, with "
                "HIL_CMSIS_CORE). Checked, and used for the size report.",
            ),
        ] = None,
        board: BoardOpt = DEFAULT_BOARD,
    ) -> None:
        """Write MODEL as a C module (NAME.h, NAME.c, NAME_weights.c, kernels, CMake and
        Makefile files, SHA256SUMS) to OUT, and report its flash and RAM on BOARD."""
        from hil.config.boards import load_board
        from hil.export.files import HASH_BYTES, build_export, check_backend, write_export
        from hil.export.names import check_name, default_name
        from hil.export.sizes import measure_export
        from hil.model.hashing import model_hash
        from hil.model.io import load_any_model
        from hil.model.s8 import S8Network
        from hil.outputs import write_error

        # Every check before any file is written.
        check_backend(backend)
        network = load_any_model(model)
        s8 = isinstance(network, S8Network)
        include_dirs = (s8_cmsis_nn_include_dirs if s8 else cmsis_nn_include_dirs)(
            backend, cmsis_nn
        )
        check_out_dir(out, force)
        target_board = load_board(board)
        module = check_name(name) if name is not None else default_name(network.name)
        export = build_export(network, module, backend)
        check_targets(out, sorted(export.files))

        say = console.print
        say(f"exporting {network.name} as module {module} ({backend} kernels)", markup=False)
        try:
            write_export(export, out)
        except OSError as exc:
            raise write_error(Path(exc.filename or out), exc, "--out") from None
        files = sorted(export.files)
        say(f"wrote {len(files)} files to {out}", markup=False)
        for line in files_lines(files):
            say(line, markup=False)
        sources = len(export.module_sources) + len(export.kernel_sources)
        say(f"size report: compiling {sources} C files for {target_board.id}", markup=False)
        report = measure_export(export, target_board, include_dirs)

        say(f"export hash {export.hash}", markup=False)
        hello = export.hash[: 2 * HASH_BYTES]
        say(
            f"  the sha256 of SHA256SUMS; a board's HELLO shows its first {HASH_BYTES} bytes: {hello}",
            markup=False,
        )
        if module != default_name(network.name):
            say(
                f"  hil's own firmware exports {network.name} as {default_name(network.name)}, "
                "so its HELLO shows that export's hash; `hil run --export DIR` builds the "
                "image from this folder instead",
                markup=False,
            )
        say(f"model hash {model_hash(network).hex()}", markup=False)
        same = "--rounding double" if s8 else f"--variant {target_board.variant}"
        say(f"on {target_board.id} its outputs equal `hil infer -m {model} {same}`", markup=False)
        if report.measured:
            console.print(size_table(report, module))
            if backend == "cmsis-nn":
                say(
                    "the kernels are not in these figures: they come from your CMSIS-NN",
                    markup=False,
                )
        else:
            console.print(known_table(report, module))
            console.print(f"[yellow]note:[/] no size report: {escape(report.note or '')}")
