"""One exception root for everything hil reports to a user.

Each subclass maps to a distinct CLI exit code. Every error carries a
one-line message naming the problem and, where there is one, a hint naming
the fix; the CLI prints both and no traceback (``--verbose`` shows it).
"""

from __future__ import annotations

from typing import Any


class HilError(Exception):
    """Root of hil's errors. ``hint`` says how to fix it."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class ConfigError(HilError):
    """Bad input from the user: options, model files, board files, tensors."""

    exit_code = 2


class KernelParameterError(ConfigError):
    """A kernel was called with parameters the CMSIS-NN function rejects."""


class BuildError(HilError):
    """The firmware could not be generated, compiled or linked."""

    exit_code = 3


class DeviceError(HilError):
    """The device, its emulator, its probe or the link to it failed.

    ``results`` holds what a vector had produced when it failed (the layers
    received intact), so that a run that dies half-way keeps them.
    """

    exit_code = 4

    def __init__(
        self, message: str, *, hint: str | None = None, results: list[Any] | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.results: list[Any] = list(results or [])


class ProtocolError(DeviceError):
    """The device answered, but not in a way the protocol allows."""


class MismatchError(HilError):
    """A device result differs from the host reference."""

    exit_code = 5


class BudgetError(HilError):
    """A layer's cycle or instruction count grew past its baseline's tolerance."""

    exit_code = 6


class DeviceGone(DeviceError):
    """The device (or its emulator) is no longer running: nothing to retry."""


class LinkBroken(DeviceError):
    """The port itself failed (a socket closed, a USB serial adapter unplugged)."""


class RecoveryGaveUp(DeviceError):
    """Every retry and resync of a vector failed: this device no longer answers intact."""


class LinkTimeout(DeviceError):
    """Nothing (intact) arrived within the wait."""


class DeviceReset(DeviceError):
    """The device announced itself again (HELLO seq 0) in the middle of a request."""


class WatchdogReset(DeviceError):
    """The device rebooted because its watchdog expired: the firmware hung.
    Never retried: the same work would hang again."""


class ImageChanged(DeviceError):
    """After a resync the device announced a different image: never resume on it."""


class KernelRefused(DeviceError):
    """The device refused a KERNEL_RUN before calling the kernel.

    ``status`` is the kernel status (KERNEL_STATUS), ``what`` the refused
    parameter's name or the region ("input" ... "scratch"), when there is one.
    """

    def __init__(self, message: str, *, status: int, what: str | None, hint: str) -> None:
        super().__init__(message, hint=hint)
        self.status = status
        self.what = what


class CoordinatorRefused(DeviceError):
    """The labgrid coordinator answered a call with an error; ``details`` is its text."""

    def __init__(self, details: str, *, doing: str) -> None:
        super().__init__(f"the labgrid coordinator refused {doing}: {details}")
        self.details = details


class ResourceUnavailable(DeviceError):
    """A place's resource is published but not usable now (the exporter sees no device,
    or has not yet started its ser2net)."""


class PlaceBusy(DeviceError):
    """A labgrid place is acquired or reserved by someone else; ``owner`` says who
    ("host/user"), when the coordinator says."""

    def __init__(self, message: str, *, owner: str | None, hint: str) -> None:
        super().__init__(message, hint=hint)
        self.owner = owner


class Interrupted(HilError):
    """The user (Ctrl-C) or the system (SIGTERM) stopped the command before it finished.

    Whatever was judged until then is kept and reported as incomplete.
    """

    exit_code = 130


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that every cleanup path treats both alike."""

    def __init__(self, signal_name: str = "SIGTERM") -> None:
        super().__init__(signal_name)
        self.signal_name = signal_name


def interruption_name(exc: KeyboardInterrupt) -> str:
    """The signal behind an interruption, for messages: SIGINT (Ctrl-C) or SIGTERM."""
    return exc.signal_name if isinstance(exc, Terminated) else "SIGINT"
