"""Tables for ``llmcalc train``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import RenderableType
from rich.text import Text

from llmcalc.render.table import Col, FitTable, notes_once, size_cell, size_scale, stack
from llmcalc.train.plan import TrainPlan
from llmcalc.units import ByteUnits, human_count, unit_legend


def _flops(n: int) -> str:
    return f"{n:.3e}"


def _duration(seconds: int | None) -> str:
    if seconds is None:
        return "-"
    days, rest = divmod(seconds, 86400)
    hours = rest // 3600
    return f"{days:,} d {hours} h" if days else f"{hours} h {rest % 3600 // 60} min"


def train_view(plan: TrainPlan, solved: dict[str, Any], *, units: ByteUnits) -> RenderableType:
    """One plan: the memory parts per GPU, the fit, then compute and time."""
    s, t = plan.settings, plan.trainable
    method = s.method if s.method == "full" else f"{s.method} r={s.rank}{' DoRA' if s.dora else ''} " \
                                                 f"on {', '.join(t.target_names)}"
    where = f"{plan.gpus} x {plan.gpu_name}" if plan.gpu_name else f"{plan.gpus} GPU(s)"
    header = Text.assemble(
        (plan.model, "bold"),
        f": {method}; {s.precision}, {s.optimizer}, ZeRO-{s.zero}; tp {s.tp} pp {s.pp} cp {s.cp} ep {s.ep} "
        f"on {where}; micro-batch {s.micro_batch} x {s.seq:,} tokens, {s.attention} attention, "
        f"recompute {s.recompute}",
    )
    parts = [plan.weight_bytes, plan.gradient_bytes, plan.master_weight_bytes, plan.optimizer_bytes,
             plan.activation_bytes, plan.recompute_peak_bytes, plan.total_bytes, plan.overhead_bytes]
    scale = size_scale(parts, units)
    table = FitTable([Col("Per GPU", "label"), Col(scale[1], "number"), Col("How", "detail")])

    def b(n: int) -> str:
        return size_cell(n, scale, units)

    table.add_row("Trainable parameters", f"{t.trainable_params:,}",
                  f"{t.trainable_percent:.4f}% of {t.all_params:,} (PEFT's all params)")
    table.add_section()
    table.add_row("Weights (exact)", b(plan.weight_bytes),
                  "NF4 base + fp32 adapters" if s.method == "qlora" else "16-bit" if s.precision != "fp32" else "fp32")
    table.add_row("Gradients (exact)", b(plan.gradient_bytes), f"trained parameters; {s.framework} convention")
    table.add_row("Master weights (exact)", b(plan.master_weight_bytes), "fp32 copy (bf16-mixed)")
    table.add_row("Optimizer states (exact)", b(plan.optimizer_bytes), s.optimizer)
    acts = plan.activations
    table.add_row(Text("Activations (estimate)", style="dim"), b(plan.activation_bytes),
                  f"saved for backward; of which loss log-softmax {b(acts.logits_bytes)}, "
                  f"attention scores {b(acts.attention_score_bytes)}")
    if plan.recompute_peak_bytes:
        table.add_row(Text("Recompute working set (estimate)", style="dim"), b(plan.recompute_peak_bytes),
                      "one layer's activations, rebuilt during its backward")
    table.add_section()
    table.add_row(Text("Total", style="bold"), b(plan.total_bytes), "")
    table.add_row(Text("Allocator overhead (estimate)", style="dim"), b(plan.overhead_bytes),
                  "CUDA context 512 MiB + 5% of activations")
    if plan.gpu_memory_bytes is not None:
        verdict = "fits" if plan.fits else "does not fit"
        table.add_row(Text(f"GPU memory ({verdict})", style="bold" if plan.fits else "bold red"),
                      b(plan.gpu_memory_bytes), plan.gpu_name or "")
    if plan.cpu_offload_bytes:
        table.add_row("CPU RAM for offload (exact)", b(plan.cpu_offload_bytes), "all data-parallel shards")
    c = plan.compute
    lines = [
        Text(f"Forward FLOPs per token at {s.seq:,} tokens: {_flops(c.forward_flops_per_token)}; training "
             f"{_flops(c.training_flops_per_token)} (6N {_flops(c.six_n_flops_per_token)}, 6N + 12Lhs "
             f"{_flops(c.six_n_attention_flops_per_token)})"),
        Text(f"{human_count(c.tokens)} tokens{' (Chinchilla: 20 per parameter)' if s.tokens is None else ''}: "
             f"{_flops(c.total_training_flops)} FLOPs; at {c.mfu:.0%} MFU: {_duration(c.wall_seconds)}, "
             f"{c.gpu_hours:,} GPU-hours" if c.gpu_hours is not None else
             f"{human_count(c.tokens)} tokens: {_flops(c.total_training_flops)} FLOPs (--gpu for the time)"),
    ]
    if solved:
        lines.append(Text("Solved: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in solved.items())))
    legend = Text(f"Sizes in {unit_legend(units) if scale[1] in ('GiB', 'GB') else scale[1]}; "
                  "activations and overhead are estimates.", style="dim")
    return stack(header, table, *lines, legend, *notes_once(t.notes))


def grid_view(plans: Sequence[TrainPlan], keys: Sequence[str], *, units: ByteUnits) -> RenderableType:
    """One row per grid point: the varied settings, memory per GPU, the fit and the time."""
    scale = size_scale([p.total_bytes for p in plans], units)
    cols = [Col(k, "id") for k in keys] + [
        Col("Trainable", "number"), Col(f"States {scale[1]}", "number"), Col(f"Activ. {scale[1]}", "number"),
        Col(f"Total {scale[1]}", "number"), Col("Fits", "text"), Col("GPU-hours", "number")]
    table = FitTable(cols)
    for p in plans:
        values = [str(getattr(p.settings, k.replace("-", "_"))) for k in keys]
        fits = "-" if p.fits is None else "yes" if p.fits else "no"
        hours = "-" if p.compute.gpu_hours is None else f"{p.compute.gpu_hours:,}"
        table.add_row(*values, f"{p.trainable_params:,}", size_cell(p.states.total_bytes, scale, units),
                      size_cell(p.activation_bytes, scale, units), size_cell(p.total_bytes, scale, units), fits,
                      hours)
    return stack(Text(plans[0].model, style="bold"), table)
