"""``llmcalc speed``: estimated decode and prefill tokens/s, TTFT and TPOT on a GPU set."""

from __future__ import annotations

import click

from llmcalc.cli.options import (
    Count,
    bpw_option,
    gpu_option,
    gpus_file_option,
    json_option,
    kv_dtype_option,
    model_argument,
    one_value,
    presets_dir_option,
    quant_option,
    width_option,
)


@click.command()
@model_argument()
@quant_option("Named weight format (`llmcalc quant` lists them).  [default: the GGUF q4_k_m on llama.cpp, else bf16]")
@bpw_option("Bits per weight applied to every parameter, instead of --quant.")
@gpu_option("GPU set (`llmcalc gpus` lists them): h100, 2xh100.  [required]")
@click.option("--engine", type=click.Choice(["llama.cpp", "vllm", "mlx", "hf"], case_sensitive=False),
              default="llama.cpp", show_default=True, help="Inference engine.")
@click.option("--backend", type=click.Choice(["cuda", "metal", "rocm", "vulkan"], case_sensitive=False),
              help="GPU backend.  [default: from the GPU vendor: nvidia cuda, apple metal, amd rocm, intel vulkan]")
@click.option("--context", type=Count(minimum=0), default=0, show_default=True, metavar="TOKENS",
              help="Tokens already in the context before the prompt.")
@click.option("--batch", "--concurrency", "concurrency", type=Count(), default=1, show_default=True,
              help="Sequences decoded together (vLLM-style continuous batching).")
@click.option("--prompt-tokens", type=Count(minimum=0), default=512, show_default=True, help="Prompt length.")
@click.option("--gen-tokens", type=Count(), default=128, show_default=True, help="Tokens generated per sequence.")
@kv_dtype_option("KV cache type.")
@json_option
@presets_dir_option
@gpus_file_option
@width_option
def speed(model: str, quant: list[str], bpw: list[str], gpu_set: list[tuple[str, int]], engine: str,
          backend: str | None, context: int, concurrency: int, prompt_tokens: int, gen_tokens: int, kv_dtype: str,
          as_json: bool, presets_dirs: tuple[str, ...], gpus_files: tuple[str, ...], width: int | None) -> None:
    """Estimated speed of MODEL: decode and prefill tokens/s, time to first token, time per output token.

    A roofline with fitted efficiencies and per-layer overheads (`llmcalc/speed.py`); figures are
    estimates with a range. Calibration: benchmarks/speed_calibration.py.
    """
    from llmcalc.gpus import GPUSet, get_gpu
    from llmcalc.loading import load_model
    from llmcalc.speed import default_backend, speed_for

    if not gpu_set:
        raise click.UsageError("--gpu is required (a GPU or a count x GPU: h100, 2xh100)")
    if len({n.lower() for n, _ in gpu_set}) > 1:
        raise click.UsageError("--gpu: one kind of GPU at a time for speed")
    fmt = one_value(quant, "--quant") or one_value(bpw, "--bpw")
    if quant and bpw:
        raise click.UsageError("give --quant or --bpw, not both")
    engine = engine.lower()
    fmt = fmt or ("q4_k_m" if engine == "llama.cpp" else "bf16")
    gpus = GPUSet(get_gpu(gpu_set[0][0], extra_files=gpus_files), sum(n for _, n in gpu_set))
    spec = load_model(model, presets_dirs=presets_dirs).spec
    chosen_backend = (backend or default_backend(gpus.gpu)).lower()
    est = speed_for(spec, fmt=fmt, gpu=gpus.gpu, num_gpus=gpus.count, engine=engine, backend=chosen_backend,
                    context_tokens=context, prompt_tokens=prompt_tokens, gen_tokens=gen_tokens,
                    concurrency=concurrency, kv_dtype=kv_dtype)
    inputs = {"model": spec.name, "format": fmt, "gpu": gpus.gpu.name, "num_gpus": gpus.count, "engine": engine,
              "backend": chosen_backend, "backend_default": backend is None, "context_tokens": context,
              "prompt_tokens": prompt_tokens, "gen_tokens": gen_tokens, "concurrency": concurrency,
              "kv_dtype": kv_dtype}
    if as_json:
        from llmcalc.jsonout import dumps, to_jsonable

        click.echo(dumps({"inputs": inputs, "estimate": True, "bound": est.decode_bound, **to_jsonable(est)}))
        return
    from llmcalc.render.speed import speed_view
    from llmcalc.render.table import emit

    emit(speed_view(inputs, est), width=width)
