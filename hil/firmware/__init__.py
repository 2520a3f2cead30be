"""Firmware for a board: the model tables (codegen), the activation plan, the cross
build and its toolchain, and the one reader of built images (ELF symbols, segments)."""
