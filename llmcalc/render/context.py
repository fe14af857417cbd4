"""Tables and the memory-against-context chart for ``llmcalc context``."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.text import Text

from llmcalc.context import ENCODING_LABELS, ContextInfo, ContextReport, MemoryPoint
from llmcalc.render.table import Col, FitTable, size_cell, size_scale
from llmcalc.render.table import human_bytes as format_small_bytes
from llmcalc.units import ByteUnits, byte_unit, format_bytes

#: Bar glyphs and styles: weights, KV cache, activations + overhead (estimated).
WEIGHTS_GLYPH, KV_GLYPH, OTHER_GLYPH = "█", "▒", "░"
WEIGHTS_STYLE, KV_STYLE, OTHER_STYLE = "blue", "magenta", "dim"
#: Recurrent (conv + SSM) state of state-space layers: a fixed-width segment after the weights.
STATE_GLYPH, STATE_STYLE = "▓", "cyan"


def info_table(info: ContextInfo, *, units: ByteUnits) -> FitTable:
    """The encoding, maximum context, rope settings, windows and KV cost per token."""
    t = FitTable([Col("", "label"), Col("", "prose")], title=f"{info.model}: context window", show_header=False)
    t.add_row("Positional encoding", ENCODING_LABELS.get(info.positional_encoding, info.positional_encoding))
    if info.max_context is None:
        t.add_row("Maximum context", f"no maximum context is recorded for {info.model}")
    else:
        t.add_row("Maximum context", f"{info.max_context:,} tokens (max_position_embeddings)")
    if info.rope_theta is not None:
        t.add_row("RoPE theta", f"{info.rope_theta:,g}")
    if info.rope_scaling_type is not None:
        original = f" over {info.original_max_context:,} original positions" if info.original_max_context else ""
        t.add_row("RoPE scaling", f"{info.rope_scaling_type}, factor {info.rope_scaling_factor:g}{original}")
    if info.rotary_dim is not None:
        t.add_row("Rotary channels", f"{info.rotary_dim} per head")
    if info.positional_encoding == "learned":
        offset = f" ({info.max_context:,} + offset {info.positional_offset})" if info.positional_offset else ""
        t.add_row("Position table rows", f"{info.positional_table_rows:,}{offset}")
    if info.relative_bias_params:
        t.add_row("Relative position bias",
                  f"{info.relative_bias_params:,} parameters (buckets x heads, summed over stacks)")
    if info.sliding_windows:
        t.add_row("Sliding windows", "; ".join(f"{w.window_tokens:,} tokens on {w.layers} layers"
                                               for w in info.sliding_windows))
    per_token = info.kv_cache_bytes_per_token
    t.add_row("KV cache per token", f"{per_token:,} B ({format_small_bytes(per_token, units)}) at {info.kv_dtype}, "
                                    f"engine {info.engine}, before window caps")
    if info.state_bytes_per_sequence:
        t.add_row("Recurrent state", f"{info.state_bytes_per_sequence:,} B "
                  f"({format_small_bytes(info.state_bytes_per_sequence, units)}) per sequence, "
                  "the same at every context (conv + SSM / linear-attention state)")
    return t


def embedding_table(info: ContextInfo, *, units: ByteUnits) -> FitTable:
    """The positional table beside the token-embedding matrix: parameters, bytes, share of the total."""
    at = f"{info.dtype}, " if info.dtype and not info.dtype_assumed else ""
    assumed = ", assumed" if info.dtype_assumed else ""
    title = f"Positional table vs token embedding (at {at}{info.dtype_bytes} bytes per parameter{assumed})"
    t = FitTable([Col("", "label"), Col("Parameters", "number"), Col("Bytes", "number"), Col("Size", "number"),
                  Col("Share of total", "number")], title=title)
    label = "Positional table"
    if info.positional_params:
        hidden = info.positional_params // info.positional_table_rows
        label += f" ({info.positional_table_rows:,} x {hidden:,})"
    total = info.total_params
    t.add_row(label, f"{info.positional_params:,}", f"{info.positional_bytes:,}",
              format_small_bytes(info.positional_bytes, units), f"{info.positional_share_of_total:.2%}")
    t.add_row("Token embedding", f"{info.token_embedding_params:,}", f"{info.token_embedding_bytes:,}",
              format_small_bytes(info.token_embedding_bytes, units), f"{info.token_embedding_params / total:.2%}")
    t.add_section()
    t.add_row("Model total", f"{total:,}", f"{total * info.dtype_bytes:,}",
              format_small_bytes(total * info.dtype_bytes, units), "100.00%")
    return t


def curve_table(report: ContextReport, *, units: ByteUnits) -> FitTable:
    """Memory at each context: the exact parts, the estimated parts, the total and the fit."""
    scale = size_scale((p.total_bytes for p in report.series), units)
    unit = scale[1]
    title = (f"Memory against context: {report.weights_format} weights ({report.bits_per_weight:.2f} bpw), "
             f"KV {report.kv_dtype}, batch {report.batch_size}, engine {report.engine}")
    beyond = " * beyond the trained maximum." if any(p.beyond_max_context for p in report.series) else ""
    usable = (f" Usable per GPU: {format_bytes(report.usable_bytes_per_gpu, units, label=False)}."
              if report.usable_bytes_per_gpu is not None else "")
    if report.gpu:
        title += f"; fit on {report.num_gpus} x {report.gpu}"
    state = any(p.state_bytes for p in report.series)
    names = ["Context", "Weights", "KV cache", *(["Recurrent state"] if state else []), "Activations ~",
             "Overhead ~", "Total"]
    if report.gpu:
        names += ["Per GPU", "Fits"]
    t = FitTable([Col(n, "number") for n in names], title=title,
                 caption=f"Sizes in {unit}. Weights and KV cache exact; activations and overhead estimated (~)."
                 + usable + beyond)

    def b(n: int) -> str:
        return size_cell(n, scale, units)

    for p in report.series:
        cells = [f"{p.context_tokens:,}{'*' if p.beyond_max_context else ''}", b(p.weights_bytes),
                 b(p.kv_cache_bytes), *([b(p.state_bytes)] if state else []), b(p.activation_bytes),
                 b(p.overhead_bytes), b(p.total_bytes)]
        if report.gpu:
            cells += [b(p.per_gpu_total_bytes or 0), "yes" if p.fits else "no"]
        t.add_row(*cells)
    return t


class MemoryChart:
    """A horizontal bar per context: weights, then KV cache, then activations + overhead, scaled to the
    largest total; rows are labelled where the KV cache first reaches the weights, beyond the trained
    maximum, and where the model stops fitting. Bars fill the console width, so a fixed width renders
    the same text everywhere.
    """

    def __init__(self, series: Sequence[MemoryPoint], *, units: ByteUnits) -> None:
        self.series = tuple(series)
        self.units = units

    def markers(self) -> list[str]:
        """The label at the end of each row."""
        out = []
        crossed = False
        for p in self.series:
            marks = []
            if not crossed and p.kv_cache_bytes >= p.weights_bytes:
                crossed = True
                marks.append("<- KV cache >= weights")
            if p.beyond_max_context:
                marks.append("beyond max")
            if p.fits is False:
                marks.append("does not fit")
            out.append(", ".join(marks))
        return out

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        _, unit = byte_unit(self.units)
        yield Text.assemble(
            f"Memory ({unit}) against context: ",
            (WEIGHTS_GLYPH, WEIGHTS_STYLE), " weights  ", (KV_GLYPH, KV_STYLE), " KV cache  ",
            (OTHER_GLYPH, OTHER_STYLE), " activations + overhead (estimated)",
            *(("  ", (STATE_GLYPH, STATE_STYLE), " recurrent state (constant)")
              if any(p.state_bytes for p in self.series) else ()),
        )
        if not self.series:
            return
        labels = [f"{p.context_tokens:,}" for p in self.series]
        totals = [format_bytes(p.total_bytes, self.units, label=False) for p in self.series]
        markers = self.markers()
        lw, tw = max(map(len, labels)), max(map(len, totals))
        mw = max(map(len, markers))
        width = max(10, options.max_width - lw - tw - mw - 4 - (1 if mw else 0))
        scale = max(p.total_bytes for p in self.series) or 1
        yield from self._rows(labels, totals, markers, lw, tw, width, scale)

    def _rows(self, labels: list[str], totals: list[str], markers: list[str], lw: int, tw: int, width: int,
              scale: int) -> Iterator[Text]:
        def cells(n: int) -> int:
            return (n * width + scale // 2) // scale

        for p, label, total, marker in zip(self.series, labels, totals, markers, strict=True):
            w_end = cells(p.weights_bytes)
            s_end = cells(p.weights_bytes + p.state_bytes)
            kv_end = cells(p.weights_bytes + p.state_bytes + p.kv_cache_bytes)
            end = cells(p.total_bytes)
            line = Text(f"{label:>{lw}} |", no_wrap=True, overflow="crop")
            line.append(WEIGHTS_GLYPH * w_end, WEIGHTS_STYLE)
            line.append(STATE_GLYPH * (s_end - w_end), STATE_STYLE)
            line.append(KV_GLYPH * (kv_end - s_end), KV_STYLE)
            line.append(OTHER_GLYPH * (end - kv_end), OTHER_STYLE)
            line.append(" " * (width - end) + f"| {total:>{tw}}")
            if marker:
                line.append(f" {marker}", "bold")
            yield line


def summary_lines(report: ContextReport, *, units: ByteUnits) -> list[Text]:
    """The crossover, the fit and the cost of a longer window, one sentence each; then the notes."""
    lines = []
    if report.crossover_context is not None:
        lines.append(Text(f"The KV cache reaches the weights ({format_bytes(report.weights_bytes, units)}) at "
                          f"{_tokens(report.crossover_context)} (batch {report.batch_size})."))
    elif report.kv_cache_bytes_per_token:
        lines.append(Text("The KV cache stays below the weights at every context."))
    if report.gpu:
        where = f"{report.num_gpus} x {report.gpu}"
        fits = report.max_context_that_fits or 0
        if fits == 0:
            lines.append(Text(f"Not even 1 token of context fits on {where}."))
        else:
            beyond = (f" (beyond the maximum of {report.max_context:,})"
                      if report.max_context and fits > report.max_context else "")
            lines.append(Text(f"Largest context that fits on {where}: {_tokens(fits)}{beyond}."))
        if report.first_context_not_fitting is not None:
            lines.append(Text(f"Stops fitting at {report.first_context_not_fitting:,} tokens in the table above."))
        else:
            lines.append(Text("Every context in the table fits."))
    g = report.window_growth
    if g is not None and g.max_context is not None and g.context_tokens > g.max_context:
        if g.extra_positional_params:
            lines.append(Text(
                f"At {g.context_tokens:,} tokens: {g.table_rows_needed:,} table rows, +{g.extra_positional_params:,} "
                f"parameters ({format_small_bytes(g.extra_positional_bytes, units)}) beyond the weights above."))
        if g.implied_rope_factor is not None:
            current = (f", now {g.current_rope_factor:g} over {g.original_max_context or g.max_context:,}"
                       if g.current_rope_factor is not None else ", none now")
            lines.append(Text(f"At {g.context_tokens:,} tokens the rope scaling factor would be "
                              f"{g.implied_rope_factor:g}{current}."))
    lines.extend(Text(f"Note: {note}", style="dim") for note in report.notes)
    return lines


def _tokens(n: int) -> str:
    return f"{n:,} token" + ("" if n == 1 else "s")


def context_view(report: ContextReport, *, units: ByteUnits, chart: bool = True) -> RenderableType:
    """Everything ``llmcalc context`` prints, in order."""
    parts: list[RenderableType] = [info_table(report.info, units=units), embedding_table(report.info, units=units),
                                   curve_table(report, units=units)]
    if chart:
        parts.append(MemoryChart(report.series, units=units))
    parts.extend(summary_lines(report, units=units))
    return Group(*parts)
