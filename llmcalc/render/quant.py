"""Tables for ``llmcalc quant``: the format catalogue, and one model's weights in every format."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from llmcalc.quant import WeightFormat, WeightsResult
from llmcalc.render.common import table
from llmcalc.units import format_bytes, human_count


def catalogue_table(formats: Sequence[WeightFormat]) -> Table:
    """Every format: name, family, kind, exact bits per weight (4 decimals), source."""
    t = table(
        "Weight formats",
        caption="~ the size also depends on the model (GGUF mixes) or leaves out a "
        "small term (per-channel scales); `llmcalc quant MODEL` prices each format for a model.",
    )
    for name, justify in (
        ("Name", "left"),
        ("Family", "left"),
        ("Kind", "left"),
        ("Bits per weight", "right"),
        ("Source", "left"),
    ):
        t.add_column(name, justify=justify)  # type: ignore[arg-type]
    for f in formats:
        bits = f"{float(f.bits_per_weight):.4f}" + ("~" if f.approximate else " ")
        t.add_row(f.name, f.family, f.kind, bits, f.source)
    return t


def model_table(title: str, params: int, rows: Sequence[tuple[WeightFormat, WeightsResult]]) -> RenderableType:
    """One model: each format's weight bytes in GiB and GB and its effective bits per weight."""
    t = table(f"{title}: weights by format ({human_count(params)} parameters)")
    for name, justify in (
        ("Format", "left"),
        ("Family", "left"),
        ("Kind", "left"),
        ("Weights (GiB)", "right"),
        ("Weights (GB)", "right"),
        ("Effective bits/weight", "right"),
    ):
        t.add_column(name, justify=justify)  # type: ignore[arg-type]
    for fmt, result in rows:
        mark = "~" if result.approximate else " "
        t.add_row(
            fmt.name,
            fmt.family,
            fmt.kind,
            format_bytes(result.total_bytes, "binary", label=False),
            format_bytes(result.total_bytes, "decimal", label=False),
            f"{result.bits_per_weight:.4f}{mark}",
        )
    notes = [
        Text(
            "GiB = 2^30 bytes, GB = 10^9 bytes. Weights only: no KV cache, activations or runtime overhead.",
            style="dim",
        ),
        Text(
            "~ approximate (MoE or non-Llama llama.cpp layout, importance-matrix dependent mix, or a small "
            "term left out); `--json` gives each format's notes.",
            style="dim",
        ),
    ]
    return Group(t, *notes)
