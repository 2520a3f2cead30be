"""Option groups, declared once and added to any command, and their resolution
into one hil.device.target.Target.

A command asks for the groups it needs::

    @app.command("flash")
    @with_options(TARGET, DEVICE, timeout=5.0)
    def flash_cmd(opts: Options) -> None:
        target = opts.resolve()

and gets every option of those groups, with the same names, short flags,
environment variables and help everywhere. ``Options.resolve`` runs the checks
that come before any work (outputs, board, lab options, model, link faults) in
one order, so no command repeats the setup sequence.
"""

from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

from hil.cli import options as o
from hil.cli.setting_sources import setting_sources


@dataclass(frozen=True)
class Group:
    name: str
    # (parameter name, annotation, default) in --help order.
    params: tuple[tuple[str, Any, Any], ...]


TARGET = Group(
    "target",
    (
        ("board", o.BoardOpt, o.DEFAULT_BOARD),
        ("model", o.ModelOpt, o.DEFAULT_MODEL),
        ("cmsis_nn", o.CmsisNnOpt, None),
        ("export", o.ExportDirOpt, None),
        ("build_dir", o.BuildDirOpt, None),
    ),
)
DEVICE = Group(
    "device",
    (
        ("port", o.PortOpt, None),
        ("timeout", o.TimeoutOpt, 10.0),
        ("probe", o.ProbeOpt, None),
        ("pack", o.PackOpt, None),
        ("lab", o.LabOpt, None),
    ),
)
FARM = Group(
    "farm",
    (
        ("place", o.PlaceOpt, None),
        ("reserve", o.ReserveOpt, None),
        ("wait", o.WaitOpt, False),
        ("coordinator", o.CoordinatorOpt, None),
        ("attach", o.AttachOpt, False),
    ),
)
ROUNDING = Group("rounding", (("rounding", o.RoundingOpt, None),))
LINK = Group(
    "link",
    (
        ("link_faults", o.LinkFaultsOpt, None),
        ("link_baud", o.LinkBaudOpt, None),
    ),
)


@dataclass
class Options:
    """The raw values of a command's option groups, as typed."""

    groups: tuple[str, ...]
    values: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None

    def resolve(
        self,
        outputs: dict[str, Path | None] | None = None,
        folders: tuple[str, ...] = ("logs",),
    ):
        """The Target these options name, after every check that comes before work:
        the genuine CMSIS-NN checkout, the output files and build directory, the
        board, the probe options' fit to it, the lab file, the model, the link
        faults. The first problem is one ConfigError line. Models of either family
        (q7, s8) are taken."""
        from hil.cli.build import check_outputs
        from hil.cli.click_api import get_current_context
        from hil.cli.option_checks import check_cmsis_nn, check_lab_options
        from hil.config.boards import load_board
        from hil.config.lab import load_lab
        from hil.device.target import Target
        from hil.errors import ConfigError
        from hil.model.io import load_any_model

        v = self.values
        network = load_any_model(v["model"])
        check_cmsis_nn(v["cmsis_nn"], network.family)
        root = check_outputs(v["build_dir"], outputs, folders=folders)
        board = load_board(v["board"])
        device = "device" in self.groups
        bench_lab = None
        if device:
            # Probe, pack and lab file are for pyOCD boards, unless a place (asked for, or
            # named by the lab file) brings a board of its own.
            lab_options = {"probe": "--probe", "pack": "--pack", "lab": "--lab"}
            farm_asked = bool(v.get("place") or v.get("reserve"))
            try:
                bench_lab = load_lab(v["lab"])
            except ConfigError:
                if not farm_asked:
                    check_lab_options(board, lab_options)  # a --lab that never applied
                raise
            if not (farm_asked or bench_lab.board(board.id).place):
                check_lab_options(board, lab_options)
        export = user_export(v["export"], network, v["cmsis_nn"])
        faults = link_faults(v["link_faults"], v["link_baud"]) if "link" in self.groups else None
        ctx = get_current_context(silent=True)
        sources = (
            {name: origin for name, _value, origin in setting_sources(ctx) if name in v}
            if ctx is not None
            else {}
        )
        board_given = "board" not in sources or not sources["board"].startswith("default")
        farm = farm_request(v, bench_lab, board, board_given) if "farm" in self.groups else None
        target = Target(
            board=board,
            network=network,
            model=v["model"],
            build_root=root,
            cmsis_nn=v["cmsis_nn"],
            export=export,
            port=v.get("port"),
            timeout=v.get("timeout", 10.0),
            probe=v.get("probe"),
            pack=v.get("pack"),
            lab=bench_lab,
            link_faults=faults,
            attach=bool(v.get("attach")),
            farm=farm,
            board_given=board_given,
            sources=sources,
        )
        if target.attach and farm is None and target.emulated and not target.port:
            raise ConfigError(
                f"--attach on {board.id}: no port to attach to",
                hint="name the running device's UART with --port URL, or use --place",
            )
        if "rounding" in self.groups:
            target = with_rounding(target, v["rounding"])
        _say_lab_settings(target)
        return target


def with_rounding(target, rounding: str | None):
    """--rounding belongs to s8 models: refused on q7 ones, not ignored."""
    from hil.errors import ConfigError
    from hil.reference.s8 import ROUNDINGS

    if rounding is None:
        return target
    if target.family != "s8":
        raise ConfigError(
            f"--rounding is for s8 (int8) models; {target.network.name} is q7",
            hint="leave out --rounding (q7 kernels have no requantisation rounding)",
        )
    if rounding not in ROUNDINGS:
        raise ConfigError(
            f"--rounding {rounding!r} is not a rounding", hint="use --rounding double or single"
        )
    return replace(target, rounding=rounding)


def farm_request(v: dict, lab, board, board_given: bool):
    """The labgrid places these options ask for (--place, --reserve, or the lab file's
    place for the board), or None for a board on this machine."""
    from hil.cli.setting_sources import on_command_line
    from hil.errors import ConfigError
    from hil.farm.request import DEFAULT_COORDINATOR, FarmRequest, parse_tags

    place, reserve = v.get("place"), v.get("reserve")
    if place and reserve:
        raise ConfigError(
            "--place and --reserve both given: one names a place, the other asks for any "
            "matching one",
            hint="drop one of them",
        )
    source = "--place" if place else "--reserve"
    wiring = lab.board(board.id) if lab is not None else None
    if not place and not reserve and wiring is not None and wiring.place:
        if not any(v.get(name) for name in ("port", "probe")):
            place, source = wiring.place, f"lab file {lab.path}: boards.{board.id}.place"
    if not place and not reserve:
        for name, option in (("wait", "--wait"), ("coordinator", "--coordinator")):
            if v.get(name) and (name == "wait" or on_command_line(name)):
                raise ConfigError(
                    f"{option} is for labgrid places, and none is asked for",
                    hint=f"add --place NAME or --reserve TAGS, or drop {option}",
                )
        return None
    for name, option in (("port", "--port"), ("probe", "--probe")):
        if v.get(name):
            raise ConfigError(
                f"{option} and {source.split(':')[0]} both given: the place's resources say "
                "where its board is",
                hint=f"drop {option}, or drop {source.split(':')[0]} to use this machine's board",
            )
    coordinator = v.get("coordinator") or (lab.coordinator if lab is not None else None)
    tags: dict[str, str] = {}
    if reserve:
        tags = parse_tags(reserve)
        if board_given and "board" not in tags:
            tags["board"] = board.id  # --board narrows the reservation to that board
    return FarmRequest(
        coordinator=coordinator or DEFAULT_COORDINATOR,
        place=place,
        tags=tags,
        wait=bool(v.get("wait")),
        source=source,
    )


def user_export(folder: Path | None, network, cmsis_nn: Path | None):
    """The --export folder, read and checked against the model and the kernels' backend."""
    if folder is None:
        return None
    from hil.errors import ConfigError
    from hil.export.files import read_export
    from hil.firmware.build import backend_name

    export = read_export(folder, network)
    backend = backend_name(cmsis_nn)
    if export.backend != backend:
        fix = (
            "add --cmsis-nn PATH (the CMSIS-NN it was exported for)"
            if export.backend == "cmsis-nn"
            else "drop --cmsis-nn (and HIL_CMSIS_NN), or export with --backend cmsis-nn"
        )
        raise ConfigError(
            f"--export {folder} was exported for the {export.backend} kernels, and this build "
            f"uses the {backend} ones",
            hint=fix,
        )
    return export


def _say_lab_settings(target) -> None:
    """Under --verbose, the settings the lab file filled in (the command line's are
    already listed as the command starts)."""
    from rich.markup import escape

    from hil.cli.console import err_console, verbose

    if not verbose():
        return
    for name, origin in target.provenance():
        if origin.startswith("lab file"):
            err_console.print(f"[dim]setting {name} from {escape(origin)}[/]", highlight=False)


def link_faults(spec: str | None, baud: int | None):
    """The LinkFaults for --link-faults/--link-baud, or None for a plain link."""

    from hil.errors import ConfigError
    from hil.transport.faults import LinkFaults, parse_spec

    if spec is None and baud is None:
        return None
    parsed = parse_spec(spec or "")
    if baud is not None:
        if baud <= 0:
            raise ConfigError(
                f"--link-baud {baud} must be positive", hint="e.g. --link-baud 115200"
            )
        parsed = replace(parsed, baud=baud)
    return LinkFaults(parsed)


def with_options(*groups: Group, **defaults: Any) -> Callable[[Callable], Callable]:
    """Add ``groups``' options to a command whose first parameter is ``opts: Options``.

    ``defaults`` overrides a group option's default for this command (a shorter
    reply timeout for `hil flash`, a fault spec for `hil soak`).
    """

    def decorate(command: Callable) -> Callable:
        own = inspect.signature(command, eval_str=True)
        own_params = [p for name, p in own.parameters.items() if name != "opts"]
        names = [name for g in groups for name, _a, _d in g.params]
        unknown = set(defaults) - set(names)
        assert not unknown, f"no such option in {[g.name for g in groups]}: {unknown}"

        def param(name: str, annotation: Any, default: Any) -> inspect.Parameter:
            return inspect.Parameter(
                name,
                inspect.Parameter.KEYWORD_ONLY,
                annotation=annotation,
                default=defaults.get(name, default),
            )

        first = [param(*p) for g in groups if g is TARGET for p in g.params]
        rest = [param(*p) for g in groups if g is not TARGET for p in g.params]
        params = first + [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own_params]
        params += rest

        @functools.wraps(command)
        def wrapper(**kwargs: Any) -> Any:
            values = {name: kwargs.pop(name) for name in names}
            return command(Options(tuple(g.name for g in groups), values), **kwargs)

        wrapper.__signature__ = own.replace(parameters=params)  # type: ignore[attr-defined]
        wrapper.__annotations__ = {p.name: p.annotation for p in params}
        del wrapper.__wrapped__  # Typer must read this signature, not the command's
        return wrapper

    return decorate
