"""Tables for ``llmcalc params`` and ``llmcalc presets``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.text import Text

from llmcalc.importers.presets import Preset
from llmcalc.loading import LoadedModel
from llmcalc.params import ParamCounts
from llmcalc.render.table import Col, ColumnKind, FitTable, human_bytes
from llmcalc.spec import ModelSpec
from llmcalc.units import human_count

if TYPE_CHECKING:
    from llmcalc.stored import CountCheck


def describe(spec: ModelSpec) -> str:
    """One line on the architecture: layers, width, heads, head_dim, experts, positions."""
    attn = spec.first_attention
    if attn is None:
        heads = "no attention layers"
    elif attn.mla is not None:
        heads = f"{attn.num_heads} heads, MLA (kv_lora_rank {attn.mla.kv_lora_rank})"
    elif attn.num_kv_heads == attn.num_heads:
        heads = f"{attn.num_heads} heads (MHA)"
    elif attn.num_kv_heads == 1:
        heads = f"{attn.num_heads} heads, 1 KV head (MQA)"
    else:
        heads = f"{attn.num_heads} heads, {attn.num_kv_heads} KV heads (GQA)"
    if len(spec.stacks) > 1:
        layers = " + ".join(f"{s.num_layers} {s.role}" for s in spec.stacks)
    else:
        layers = f"{spec.num_hidden_layers} layers"
    parts = [spec.model_type, layers, f"hidden {spec.hidden_size:,}", heads]
    if attn is not None:
        parts.append(f"head_dim {attn.head_dim}")
    moe = next((g.moe for s in spec.stacks for g in s.groups if g.moe), None)
    if moe is not None:
        shared = ", shared expert" if moe.shared_expert else ""
        parts.append(f"MoE {moe.num_experts} experts, {moe.experts_per_token} per token{shared}")
    pos = spec.positional
    parts.append(pos.kind + (f", {pos.max_position_embeddings:,} positions" if pos.max_position_embeddings else ""))
    return " · ".join(parts)


def tower_summary(counts: ParamCounts) -> str:
    """`` (language model 27.0B, vision tower 0.4B)`` for a multimodal checkpoint, else ``""``."""
    parts = [
        f"{label} {human_count(value)}"
        for label, value in (
            ("vision tower", counts.vision_params),
            ("audio tower", counts.audio_params),
            ("projector", counts.projector_params),
        )
        if value
    ]
    return f" (language model {human_count(counts.language_params)}, {', '.join(parts)})" if parts else ""


def tower_lines(spec: ModelSpec) -> list[str]:
    """One line per tower: its kind, size and components (the breakdown lists each tower as one row)."""
    lines = []
    for tower in spec.towers:
        shape = f"{tower.num_layers} layers, hidden {tower.hidden_size:,}: " if tower.num_layers else ""
        parts = ", ".join(f"{name.replace('_', ' ')} {human_count(value)}" for name, value in tower.components)
        lines.append(f"{tower.role.capitalize()} ({tower.kind}, {human_count(tower.params)}): {shape}{parts}")
    return lines


def params_table(spec: ModelSpec, counts: ParamCounts, *, title: str, rumour: str | None = None) -> RenderableType:
    """One model: each component with its share and active count, then the totals.

    ``rumour`` (a rumoured, unofficial architecture) is printed first, so nobody mistakes it for a fact.
    """
    columns = [Col("Component", "label"), Col("Parameters", "number"), Col("Exact", "number"), Col("Share", "number")]
    if counts.moe:
        columns.append(Col("Active per token", "number"))
    t = FitTable(columns, title=f"{title}: {human_count(counts.total_params)} parameters"
                 + (f", {human_count(counts.active_params)} active per token" if counts.moe else "")
                 + tower_summary(counts))
    row: list[str | Text]
    for c in counts.components:
        row = [c.label, human_count(c.params), f"{c.params:,}", f"{c.params / counts.total_params:.1%}"]
        if counts.moe:
            row.append(f"{c.active_params:,}")
        t.add_row(*row)
    t.add_section()
    totals = [("Total", counts.total_params)]
    if counts.moe:
        totals += [("Active per token", counts.active_params),
                   ("Active excl. input embedding", counts.active_params_excluding_embedding)]
    totals.append(("Non-embedding", counts.non_embedding_params))
    if spec.towers:
        totals.append(("Language model", counts.language_params))
    for label, value in totals:
        row = [
            Text(label, style="bold"), human_count(value), f"{value:,}", f"{value / counts.total_params:.1%}"
        ]
        if counts.moe:
            row.append("")
        t.add_row(*row)
    notes = [Text(describe(spec), style="dim")]
    if rumour:
        notes.insert(0, Text(f"RUMOUR, not a published architecture: {rumour}", style="bold yellow"))
    if counts.moe:
        m = counts.moe
        notes.append(Text(
            f"Only the routed experts are replicated: {m.num_experts} experts x {m.moe_layers} MoE layers "
            f"of {human_count(m.params_per_expert)} each; a token uses {m.experts_per_token}, so "
            f"{human_count(m.inactive_params)} ({m.inactive_params:,}) sit idle per token. Attention, "
            f"embeddings{', shared experts' if counts.component('shared_experts') else ''} and routers are shared."
        ))
        single = counts.total_params - m.params_per_expert * m.moe_layers * (m.num_experts - 1)
        notes.append(Text(
            f"One expert model (the shared parts and one expert per layer) has {human_count(single)}; "
            f"{m.num_experts} x {human_count(single)} = {human_count(m.num_experts * single)} would count the "
            f"shared parts {m.num_experts} times. The total is {human_count(counts.total_params)}."
        ))
    notes.extend(Text(line, style="dim") for line in tower_lines(spec))
    if counts.mtp_params:
        notes.append(Text(
            f"Multi-token-prediction module (not in the total): {human_count(counts.mtp_params)} "
            f"({counts.mtp_params:,})."
        ))
    return Group(t, *notes)


def compare_table(rows: Sequence[tuple[Preset, ParamCounts]], *, exact: bool) -> FitTable:
    """All presets in one table; with ``exact``, the exact totals come first and the rounded columns are
    the ones left out when the width cannot hold them."""
    rounded: ColumnKind = "detail" if exact else "number"
    columns = [Col("Model", "id")]
    if exact:
        columns += [Col("Total (exact)", "number"), Col("Active (exact)", "number"), Col("Context", "number")]
    columns += [Col("Total", rounded), Col("Active", rounded), Col("Non-embedding", rounded, justify="right")]
    if not exact:
        columns.append(Col("Context", "number"))
    columns.append(Col("Family", "detail"))
    t = FitTable(columns, title="Model presets")
    for preset, counts in rows:
        ctx = preset.spec.max_context
        context = f"{ctx:,}" if ctx else "-"
        row = [preset.name]
        if exact:
            row += [f"{counts.total_params:,}", f"{counts.active_params:,}", context]
        row += [human_count(counts.total_params), human_count(counts.active_params),
                human_count(counts.non_embedding_params)]
        if not exact:
            row.append(context)
        row.append(preset.family)
        t.add_row(*row)
    return t


def presets_table(rows: Sequence[tuple[Preset, ParamCounts]]) -> FitTable:
    """The preset catalogue: name, sizes, context, aliases (whole, wrapped between them), family, flavour."""
    t = FitTable([Col("Name", "id"), Col("Total", "number"), Col("Active", "number"), Col("Context", "number"),
                  Col("Aliases", "list"), Col("Flavour", "detail"), Col("Family", "detail")],
                 title="Model presets")
    for preset, counts in rows:
        ctx = preset.spec.max_context
        t.add_row(
            preset.name,
            human_count(counts.total_params),
            human_count(counts.active_params),
            f"{ctx:,}" if ctx else "-",
            ", ".join(preset.aliases) or "-",
            "rumour" if preset.rumour else (preset.flavour or "-"),
            preset.family,
        )
    rumours = [p.name for p, _ in rows if p.rumour]
    if rumours:  # said whatever columns the width leaves out
        t.caption = f"RUMOUR, not a published architecture: {', '.join(rumours)}."
    return t


def stored_weights_view(loaded: LoadedModel, check: CountCheck | None) -> RenderableType:
    """What real model files hold: exact bytes per dtype (or ggml type), file bpw, and the cross-check."""
    w = loaded.weights
    assert w is not None  # callers show this only for real files
    t = FitTable([Col("dtype" if loaded.kind != "gguf" else "ggml type", "id"), Col("Bytes", "number"),
                  Col("Size", "number"), Col("Share", "number")], title="Stored weights")
    for name, size in w.bytes_by_dtype:
        t.add_row(name, f"{size:,}", human_bytes(size), f"{size / w.total_bytes:.1%}" if w.total_bytes else "-")
    t.add_section()
    t.add_row(Text("Total", style="bold"), f"{w.total_bytes:,}", human_bytes(w.total_bytes), "100.0%")
    lines: list[RenderableType] = [t]
    if check is not None:
        line = (f"Counted from tensor shapes: {check.counted_params:,}; analytical from the architecture: "
                f"{check.analytical_params:,}")
        if check.matches:
            lines.append(Text(line + " (match)"))
        else:
            share = check.difference_params / check.analytical_params if check.analytical_params else 0.0
            lines.append(Text(f"{line}; DIFFER by {check.difference_params:+,} ({share:+.2%}): the config and the "
                              "weights disagree", style="bold yellow"))
    lines.append(Text(f"Effective bits per weight: {w.bits_per_weight:.2f} (8 x {w.total_bytes:,} bytes / "
                      f"{w.params:,} parameters)"))
    lines += [Text(note, style="dim") for note in (*w.notes, *loaded.notes)]
    return Group(*lines)
