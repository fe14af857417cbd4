"""One table layout for every command: what the user must read or type back is never cut.

A :class:`FitTable` is laid out when it is printed, at the console's width:

- ``id`` columns (model, format, GPU names) and ``number`` columns (exact integers, sizes) never wrap
  and never truncate; ``label`` columns (row labels) wrap only between words and ``list`` columns
  (aliases) only between their comma-separated items; ``prose`` columns fold; ``detail`` columns
  (sources, notes, citations) are the first to go.
- Widths are computed here, not by rich, so a column is either shown whole or not at all: when the
  table cannot hold every column, it drops its vertical rules (compact), then leaves out ``detail``
  columns and then ``list`` columns (rightmost first), and one line says which and where to see
  them (``--json``, a wider terminal). When even the identifier and number
  columns cannot fit, the rows are stacked: one block per row, ``Header: value`` pieces packed into
  lines, so nothing is cut at any width.

:func:`emit` prints a renderable with no trailing spaces on any line (piped output stays clean).
Sizes use :func:`size_scale` / :func:`size_cell`: a column takes the unit of its largest value, and a
non-zero value that would read ``0.00`` there carries its own smaller unit.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import IO, Literal

from rich import box
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.segment import Segment
from rich.table import Column, Table
from rich.text import Text

from llmcalc.units import GB, GIB, KB, KIB, MB, MIB, TB, TIB, ByteUnits, exact_decimal

ColumnKind = Literal["id", "number", "text", "label", "list", "prose", "detail"]
Cell = str | Text

#: Kinds that are never wrapped or cut.
WHOLE_KINDS = frozenset({"id", "number", "text"})
#: The narrowest a folding column is made before columns are dropped: prose, and detail (sources, notes:
#: folded narrower than this they run to many lines, and are better left to --json).
MIN_FOLD_WIDTH = 16
MIN_DETAIL_WIDTH = 40
#: A row of this value in ``rows`` starts a new section (a rule across the table).
SECTION: None = None

#: Table styles, roomiest first: (name, width the borders and padding of n columns take).
STYLES: tuple[tuple[str, int, int], ...] = (("boxed", 3, 1), ("compact", 2, -1))
_WORD = re.compile(r"\S+")


@dataclass(frozen=True, slots=True)
class Col:
    """A column: its header, its kind (how it may be laid out) and its justification."""

    header: str
    kind: ColumnKind = "text"
    justify: Literal["left", "right", "center"] | None = None

    @property
    def align(self) -> Literal["left", "right", "center"]:
        return self.justify or ("right" if self.kind == "number" else "left")


def _plain(cell: Cell) -> str:
    return cell.plain if isinstance(cell, Text) else cell


def _lines_width(text: str) -> int:
    return max((cell_len(line) for line in text.split("\n")), default=0)


def _longest_word(text: str, kind: ColumnKind) -> int:
    if kind == "list":
        items = [p.strip() for line in text.split("\n") for p in line.split(",")]
        return max((cell_len(p) + 1 for p in items if p), default=0)  # the item and its comma
    return max((cell_len(w) for w in _WORD.findall(text)), default=0)


def wrap_words(text: str, width: int) -> str:
    """``text`` wrapped greedily at spaces to ``width`` (words longer than ``width`` stand alone)."""
    out: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split():
            if line and cell_len(line) + 1 + cell_len(word) > width:
                out.append(line)
                line = word
            else:
                line = f"{line} {word}" if line else word
        out.append(line)
    return "\n".join(out)


@dataclass
class FitTable:
    """A table laid out at print time so that no identifier or number is cut (see the module docstring).

    ``rows`` hold one cell per column (``str`` or styled ``Text``), or :data:`SECTION`. ``hint`` is
    where left-out columns can be seen (``--json``). ``stack_key`` is how many leading columns name a
    row in the stacked layout (default: the ``id`` columns).
    """

    columns: Sequence[Col]
    rows: list[Sequence[Cell] | None] = field(default_factory=list)
    title: str | None = None
    caption: str | None = None
    hint: str = "`--json` has every column"
    show_header: bool = True
    #: When the table does not fit, first move columns whose value is the same in every row (not ``id``
    #: columns) into one line above it: "Engine: hf · Batch: 1".
    hoist: bool = False

    def add_row(self, *cells: Cell) -> None:
        if len(cells) != len(self.columns):
            raise ValueError(f"a row of {len(cells)} cells for {len(self.columns)} columns")
        self.rows.append(cells)

    def add_section(self) -> None:
        self.rows.append(SECTION)

    # --- layout -------------------------------------------------------------------------------

    def _data(self) -> list[Sequence[Cell]]:
        return [r for r in self.rows if r is not None]

    def widths(self, keep: Sequence[int], max_width: int, style: str = "boxed") -> list[int] | None:
        """Widths of the ``keep`` columns at ``max_width``, or None when they cannot all be shown whole."""
        data = self._data()
        need: list[int] = []
        natural: list[int] = []
        for i in keep:
            col = self.columns[i]
            texts = [_plain(r[i]) for r in data]
            header_word = _longest_word(col.header, "prose") if self.show_header else 0
            nat = max([_lines_width(t) for t in texts] + [header_word, 1])
            if col.kind in WHOLE_KINDS:
                need.append(nat)
            else:
                words = max([_longest_word(t, col.kind) for t in texts] + [header_word, 1])
                fold = MIN_DETAIL_WIDTH if col.kind == "detail" else MIN_FOLD_WIDTH
                floor = words if col.kind in ("list", "label") else min(nat, max(fold, header_word))
                if col.kind == "label":
                    floor = max(words, min(nat, MIN_FOLD_WIDTH))
                need.append(min(nat, max(floor, 1)))
            natural.append(nat)
        per_column, extra = next((c, e) for name, c, e in STYLES if name == style)
        spare = max_width - (sum(need) + per_column * len(keep) + extra)
        if spare < 0:
            return None
        widths = list(need)
        # spare width goes first to headers that would wrap, then to the folding columns (left to right)
        if self.show_header:
            for j, i in enumerate(keep):
                extra = min(spare, max(0, cell_len(self.columns[i].header) - widths[j]))
                widths[j] += extra
                natural[j] = max(natural[j], widths[j])
                spare -= extra
        for j, i in enumerate(keep):
            if self.columns[i].kind not in WHOLE_KINDS and spare > 0:
                extra = min(spare, natural[j] - widths[j])
                widths[j] += extra
                spare -= extra
        return widths

    def layout(self, max_width: int) -> tuple[str, list[int], list[int]] | None:
        """(style, kept column indices, their widths): every column boxed if that fits, else compact (no
        vertical rules), else compact without ``detail`` columns and then ``list`` columns (rightmost
        first); None when only stacking can show the rows whole."""
        keep = list(range(len(self.columns)))
        # dropped in this order, rightmost first: detail columns, then lists (aliases: whole or not at all)
        details = [i for i in keep if self.columns[i].kind == "list"] + [
            i for i in keep if self.columns[i].kind == "detail"]
        for style, _, _ in STYLES:
            widths = self.widths(keep, max_width, style)
            if widths is not None:
                return style, keep, widths
        style = STYLES[-1][0]
        while details:
            keep.remove(details.pop())
            widths = self.widths(keep, max_width, style)
            if widths is not None:
                return style, keep, widths
        return None

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        max_width = options.max_width
        if self.title:
            yield Text(wrap_words(self.title, max_width), style="bold")
        if self.hoist and self.layout(max_width) is None:
            hoisted = self._hoisted()
            if hoisted:
                yield Text(wrap_words(" · ".join(f"{' '.join(self.columns[i].header.split())}: "
                                                 f"{_plain(v)}" for i, v in hoisted), max_width))
                yield from self._without([i for i, _ in hoisted]).__rich_console__(console, options)
                return
        found = self.layout(max_width)
        keep: Sequence[int]
        if found is None:
            keep = [i for i, c in enumerate(self.columns) if c.kind != "detail"]
            yield from self._stacked(max_width, keep)
        else:
            style, keep, widths = found
            lines = self._plain_lines(console, options, keep, widths, style)
            if lines is None:
                yield self._table(keep, widths, style)
            else:
                for line in lines:
                    yield Segment(line)
                    yield Segment.line()
        left_out = [" ".join(self.columns[i].header.split()) for i in range(len(self.columns)) if i not in keep]
        if left_out:
            yield Text(wrap_words(f"Not shown at {max_width} columns: {', '.join(left_out)}; {self.hint} "
                                  "(or widen the terminal, COLUMNS=200).", max_width), style="dim")
        if self.caption:
            yield Text(wrap_words(self.caption, max_width), style="dim")

    def _hoisted(self) -> list[tuple[int, Cell]]:
        """(column, value) of the non-``id`` columns that hold one value in every row (two rows or more)."""
        data = self._data()
        if len(data) < 2:
            return []
        return [(i, data[0][i]) for i, c in enumerate(self.columns)
                if c.kind != "id" and len({_plain(r[i]) for r in data}) == 1]

    def _without(self, drop: Sequence[int]) -> FitTable:
        """This table less the ``drop`` columns (no title: it has been printed)."""
        keep = [i for i in range(len(self.columns)) if i not in drop]
        rows: list[Sequence[Cell] | None] = [None if r is None else [r[i] for i in keep] for r in self.rows]
        return FitTable([self.columns[i] for i in keep], rows, caption=self.caption, hint=self.hint,
                        show_header=self.show_header)

    def _table(self, keep: Sequence[int], widths: Sequence[int], style: str) -> Table:
        columns = []
        for i, w in zip(keep, widths, strict=True):
            col = self.columns[i]
            whole = col.kind in WHOLE_KINDS
            columns.append(Column(wrap_words(col.header, w), justify=col.align, width=w, no_wrap=whole,
                                  overflow="fold" if col.kind in ("prose", "detail") else "ellipsis"))
        if style == "boxed":
            t = Table(*columns, box=box.HEAVY_HEAD, header_style="bold", show_header=self.show_header)
        else:
            t = Table(*columns, box=box.SIMPLE_HEAD, header_style="bold", show_header=self.show_header,
                      show_edge=False, pad_edge=False, padding=(0, 1, 0, 0))
        for row in self.rows:
            if row is None:
                t.add_section()
                continue
            cells: list[Cell] = []
            for i, w in zip(keep, widths, strict=True):
                cell = row[i]
                if self.columns[i].kind in ("list", "label"):
                    text = wrap_words(_plain(cell), w)
                    cell = Text(text, style=cell.style) if isinstance(cell, Text) else text
                cells.append(cell)
            t.add_row(*cells)
        return t

    def _cell_text(self, i: int, cell: Cell, width: int) -> str:
        """The text a cell shows at ``width``: list and label cells wrapped as :meth:`_table` wraps them."""
        return wrap_words(_plain(cell), width) if self.columns[i].kind in ("list", "label") else _plain(cell)

    def _plain_lines(self, console: Console, options: ConsoleOptions, keep: Sequence[int], widths: Sequence[int],
                     style: str) -> list[str] | None:
        """The lines rich draws for :meth:`_table`, drawn here, when they can carry no styling (the console
        has no colour system: output to a pipe or a file) and every header and cell is one line of plain
        printable text that fits its column; else None, and rich draws the table.

        For the 112-row preset comparison this takes a fraction of the ~25 ms rich's Table takes, most of
        ``llmcalc params``' start-up over its imports (``benchmarks/bench.py startup``). The border lines
        come from rich's own box (substituted as rich does for the console's encoding), the padding and
        section rules are rich's (``tests/test_table_plain.py`` compares the two at many widths).
        """
        if console.color_system is not None or console.legacy_windows:
            return None
        rows: list[list[str]] = []
        if self.show_header:
            rows.append([wrap_words(self.columns[i].header, w) for i, w in zip(keep, widths, strict=True)])
        section_after: list[bool] = [False] * len(rows)  # a rule below the row (the header's is drawn anyway)
        for row in self.rows:
            if row is None:
                if len(rows) > self.show_header:
                    section_after[-1] = True
                continue
            cells = []
            for i, w in zip(keep, widths, strict=True):
                text = self._cell_text(i, row[i], w)
                if isinstance(row[i], str) and ("[" in text or ":" in text):  # rich markup or an emoji code
                    return None
                cells.append(text)
            rows.append(cells)
            section_after.append(False)
        aligns = [self.columns[i].align for i in keep]
        for cells in rows:
            for text, w, align in zip(cells, widths, aligns, strict=True):
                if not text.isprintable() or text != text.strip() or cell_len(text) > w or align == "center":
                    return None
        edge = style == "boxed"
        frame = (box.HEAVY_HEAD if edge else box.SIMPLE_HEAD).substitute(options, safe=console.safe_box)
        if not self.show_header:
            frame = frame.get_plain_headed_box()
        pad_left, pad_right = (1, 1) if edge else (0, 1)  # compact: padding (0, 1, 0, 0), no padding at the edges
        last_col = len(keep) - 1
        outer = [w + pad_left + (0 if j == last_col and not edge else pad_right) for j, w in enumerate(widths)]
        lines = [frame.get_top(outer)] if edge else []
        for n, cells in enumerate(rows):
            if n == 0:
                left, vertical, right = frame.head_left, frame.head_vertical, frame.head_right
            elif n == len(rows) - 1:
                left, vertical, right = frame.foot_left, frame.foot_vertical, frame.foot_right
            else:
                left, vertical, right = frame.mid_left, frame.mid_vertical, frame.mid_right
            shown = []
            for j, (text, w, align) in enumerate(zip(cells, widths, aligns, strict=True)):
                fill = " " * (w - cell_len(text))
                body = fill + text if align == "right" else text + fill
                shown.append(" " * pad_left + body + " " * (outer[j] - w - pad_left))
            lines.append((left if edge else "") + vertical.join(shown) + (right if edge else ""))
            if n == 0 and self.show_header:
                lines.append(frame.get_row(outer, "head", edge=edge))
            elif section_after[n] and n < len(rows) - 1:
                lines.append(frame.get_row(outer, "row", edge=edge))
        if edge:
            lines.append(frame.get_bottom(outer))
        return lines

    def _stacked(self, max_width: int, keep: Sequence[int]) -> Iterable[RenderableType]:
        """One block per row: the ``id`` cells on the first line, then ``Header: value`` pieces."""
        ids = []  # the leading identifier columns name the block; later ones are fields like any other
        for i in keep:
            if self.columns[i].kind != "id":
                break
            ids.append(i)
        ids = ids or [keep[0]]
        rest = [i for i in keep if i not in ids]
        for row in self._data():
            yield Text("  ".join(_plain(row[i]) for i in ids), style="bold")
            pieces = []
            for i in rest:
                value = " ".join(_plain(row[i]).split())
                header = " ".join(self.columns[i].header.split())
                if value and (value != "-" or self.columns[i].kind in WHOLE_KINDS):
                    pieces.append(f"{header}: {value}" if header else value)
            line = ""
            for piece in pieces:
                if line and 2 + cell_len(line) + 2 + cell_len(piece) > max_width:
                    yield Text("  " + line)
                    line = piece
                else:
                    line = f"{line}  {piece}" if line else piece
            if line:
                yield Text("  " + line)


# --- printing --------------------------------------------------------------------------------------


def make_console(*, stderr: bool = False, width: int | None = None, file: IO[str] | None = None) -> Console:
    """A console for stdout (tables) or stderr (warnings); colour only on a terminal; COLUMNS is its width
    when not a terminal (80 otherwise)."""
    stream = file or (sys.stderr if stderr else sys.stdout)
    return Console(file=stream, width=width, highlight=False, soft_wrap=False, emoji=False)


def emit(renderable: RenderableType, *, width: int | None = None, file: IO[str] | None = None) -> None:
    """Print ``renderable`` at ``width`` (default: the terminal's, or COLUMNS) with no trailing spaces."""
    console = make_console(width=width, file=file)
    with console.capture() as capture:
        console.print(renderable)
    text = "\n".join(line.rstrip() for line in capture.get().split("\n"))
    console.file.write(text)
    console.file.flush()


def notes_once(messages: Iterable[str], *, prefix: str = "Note: ") -> list[Text]:
    """One dim line per distinct message, in first-seen order."""
    return [Text(f"{prefix}{m}", style="dim") for m in dict.fromkeys(messages)]


def stack(*parts: RenderableType | None) -> Group:
    """The parts that are not None, one after another."""
    return Group(*(p for p in parts if p is not None))


# --- sizes -----------------------------------------------------------------------------------------

__all__ = ["Col", "FitTable", "emit", "exact_decimal", "human_bytes", "notes_once", "size_cell", "size_scale", "stack"]

_BINARY = ((TIB, "TiB"), (GIB, "GiB"), (MIB, "MiB"), (KIB, "KiB"), (1, "B"))
_DECIMAL = ((TB, "TB"), (GB, "GB"), (MB, "MB"), (KB, "kB"), (1, "B"))


def size_scale(values: Iterable[int], units: ByteUnits = "binary") -> tuple[int, str]:
    """The unit of a column of byte figures: GiB (GB), or the largest smaller unit in which the column's
    largest value is at least 1 (MiB, KiB, bytes), so a small model does not read 0.00 GiB."""
    steps = _BINARY if units == "binary" else _DECIMAL
    top = max((abs(v) for v in values), default=0)
    for scale, name in steps[1:]:
        if top >= scale:
            return scale, name
    return steps[-1]


def size_cell(n: int, scale: tuple[int, str], units: ByteUnits = "binary", *, digits: int = 2) -> str:
    """``n`` bytes in the column's unit; a non-zero figure that would read 0.00 there carries its own unit."""
    divisor, name = scale
    if divisor == 1:
        return f"{n:,}"
    text = exact_decimal(n, divisor, digits)
    if n and text.strip("-0.,") == "":
        return human_bytes(n, units)
    return text


def human_bytes(n: int, units: ByteUnits = "binary", *, digits: int = 2) -> str:
    """``n`` bytes with the largest unit that keeps the value at least 1: ``12.00 MiB``, ``512 B``."""
    steps = _BINARY if units == "binary" else _DECIMAL
    for scale, name in steps:
        if abs(n) >= scale and scale > 1:
            return f"{exact_decimal(n, scale, digits)} {name}"
    return f"{n:,} B"
