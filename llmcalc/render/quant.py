"""Tables for ``llmcalc quant``: the format catalogue, and one model's weights in every format."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.console import Group, RenderableType
from rich.text import Text

from llmcalc.quality import quality_cost
from llmcalc.quant import WeightFormat, WeightsResult
from llmcalc.render.table import Col, FitTable, size_cell, size_scale
from llmcalc.units import human_count


def catalogue_table(formats: Sequence[WeightFormat], *, reference: tuple[str, Mapping[str, float]] | None = None
                    ) -> RenderableType:
    """Every format: name, family, kind, exact bits per weight (4 decimals), source.

    ``reference`` is (model name, bits per weight of each GGUF mix on it): a mix's bits depend on the
    model, so it is shown as what it gives on that model, marked and said so, not as its base block size.
    """
    ref_model, ref_bits = reference if reference else ("", {})
    caption = ("~ the size also depends on the model (GGUF mixes) or leaves out a small term (per-channel "
               "scales); `llmcalc quant MODEL` prices each format for a model.")
    if ref_bits:
        caption = (f"* a GGUF mix: its bits per weight on {ref_model} (llama.cpp picks a type per tensor, so "
                   "another model gives another figure). " + caption)
    t = FitTable([Col("Name", "id"), Col("Family", "text"), Col("Kind", "text"),
                  Col("Bits per weight", "number"), Col("Source", "detail")],
                 title="Weight formats", caption=caption, hint="`llmcalc quant --json` has the sources")
    for f in formats:
        if f.name in ref_bits:
            bits = f"{float(ref_bits[f.name]):.4f}*"
        else:
            bits = f"{float(f.bits_per_weight):.4f}" + ("~" if f.approximate else " ")
        t.add_row(f.name, f.family, f.kind, bits, f.source)
    return t


def model_table(title: str, params: int, rows: Sequence[tuple[WeightFormat, WeightsResult]]) -> RenderableType:
    """One model: each format's weight bytes in GiB and GB and its effective bits per weight."""
    binary = size_scale((r.total_bytes for _, r in rows), "binary")
    decimal = size_scale((r.total_bytes for _, r in rows), "decimal")
    t = FitTable([Col("Format", "id"), Col("Kind", "text"), Col(f"Weights ({binary[1]})", "number"),
                  Col(f"Weights ({decimal[1]})", "number"), Col("Effective bits/weight", "number"),
                  Col("Quality cost (published)", "prose"), Col("Family", "detail")],
                 title=f"{title}: weights by format ({human_count(params)} parameters)")
    for fmt, result in rows:
        mark = "~" if result.approximate else " "
        t.add_row(
            fmt.name,
            fmt.kind,
            size_cell(result.total_bytes, binary, "binary"),
            size_cell(result.total_bytes, decimal, "decimal"),
            f"{result.bits_per_weight:.4f}{mark}",
            quality_cost(fmt.name).label,
            fmt.family,
        )
    notes = [
        Text(
            f"{binary[1]} = {_unit_text(binary[1])}, {decimal[1]} = {_unit_text(decimal[1])}. Weights only: no KV "
            "cache, activations or runtime overhead.",
            style="dim",
        ),
        Text(
            "Quality cost: mean KL divergence and perplexity change vs 16-bit as published for the model named "
            "(llama.cpp tools/perplexity/README.md Llama-3-8B scoreboard, Wikitext-2; AWQ/GPTQ on Llama-2-7B); "
            "one model's figures, not this model's. `--json` gives sources.",
            style="dim",
        ),
        Text(
            "~ approximate (layers of mixed kinds, an encoder layout, importance-matrix dependent mix, or a "
            "small term left out); `--json` gives each format's notes and each GGUF type's whole-file "
            "`file_bytes`.",
            style="dim",
        ),
    ]
    return Group(t, *notes)


def _unit_text(unit: str) -> str:
    return {"GiB": "2^30 bytes", "MiB": "2^20 bytes", "KiB": "2^10 bytes", "GB": "10^9 bytes", "MB": "10^6 bytes",
            "kB": "10^3 bytes", "B": "1 byte"}.get(unit, unit)
