"""Tables for ``llmcalc memory``."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.console import Group, RenderableType
from rich.text import Text

from llmcalc.render.table import Col, FitTable, notes_once, size_cell, size_scale
from llmcalc.report import FormatReport, MemoryReport
from llmcalc.units import ByteUnits, format_bytes, unit_legend


def _fmt_label(fr: FormatReport) -> str:
    est = fr.estimate
    approx = " ~" if est.weights_approximate else ""
    if est.weights_format.endswith(" bpw"):
        return f"{est.weights_format}{approx}"
    return f"{est.weights_format}{approx}\n{est.bits_per_weight:.3f} bpw"


def memory_view(report: MemoryReport, *, units: ByteUnits) -> RenderableType:
    """One model, one column per weight format: the exact rows, the estimated rows, the total, the fit."""
    header = Text.assemble(
        (f"{report.model}", "bold"),
        f": {report.formats[0].estimate.context_tokens:,} tokens x batch {report.formats[0].estimate.batch_size}, "
        f"KV cache {report.formats[0].estimate.kv_dtype}, engine {report.engine} ({report.engine_default_reason})",
    )
    figures = [n for f in report.formats for n in (f.estimate.total_bytes, f.estimate.weights_bytes)]
    scale = size_scale(figures, units)
    t = FitTable([Col("", "label"), *(Col(_fmt_label(fr), "number") for fr in report.formats)])
    legend = Text(f"Sizes in {unit_legend(units) if scale[1] in ('GiB', 'GB') else scale[1]}. "
                  "~ marks an approximate per-tensor mix.")

    def row(label: str, values: Sequence[str], style: str | None = None) -> None:
        t.add_row(Text(label, style=style or ""), *values)

    def b(n: int) -> str:
        return size_cell(n, scale, units)

    row("Weights (exact)", [b(f.estimate.weights_bytes) for f in report.formats])
    if any(f.estimate.tower_bytes for f in report.formats):
        row("  of which vision/audio towers", [b(f.estimate.tower_bytes) for f in report.formats], "dim")
    row("KV cache (exact)", [b(f.estimate.kv_cache_bytes) for f in report.formats])
    if any(f.estimate.state_bytes for f in report.formats):
        row("Recurrent state (exact)", [b(f.estimate.state_bytes) for f in report.formats])
    if any(f.estimate.kv_cache_steady_bytes < f.estimate.kv_cache_bytes for f in report.formats):
        row("KV cache once decoding", [b(f.estimate.kv_cache_steady_bytes) for f in report.formats], "dim")
    row("Activations (estimate)", [_span(f.estimate.activation_bytes_low, f.estimate.activation_bytes_high, b)
                                   for f in report.formats], "dim")
    row("Overhead (estimate)", [_span(f.estimate.overhead_bytes_low, f.estimate.overhead_bytes_high, b)
                                for f in report.formats], "dim")
    if any(f.quality is not None for f in report.formats):
        row("Quality cost (published)", [f.quality.label if f.quality else "-" for f in report.formats], "dim")
    t.add_section()
    row("Total", [b(f.estimate.total_bytes) for f in report.formats], "bold")
    row("Total, low-high", [_span(f.estimate.total_bytes_low, f.estimate.total_bytes_high, b)
                            for f in report.formats], "dim")
    if any(f.estimate.outside_budget_bytes for f in report.formats):
        row("Outside vLLM's budget", [_span(f.estimate.outside_budget_bytes_low, f.estimate.outside_budget_bytes_high,
                                            b) for f in report.formats], "dim")
    notes_after: list[str] = []
    if report.gpu:
        t.add_section()
        where = f"{report.num_gpus} x {report.gpu}"
        fit_rows: tuple[tuple[str, Callable[[FormatReport], str]], ...] = (
            (f"Per GPU ({where})", lambda f: b(f.fit.per_gpu.total_bytes) if f.fit else "-"),
            ("Usable per GPU", lambda f: b(f.fit.usable_bytes_per_gpu) if f.fit else "-"),
            ("Fits", lambda f: _fits(f) if f.fit else "-"),
            ("Headroom", lambda f: b(f.fit.headroom_bytes) if f.fit else "-"),
        )
        for label, fn in fit_rows:
            row(label, [fn(f) for f in report.formats])
        if any(f.fit is not None and (report.num_gpus == 1 or not f.fit.fits) for f in report.formats):
            row("GPUs needed", [_needed(f, units) for f in report.formats])
        if any(f.decode_tokens_per_s for f in report.formats):
            row("Speed, decode tok/s (estimate)", [f"~{f.decode_tokens_per_s:,.0f}" if f.decode_tokens_per_s
                                                   else "-" for f in report.formats], "dim")
        notes_after += [f.max_context_note for f in report.formats if f.max_context_note]
        if any(f.max_context_tokens is not None for f in report.formats):
            row("Largest context that fits", [_solved(f.max_context_tokens, f, report) for f in report.formats])
        if any(f.max_batch_size is not None for f in report.formats):
            row("Largest batch that fits", [_solved(f.max_batch_size, f, report) for f in report.formats])
        if any(_solved_elsewhere(f, report) for f in report.formats):
            notes_after.append(f"(on N) marks a solver answer for N x {report.gpu}, the GPUs needed, not {where}")
    if any(f.fit and f.fit.fits and not f.fit.fits_high for f in report.formats):
        notes_after.append("maybe: fits at the point estimate but not at the high end of the estimates' range")
    if any(f.estimate.outside_budget_bytes for f in report.formats):
        notes_after.append("vLLM's CUDA context, NCCL communicators and CUDA graphs sit outside "
                           "gpu_memory_utilization (not in Total)")
    notes: list[RenderableType] = [header, t, legend]
    for f in report.formats[:1]:
        if f.plan is not None:
            notes += plan_view(f, units=units)
    if report.best_quant_searched:
        if report.best_quant:
            q = report.best_quant
            notes.append(Text(f"Best format that fits on {q.fit.num_gpus} x {report.gpu}: {q.format} "
                              f"({format_bytes(q.fit.per_gpu.total_bytes, units)} per GPU)"))
        else:
            notes.append(Text(f"No named format fits on {report.num_gpus} x {report.gpu}."))
    messages = [*notes_after]
    for f in report.formats:
        messages += list(f.estimate.notes)
        if f.fit and f.fit.note:
            messages.append(f.fit.note)
    notes += notes_once(messages)
    return Group(*notes)


def _span(low: int, high: int, b: Callable[[int], str]) -> str:
    """``low-high`` of an estimate (one figure when they round alike)."""
    lo, hi = b(low), b(high)
    return lo if lo == hi else f"{lo}-{hi}"


def _fits(f: FormatReport) -> str:
    assert f.fit is not None
    if not f.fit.fits:
        return "no"
    return "yes" if f.fit.fits_high else "maybe"


def plan_view(f: FormatReport, *, units: ByteUnits) -> list[RenderableType]:
    """The offload plan: one row per GPU and one for system RAM, then its settings and command."""
    plan = f.plan
    assert plan is not None
    rows = [*plan.devices, plan.ram]
    scale = size_scale([d.total_bytes for d in rows] + [d.usable_bytes or 0 for d in rows], units)

    def b(n: int | None) -> str:
        return "-" if n is None else size_cell(n, scale, units)

    t = FitTable([Col("Device", "id"), Col("Layers", "number"), Col("Weights", "number"), Col("KV cache", "number"),
                  Col("Compute", "number"), Col("Overhead", "number"), Col("Extras", "number"),
                  Col("Total", "number"), Col("Usable", "number"), Col("Fits", "text")],
                 title=f"Plan on {plan.engine} ({'fits' if plan.fits else 'does not fit'}), sizes in {scale[1]}")
    for d in rows:
        label = "system RAM" if d.device == "cpu" else d.device
        fits = "-" if d.usable_bytes is None else ("yes" if d.fits else "no")
        t.add_row(label, f"{d.layers:,}", b(d.weights_bytes), b(d.kv_cache_bytes), b(d.compute_bytes),
                  b(d.overhead_bytes), b(d.extra_bytes), b(d.total_bytes), b(d.usable_bytes), fits)
    shown = ", ".join(f"{k}={_setting(v)}" for k, v in plan.settings)
    out: list[RenderableType] = [t, Text(f"Settings: {shown}", style="dim")]
    if f.command:
        out.append(Text("Command:\n  " + shell_lines(f.command)))
    out += notes_once(list(plan.notes))
    return out


def shell_lines(command: str, width: int = 76) -> str:
    """``command`` broken between flags into lines of at most ``width`` with ``\\`` continuations (copy-pastable).

    A flag stays with its value; a word longer than ``width`` is never cut.
    """
    import shlex

    words = shlex.split(command)
    pieces: list[str] = []
    for w in words:
        quoted = shlex.quote(w)
        if pieces and not w.startswith("-") and pieces[-1].startswith("-") and " " not in pieces[-1]:
            pieces[-1] += " " + quoted
        else:
            pieces.append(quoted)
    lines = [""]
    for piece in pieces:
        if lines[-1] and len(lines[-1]) + 1 + len(piece) > width - 4:
            lines.append(piece)
        else:
            lines[-1] = f"{lines[-1]} {piece}".strip()
    return " \\\n    ".join(lines)


def _plan_summary(f: FormatReport) -> str:
    """A plan's settings in the engine's own flags: ``-ngl 49 --n-cpu-moe 25``, ``--cpu-offload-gb 4``."""
    assert f.plan is not None
    s = dict(f.plan.settings)
    if f.plan.engine == "llama.cpp":
        moe = " --cpu-moe" if s.get("cpu_moe") else (f" --n-cpu-moe {s['n_cpu_moe']}" if s.get("n_cpu_moe") else "")
        return f"-ngl {s['n_gpu_layers']}{moe}" + ("" if s.get("kv_offload", True) else " -nkvo")
    return f"--cpu-offload-gb {s.get('cpu_offload_gb') or 0}"


def _setting(value: object) -> str:
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value)
    return str(value)


def _solved_elsewhere(f: FormatReport, report: MemoryReport) -> bool:
    asked = f.max_context_tokens is not None or f.max_batch_size is not None
    return asked and f.solver_num_gpus is not None and f.solver_num_gpus != report.num_gpus


def _solved(value: int | None, f: FormatReport, report: MemoryReport) -> str:
    """A solver answer, with the GPU count it is for when that is not the header's."""
    if value is None:
        return "-"
    return f"{value:,}" + (f" (on {f.solver_num_gpus})" if _solved_elsewhere(f, report) else "")


def _needed(f: FormatReport, units: ByteUnits) -> str:
    if f.needed is None:
        return "more than 64" if f.fit and not f.fit.fits else "-"
    return f"{f.needed.num_gpus} ({format_bytes(f.needed.per_gpu.total_bytes, units, digits=1)} each)"


def all_models_table(reports: Sequence[MemoryReport], *, units: ByteUnits) -> RenderableType:
    """Every preset, one row per weight format, with the fit and every solver answer asked for."""
    first = reports[0].formats[0].estimate if reports else None
    title = "Memory of every preset"
    if first is not None:
        title += f" (batch {first.batch_size}, KV {first.kv_dtype}, engine {reports[0].engine})"
    scale = size_scale((f.estimate.total_bytes for r in reports for f in r.formats), units)
    unit = scale[1]
    gpu = reports[0].gpu if reports else None
    n = reports[0].num_gpus if reports else 1
    solve_context = any(f.max_context_tokens is not None for r in reports for f in r.formats)
    solve_batch = any(f.max_batch_size is not None for r in reports for f in r.formats)
    solve_quant = any(r.best_quant_searched for r in reports)
    columns = [Col("Model", "id"), Col("Format", "id"), Col("Context", "number"), Col(f"Total {unit}", "number")]
    if gpu:
        columns += [Col(f"Fits {n} x {gpu}", "text", justify="center"), Col("GPUs needed", "number"),
                    Col("Speed tok/s", "number")]
    if solve_context:
        columns.append(Col("Max context", "number"))
    if solve_batch:
        columns.append(Col("Max batch", "number"))
    if solve_quant:
        columns.append(Col("Best format", "id"))
    planned = any(f.plan is not None for r in reports for f in r.formats)
    if planned:
        columns += [Col("Plan", "id"), Col(f"RAM {unit}", "number"), Col("Plan fits", "text", justify="center")]
    columns += [Col(f"Weights {unit}", "detail", justify="right"), Col(f"KV cache {unit}", "detail", justify="right")]
    caption = (f"Sizes in {unit}. Context: 4,096 tokens or the model's maximum if smaller, unless --context.")
    if gpu:
        caption += " Speed: estimated decode tokens/s of one sequence on --gpus, else the GPUs needed (llmcalc speed)."
    if solve_context or solve_batch:
        caption += f" Max context and batch are for the GPUs needed ('(on N)' when that is not {n})."
    t = FitTable(columns, title=title, caption=caption, hoist=True)
    for r in reports:
        for f in r.formats:
            e = f.estimate
            cells = [r.model, e.weights_format + (" ~" if e.weights_approximate else ""), f"{e.context_tokens:,}",
                     size_cell(e.total_bytes, scale, units)]
            if gpu:
                cells += ["yes" if f.fit and f.fit.fits else "no",
                          str(f.needed.num_gpus) if f.needed else ("> 64" if f.fit else "-"),
                          f"~{f.decode_tokens_per_s:,.0f}" if f.decode_tokens_per_s else "-"]
            if solve_context:
                cells.append(_solved(f.max_context_tokens, f, r))
            if solve_batch:
                cells.append(_solved(f.max_batch_size, f, r))
            if solve_quant:
                cells.append(r.best_quant.format if r.best_quant else "none fits")
            if planned:
                cells += ([_plan_summary(f), size_cell(f.plan.ram.total_bytes, scale, units),
                           "yes" if f.plan.fits else "no"] if f.plan is not None else ["-", "-", "-"])
            cells += [size_cell(e.weights_bytes, scale, units), size_cell(e.kv_cache_bytes, scale, units)]
            t.add_row(*cells)
    return t
