"""Stream vectors through a device and judge every layer against the reference."""

from __future__ import annotations

from typing import Callable

import numpy as np

from hil.device.dump import DumpMode, dump_mode
from hil.device.session import DeviceSession, LayerResult
from hil.errors import ConfigError
from hil.model import Network
from hil.reference.network import run_layer, run_network
from hil.validate.compare import LayerVerdict, compare_layer, crc32, with_isolated
from hil.validate.run_report import RunReport

# What a run can be judged with: a ticks-only run (DumpMode.NONE) has nothing to judge.
JUDGING_MODES = tuple(m for m in DumpMode if m.judges_layers)
KeepDiff = Callable[[int, int, np.ndarray, np.ndarray], None]


def check_vector(
    session: DeviceSession,
    network: Network,
    index: int,
    x: np.ndarray,
    *,
    variant: str,
    dump: DumpMode | str,
    keep_diff: KeepDiff | None = None,
    next_x: np.ndarray | None = None,
) -> list[LayerVerdict]:
    """Run one vector on the device; a verdict per layer.

    ``dump``: "all" sends every layer's tensor; "mismatch" sends digests and
    re-runs the vector with full dumps when a digest differs, so mismatches
    still get element-level detail; "digest" sends digests only. ``keep_diff(layer,
    vector, expected, got)`` receives the tensors of every full-dump mismatch.
    ``next_x``, the vector checked next on this device, is sent ahead while
    this one computes (DeviceSession.infer). The reference's digests go with a
    digest run, so a device that matched them all answers in one small frame.
    """
    mode = judging_mode(dump)
    expected = run_network(network, x, variant)
    results = session.infer(
        x, dump=mode.first_pass, next_x=next_x, expected_crcs=[crc32(e) for e in expected]
    )
    verdicts = _judge(index, expected, results, keep_diff)
    if mode is DumpMode.MISMATCH and not all(v.matched for v in verdicts):
        results = session.infer(x, dump="all")
        verdicts = _judge(index, expected, results, keep_diff)
    return judge_isolated(network, x, expected, results, verdicts, variant)


def judge_isolated(
    network: Network,
    x: np.ndarray,
    expected: list[np.ndarray],
    results: list[LayerResult],
    verdicts: list[LayerVerdict],
    variant: str,
) -> list[LayerVerdict]:
    """Add to each verdict the layer judged alone: the reference kernel fed the device's input.

    The device's input to layer i is its own output of layer i-1 (the vector for
    layer 0), so a layer that only inherited a wrong input passes here. Needs the
    full tensors of both layers; digest-only layers keep ``isolated_matched`` None.
    """
    outputs = {r.index: r for r in results}
    judged = []
    for v in verdicts:
        judged.append(with_isolated(v, _isolated(network, x, expected, outputs, v, variant)))
    return judged


def _isolated(
    network: Network,
    x: np.ndarray,
    expected: list[np.ndarray],
    outputs: dict[int, LayerResult],
    v: LayerVerdict,
    variant: str,
) -> LayerVerdict | None:
    r = outputs.get(v.layer)
    if r is None or r.output is None:
        return None
    if r.status != 0:
        return v  # the kernel refused its parameters: wrong whatever its input
    if v.layer == 0:
        device_input = np.asarray(x, dtype=np.int8).ravel()
    else:
        before = outputs.get(v.layer - 1)
        if before is None or before.output is None:
            return None
        device_input = np.asarray(before.output, dtype=np.int8).ravel()
        if device_input.size != network.layers[v.layer].input_size:
            return None
    if v.layer == 0 or np.array_equal(device_input, expected[v.layer - 1].ravel()):
        return v  # same input as the reference chain: the chained verdict is the isolated one
    alone = run_layer(network.layers[v.layer], device_input, variant)
    return compare_layer(v.vector, v.layer, alone, r.output, None, v.ticks)


def judging_mode(value: DumpMode | str, option: str = "dump mode") -> DumpMode:
    """``value`` as a mode a run can be judged with; "none" (ticks only) is refused."""
    mode = dump_mode(value, option=option)
    if not mode.judges_layers:
        raise ConfigError(
            f"{option} {mode.value!r} sends no layer outputs, so no layer could be judged",
            hint="use digest for CRC-32 digests only, mismatch, or all",
        )
    return mode


def _judge(
    index: int,
    expected: list[np.ndarray],
    results: list[LayerResult],
    keep_diff: KeepDiff | None = None,
) -> list[LayerVerdict]:
    verdicts = []
    for r in results:
        v = compare_layer(
            index,
            r.index,
            expected[r.index],
            r.output,
            None if r.output is not None else r.crc32,
            r.ticks,
        )
        if keep_diff is not None and not v.matched and r.output is not None:
            keep_diff(r.index, index, expected[r.index], r.output)
        if r.status != 0 and v.matched:
            # The kernel refused its parameters; whatever the buffer holds is stale.
            v = LayerVerdict(
                index, r.index, False, None, None, None, None, None, r.ticks, v.from_digest
            )
        verdicts.append(v)
    return verdicts


def check_vectors(
    session: DeviceSession,
    network: Network,
    inputs: np.ndarray,
    report: RunReport,
    *,
    variant: str,
    dump: str = "all",
    start: int = 0,
    on_vector: Callable[[int], None] | None = None,
) -> RunReport:
    """Check ``inputs[start:]``; every vector's verdicts go to ``report`` as they arrive."""
    for i in range(start, len(inputs)):
        ahead = inputs[i + 1] if i + 1 < len(inputs) else None
        report.add_vector(
            check_vector(
                session,
                network,
                i,
                inputs[i],
                variant=variant,
                dump=dump,
                keep_diff=report.keep_diff,
                next_x=ahead,
            )
        )
        if on_vector is not None:
            on_vector(i)
    return report
