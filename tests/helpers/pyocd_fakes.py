"""A stand-in for pyOCD (what hil.runners.pyocd.load_pyocd returns), with no hardware.

A Bench says which probes are attached and which step fails, and records
every call pyOCD gets, so tests pin down exactly how pyOCD is driven. Shared
by tests/unit/test_pyocd_runner.py and tests/firmware/test_pyocd_runner_image.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hil.runners import pyocd as runner_module
from hil.runners.pyocd import PyocdApi, load_segments

UID = "066DFF485457725187092531"
UID2 = "0670FF535155878281151932"
TARGET = "stm32f746zgtx"


# -- fake pyOCD --------------------------------------------------------------------------


class FakeError(RuntimeError): ...


class FakeTargetSupportError(FakeError): ...


class FakeProbeError(FakeError): ...


class FakeProbeDisconnected(FakeProbeError): ...


class FakeTargetError(FakeError): ...


class FakeTransferError(FakeTargetError): ...


class FakeFlashFailure(FakeTargetError): ...


class Probe:
    def __init__(self, unique_id: str, description: str = "STM32 STLink") -> None:
        self.unique_id = unique_id
        self.description = description


class Bench:
    """What is attached, what goes wrong, and every call pyOCD got."""

    def __init__(self, probes=(Probe(UID),)) -> None:
        self.probes = list(probes)
        self.calls: list[tuple] = []
        self.flash: dict[int, int] = {}
        self.fail: dict[str, BaseException] = {}  # step name -> exception to raise there
        self.corrupt_at: int | None = None

    def maybe_fail(self, step: str) -> None:
        if step in self.fail:
            raise self.fail[step]

    def api(self) -> PyocdApi:
        bench = self

        class Target:
            def reset(self):
                bench.calls.append(("reset",))
                bench.maybe_fail("reset")

            def read_memory_block8(self, addr, size):
                bench.calls.append(("read", addr, size))
                data = [bench.flash.get(a, 0xFF) for a in range(addr, addr + size)]
                if bench.corrupt_at is not None and addr <= bench.corrupt_at < addr + size:
                    data[bench.corrupt_at - addr] ^= 0x01
                return data

        class Session:
            def __init__(self, options):
                self.options = options
                self.target = Target()

            def open(self):
                bench.calls.append(("open",))
                bench.maybe_fail("open")

            def close(self):
                bench.calls.append(("close",))

        class ConnectHelper:
            @staticmethod
            def get_all_connected_probes(blocking=True, unique_id=None, print_wait_message=True):
                bench.calls.append(("list", blocking, unique_id, print_wait_message))
                bench.maybe_fail("list")
                return [
                    p
                    for p in bench.probes
                    if unique_id is None or unique_id.lower() in p.unique_id.lower()
                ]

            @staticmethod
            def session_with_chosen_probe(
                blocking=True,
                return_first=False,
                unique_id=None,
                auto_open=True,
                options=None,
                **kwargs,
            ):
                bench.calls.append(
                    ("session", blocking, return_first, unique_id, dict(options or {}))
                )
                bench.maybe_fail("session")
                return Session(options)

        class FileProgrammer:
            def __init__(self, session, progress=None, **kwargs):
                bench.calls.append(("programmer", session, progress))
                self.progress = progress

            def program(self, file_or_path, file_format=None, **kwargs):
                bench.calls.append(("program", file_or_path, file_format))
                if self.progress:
                    self.progress(0.25)
                bench.maybe_fail("program")
                for addr, data in load_segments(Path(file_or_path)):
                    bench.flash.update(zip(range(addr, addr + len(data)), data))
                if self.progress:
                    self.progress(1.0)

        return PyocdApi(
            ConnectHelper,
            FileProgrammer,
            FakeError,
            FakeTargetSupportError,
            FakeProbeError,
            FakeTransferError,
            FakeFlashFailure,
        )


def install_bench(monkeypatch: pytest.MonkeyPatch) -> Bench:
    """A fresh Bench that the runner loads in place of pyOCD (and no lab file from the env)."""
    bench = Bench()
    monkeypatch.setattr(runner_module, "load_pyocd", bench.api)
    monkeypatch.delenv("HIL_LAB", raising=False)
    return bench
