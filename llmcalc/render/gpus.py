"""The table for ``llmcalc gpus``."""

from __future__ import annotations

from collections.abc import Iterable

from rich.table import Table

from llmcalc.gpus import GPU
from llmcalc.render.common import table
from llmcalc.units import GB, ByteUnits, byte_unit, format_bytes

CAPTION = (
    "TFLOPS are dense (without 2:4 sparsity); '-' = not supported or not published. GPU share: the part of "
    "unified memory macOS lets the GPU use by default (sudo sysctl iogpu.wired_limit_mb raises it)."
)


def decimal(n: int, scale: int) -> str:
    """``n / scale`` with at most two decimals and no trailing zeros: 3276.8, 989, 1,307.4."""
    if n % scale == 0:
        return f"{n // scale:,}"
    return f"{n / scale:,.2f}".rstrip("0").rstrip(".")


def gpus_table(gpus: Iterable[GPU], *, units: ByteUnits = "binary") -> Table:
    """The catalogue: name, memory in the chosen unit, bandwidth, dense BF16 and FP8 TFLOPS, vendor."""
    unit = byte_unit(units)[1]
    t = table("GPU catalogue", caption=CAPTION)
    t.add_column("Name")
    t.add_column(f"Memory ({unit})", justify="right")
    t.add_column(f"GPU share ({unit})", justify="right")
    t.add_column("Bandwidth (GB/s)", justify="right")
    t.add_column("BF16 TFLOPS", justify="right")
    t.add_column("FP8 TFLOPS", justify="right")
    t.add_column("Vendor")
    for gpu in gpus:
        t.add_row(
            gpu.name,
            format_bytes(gpu.memory_bytes, units, digits=1, label=False),
            format_bytes(gpu.usable_memory_bytes, units, digits=1, label=False) if gpu.unified_memory else "-",
            decimal(gpu.memory_bandwidth_bytes_s, GB),
            decimal(gpu.bf16_dense_flops, 10**12) if gpu.bf16_dense_flops else "-",
            decimal(gpu.fp8_dense_flops, 10**12) if gpu.fp8_dense_flops else "-",
            gpu.vendor,
        )
    return t
