"""The table for ``llmcalc gpus``."""

from __future__ import annotations

from collections.abc import Iterable

from llmcalc.gpus import GPU
from llmcalc.render.table import Col, FitTable, exact_decimal
from llmcalc.units import GB, ByteUnits, byte_unit, format_bytes

CAPTION = (
    "Usable: the memory a model may occupy on one device, before an engine's share (vLLM's "
    "--gpu-memory-utilization): what CUDA reports, or on unified memory the GPU's default share (sudo sysctl "
    "iogpu.wired_limit_mb raises it); `memory` judges fits against the same figure. TFLOPS are dense (without "
    "2:4 sparsity); '-' = not supported or not published."
)


def decimal(n: int, scale: int) -> str:
    """``n / scale`` with at most two decimals and no trailing zeros: 3276.8, 989, 1,307.4."""
    if n % scale == 0:
        return f"{n // scale:,}"
    return exact_decimal(n, scale, 2).rstrip("0").rstrip(".")


def gpus_table(gpus: Iterable[GPU], *, units: ByteUnits = "binary") -> FitTable:
    """The catalogue: name, memory and usable memory in the chosen unit, bandwidth, dense 16-bit (BF16,
    else FP16: Volta, Turing, Apple GPUs) and FP8 TFLOPS, vendor."""
    unit = byte_unit(units)[1]
    t = FitTable([Col("Name", "id"), Col(f"Memory ({unit})", "number"), Col(f"Usable ({unit})", "number"),
                  Col("Bandwidth (GB/s)", "number"), Col("BF16/FP16 TFLOPS", "number"), Col("FP8 TFLOPS", "number"),
                  Col("Vendor", "detail")], title="GPU catalogue", caption=CAPTION)
    for gpu in gpus:
        bandwidth = getattr(gpu, "memory_bandwidth_bytes_s", None)
        t.add_row(
            gpu.name,
            format_bytes(gpu.memory_bytes, units, digits=1, label=False),
            format_bytes(gpu.usable_memory_bytes, units, digits=2, label=False),
            decimal(bandwidth, GB) if bandwidth else "-",
            decimal(gpu.dense_16bit_flops, 10**12) if gpu.dense_16bit_flops else "-",
            decimal(gpu.fp8_dense_flops, 10**12) if gpu.fp8_dense_flops else "-",
            gpu.vendor or "-",
        )
    return t
