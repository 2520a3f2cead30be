"""Benchmarks as data: the host reference's speed, a device's validation throughput,
and per-layer kernel counts, portable against the genuine CMSIS-NN. The command line
renders them."""
