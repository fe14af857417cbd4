"""Every command renders at 80, 100, 120 and 200 columns without cutting a name or a number (issue 13 section 1).

Commands are discovered from ``llmcalc.cli.COMMANDS``; EXAMPLES gives each one's arguments (a command
without an entry is run with a model, and with ``--gpu h100`` where it takes one). While a command
runs, every :class:`~llmcalc.render.table.FitTable` it prints records its identifier and number
cells; each must appear whole in the output, and each identifier must be one the CLI accepts back.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import click
import pytest
from click.testing import CliRunner

from llmcalc.cli import COMMANDS, cli
from llmcalc.errors import LLMCalcError
from llmcalc.render import table as table_module

WIDTHS = (80, 100, 120, 200)

#: command -> argument lists to render (each at every width).
EXAMPLES: dict[str, list[list[str]]] = {
    "params": [["mixtral"], ["llama-3.1-8b"], [], ["--exact"]],
    "presets": [[]],
    "memory": [
        ["llama-3.1-8b", "--quant", "q4_k_m,q8_0", "--context", "32k", "--gpu", "rtx4090", "--max-context"],
        ["mixtral", "--bpw", "16,8,6,4,3", "--gpu", "h100", "--max-batch", "--max-context"],
        ["llama-3.1-70b", "--gpu", "rtx4090", "--gpus", "1"],
        ["gpt2"],
        ["--bpw", "4", "--gpu", "rtx4090"],
        ["--bpw", "4", "--gpu", "rtx4090", "--max-context", "--best-quant"],
    ],
    "quant": [[], ["llama-3.1-8b"], ["gpt2"]],
    "gpus": [[], ["--units", "GB"]],
    "context": [["llama-3.1-8b", "--gpu", "h100"], ["gpt2", "--context", "2048"]],
    "sweep": [["--models", "llama-2-7b,mixtral,gpt2", "--formats", "bf16,q4_k_m,4", "--contexts", "4096,32k",
               "--gpus", "h100,2xh100"]],
}


def _examples() -> Iterator[tuple[str, list[str]]]:
    for name in sorted(COMMANDS):
        cases = EXAMPLES.get(name)
        if cases is None:
            command = cli.get_command(click.Context(cli), name)
            takes_gpu = command is not None and any("--gpu" in getattr(p, "opts", ()) for p in command.params)
            cases = [["llama-3.1-8b", "--gpu", "h100"] if takes_gpu else ["llama-3.1-8b"]]
        for args in cases:
            yield name, args


CASES = [pytest.param(name, args, width, id=f"{name}-{'-'.join(args) or 'all'}-{width}")
         for name, args in _examples() for width in WIDTHS]


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """(kind, text) of every identifier and number cell of every FitTable printed."""
    cells: list[tuple[str, str]] = []
    original = table_module.FitTable.__rich_console__

    def recording(self: table_module.FitTable, console: Any, options: Any) -> Any:
        for row in self.rows:
            if row is None:
                continue
            for col, cell in zip(self.columns, row, strict=True):
                if col.kind in ("id", "number"):
                    cells.append((col.header, cell.plain if hasattr(cell, "plain") else str(cell)))
        yield from original(self, console, options)

    monkeypatch.setattr(table_module.FitTable, "__rich_console__", recording)
    return cells


def accepted_back(name: str) -> bool:
    """Whether the CLI takes ``name`` back: a preset, a weight format, ``N bpw``, or a GPU set."""
    from llmcalc.gpus import parse_gpu_set
    from llmcalc.importers.presets import resolve_preset_path
    from llmcalc.quant import bits_to_bytes, get_format

    name = name.removesuffix(" ~").strip()
    bpw = re.fullmatch(r"(\S+) bpw", name)
    checks = [lambda: bits_to_bytes(8, bpw.group(1))] if bpw else []
    checks += [lambda: resolve_preset_path(name), lambda: get_format(name), lambda: parse_gpu_set(name)]
    for check in checks:
        try:
            check()
            return True
        except LLMCalcError:
            continue
    return False


@pytest.mark.parametrize(("name", "args", "width"), CASES)
def test_command_renders_whole_at_width(name: str, args: list[str], width: int,
                                        recorded: list[tuple[str, str]]) -> None:
    """No '…', no line past the width, no trailing space; every name and number printed whole; names typed back work."""
    result = CliRunner().invoke(cli, [name, *args], env={"COLUMNS": str(width), "NO_COLOR": "1"})
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "…" not in out
    lines = out.splitlines()
    assert all(len(line) <= width for line in lines), max(lines, key=len)
    assert all(line == line.rstrip() for line in lines)
    assert recorded, "the command printed no FitTable"
    for header, text in recorded:
        text = text.strip()  # spaces around a cell are layout (an alignment mark), not the cell
        assert text in out, (header, text)
        typed = header in ("Model", "Name", "Format", "GPUs", "Best format")
        if typed and text not in ("-", "none fits") and not text.startswith("stored ("):
            assert accepted_back(text), (header, text)


@pytest.mark.parametrize("width", WIDTHS)
def test_presets_never_cuts_llama_2_70b(width: int) -> None:
    """Regression: `llmcalc presets` at 80 columns showed 'llama-2-7…' beside 69.0B."""
    out = CliRunner().invoke(cli, ["presets"], env={"COLUMNS": str(width)}).stdout
    assert re.search(r"^\s*│?\s*llama-2-70b\s", out, flags=re.M)


def test_params_exact_keeps_every_digit() -> None:
    """Regression: `params --exact` at 80 columns showed '405,853…'."""
    from llmcalc.importers.presets import load_preset
    from llmcalc.params import count_params

    total = count_params(load_preset("llama-3.1-405b").spec).total_params
    out = CliRunner().invoke(cli, ["params", "--exact"], env={"COLUMNS": "80"}).stdout
    assert f"{total:,}" in out


def test_bare_llmcalc_prints_help_and_succeeds() -> None:
    """`llmcalc` alone prints the help and exits 0."""
    result = CliRunner().invoke(cli, [])
    assert result.exit_code == 0 and "Commands:" in result.stdout


def test_detail_columns_dropped_with_a_hint() -> None:
    """A table too wide for its detail column leaves it out and says how to see it."""
    t = table_module.FitTable([table_module.Col("Name", "id"), table_module.Col("Source", "detail")])
    t.add_row("x" * 30, "y" * 60)
    from rich.console import Console

    console = Console(width=40, color_system=None)
    with console.capture() as capture:
        console.print(t)
    out = capture.get()
    assert "x" * 30 in out and "yyy" not in out and "Not shown at 40 columns: Source" in out


@pytest.mark.parametrize(("n", "units", "expected"), [
    (0, "binary", "0.00"), (12 * 2**10, "binary", "12.00 KiB"), (5 * 2**30, "binary", "5.00"),
    (3 * 10**6, "decimal", "3.00 MB"), (10**30, "binary", f"{5**30:,}.00"),
], ids=["zero", "kib-in-gib-column", "gib", "mb", "huge-no-float-artefact"])
def test_size_cell_scales_small_figures(n: int, units: Any, expected: str) -> None:
    """A non-zero size that would read 0.00 GiB carries its own unit; huge figures are exact integers."""
    assert table_module.size_cell(n, (2**30, "GiB") if units == "binary" else (10**9, "GB"), units) == expected


def test_size_scale_follows_the_largest_figure() -> None:
    """A column of small figures is shown in MiB, not 0.00 GiB."""
    assert table_module.size_scale([3 * 2**20, 2**10]) == (2**20, "MiB")
    assert table_module.size_scale([3 * 2**30, 2**10]) == (2**30, "GiB")


@pytest.mark.parametrize(("n", "expected"), [(10**30, "1,000,000,000,000,000,000T"), (999_500 * 10**9, "1,000T"),
                                             (1_234_599_751_680, "1.23T")], ids=["absurd", "1000T", "normal"])
def test_huge_counts_are_integers(n: int, expected: str) -> None:
    """An absurd parameter count prints exact digits, not a float's artefacts."""
    from llmcalc.units import human_count

    assert human_count(n) == expected
