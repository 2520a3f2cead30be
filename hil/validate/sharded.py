"""Vectors shared out over several devices, verdicts merged into one report.

Each device gets its own worker thread that pulls the next vector index
from a shared pool, so a slow device simply takes fewer vectors. Verdicts
reach the report on the calling thread, in the order they complete, each
tagged with its vector index and the device that judged it.

A device lost to a bench failure (gone, link timed out or broken, reset, another
image, an OSError from its port) while another device still works hands its vector
back to the pool and takes no more; the failure is recorded on the report as a
warning. Any other error stops every worker and is raised, as is a bench failure
of the last device working.
"""

from __future__ import annotations

import queue
from collections import deque
from threading import Condition, Lock, Thread
from typing import Callable

import numpy as np

from hil.device.connect import Device
from hil.errors import (
    DeviceGone,
    DeviceReset,
    ImageChanged,
    LinkBroken,
    LinkTimeout,
    RecoveryGaveUp,
)
from hil.model import Network
from hil.validate.check import check_vector
from hil.validate.run_report import DeviceFailure, RunReport

# This device or its link is lost; the work itself is not wrong, so another device can do it.
BENCH_FAILURES = (
    DeviceGone,
    LinkTimeout,
    LinkBroken,
    RecoveryGaveUp,
    DeviceReset,
    ImageChanged,
    OSError,
)


class _Pool:
    """The vectors still to judge, and those out on a device that may come back.

    A worker finding the pool empty waits while a vector is out: its device may
    fail and hand it back, and then someone must still judge it.
    """

    def __init__(self, indices: range, workers: int) -> None:
        self._todo = deque(indices)
        self._out = 0
        self._live = workers  # workers that may still take a vector
        self._halted = False
        self._cond = Condition()

    def take(self) -> int | None:
        """The next vector; None once there is none left to judge, or the run halted."""
        with self._cond:
            while not self._todo and self._out and not self._halted:
                self._cond.wait()
            if self._halted or not self._todo:
                self._live -= 1
                return None
            self._out += 1
            return self._todo.popleft()

    def done(self) -> None:
        with self._cond:
            self._out -= 1
            if not self._out:
                self._cond.notify_all()  # the waiters can stop: nothing can come back

    def hand_back(self, i: int) -> bool:
        """Vector ``i``'s device is lost: True if another worker will judge ``i``
        (this worker then takes no more), False if none is left or the run halted."""
        with self._cond:
            if self._halted or self._live < 2:
                return False
            self._live -= 1
            self._out -= 1
            self._todo.appendleft(i)  # next in line: keeps the judged vectors a prefix
            self._cond.notify_all()
            return True

    def halt(self) -> None:
        with self._cond:
            self._halted = True
            self._cond.notify_all()


def device_labels(devices: list[Device]) -> list[str]:
    """Each device's name (a labgrid place, "device0" ...), else ``device<k>`` by position."""
    labels: list[str] = []
    for k, dev in enumerate(devices):
        label = getattr(dev, "name", None) or f"device{k}"
        labels.append(label if label not in labels else f"{label}#{k}")
    return labels


def check_sharded(
    devices: list[Device],
    network: Network,
    inputs: np.ndarray,
    report: RunReport,
    *,
    variant: str,
    dump: str = "all",
    start: int = 0,
    on_vector: Callable[[int], None] | None = None,
) -> RunReport:
    """Check ``inputs[start:]`` across ``devices``; a lost device's vectors go to the
    others, any other error stops every worker and is raised."""
    pool = _Pool(range(start, len(inputs)), len(devices))
    done: queue.SimpleQueue = queue.SimpleQueue()  # (kind, payload) for the calling thread
    labels = device_labels(devices)
    report.add_devices(labels)
    one_device = len(devices) == 1

    diff_lock = Lock()

    def keep_diff(*args) -> None:
        with diff_lock:
            report.keep_diff(*args)

    def work(dev: Device, label: str) -> None:
        try:
            while (i := pool.take()) is not None:
                # One device takes the vectors in order, so it can be sent the next one ahead.
                ahead = inputs[i + 1] if one_device and i + 1 < len(inputs) else None
                try:
                    verdicts = check_vector(
                        dev.session,
                        network,
                        i,
                        inputs[i],
                        variant=variant,
                        dump=dump,
                        keep_diff=keep_diff,
                        next_x=ahead,
                    )
                except BENCH_FAILURES as exc:
                    rerun = pool.hand_back(i)
                    done.put(("failure", DeviceFailure(label, i, _one_line(exc), rerun)))
                    if rerun:
                        return
                    raise
                pool.done()
                done.put(("vector", (label, i, verdicts)))
        except BaseException as exc:  # handed to the caller's thread
            done.put(("error", exc))
            pool.halt()
        finally:
            done.put(("exit", None))

    workers = [Thread(target=work, args=(d, n), daemon=True) for d, n in zip(devices, labels)]
    for w in workers:
        w.start()
    running, error = len(workers), None
    try:
        while running:
            kind, payload = done.get()
            if kind == "exit":
                running -= 1
            elif kind == "error":
                error = error or payload  # the first error is the one that stopped the run
            elif kind == "failure":
                report.add_device_failure(payload)
            else:
                label, i, verdicts = payload
                report.add_vector(verdicts, device=label)
                if on_vector is not None:
                    on_vector(i)
    except BaseException:
        # Ctrl-C or SIGTERM lands here, on the calling thread: let the workers finish
        # their current vector's I/O and stop; the caller closes the devices.
        pool.halt()
        raise
    for w in workers:
        w.join()
    if error is not None:
        raise error
    return report


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
