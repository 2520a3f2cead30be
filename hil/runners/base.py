"""What every runner does: get an image onto a device and say where its UART is.

Lifecycle::

    runner = SomeRunner(board, elf, log_dir)
    runner.prepare()        # load/flash the image (may do nothing)
    url = runner.start()    # device running; url is a pyserial URL for its UART
    ...                     # talk to it: hil.protocol.link.open_port(url)
    runner.reset()          # only if "reset" in runner.capabilities
    runner.stop()           # always safe, idempotent, also after a crash

or, the same with cleanup guaranteed::

    with SomeRunner(board, elf, log_dir) as runner:
        url = runner.url

Optional features are an explicit capability set, checked with
``require(...)`` before use, never probed by catching errors.
"""

from __future__ import annotations

import abc
from pathlib import Path
from typing import ClassVar

from hil.errors import DeviceError

# Capabilities a runner may offer.
RESET = "reset"  # reset() restarts the firmware without a new start()
ICOUNT = "icount"  # cycle counts are instruction-proportional and repeatable
EXIT_STATUS = "exit_status"  # the device's end (reset/halt) is observable: wait()


class Runner(abc.ABC):
    """One device session. Subclasses set ``capabilities`` and implement the abstract methods."""

    capabilities: ClassVar[frozenset[str]] = frozenset()
    url: str | None = None

    def prepare(self) -> None:  # noqa: B027  (optional step, not abstract)
        """Put the image on the device. Default: nothing to do (emulators load at start)."""

    @abc.abstractmethod
    def start(self) -> str:
        """Run the device; return a pyserial URL for its UART. Raises DeviceError."""

    @abc.abstractmethod
    def stop(self) -> None:
        """End the session and release everything. Safe to call at any time, any number of times."""

    @abc.abstractmethod
    def alive(self) -> bool:
        """True while the device (or its emulator) is running."""

    @property
    @abc.abstractmethod
    def log_path(self) -> Path | None:
        """Where the runner's own diagnostics go (named in every error)."""

    def reset(self) -> None:
        self.require(RESET)
        raise NotImplementedError

    def require(self, capability: str) -> None:
        if capability not in self.capabilities:
            raise DeviceError(
                f"{type(self).__name__} cannot {capability}",
                hint=f"it offers: {', '.join(sorted(self.capabilities)) or 'nothing optional'}",
            )

    def __enter__(self) -> "Runner":
        try:
            self.prepare()
            self.url = self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
