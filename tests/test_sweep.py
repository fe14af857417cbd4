"""Sweeps: every point equals the single-point functions; grid files are validated; big grids are guarded."""

from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from llmcalc.cli import cli, sweep_cmd
from llmcalc.errors import ConfigError, UsageError
from llmcalc.fit import check_fit, gpus_needed
from llmcalc.gpus import get_gpu
from llmcalc.loading import load_model
from llmcalc.memory import engine_settings, estimate_memory, with_batch_defaults
from llmcalc.quant import get_format, weights_for_bpw, weights_for_format
from llmcalc.sweep import POINT_FIELDS, Grid, SweepPoint, _point, is_bits_per_weight, sweep

#: Sliding windows (gemma-2, gpt-oss), MLA (deepseek-v3), MoE (mixtral), cross-attention (t5), no KV cache (bert).
MODELS = ("gemma-2-27b", "gpt-oss-20b", "deepseek-v3", "mixtral", "t5-small", "bert-base-uncased")
GRID = Grid(
    models=MODELS,
    formats=("bf16", "q4_k_m", "nf4", "4.5"),
    contexts=(100, 4096, 4097, 131072),
    batches=(1, 3, 64),
    gpus=(("h100", 1), ("h100", 8), ("rtx-4090", 3), ("a100-40gb", 2)),
)


def _single_point(p: SweepPoint, kv_dtype: str) -> tuple[object, ...]:
    """What the public single-point functions say for the point's model, format, context, batch and GPUs."""
    spec = load_model(p.model).spec
    if is_bits_per_weight(p.format):
        weights = weights_for_bpw(spec, p.format)
    else:
        weights = weights_for_format(spec, get_format(p.format))
    gpu = get_gpu(p.gpu) if p.gpu is not None else None
    # vLLM's batch defaults follow the GPU and context, as `llmcalc memory` sets them
    settings = engine_settings(p.engine, **with_batch_defaults(
        p.engine, {}, gpu_total_bytes=gpu.usable_memory_bytes if gpu else None, gpu_name=gpu.name if gpu else "",
        context_tokens=p.context_tokens))
    est = estimate_memory(spec, weights=weights, context_tokens=p.context_tokens, batch_size=p.batch_size,
                          kv_dtype=kv_dtype, settings=settings)
    if p.gpu is None:
        per, fits, needed = est.total_bytes, None, None
    else:
        assert gpu is not None and p.num_gpus is not None
        fit = check_fit(spec, est, gpu, p.num_gpus, settings)
        found = gpus_needed(spec, est, gpu, settings)
        per, fits, needed = fit.per_gpu.total_bytes, fit.fits, found.num_gpus if found else None
    return (est.weights_bytes, est.kv_cache_bytes, est.activation_bytes, est.overhead_bytes, est.total_bytes,
            per, fits, needed)


def _numbers(p: SweepPoint) -> tuple[object, ...]:
    return (p.weights_bytes, p.kv_cache_bytes, p.activation_bytes, p.overhead_bytes, p.total_bytes,
            p.per_gpu_bytes, p.fits, p.gpus_needed)


@pytest.mark.parametrize("engine", ["hf", "vllm", "llama.cpp", None], ids=["hf", "vllm", "llama.cpp", "per-format"])
@pytest.mark.parametrize("kv_dtype", ["f16", "fp8", "q8_0", "q4_0"])
def test_points_equal_single_point_functions(engine: str | None, kv_dtype: str) -> None:
    """A sample of points (every 5th) equals estimate_memory + check_fit + gpus_needed to the byte."""
    grid = replace(GRID, engine=engine, kv_dtype=kv_dtype)
    points = list(sweep(grid))
    assert len(points) == grid.size
    for p in points[::5]:
        assert _numbers(p) == _single_point(p, kv_dtype), p


def test_points_without_gpus_equal_estimate() -> None:
    """A grid with no GPU sets gives the one-device estimate and no verdict."""
    grid = Grid(models=("gemma-2-9b", "qwen2.5-7b"), formats=("fp8", "q8_0"), contexts=(8192, 65536), batches=(2,),
                engine="vllm", kv_dtype="bf16")
    points = list(sweep(grid))
    assert len(points) == 8
    assert all(p.gpu is None and p.fits is None and p.gpus_needed is None for p in points)
    for p in points:
        assert _numbers(p) == _single_point(p, "bf16")


def test_order_and_labels() -> None:
    """Points come models-first, GPU sets last; names are the canonical preset and GPU names."""
    grid = Grid(models=("mixtral",), formats=("bf16", "4"), contexts=(1024,), batches=(1, 2), gpus=(("h100", 2),))
    points = list(sweep(grid))
    assert [(p.model, p.format, p.batch_size, p.gpu, p.num_gpus) for p in points] == [
        ("mixtral-8x7b", "bf16", 1, "h100-sxm", 2),
        ("mixtral-8x7b", "bf16", 2, "h100-sxm", 2),
        ("mixtral-8x7b", "4", 1, "h100-sxm", 2),
        ("mixtral-8x7b", "4", 2, "h100-sxm", 2),
    ]


def test_nothing_fits_gives_no_gpu_count() -> None:
    """When even 64 GPUs are too few, gpus_needed is None and fits is False."""
    grid = Grid(models=("deepseek-v3",), formats=("fp32",), contexts=(1_000_000,), batches=(256,),
                gpus=(("rtx-3090", 1),), engine="hf")
    (p,) = sweep(grid)
    assert p.fits is False and p.gpus_needed is None
    assert _numbers(p) == _single_point(p, "f16")


def test_fast_point_equals_constructed_point() -> None:
    """The sweep's fast constructor makes points equal (==, hash, repr) to ones built by __init__."""
    values = ("m", "bf16", "hf", 4096, 1, "h100-sxm", 1, 10, 20, 30, 40, 100, 100, True, 1)
    fast, slow = _point(*values), SweepPoint(*values)
    assert fast == slow and hash(fast) == hash(slow) and repr(fast) == repr(slow)
    with pytest.raises(AttributeError):
        fast.model = "x"  # type: ignore[misc]
    assert tuple(vars(fast)) == POINT_FIELDS


def test_grid_size() -> None:
    """Size is the product of the axes; a grid without GPU sets counts one per combination."""
    assert GRID.size == 6 * 4 * 4 * 3 * 4
    assert replace(GRID, gpus=()).size == 6 * 4 * 4 * 3


def test_progress_callback() -> None:
    """progress(done, total) comes every PROGRESS_EVERY points and once at the end."""
    calls: list[tuple[int, int]] = []
    grid = Grid(models=("llama-2-7b",), formats=("bf16",), contexts=tuple(range(1, 101)), batches=tuple(range(1, 101)),
                gpus=(("h100", 1),))
    assert sum(1 for _ in sweep(grid, progress=lambda d, t: calls.append((d, t)))) == 10_000
    assert calls == [(8192, 10_000), (10_000, 10_000)]


# --- grid files ------------------------------------------------------------------------------------


def test_grid_from_mapping() -> None:
    """Lists, single values and comma-separated strings are all accepted; names are normalised."""
    grid = Grid.from_mapping(
        {"models": ["mixtral", "llama-2-7b"], "formats": ["bf16", 4, 4.5], "contexts": "4096, 32768",
         "batches": 8, "gpus": ["h100", "8xh100", "2 x rtx-4090"], "kv_dtype": "FP16", "engine": "vLLM"},
        source="grid.yaml",
    )
    assert grid == Grid(models=("mixtral", "llama-2-7b"), formats=("bf16", "4", "4.5"), contexts=(4096, 32768),
                        batches=(8,), gpus=(("h100", 1), ("h100", 8), ("rtx-4090", 2)), kv_dtype="f16",
                        engine="vllm")


def test_grid_options_replace_file_keys() -> None:
    """Keys given on top of a base grid replace its axes and keep the others."""
    base = Grid.from_mapping({"models": "mixtral", "contexts": [1024, 2048]}, source="grid.yaml")
    grid = Grid.from_mapping({"contexts": "4096"}, source="options", base=base)
    assert grid.models == ("mixtral",) and grid.contexts == (4096,) and grid.formats == ("bf16",)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"models": ["mixtral"], "contexs": [4096]},
         "grid.yaml: unknown key 'contexs' (known: models, formats, contexts, batches, gpus, kv_dtype, engine)"),
        (["mixtral"],
         "grid.yaml: a grid must be a mapping with the keys models, formats, contexts, batches, gpus, kv_dtype, "
         "engine"),
        ({"models": [1], "contexts": [0, "4kb"], "batches": [True]},
         "grid.yaml: models must be a list of names, got [1]; contexts: 0 is not a positive whole number; "
         "contexts: '4kb' is not a positive whole number; batches: True is not a positive whole number"),
        ({"formats": [-4, None], "gpus": ["0xh100", 8]},
         "grid.yaml: formats: -4 is neither a format name nor a positive bits per weight; formats: None is neither "
         "a format name nor a positive bits per weight; gpus: '0xh100' is not a GPU or a count x GPU (h100, 8xh100); "
         "gpus: 8 is not a GPU or a count x GPU (h100, 8xh100)"),
        ({"kv_dtype": "f17", "engine": "tgi"},
         "grid.yaml: kv_dtype: unknown KV cache dtype 'f17'; choose one of f32, f16, bf16, fp8, q8_0, q4_0; "
         "engine: unknown engine 'tgi'; choose one of hf, vllm, llama.cpp"),
    ],
    ids=["unknown-key", "not-a-mapping", "bad-numbers", "bad-formats-and-gpus", "bad-names"],
)
def test_grid_errors(data: object, message: str) -> None:
    """Every problem in a grid file is reported at once, naming the file and key."""
    with pytest.raises(ConfigError) as info:
        Grid.from_mapping(data, source="grid.yaml")
    assert str(info.value) == message


def test_bad_names_fail_before_the_first_point() -> None:
    """An unknown model, format or GPU raises when sweep() is called, not midway through the output."""
    with pytest.raises(LookupError, match="unknown weight format 'q4_k_x'"):
        sweep(Grid(models=("mixtral",), formats=("q4_k_x",)))
    with pytest.raises(LookupError, match="unknown GPU 'h1000'"):
        sweep(Grid(models=("mixtral",), gpus=(("h1000", 1),)))
    with pytest.raises(UsageError, match="the grid names no models"):
        sweep(Grid())


# --- the size guard --------------------------------------------------------------------------------


def test_max_points_guard() -> None:
    """A grid over max_points is refused with the size and how to proceed; force=True runs it."""
    grid = Grid(models=("llama-2-7b",), contexts=(1024, 2048, 4096), batches=(1, 2))
    with pytest.raises(UsageError) as info:
        sweep(grid, max_points=5)
    assert str(info.value) == ("the grid has 6 points, more than the limit of 5; pass force=True to run "
                               "it anyway, or raise max_points")
    assert len(list(sweep(grid, max_points=5, force=True))) == 6


def test_cli_max_points_refused_when_not_a_terminal(runner: CliRunner) -> None:
    """Piped, an oversized grid exits 1 with the message; --yes runs it."""
    args = ["sweep", "--models", "llama-2-7b", "--contexts", "1024,2048,4096", "--batches", "1,2", "--format", "csv"]
    result = runner.invoke(cli, [*args, "--max-points", "5"])
    assert result.exit_code == 1
    assert result.stderr == ("Error: the grid has 6 points, more than --max-points 5; pass --yes to "
                             "run it anyway, or raise --max-points\n")
    result = runner.invoke(cli, [*args, "--max-points", "5", "--yes"])
    assert result.exit_code == 0 and len(result.stdout.splitlines()) == 7


@pytest.mark.parametrize(("answer", "code"), [("y\n", 0), ("n\n", 1)], ids=["yes", "no"])
def test_cli_max_points_asks_on_a_terminal(runner: CliRunner, monkeypatch: pytest.MonkeyPatch,
                                           answer: str, code: int) -> None:
    """On a terminal an oversized grid asks; yes runs it, no aborts."""
    monkeypatch.setattr(sweep_cmd, "_is_terminal", lambda stream: True)
    args = ["sweep", "--models", "llama-2-7b", "--contexts", "1024,2048", "--format", "csv", "--max-points", "1"]
    result = runner.invoke(cli, args, input=answer)
    assert result.exit_code == code
    assert "The grid has 2 points, more than --max-points 1. Run it?" in result.stderr
    assert len(result.stdout.splitlines()) == (3 if code == 0 else 0)


# --- CLI output ------------------------------------------------------------------------------------

CLI_ARGS = ["sweep", "--models", "llama-2-7b,mixtral", "--formats", "bf16,q4_k_m", "--contexts", "4096",
            "--contexts", "32768", "--batches", "1,8", "--gpus", "h100,8xh100"]
CLI_GRID = Grid(models=("llama-2-7b", "mixtral"), formats=("bf16", "q4_k_m"), contexts=(4096, 32768), batches=(1, 8),
                gpus=(("h100", 1), ("h100", 8)))


def test_cli_csv(runner: CliRunner) -> None:
    """CSV: a header of the point fields, then one row per point with exact integers."""
    result = runner.invoke(cli, [*CLI_ARGS, "--format", "csv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == list(POINT_FIELDS)
    assert rows[0][:6] == ["model", "format", "engine", "context_tokens", "batch_size", "gpu"]
    expected = list(sweep(CLI_GRID))
    assert len(rows) == 1 + len(expected) == 33
    first = expected[0]
    assert rows[1] == [first.model, "bf16", "hf", "4096", "1", "h100-sxm", "1", str(first.weights_bytes),
                       str(first.kv_cache_bytes), str(first.activation_bytes), str(first.overhead_bytes),
                       str(first.total_bytes), str(first.per_gpu_bytes), "true", "1", str(first.decode_tokens_per_s),
                       "true" if first.beyond_max_context else "false"]
    assert {r[2] for r in rows[1:]} == {"hf", "llama.cpp"}  # GGUF formats default to llama.cpp


def test_cli_json(runner: CliRunner) -> None:
    """JSON: one document whose points are objects with the SweepPoint fields, equal to the library's points."""
    result = runner.invoke(cli, [*CLI_ARGS, "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["points"] == [vars(p) for p in sweep(CLI_GRID)]
    assert runner.invoke(cli, [*CLI_ARGS, "--json"]).stdout == result.stdout


def test_cli_table(runner: CliRunner) -> None:
    """The table has one row per point with sizes in GiB and the verdict; a bits-per-weight format says bpw."""
    args = ["sweep", "--models", "llama-2-7b", "--formats", "4,q4_k_m", "--gpus", "h100", "--width", "200"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert [cell.strip() for cell in lines[1].split("┃")[1:-1]] == [
        "Model", "Format", "Engine", "Context", "Batch", "GPUs", "Total (GiB)", "Per GPU (GiB)", "Fits", "Needed",
        "Speed (tok/s)", "Weights (GiB)", "KV cache (GiB)"]
    rows = [[cell.strip() for cell in line.split("│")[1:-1]] for line in lines if "llama-2-7b" in line]
    speeds = [p.decode_tokens_per_s for p in sweep(Grid(models=("llama-2-7b",), formats=("4", "q4_k_m"),
                                                        gpus=(("h100", 1),)))]
    assert [r.pop(10) for r in rows] == [f"~{v:,.0f}" for v in speeds]
    assert rows == [
        ["llama-2-7b", "4 bpw", "hf", "4,096*", "1", "1xh100-sxm", "5.95", "5.95", "yes", "1", "3.14", "2.00"],
        ["llama-2-7b", "q4_k_m", "llama.cpp", "4,096*", "1", "1xh100-sxm", "6.26", "6.26", "yes", "1", "3.80",
         "2.00"],
    ]


def test_cli_grid_file_and_unknown_key(runner: CliRunner, tmp_path: Path) -> None:
    """A YAML grid is read; options replace its keys; an unknown key is named with the file."""
    path = tmp_path / "grid.yaml"
    path.write_text("models: [llama-2-7b]\nformats: [bf16, 4]\ncontexts: [1024, 2048]\n")
    result = runner.invoke(cli, ["sweep", "--grid", str(path), "--contexts", "4096", "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert [r.split(",")[3] for r in result.stdout.splitlines()[1:]] == ["4096", "4096"]
    path.write_text("models: [llama-2-7b]\ncontexs: [1024]\n")
    result = runner.invoke(cli, ["sweep", "--grid", str(path)])
    assert result.exit_code == 1
    assert result.stderr == (f"Error: {path}: unknown key 'contexs' (known: models, formats, contexts, batches, "
                             "gpus, kv_dtype, engine)\n")


def test_cli_no_progress_bar_when_piped(runner: CliRunner) -> None:
    """A large grid written to a pipe shows no progress bar: stderr stays empty."""
    args = ["sweep", "--models", "llama-2-7b", "--contexts", ",".join(str(c) for c in range(1, 301)),
            "--batches", ",".join(str(b) for b in range(1, 201)), "--format", "csv"]
    assert sweep_cmd.PROGRESS_MIN_POINTS <= 300 * 200
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert len(result.stdout.splitlines()) == 60_001


def test_cli_output_file(runner: CliRunner, tmp_path: Path) -> None:
    """--output writes the file (and nothing to stdout); a failed sweep leaves an existing file untouched."""
    target = tmp_path / "sweep.csv"
    result = runner.invoke(cli, [*CLI_ARGS, "--format", "csv", "--output", str(target)])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert target.read_text().splitlines()[0] == ",".join(POINT_FIELDS)
    assert len(target.read_text().splitlines()) == 33
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask  # not the temporary file's 0600
    before = target.read_text()
    result = runner.invoke(cli, ["sweep", "--models", "no-such-model", "--format", "csv", "--output", str(target)])
    assert result.exit_code == 1
    assert target.read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sweep.csv"]  # no temporary file left behind


def test_cli_output_folder_missing(runner: CliRunner, tmp_path: Path) -> None:
    """An --output in a folder that does not exist is a usage error naming the folder, not a traceback."""
    result = runner.invoke(cli, [*CLI_ARGS, "--format", "csv", "--output", str(tmp_path / "nope" / "out.csv")])
    assert result.exit_code == 2
    assert "does not exist" in result.stderr.splitlines()[-1]


def test_gpu_set_count_ignores_case() -> None:
    """A GPU set written 8Xh100 is eight H100s, as in the library's parser."""
    grid = Grid.from_mapping({"models": ["gpt2"], "gpus": ["8Xh100"]}, source="grid")
    assert grid.gpus == (("h100", 8),)


def test_grid_file_counts_take_suffixes() -> None:
    """A grid file's contexts take 32k and 1M as the command line does (k = 1,024)."""
    grid = Grid.from_mapping({"models": ["gpt2"], "contexts": ["32k", "1M", 4096]}, source="grid")
    assert grid.contexts == (32_768, 1_048_576, 4096)


@pytest.mark.parametrize("gpu", ["h100", "rtx-4090", "a100-80gb"])
def test_vllm_points_follow_the_gpus_batch_defaults(gpu: str) -> None:
    """vLLM's batch defaults grow on GPUs of 70 GiB or more other than A100s (EngineArgs.get_batch_defaults):
    a sweep point's activations and totals equal `llmcalc memory`'s for the same GPU."""
    from llmcalc.report import memory_report

    grid = Grid(models=("llama-3.1-8b",), formats=("bf16",), contexts=(8192,), batches=(1,), gpus=((gpu, 1),),
                engine="vllm")
    (p,) = sweep(grid)
    est = memory_report(load_model("llama-3.1-8b"), quant="bf16", gpu=get_gpu(gpu), engine="vllm",
                        context_tokens=8192).formats[0].estimate
    assert (p.activation_bytes, p.kv_cache_bytes, p.total_bytes) == (
        est.activation_bytes, est.kv_cache_bytes, est.total_bytes)
