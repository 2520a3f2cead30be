"""hil: hardware-in-the-loop testing of CMSIS-NN q7 networks on Cortex-M."""

__version__ = "0.1.0"
