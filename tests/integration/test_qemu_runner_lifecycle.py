"""The Runner lifecycle contract QemuRunner follows, checked with a fake runner (no QEMU)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hil.errors import DeviceError
from hil.runners import RESET, Runner


class FakeRunner(Runner):
    capabilities = frozenset()

    def __init__(self, fail_start: bool = False) -> None:
        self.fail_start = fail_start
        self.events: list[str] = []

    def prepare(self) -> None:
        self.events.append("prepare")

    def start(self) -> str:
        self.events.append("start")
        if self.fail_start:
            raise DeviceError("no device")
        return "loop://"

    def stop(self) -> None:
        self.events.append("stop")

    def alive(self) -> bool:
        return self.events[-1:] == ["start"]

    @property
    def log_path(self) -> Path | None:
        return None


def test_context_manager_runs_the_lifecycle() -> None:
    with FakeRunner() as runner:
        assert runner.url == "loop://" and runner.alive()
    assert runner.events == ["prepare", "start", "stop"]


def test_failed_start_still_stops() -> None:
    runner = FakeRunner(fail_start=True)
    with pytest.raises(DeviceError):
        with runner:
            pass
    assert runner.events == ["prepare", "start", "stop"]


def test_missing_capability_is_a_clear_error() -> None:
    with pytest.raises(DeviceError, match="FakeRunner cannot reset") as err:
        FakeRunner().reset()
    assert "nothing optional" in err.value.hint
    assert RESET == "reset"
