"""``llmcalc memory``: weights, KV cache, activations and overhead; fit on GPUs; solvers."""

from __future__ import annotations

from functools import partial

import click

from llmcalc.cli.media_opts import media_line, media_options, media_request
from llmcalc.cli.options import (
    Count,
    batch_option,
    bpw_option,
    engine_option,
    gpu_option,
    gpus_file_option,
    json_option,
    kv_dtype_option,
    model_argument,
    num_gpus_option,
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
@batch_option
@kv_dtype_option()
@engine_option
@gpu_option("Judge the fit on this GPU (`llmcalc gpus` lists them); 2xh100 for two.")
@num_gpus_option("Number of GPUs (tensor parallel). Without it, llmcalc says how many are needed.")
@click.option("--gpu-memory-utilization", type=click.FloatRange(0, 1, min_open=True), metavar="FRACTION",
              help="vLLM's share of each GPU's memory.  [default: 0.92]")
@click.option("--max-context", "solve_context", is_flag=True, help="Find the largest context that fits (needs --gpu).")
@click.option("--max-batch", "solve_batch", is_flag=True,
              help="Find the largest batch that fits at --context (needs --gpu).")
@click.option("--best-quant", "solve_quant", is_flag=True,
              help="Find the highest-quality named format that fits (needs --gpu).")
@click.option("--offload", "solve_offload", is_flag=True,
              help="Plan CPU offload: the most that fits on --gpu (llama.cpp layers and experts, as --fit does; "
                   "vLLM --cpu-offload-gb).")
@click.option("--gpu-layers", "n_gpu_layers", type=click.IntRange(min=0), metavar="N",
              help="llama.cpp -ngl: the last N of the layers + output on the GPUs.")
@click.option("--n-cpu-moe", type=click.IntRange(min=0), metavar="N",
              help="llama.cpp: the routed experts of the first N layers in system RAM.")
@click.option("--cpu-moe", is_flag=True, help="llama.cpp: every routed expert in system RAM.")
@click.option("--no-kv-offload", is_flag=True, help="llama.cpp -nkvo: the KV cache in system RAM.")
@click.option("--tensor-split", metavar="A,B,...", help="llama.cpp -ts: shares of the layers per GPU.")
@click.option("--cpu-offload-gb", type=click.IntRange(min=0), metavar="GIB",
              help="vLLM: GiB of weights per GPU kept in CPU memory.")
@click.option("--emit", "emit_target", type=click.Choice(["llama.cpp", "vllm"], case_sensitive=False),
              help="Print the command line (llama-server / vllm serve) that realises the plan.")
@click.option("--lora-rank", type=click.IntRange(min=1), default=None, metavar="R",
              help="LoRA adapters served beside the base: their largest rank (vLLM --max-lora-rank).")
@click.option("--lora-count", type=click.IntRange(min=1), default=None, metavar="K",
              help="LoRA adapters resident at once (vLLM --max-loras).")
@click.option("--draft", metavar="MODEL", help="A draft model for speculative decoding (its weights and KV cache).")
@click.option("--mtp", is_flag=True, help="Count the model's multi-token-prediction heads (DeepSeek-V3 style).")
@click.option("--max-num-batched-tokens", type=Count(), metavar="N",
              help="vLLM's token budget per step.  [default: by GPU and entry point]")
@click.option("--max-num-seqs", type=Count(), metavar="N", help="vLLM's sequences per step.  [default: 256 or 1024]")
@click.option("--vllm-entry-point", type=click.Choice(["serve", "llm"]), default="serve", show_default=True,
              help="vLLM's entry point: `vllm serve` (API server) or the LLM class; their batch defaults differ.")
@click.option("--mla-backend", type=click.Choice(["flashmla", "cutlass_mla"]), default=None,
              help="vLLM's MLA kernel: KV blocks of 64 (FlashMLA, Hopper) or 128 tokens (CUTLASS MLA, Blackwell).")
@click.option("--ubatch", "n_ubatch", type=Count(), metavar="N", help="llama.cpp -ub (physical batch).  [default: 512]")
@click.option("--no-flash-attention", is_flag=True,
              help="llama.cpp -fa off: the compute buffer holds the attention scores.")
@media_options
@units_option
@json_option
@presets_dir_option
@gpus_file_option
@width_option
def memory(model: str | None, bpw: list[str], quant: list[str], context: int | None, batch: int, kv_dtype: str,
           engine: str | None, gpu_set: list[tuple[str, int]], num_gpus: int | None,
           gpu_memory_utilization: float | None,
           solve_context: bool, solve_batch: bool, solve_quant: bool, solve_offload: bool, n_gpu_layers: int | None,
           n_cpu_moe: int | None, cpu_moe: bool, no_kv_offload: bool, tensor_split: str | None,
           cpu_offload_gb: int | None, emit_target: str | None, lora_rank: int | None, lora_count: int | None,
           draft: str | None, mtp: bool, max_num_batched_tokens: int | None, max_num_seqs: int | None,
           vllm_entry_point: str, mla_backend: str | None, n_ubatch: int | None, no_flash_attention: bool,
           units: ByteUnits, as_json: bool,
           presets_dirs: tuple[str, ...], gpus_files: tuple[str, ...], width: int | None,
           image_sizes: tuple[tuple[int, int], ...] = (), images: int = 0, audio_seconds: float = 0.0) -> None:
    """Memory to run MODEL: exact weights and KV cache, estimated activations and overhead.

    With no MODEL, every preset is shown in one table (with --gpu, which fit).
    """
    from llmcalc.cli.plan_flags import gpu_list, plan_options, settings_overrides
    from llmcalc.gpus import get_gpu
    from llmcalc.jsonout import dumps
    from llmcalc.quant import QUALITY_ORDER
    from llmcalc.report import memory_report, report_json

    mixed = gpu_list(gpu_set, gpus_files)
    gpu, num_gpus = resolve_gpu(gpu_set, num_gpus) if not mixed else (None, None)
    overrides = settings_overrides(gpu_memory_utilization=gpu_memory_utilization, n_ubatch=n_ubatch,
                                   max_num_batched_tokens=max_num_batched_tokens, max_num_seqs=max_num_seqs,
                                   flash_attention=not no_flash_attention, mla_backend=mla_backend)
    device = get_gpu(gpu, extra_files=gpus_files) if gpu else None
    options = plan_options(solve=solve_offload, n_gpu_layers=n_gpu_layers, n_cpu_moe=n_cpu_moe, cpu_moe=cpu_moe,
                           no_kv_offload=no_kv_offload, tensor_split=tensor_split, cpu_offload_gb=cpu_offload_gb,
                           lora_rank=lora_rank, lora_count=lora_count, draft=draft, mtp=mtp, quant=quant, bpw=bpw,
                           presets_dirs=presets_dirs)
    run = partial(memory_report, bpws=bpw, quant=quant, context_tokens=context, batch_size=batch,
                  kv_dtype=kv_dtype, engine=engine, gpu=device, num_gpus=num_gpus, solve_context=solve_context,
                  solve_batch=solve_batch, solve_quant=solve_quant, quality_order=QUALITY_ORDER,
                  settings_overrides=overrides, gpu_list=mixed, plan_options=options,
                  emit=emit_target.lower() if emit_target else None, vllm_entry_point=vllm_entry_point)
    if model is None and (image_sizes or images or audio_seconds):
        raise click.UsageError("--image, --images and --audio need a MODEL")
    if model is None:
        from llmcalc.importers.presets import all_preset_paths, load_preset_file
        from llmcalc.loading import LoadedModel

        loaded_all = [load_preset_file(p) for p in all_preset_paths(extra_dirs=presets_dirs)]
        reports = [run(LoadedModel(p.spec, str(p.path), "preset", p)) for p in loaded_all]
        if as_json:
            click.echo(dumps([report_json(r) for r in reports], key="models"))
            return
        from llmcalc.render.memory import all_models_table
        from llmcalc.render.table import emit

        emit(all_models_table(reports, units=units), width=width)
        return
    from llmcalc.loading import load_model

    loaded = load_model(model, presets_dirs=presets_dirs)
    media = media_request(loaded.spec, image_sizes, images, audio_seconds)
    report = run(loaded, extra_context_tokens=media.total_tokens if media else 0,
                 encoder_tokens=(media.cross_attention_tokens or None) if media else None)
    for message in report.warnings:
        warn(message)
    if media is not None:
        click.echo(f"Media: {media_line(media)}", err=True)
    if as_json:
        from llmcalc.jsonout import to_jsonable

        media_json = {"media": to_jsonable(media)} if media is not None else {}
        click.echo(dumps({**report_json(report), **media_json}))
        return
    from llmcalc.render.memory import memory_view
    from llmcalc.render.table import emit

    emit(memory_view(report, units=units), width=width)
