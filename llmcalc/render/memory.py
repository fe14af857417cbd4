"""Tables for ``llmcalc memory``."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from llmcalc.render.common import table
from llmcalc.report import FormatReport, MemoryReport
from llmcalc.units import ByteUnits, byte_unit, format_bytes, unit_legend


def _fmt_label(fr: FormatReport) -> str:
    est = fr.estimate
    approx = " ~" if est.weights_approximate else ""
    if est.weights_format.endswith(" bpw"):
        return f"{est.weights_format}{approx}"
    return f"{est.weights_format}{approx}\n{est.bits_per_weight:.3f} bpw"


def memory_view(report: MemoryReport, *, units: ByteUnits) -> RenderableType:
    """One model, one column per weight format: the exact rows, the estimated rows, the total, the fit."""
    _, unit = byte_unit(units)
    first = report.formats[0].estimate
    header = Text.assemble(
        (f"{report.model}", "bold"),
        f": {first.context_tokens:,} tokens x batch {first.batch_size}, KV cache {first.kv_dtype}, "
        f"engine {report.engine} ({report.engine_default_reason})",
    )
    t = table(None)
    legend = Text(f"Sizes in {unit_legend(units)}. "
                  "~ marks an approximate per-tensor mix.")
    t.add_column("")
    for fr in report.formats:
        t.add_column(_fmt_label(fr), justify="right")

    def row(label: str, values: Sequence[str], style: str | None = None) -> None:
        t.add_row(Text(label, style=style or ""), *values)

    notes_after: list[str] = []

    def b(n: int) -> str:
        return format_bytes(n, units, label=False)

    row("Weights (exact)", [b(f.estimate.weights_bytes) for f in report.formats])
    row("KV cache (exact)", [b(f.estimate.kv_cache_bytes) for f in report.formats])
    row("Activations (estimate)", [b(f.estimate.activation_bytes) for f in report.formats], "dim")
    row("Overhead (estimate)", [b(f.estimate.overhead_bytes) for f in report.formats], "dim")
    t.add_section()
    row("Total", [b(f.estimate.total_bytes) for f in report.formats], "bold")
    if report.gpu:
        t.add_section()
        fit_rows: tuple[tuple[str, Callable[[FormatReport], str]], ...] = (
            (f"Per GPU ({report.num_gpus} x {report.gpu})", lambda f: b(f.fit.per_gpu.total_bytes) if f.fit else "-"),
            ("Usable per GPU", lambda f: b(f.fit.usable_bytes_per_gpu) if f.fit else "-"),
            ("Fits", lambda f: ("yes" if f.fit.fits else "no") if f.fit else "-"),
            ("Headroom", lambda f: b(f.fit.headroom_bytes) if f.fit else "-"),
        )
        for label, fn in fit_rows:
            row(label, [fn(f) for f in report.formats])
        if any(f.needed is not None or f.fit for f in report.formats) and report.num_gpus == 1:
            row("GPUs needed", [_needed(f, units) for f in report.formats])
        for f in report.formats:
            if f.max_context_note:
                notes_after.append(f.max_context_note)
        if any(f.max_context_tokens is not None for f in report.formats):
            row("Largest context that fits", [f"{f.max_context_tokens:,}" if f.max_context_tokens is not None else "-"
                                              for f in report.formats])
        if any(f.max_batch_size is not None for f in report.formats):
            row("Largest batch that fits", [f"{f.max_batch_size:,}" if f.max_batch_size is not None else "-"
                                            for f in report.formats])
    notes: list[RenderableType] = [header, t, legend]
    notes += [Text(f"Note: {n}", style="dim") for n in dict.fromkeys(notes_after)]
    if report.best_quant_searched:
        if report.best_quant:
            q = report.best_quant
            notes.append(Text(f"Best format that fits on {q.fit.num_gpus} x {report.gpu}: {q.format} "
                              f"({format_bytes(q.fit.per_gpu.total_bytes, units)} per GPU)"))
        else:
            notes.append(Text(f"No named format fits on {report.num_gpus} x {report.gpu}."))
    seen: set[str] = set()
    for f in report.formats:
        for note in f.estimate.notes:
            if note not in seen:
                seen.add(note)
                notes.append(Text(f"Note: {note}", style="dim"))
        if f.fit and f.fit.note and f.fit.note not in seen:
            seen.add(f.fit.note)
            notes.append(Text(f"Note: {f.fit.note}", style="dim"))
    return Group(*notes)


def _needed(f: FormatReport, units: ByteUnits) -> str:
    if f.needed is None:
        return "more than 64" if f.fit and not f.fit.fits else "-"
    return f"{f.needed.num_gpus} ({format_bytes(f.needed.per_gpu.total_bytes, units, digits=1)} each)"


def all_models_table(reports: Sequence[MemoryReport], *, units: ByteUnits) -> Table:
    """Every preset, one row per weight format."""
    _, unit = byte_unit(units)
    first = reports[0].formats[0].estimate if reports else None
    title = "Memory of every preset"
    if first is not None:
        title += f" (batch {first.batch_size}, KV {first.kv_dtype}, engine {reports[0].engine})"
    t = table(title, caption=f"Sizes in {unit}. Context: 4,096 tokens or the model's maximum if smaller, "
                             "unless --context.")
    for name, justify in (("Model", "left"), ("Format", "left"), ("Context", "right"), (f"Weights {unit}", "right"),
                          (f"KV cache {unit}", "right"), (f"Total {unit}", "right")):
        t.add_column(name, justify=justify)  # type: ignore[arg-type]
    gpu = reports[0].gpu if reports else None
    if gpu:
        t.add_column(f"Fits 1 x {gpu}", justify="center")
        t.add_column("GPUs needed", justify="right")
    for r in reports:
        for f in r.formats:
            e = f.estimate
            cells = [r.model, e.weights_format + (" ~" if e.weights_approximate else ""), f"{e.context_tokens:,}",
                     *(format_bytes(n, units, label=False) for n in (e.weights_bytes, e.kv_cache_bytes, e.total_bytes))]
            if gpu:
                cells += ["yes" if f.fit and f.fit.fits else "no",
                          str(f.needed.num_gpus) if f.needed else ("> 64" if f.fit else "-")]
            t.add_row(*cells)
    return t
