"""Fixtures integration tests share: the labgrid board farm of helpers.labgrid_farm
(a real coordinator and exporter on loopback, QEMU benches behind them)."""

from helpers.labgrid_farm import (  # noqa: F401  (fixtures, found by pytest by name)
    bench_build_root,
    bench_image,
    emulated_benches,
    farm_with_benches,
    labgrid_farm,
    s8_bench_image,
    s8_bench_model,
    s8_farm_with_benches,
)
