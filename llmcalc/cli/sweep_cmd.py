"""``llmcalc sweep``: memory and fit over a grid of models, formats, contexts, batches and GPU sets."""

from __future__ import annotations

import os
import signal
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import IO, Any

import click

from llmcalc.cli.options import gpus_file_option, presets_dir_option, units_option, warn, width_option
from llmcalc.units import ByteUnits

#: Grids of at least this many points show a progress bar (on a terminal).
PROGRESS_MIN_POINTS = 50_000

#: Width of a table written to a file with --output (a terminal uses its own width).
FILE_TABLE_WIDTH = 200


def _is_terminal(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _axis(name: str, metavar: str, help: str) -> Callable[[Any], Any]:
    return click.option(f"--{name}", multiple=True, metavar=metavar, help=f"{help} Comma-separated or repeated.")


@click.command()
@_axis("models", "NAME[,NAME...]", "Models: preset names or aliases, YAML presets, config.json files or folders.")
@_axis("formats", "FMT[,FMT...]", "Weight formats (bf16, fp8, q4_k_m ...) or bits per weight (4, 4.5).")
@_axis("contexts", "TOKENS[,TOKENS...]", "Context lengths per sequence.")
@_axis("batches", "N[,N...]", "Batch sizes (sequences in flight).")
@_axis("gpus", "GPU[,GPU...]", "GPU sets: h100 (one), 8xh100 (eight).")
@click.option("--grid", "grid_file", type=click.Path(exists=True, dir_okay=False), metavar="FILE",
              help="A YAML grid with the keys models, formats, contexts, batches, gpus, kv_dtype, engine; "
                   "options given as well replace its keys.")
@click.option("--engine", metavar="NAME", help="Inference engine: hf, vllm, llama.cpp.  "
                                                "[default: llama.cpp for GGUF formats, else hf]")
@click.option("--kv-dtype", metavar="TYPE", help="KV cache type: f32, f16, bf16, fp8, q8_0, q4_0.  [default: f16]")
@click.option("--format", "output_format", type=click.Choice(["table", "csv", "json"]), default="table",
              show_default=True, help="Output: a table, CSV (bytes as integers) or a JSON array.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (the same as --format json).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), metavar="FILE",
              help="Write to FILE (replaced only once the sweep has finished) instead of stdout.")
@click.option("--max-points", type=click.IntRange(min=1), default=1_000_000, show_default=True,
              help="Refuse larger grids unless --yes (on a terminal, ask).")
@click.option("--yes", "-y", is_flag=True, help="Run a grid larger than --max-points without asking.")
@units_option
@presets_dir_option
@gpus_file_option
@width_option
def sweep(models: tuple[str, ...], formats: tuple[str, ...], contexts: tuple[str, ...], batches: tuple[str, ...],
          gpus: tuple[str, ...], grid_file: str | None, engine: str | None, kv_dtype: str | None,
          output_format: str, as_json: bool, output: str | None, max_points: int, yes: bool, units: ByteUnits,
          presets_dirs: tuple[str, ...], gpus_files: tuple[str, ...], width: int | None) -> None:
    """Memory and fit for every combination of models, formats, contexts, batches and GPU sets.

    Each row: weights, KV cache and total (one device), the per-GPU total on the GPUs of the set,
    whether it fits and how many of that GPU are needed.

    \b
    llmcalc sweep --models llama-2-7b,mixtral --formats bf16,q4_k_m --contexts 4096,32768 --gpus h100,2xh100
    llmcalc sweep --grid grid.yaml --format csv -o sweep.csv
    """
    import gc

    from llmcalc.sweep import sweep as run_sweep

    gc.enable()  # off for start-up (llmcalc.console); a sweep can run long, so collect cycles again
    if as_json:
        if output_format not in ("table", "json"):
            raise click.UsageError("--json and --format csv ask for different outputs; give one")
        output_format = "json"
    axes = {"models": models, "formats": formats, "contexts": _counts(contexts, "--contexts"),
            "batches": _counts(batches, "--batches"), "gpus": gpus}
    grid = _grid(grid_file, {**{k: ",".join(v) for k, v in axes.items() if v}, "kv_dtype": kv_dtype, "engine": engine})
    force = yes or _confirmed(grid.size, max_points)
    show_bar = grid.size >= PROGRESS_MIN_POINTS and _is_terminal(sys.stderr) and (
        output is not None or _is_terminal(sys.stdout))
    from llmcalc.sweep import grid_warnings

    if grid.size > max_points and not force:  # before any model is read
        from llmcalc.errors import UsageError

        raise UsageError(f"the grid has {grid.size:,} points, more than --max-points {max_points:,}; "
                               "pass --yes to run it anyway, or raise --max-points")
    specs = _specs(grid, presets_dirs)
    _, warnings = grid_warnings(grid, specs)
    with _progress(grid.size, show_bar) as progress:
        points = run_sweep(grid, specs=specs, presets_dirs=presets_dirs, gpus_files=gpus_files,
                           max_points=max_points, force=force, progress=progress)
        with _destination(output) as out:
            _write(points, out, output_format, units, width or (FILE_TABLE_WIDTH if output else None))
    for message in warnings:  # after the output, so a sweep that fails says only why
        warn(message)


def _specs(grid: Any, presets_dirs: tuple[str, ...]) -> dict[str, Any]:
    """Each model of the grid, loaded once (the sweep and its warnings share them)."""
    from llmcalc.loading import load_model

    return {m: load_model(m, presets_dirs=presets_dirs).spec for m in dict.fromkeys(grid.models)}


def _counts(values: tuple[str, ...], flag: str) -> tuple[str, ...]:
    """``--contexts 4096,32k`` as exact integers (llmcalc.cli.options.parse_count); a bad item is a usage error."""
    from llmcalc.cli.options import parse_count, split_list

    out = []
    for item in split_list(values, what="value"):
        try:
            out.append(str(parse_count(item)))
        except ValueError as exc:
            raise click.BadParameter(f"'{item}': {exc}", param_hint=flag) from None
    return tuple(out)


def _grid(path: str | None, options: dict[str, str | None]) -> Any:
    """The grid file's axes (when given), each replaced by the same option when that is given."""
    from llmcalc.importers.files import read_yaml
    from llmcalc.sweep import Grid

    grid = Grid.from_mapping(read_yaml(Path(path)), source=path) if path else Grid()
    given = {k: v for k, v in options.items() if v is not None}
    return Grid.from_mapping(given, source="options", base=grid) if given else grid


def _confirmed(size: int, max_points: int) -> bool:
    """Over the limit on a terminal: ask (no aborts). Elsewhere False, and the sweep refuses the grid."""
    if size <= max_points or not _is_terminal(sys.stdin):
        return False
    click.confirm(f"The grid has {size:,} points, more than --max-points {max_points:,}. Run it?", abort=True,
                  err=True)
    return True


def _progress(total: int, show: bool) -> Any:
    if not show:
        return nullcontext(None)
    from llmcalc.render.sweep import progress_bar

    return progress_bar(total, file=sys.stderr)


@contextmanager
def _destination(output: str | None) -> Iterator[IO[str]]:
    """stdout, or a temporary file beside ``output`` renamed over it once everything is written.

    Only regular files are written: a FIFO, device or socket at ``output`` is refused (renaming over
    it would replace, say, /dev/null), and so is a name that ends in a separator or is a folder. The
    temporary file is removed on any failure, on Ctrl-C and on SIGTERM, so nothing is left half
    written.
    """
    if output is None:
        yield sys.stdout
        return
    target = _checked_target(output)
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise click.FileError(output, hint=exc.strerror or str(exc)) from None
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            yield out
        os.chmod(tmp, _file_mode(target))  # mkstemp makes the file private (0600)
        os.replace(tmp, target)
    except BaseException as exc:
        os.unlink(tmp)
        if isinstance(exc, OSError):
            raise click.FileError(output, hint=exc.strerror or str(exc)) from None
        raise
    finally:
        signal.signal(signal.SIGTERM, previous)


#: Exit status after SIGTERM (128 + 15), once the temporary file is removed.
EXIT_TERMINATED = 143


def _terminate(signum: int, frame: object) -> None:
    """SIGTERM while writing: unwind (removing the temporary file) and exit 143, no traceback."""
    raise SystemExit(EXIT_TERMINATED)


def _checked_target(output: str) -> Path:
    """``output`` as a path llmcalc may write: a regular file (new or existing) in an existing folder."""
    if not output:
        raise click.BadParameter("needs a file name", param_hint="'--output' / '-o'")
    if output.endswith(("/", os.sep)) or os.path.isdir(output):
        raise click.BadParameter(f"{output!r} is a folder; give a file name", param_hint="'--output' / '-o'")
    target = Path(output)
    if target.exists() and not target.is_file():
        raise click.BadParameter(f"{output!r} is not a regular file (a pipe or device); write to it with > "
                                 "instead", param_hint="'--output' / '-o'")
    if not target.parent.is_dir():
        raise click.BadParameter(f"folder {str(target.parent)!r} does not exist", param_hint="'--output' / '-o'")
    return target


def _file_mode(target: Path) -> int:
    """The replaced file's permissions, or a new file's (0666 less the umask)."""
    try:
        return target.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _write(points: Iterable[Any], out: IO[str], output_format: str, units: Any, width: int | None) -> None:
    from llmcalc.render import sweep as render

    if output_format == "csv":
        render.write_csv(points, out)
    elif output_format == "json":
        render.write_json(points, out)
    else:
        from llmcalc.render.table import emit

        emit(render.sweep_table(points, units=units), width=width, file=out)
