"""Vectors shared out over several devices, verdicts merged into one report.

Each device gets its own worker thread that pulls the next vector index
from a shared queue, so a slow device simply takes fewer vectors. Verdicts
reach the report on the calling thread, in the order they complete, each
tagged with its vector index.
"""

from __future__ import annotations

import queue
import threading
from typing import Callable

import numpy as np

from hil.device.connect import Device
from hil.model import Network
from hil.validate.check import check_vector
from hil.validate.run_report import RunReport


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
    """Check ``inputs[start:]`` across ``devices``; the first error stops every worker."""
    todo: queue.SimpleQueue[int] = queue.SimpleQueue()
    for i in range(start, len(inputs)):
        todo.put(i)
    done: queue.SimpleQueue = queue.SimpleQueue()
    stop = threading.Event()
    diff_lock = threading.Lock()

    def keep_diff(*args) -> None:
        with diff_lock:
            report.keep_diff(*args)

    def work(dev: Device) -> None:
        try:
            while not stop.is_set():
                try:
                    i = todo.get_nowait()
                except queue.Empty:
                    return
                # One device takes the vectors in order, so it can be sent the next one ahead.
                ahead = inputs[i + 1] if len(devices) == 1 and i + 1 < len(inputs) else None
                done.put(
                    (
                        i,
                        check_vector(
                            dev.session,
                            network,
                            i,
                            inputs[i],
                            variant=variant,
                            dump=dump,
                            keep_diff=keep_diff,
                            next_x=ahead,
                        ),
                    )
                )
        except BaseException as exc:  # handed to the caller's thread
            stop.set()
            done.put((None, exc))
        finally:
            done.put((None, None))  # this worker is finished

    workers = [threading.Thread(target=work, args=(d,), daemon=True) for d in devices]
    for w in workers:
        w.start()
    running, error = len(workers), None
    try:
        while running:
            i, item = done.get()
            if i is None:
                if item is None:
                    running -= 1
                elif error is None:
                    error = item
                continue
            report.add_vector(item)
            if on_vector is not None:
                on_vector(i)
    except BaseException:
        # Ctrl-C or SIGTERM lands here, on the calling thread: let the workers finish
        # their current vector's I/O and stop; the caller closes the devices.
        stop.set()
        raise
    for w in workers:
        w.join()
    if error is not None:
        raise error
    return report
