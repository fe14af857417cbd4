"""``llmcalc memory``: weights, KV cache, activations and overhead; fit on GPUs; solvers."""

from __future__ import annotations

from functools import partial

import click

from llmcalc.cli.options import (
    Count,
    bpw_option,
    gpu_option,
    gpus_file_option,
    json_option,
    model_argument,
    presets_dir_option,
    quant_option,
    resolve_gpu,
    units_option,
    warn,
    width_option,
)
from llmcalc.units import ByteUnits


@click.command()
@model_argument(required=False)
@bpw_option()
@quant_option()
@click.option("--context", "context", type=Count(), metavar="TOKENS",
              help="Context length per sequence (32k = 32,768).  [default: 4096, or the model's maximum if smaller]")
@click.option("--batch", type=Count(), default=1, show_default=True, help="Sequences in flight.")
@click.option("--kv-dtype", default="f16", show_default=True, metavar="TYPE",
              help="KV cache type: f32, f16, bf16, fp8, q8_0, q4_0.")
@click.option("--engine", metavar="NAME",
              help="Inference engine: hf, vllm, llama.cpp.  [default: llama.cpp for GGUF formats, else hf]")
@gpu_option("Judge the fit on this GPU (`llmcalc gpus` lists them); 2xh100 for two.")
@click.option("--gpus", "num_gpus", type=click.IntRange(min=1), metavar="N",
              help="Number of GPUs (tensor parallel). Without it, llmcalc says how many are needed.")
@click.option("--gpu-memory-utilization", type=click.FloatRange(0, 1, min_open=True), metavar="FRACTION",
              help="vLLM's share of each GPU's memory.  [default: 0.92]")
@click.option("--max-context", "solve_context", is_flag=True, help="Find the largest context that fits (needs --gpu).")
@click.option("--max-batch", "solve_batch", is_flag=True,
              help="Find the largest batch that fits at --context (needs --gpu).")
@click.option("--best-quant", "solve_quant", is_flag=True,
              help="Find the highest-quality named format that fits (needs --gpu).")
@units_option
@json_option
@presets_dir_option
@gpus_file_option
@width_option
def memory(model: str | None, bpw: list[str], quant: list[str], context: int | None, batch: int, kv_dtype: str,
           engine: str | None, gpu_set: list[tuple[str, int]], num_gpus: int | None,
           gpu_memory_utilization: float | None,
           solve_context: bool, solve_batch: bool, solve_quant: bool, units: ByteUnits, as_json: bool,
           presets_dirs: tuple[str, ...], gpus_files: tuple[str, ...], width: int | None) -> None:
    """Memory to run MODEL: exact weights and KV cache, estimated activations and overhead.

    With no MODEL, every preset is shown in one table (with --gpu, which fit).
    """
    from llmcalc.gpus import get_gpu
    from llmcalc.jsonout import dumps
    from llmcalc.quant import QUALITY_ORDER
    from llmcalc.report import memory_report, report_json

    gpu, num_gpus = resolve_gpu(gpu_set, num_gpus)
    overrides: dict[str, object] = {}
    if gpu_memory_utilization is not None:
        overrides["gpu_memory_utilization"] = gpu_memory_utilization
    device = get_gpu(gpu, extra_files=gpus_files) if gpu else None
    run = partial(memory_report, bpws=bpw, quant=quant, context_tokens=context, batch_size=batch,
                  kv_dtype=kv_dtype, engine=engine, gpu=device, num_gpus=num_gpus, solve_context=solve_context,
                  solve_batch=solve_batch, solve_quant=solve_quant, quality_order=QUALITY_ORDER,
                  settings_overrides=overrides)
    if model is None:
        from llmcalc.importers.presets import all_preset_paths, load_preset_file
        from llmcalc.loading import LoadedModel

        loaded_all = [load_preset_file(p) for p in all_preset_paths(extra_dirs=presets_dirs)]
        reports = [run(LoadedModel(p.spec, str(p.path), "preset", p)) for p in loaded_all]
        if as_json:
            click.echo(dumps([report_json(r) for r in reports]))
            return
        from llmcalc.render.memory import all_models_table
        from llmcalc.render.table import emit

        emit(all_models_table(reports, units=units), width=width)
        return
    from llmcalc.loading import load_model

    report = run(load_model(model, presets_dirs=presets_dirs))
    for message in report.warnings:
        warn(message)
    if as_json:
        click.echo(dumps(report_json(report)))
        return
    from llmcalc.render.memory import memory_view
    from llmcalc.render.table import emit

    emit(memory_view(report, units=units), width=width)
