"""`hil soak`: many vectors through a misbehaving link, counting the recovery.

Also the link statistics `hil run` prints too.
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time
from pathlib import Path
from typing import Annotated, Optional

import typer

from hil.cli.console import console
from hil.cli.cut_short import judged_until_cut, raise_unless_passed
from hil.cli.option_groups import DEVICE, FARM, LINK, ROUNDING, TARGET, Options, with_options
from hil.cli.options import DumpOpt, InjectFaultOpt
from hil.errors import ConfigError

DEFAULT_FAULTS = "drop=0.001,flip=0.001,seed=7"


def link_stats_line(session, faults) -> str:
    s = session.link_stats()
    line = (
        f"link: {s['retransmissions']} retransmissions, {s['reruns']} vector re-runs, "
        f"{s['resyncs']} resyncs ({s['reconnects']} reconnects, {s['resets']} resets asked, "
        f"{s['resets_seen']} seen), {s['damaged_frames']} damaged frames dropped"
    )
    if faults is not None:
        c = faults.counts
        line += (
            f"; injected [{faults.spec}]: {c.dropped} dropped, {c.flipped} flipped, "
            f"{c.duplicated} duplicated, {c.delayed} delayed, {c.garbage_bursts} garbage "
            f"bursts, {c.cuts} cuts over {c.bytes:,} bytes"
        )
    return line


def print_link_stats(out, session, faults) -> None:
    """The recovery counters, when there was anything to recover from."""
    s = session.link_stats()
    s.pop("stale_frames")  # the boot HELLO is one: not worth a line by itself
    if faults is not None or any(s.values()):
        out.print(link_stats_line(session, faults), markup=False, highlight=False)


class _Resetter:
    """Resets the device every ``period`` seconds from a side thread (soak evidence).

    ``reset`` is the one entry to runner.reset for both this thread and the
    session's own recovery: the runner's control channel is not thread-safe.
    """

    def __init__(self, runner, period: float) -> None:
        self.runner, self.period, self.count = runner, period, 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def reset(self) -> None:
        with self._lock:
            self.runner.reset()

    def _loop(self) -> None:
        while not self._stop.wait(self.period):
            try:
                self.reset()
                self.count += 1
            except Exception:  # the run itself reports a device that went away
                return

    def __enter__(self) -> "_Resetter":
        if self.period > 0:
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()


def register(app: typer.Typer) -> None:
    @app.command("soak")
    @with_options(TARGET, ROUNDING, DEVICE, FARM, LINK, link_faults=DEFAULT_FAULTS)
    def soak_cmd(
        opts: Options,
        vectors: Annotated[int, typer.Option("--vectors", "-n", help="Vectors to run.")] = 1000,
        seed: Annotated[int, typer.Option(help="Seed of the generated vectors.")] = 0,
        dump: DumpOpt = "digest",
        reset_every: Annotated[
            float,
            typer.Option(
                "--reset-every", help="Reset the device every this many seconds (0: never)."
            ),
        ] = 0.0,
        json_path: Annotated[
            Optional[Path], typer.Option("--json", help="Write the soak's figures as JSON.")
        ] = None,
        inject_fault: InjectFaultOpt = None,
    ) -> None:
        """Run VECTORS through a fault-injected link; every layer still judged bit-exactly."""
        from hil.cli.build import build_with_status
        from hil.cli.click_api import get_current_context
        from hil.cli.console import say_plain
        from hil.cli.options import inject_fault_line, parse_inject_fault
        from hil.device.benches import on_benches
        from hil.device.connect import connect
        from hil.model.inputs import generated_inputs
        from hil.validate.check import check_vectors, judging_mode
        from hil.validate.run_report import RunInfo, RunReport

        mode = judging_mode(dump or "digest", "--dump")
        if not (math.isfinite(reset_every) and reset_every >= 0):
            raise ConfigError(
                f"--reset-every {reset_every:g} must be 0 (never) or a positive number of seconds",
                hint="e.g. --reset-every 5",
            )
        target = opts.resolve({"--json": json_path})
        target = get_current_context().with_resource(on_benches(target, say=say_plain))
        layer_names = [layer.name for layer in target.network.layers]
        if inject_fault is not None:
            fault = parse_inject_fault(inject_fault, layer_names)
            target = dataclasses.replace(target, inject_fault=fault)
        b, net, faults = target.board, target.network, target.link_faults
        x = generated_inputs(net, vectors, seed)
        image = build_with_status(target)
        if target.inject_fault is not None:
            console.print(inject_fault_line(target.inject_fault, layer_names), markup=False)
        t0 = time.monotonic()
        with connect(target, image=image) as (dev,):
            info = dev.info
            report = RunReport(
                net,
                RunInfo(net.name, b.id, info.reference_variant, info.backend, dev.counts),
                vectors_requested=len(x),
            )
            resetter = _Resetter(dev.runner, reset_every)
            try:
                with judged_until_cut(report), resetter, console.status("soaking") as status:
                    if reset_every > 0:
                        dev.session.reset = resetter.reset
                    check_vectors(
                        dev.session,
                        net,
                        x,
                        report,
                        variant=info.reference_variant,
                        dump=mode,
                        on_vector=lambda i: status.update(f"soaking: {i + 1}/{len(x)} vectors"),
                    )
            finally:
                # A soak cut short still shows, and writes, what it measured until then.
                elapsed = time.monotonic() - t0
                stats = dev.session.link_stats()
                done = max(report.vectors_done, 1)
                console.print(report.summary_line(), markup=False)
                console.print(link_stats_line(dev.session, faults), markup=False, highlight=False)
                console.print(
                    f"{report.progress_text()} in {elapsed:.1f} s "
                    f"({elapsed / done * 1000:.0f} ms per vector); "
                    f"{resetter.count} device resets injected"
                )
                if json_path:
                    _write_soak_json(
                        json_path, report, b.id, mode.value, faults, elapsed, stats, resetter.count
                    )
        raise_unless_passed(report, where=" under link faults")


def _write_soak_json(
    path: Path, report, board: str, dump: str, faults, elapsed: float, stats: dict, resets: int
) -> None:
    import json

    from hil.outputs import write_text

    failed = sum(s.vectors - s.matched for s in report.layers)
    write_text(
        path,
        json.dumps(
            {
                "board": board,
                "model": report.info.model,
                "vectors": report.vectors_done,
                "vectors_done": report.vectors_done,
                "vectors_requested": report.vectors_requested,
                "complete": report.complete,
                "verdict": report.verdict,
                "passed": report.passed,
                "incomplete_reason": None if report.complete else report.incomplete_reason,
                "dump": dump,
                "faults": str(faults.spec),
                "layer_results": report.vectors_done * len(report.layers),
                "mismatched": failed,
                "seconds": round(elapsed, 1),
                "link": stats,
                "injected": faults.counts.as_dict(),
                "resets_injected": resets,
            },
            indent=2,
        )
        + "\n",
        "--json",
    )
