"""Benchmarks as data: the host reference's speed and a device's validation
throughput. The command line renders them."""
