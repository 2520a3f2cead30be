"""The kernel catalogue: one description of each CMSIS-NN q7 function, as data.

Its ids, C parameter lists, buffer and scratch sizes, parameter rules and C
call shapes feed the host reference and checks (hil.reference) and, through
scripts/gen_kernels.py, the device's tables (firmware/src/kcheck.c, kcall.c).
"""

from hil.kernels.catalogue import FUNCTION_IDS, KERNEL_SPECS, KERNELS, KernelSpec
from hil.kernels.rules import Op, Rule, RuleGroup, Size

__all__ = [
    "FUNCTION_IDS",
    "KERNELS",
    "KERNEL_SPECS",
    "KernelSpec",
    "Op",
    "Rule",
    "RuleGroup",
    "Size",
]
