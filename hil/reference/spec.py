"""What each CMSIS-NN legacy q7 function takes and produces, for the reference.

The data lives in the kernel catalogue (hil.kernels.catalogue); this module
keeps the names the reference, the model loader, the firmware code generator
and the reports import. Parameter names are spelled as in ``arm_nnfunctions.h``
(CMSIS_5 5.9.0), in C argument order. Scratch buffers (bufferA, bufferB,
vec_buffer) are not among ``args``: callers of the reference never pass them.
"""

from __future__ import annotations

from hil.kernels.catalogue import FUNCTION_IDS, KERNEL_SPECS, KernelSpec
from hil.kernels.rules import Params

# Functions whose DSP (SIMD) and plain-C paths compute different results.
VARIANT_DEPENDENT = frozenset({"arm_maxpool_q7_HWC", "arm_avepool_q7_HWC"})
VARIANTS = ("dsp", "plain")

__all__ = [
    "FUNCTION_IDS",
    "KERNEL_SPECS",
    "VARIANTS",
    "VARIANT_DEPENDENT",
    "KernelSpec",
    "Params",
]
