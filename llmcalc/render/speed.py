"""The table for ``llmcalc speed``."""

from __future__ import annotations

from collections.abc import Mapping

from rich.console import RenderableType
from rich.text import Text

from llmcalc.render.table import Col, FitTable, stack
from llmcalc.speed import SpeedEstimate


def _rate(x: float | None, lo: float, hi: float) -> str:
    if x is None:
        return "-"
    return f"{x:,.1f}  ({x * lo:,.0f}-{x * hi:,.0f})"


def _time(s: float | None, lo: float, hi: float) -> str:
    if s is None:
        return "-"
    return f"{s * 1000:,.1f} ms  ({s / hi * 1000:,.1f}-{s / lo * 1000:,.1f})"


def speed_view(inputs: Mapping[str, object], est: SpeedEstimate) -> RenderableType:
    """Decode, prefill, TTFT, TPOT and throughput, with what bounds each and the efficiency used."""
    lo, hi = est.range_low, est.range_high
    title = (f"{inputs['model']}: {inputs['format']} on {inputs['num_gpus']} x {inputs['gpu']}, "
             f"{inputs['engine']}/{inputs['backend']} (estimate)")
    t = FitTable([Col("", "label"), Col("Estimate (range)", "number"), Col("Bound", "text"),
                  Col("Efficiency used", "prose")], title=title)
    pf_eff = f"{est.prefill_efficiency:.0%} of dense 16-bit peak" if est.prefill_efficiency else "-"
    t.add_row("Decode tokens/s (one sequence)", _rate(est.decode_tokens_per_s, lo, hi), est.decode_bound,
              f"{est.bw_efficiency:.0%} of peak bandwidth; {est.decode_overhead_s * 1000:.2f} ms fixed per step")
    t.add_row("Prefill tokens/s", _rate(est.prefill_tokens_per_s, lo, hi), est.prefill_bound or "-", pf_eff)
    t.add_row("Time to first token", _time(est.ttft_s, lo, hi), est.prefill_bound or "-", "prefill of the prompt")
    t.add_row("Time per output token", _time(est.tpot_s, lo, hi), est.decode_bound, "")
    t.add_row(f"Throughput at concurrency {est.concurrency}", _rate(est.throughput_tokens_per_s, lo, hi),
              est.decode_bound, f"{est.step_bytes / 1e9:,.2f} GB read per step")
    notes = [Text(f"Estimates (profile {est.profile}, format class {est.format_class}); the range is "
                  f"x{lo}-x{hi}, the spread of held-out published runs (benchmarks/speed_calibration.py). "
                  "Not modelled: speculative decoding, prompt caching, CPU-only inference.", style="dim")]
    notes += [Text(f"Note: {n}") for n in est.notes]
    return stack(t, *notes)
