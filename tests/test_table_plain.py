"""FitTable's own drawing of plain tables (no colour system) is byte for byte what rich's Table draws."""

from __future__ import annotations

import io

import pytest
from rich.console import Console
from rich.text import Text

from llmcalc.importers.presets import load_all_presets
from llmcalc.params import count_params
from llmcalc.render.params import compare_table, params_table, presets_table
from llmcalc.render.table import SECTION, Col, FitTable, emit

WIDTHS = (24, 40, 60, 80, 100, 120, 200)


def _synthetic() -> dict[str, FitTable]:
    cols = [Col("Name", "id"), Col("Total params", "number"), Col("Aliases", "list"), Col("Family", "detail")]
    rows = [["a", "1", "x, y", "fam"], ["bb", "22", "", "f"], ["中文模型", "333", "long-alias, other-alias", "g"]]
    tables = {
        "plain": FitTable(cols, [*rows]),
        "sections": FitTable(cols, [SECTION, rows[0], SECTION, SECTION, rows[1], rows[2], SECTION]),
        "no header": FitTable(cols, [*rows], show_header=False),
        "no rows": FitTable(cols, []),
        "one row": FitTable(cols, [rows[0]]),
        "styled text": FitTable(cols, [[Text("Total", style="bold"), "1", "-", Text("x", style="dim")], rows[1]]),
        "label": FitTable([Col("Component", "label"), Col("N", "number")],
                          [["Active excl. input embedding", "1"], ["Norms", "22"]]),
        "markup-like": FitTable(cols, [["[bold]a[/bold]", "1", "-", "f"], ["b", "2", "-", ":smile:"]]),
        "odd text": FitTable(cols, [["a\tb", "1", "-", " padded "], ["b", "2", "-", "f"]]),
        "centered": FitTable([Col("A", "id", justify="center"), Col("B", "number")], [["x", "1"], ["yyy", "22"]]),
    }
    return tables


def _real() -> dict[str, FitTable | object]:
    presets = load_all_presets()
    rows = [(p, count_params(p.spec)) for p in presets]
    out: dict[str, FitTable | object] = {
        "compare": compare_table(rows, exact=False),
        "compare exact": compare_table(rows, exact=True),
        "presets": presets_table(rows),
    }
    for p, c in rows[::9]:
        out[f"params {p.name}"] = params_table(p.spec, c, title=p.display_name)
    return out


def _render(renderable: object, width: int, file: io.StringIO | io.TextIOWrapper) -> str:
    emit(renderable, width=width, file=file)  # type: ignore[arg-type]
    if isinstance(file, io.TextIOWrapper):
        file.flush()
        return file.buffer.getvalue().decode(file.encoding)  # type: ignore[attr-defined]
    return file.getvalue()


def _both(renderable: object, width: int, monkeypatch: pytest.MonkeyPatch, encoding: str | None) -> tuple[str, str]:
    def new_file() -> io.StringIO | io.TextIOWrapper:
        return io.TextIOWrapper(io.BytesIO(), encoding=encoding, errors="replace") if encoding else io.StringIO()

    fast = _render(renderable, width, new_file())
    with monkeypatch.context() as m:
        m.setattr(FitTable, "_plain_lines", lambda *a, **k: None)
        rich_drawn = _render(renderable, width, new_file())
    return fast, rich_drawn


@pytest.mark.parametrize("name", list(_synthetic()))
@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("encoding", [None, "latin-1"])
def test_synthetic_tables_match_rich(name: str, width: int, encoding: str | None,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Sections, no header, no rows, wide characters, styled cells, an ASCII-only file: as rich draws them."""
    table = _synthetic()[name]
    fast, drawn = _both(table, width, monkeypatch, encoding)
    assert fast == drawn


@pytest.fixture(scope="module")
def real_tables() -> dict[str, FitTable | object]:
    return _real()


@pytest.mark.parametrize("width", WIDTHS)
def test_real_tables_match_rich(width: int, real_tables: dict[str, object], monkeypatch: pytest.MonkeyPatch) -> None:
    """Every preset compared, the catalogue and a sample of params tables: identical at every width."""
    for name, renderable in real_tables.items():
        fast, drawn = _both(renderable, width, monkeypatch, None)
        assert fast == drawn, name


def test_plain_path_is_taken_for_a_pipe() -> None:
    """Without a colour system the table is drawn here (the path start-up depends on)."""
    table = _synthetic()["plain"]
    console = Console(file=io.StringIO(), width=80)
    found = table.layout(80)
    assert found is not None
    style, keep, widths = found
    assert table._plain_lines(console, console.options, keep, widths, style) is not None


@pytest.mark.parametrize("name", ["markup-like", "odd text", "centered"])
def test_plain_path_declines_what_rich_would_change(name: str) -> None:
    """Markup or emoji codes, tabs, padded text and centred columns are left to rich."""
    table = _synthetic()[name]
    console = Console(file=io.StringIO(), width=80)
    found = table.layout(80)
    assert found is not None
    style, keep, widths = found
    assert table._plain_lines(console, console.options, keep, widths, style) is None


def test_terminal_gets_rich() -> None:
    """A console with colours (a terminal) always gets rich's drawing, styles and all."""
    table = _synthetic()["plain"]
    console = Console(file=io.StringIO(), width=80, force_terminal=True, color_system="standard")
    found = table.layout(80)
    assert found is not None
    style, keep, widths = found
    assert table._plain_lines(console, console.options, keep, widths, style) is None
