"""Golden vectors executed by the firmware's kernels on a device.

Each case's arrays go to the device's kernel arena, the device runs the
named CMSIS-NN function once and returns its output and tick count, which
hil.validate.conformance compares exactly as it does the host reference's.

Parameters are validated on the host first, so a case the reference refuses
fails the same way here (kind "error"); a call the device then refuses
(hil.device.session.KernelRefused) means host and device disagree, and ends the run.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hil.device.counts import CountSource
from hil.device.session import DeviceSession
from hil.errors import ConfigError
from hil.reference.validation import validate_params
from hil.validate.conformance import KernelResult, KernelRunner


def device_runner(session: DeviceSession, counts: CountSource) -> KernelRunner:
    """A hil.validate.conformance kernel runner that executes on ``session``'s device."""

    def run(function: str, kwargs: dict[str, Any]) -> KernelResult:
        arrays = {k: v for k, v in kwargs.items() if isinstance(v, np.ndarray)}
        scalars = {k: v for k, v in kwargs.items() if not isinstance(v, np.ndarray)}
        validate_params(function, scalars)
        result = session.run_kernel(function, scalars, arrays)
        if result.status != 0:
            # The genuine library returned ARM_MATH_SUCCESS for every golden case.
            raise ConfigError(f"the device's {function} returned status {result.status}")
        return KernelResult(result.output, counts.convert(result.ticks))

    return run
