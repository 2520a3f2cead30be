"""hil: hardware-in-the-loop testing of CMSIS-NN networks (q7 and int8 s8) on Cortex-M."""

__version__ = "0.1.0"
