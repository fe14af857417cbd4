"""Output of ``llmcalc sweep``: a table, CSV or JSON lines of points, and the progress bar.

CSV and JSON carry every :class:`~llmcalc.sweep.SweepPoint` field with bytes as exact integers; the
table shows sizes in GiB or GB. rich is imported only by the table and the progress bar, so a CSV
sweep does not pay for it.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING

from llmcalc.sweep import POINT_FIELDS, SweepPoint, is_bits_per_weight
from llmcalc.units import ByteUnits, unit_legend

if TYPE_CHECKING:
    from rich.console import RenderableType


def _csv_value(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def write_csv(points: Iterable[SweepPoint], out: IO[str]) -> int:
    """A header row of field names, then one row per point (true/false for fits, empty for none); returns rows."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(POINT_FIELDS)
    n = 0
    for p in points:
        writer.writerow([_csv_value(v) for v in vars(p).values()])
        n += 1
    return n


def write_json(points: Iterable[SweepPoint], out: IO[str]) -> int:
    """One JSON document (llmcalc.jsonout.envelope) whose ``points`` array holds one point object per line,
    written as the points come; returns the count."""
    from llmcalc.jsonout import envelope

    head = json.dumps(envelope({}))
    out.write(head[:-1] + (", " if len(head) > 2 else "") + '"points": [')
    n = 0
    for p in points:
        out.write(",\n" if n else "\n")
        out.write(json.dumps(vars(p)))
        n += 1
    out.write("\n]}\n" if n else "]}\n")
    return n


def sweep_table(points: Iterable[SweepPoint], *, units: ByteUnits) -> RenderableType:
    """One row per point: model, format, engine, context, batch, GPUs, sizes, fit and GPUs needed.

    Columns that hold one value in every row move to a line above the table when the width needs it;
    at 80 columns a wide sweep is stacked, one block per point, rather than cut.
    """
    from rich.text import Text

    from llmcalc.render.table import Col, FitTable, size_cell, size_scale

    rows = list(points)
    scale = size_scale((p.total_bytes for p in rows), units)
    unit = scale[1]
    beyond_any = any(p.beyond_max_context for p in rows)
    columns = [Col("Model", "id"), Col("Format", "id"), Col("Engine", "text"), Col("Context", "number"),
               Col("Batch", "number"), Col("GPUs", "id"), Col(f"Total ({unit})", "number"),
               Col(f"Per GPU ({unit})", "number"), Col("Fits", "text"), Col("Needed", "number"),
               Col("Speed (tok/s)", "number"),
               Col(f"Weights ({unit})", "detail", justify="right"),
               Col(f"KV cache ({unit})", "detail", justify="right")]
    caption = (f"Sizes in {unit_legend(units) if unit in ('GiB', 'GB') else unit}. Total: whole model on one "
               "device; per GPU: on the GPUs shown. Weights and KV cache exact, the rest estimated. Speed: "
               "estimated decode tokens/s of one sequence (llmcalc speed).")
    if beyond_any:
        caption += " * beyond the context the model was trained for (see the warning)."
    t = FitTable(columns, caption=caption, hoist=True, hint="`--format csv` or `--json` has every field")

    def b(n: int) -> str:
        return size_cell(n, scale, units)

    for p in rows:
        fits: str | Text = "-" if p.fits is None else Text("yes", style="green") if p.fits else Text("no", style="red")
        needed = "-" if p.gpu is None else str(p.gpus_needed) if p.gpus_needed is not None else "> 64"
        fmt = f"{p.format} bpw" if is_bits_per_weight(p.format) else p.format
        star = "*" if p.beyond_max_context else ""
        t.add_row(p.model, fmt, p.engine, f"{p.context_tokens:,}{star}", f"{p.batch_size:,}",
                  f"{p.num_gpus}x{p.gpu}" if p.gpu else "-", b(p.total_bytes),
                  b(p.per_gpu_bytes) if p.gpu else "-", fits, needed,
                  f"~{speed:,.0f}" if (speed := getattr(p, "decode_tokens_per_s", None)) else "-",
                  b(p.weights_bytes), b(p.kv_cache_bytes))
    return t


@contextmanager
def progress_bar(total: int, *, file: IO[str]) -> Iterator[Callable[[int, int], None]]:
    """A rich progress bar on ``file`` (a terminal); yields the callback :func:`llmcalc.sweep.sweep` takes."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    console = Console(file=file)
    columns = (TextColumn("Sweeping"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("sweep", total=total)

        def update(done: int, total_points: int) -> None:
            bar.update(task, completed=done, total=total_points)

        yield update
