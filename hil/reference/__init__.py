"""Host numpy reference of the CMSIS-NN legacy q7 functions, looked up by C name.

Every function takes the C parameters as keywords (pointer parameters as
int8 arrays in C layout, scalars as ints) and returns its output as a new
flat int8 array; in-place functions return the buffer's new content and
never touch the caller's array. Two variants exist: ``dsp`` (the SIMD build)
and ``plain`` (the plain-C build); they differ only for pooling.
"""

from __future__ import annotations

from functools import partial, update_wrapper
from typing import Any, Callable

import numpy as np

from hil.errors import ConfigError
from hil.reference import activation, convolution, depthwise, fully_connected, pooling, softmax
from hil.reference._kernel import Plan, Planner, call, check_variant, plan_call
from hil.reference.fully_connected import deinterleave_q7_opt_weights, interleave_q7_opt_weights
from hil.reference.spec import KERNEL_SPECS, VARIANT_DEPENDENT, VARIANTS

_MODULES = (convolution, depthwise, fully_connected, pooling, activation, softmax)

# One entry per function, gathered from the family modules: adding a function
# means adding it to its module's PLANNERS and defining it there.
PLANNERS: dict[str, Planner] = {}
FUNCTIONS: dict[str, Callable[..., np.ndarray]] = {}
for _module in _MODULES:
    PLANNERS.update(_module.PLANNERS)
    FUNCTIONS.update({name: getattr(_module, name) for name in _module.PLANNERS})
globals().update(FUNCTIONS)  # hil.reference.arm_relu_q7 etc.

_missing = set(KERNEL_SPECS) - set(PLANNERS)
if _missing:  # a function added to spec.py without a reference
    raise ImportError("no reference for: " + ", ".join(sorted(_missing)))


def _known(name: str) -> str:
    if name not in PLANNERS:
        raise ConfigError(
            f"unknown CMSIS-NN function '{name}'", hint="use one of: " + ", ".join(KERNEL_SPECS)
        )
    return name


def get_kernel(name: str, variant: str = "dsp") -> Callable[..., np.ndarray]:
    """The reference function ``name`` for ``variant``, called with C-named keywords."""
    _known(name)
    check_variant(variant)
    fn = FUNCTIONS[name]
    if name in VARIANT_DEPENDENT:
        return update_wrapper(partial(fn, variant=variant), fn)
    return fn


def call_kernel(name: str, variant: str = "dsp", **kwargs: Any) -> np.ndarray:
    """Run ``name`` on C-named keyword arguments; bad or missing ones raise KernelParameterError."""
    return call(_known(name), PLANNERS[name], kwargs, check_variant(variant))


def plan_kernel(
    name: str,
    params: dict[str, int],
    weights: np.ndarray | None = None,
    bias: np.ndarray | None = None,
    variant: str = "dsp",
) -> Plan:
    """Validated, reusable ``plan(x) -> y`` for one call with fixed parameters and weights.

    ``x`` must be a flat int8 array of the function's input size (run_layer
    checks that for you); ``y`` is a new flat int8 array.
    """
    spec = KERNEL_SPECS[_known(name)]
    arrays: dict[str, Any] = {}
    if spec.weights:
        arrays[spec.weights] = weights
    if spec.bias:
        arrays[spec.bias] = bias
    return plan_call(name, PLANNERS[name], params, arrays, variant)


__all__ = [
    "get_kernel",
    "call_kernel",
    "plan_kernel",
    "PLANNERS",
    "FUNCTIONS",
    "VARIANTS",
    "interleave_q7_opt_weights",
    "deinterleave_q7_opt_weights",
    *PLANNERS,
]
