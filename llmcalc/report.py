"""Memory reports: one model (or every preset) x weight formats, with fit verdicts and solver answers.

This is the library behind ``llmcalc memory``; a script gets the same numbers by calling
:func:`memory_report`. It chooses the weights (a bits-per-weight, a named format, or the bytes of real
files), the engine default, and runs the estimate, the GPU fit and the requested solvers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from llmcalc.context import check_context
from llmcalc.errors import UsageError
from llmcalc.fit import FitResult, QuantChoice, best_quant, check_fit, gpus_needed, max_batch, max_context
from llmcalc.gpus import GPU
from llmcalc.kvcache import normalise_engine
from llmcalc.loading import LoadedModel
from llmcalc.memory import EngineSettings, MemoryEstimate, engine_settings, estimate_memory, with_batch_defaults
from llmcalc.quality import QualityCost, quality_cost
from llmcalc.quant import WeightsResult, get_format, weights_for_bpw, weights_for_format
from llmcalc.speed import decode_tps_or_none

if TYPE_CHECKING:
    from llmcalc.plans import Plan, PlanOptions

#: Context used when the user gives none (tokens).
DEFAULT_CONTEXT = 4096


@dataclass(frozen=True)
class FormatReport:
    """Everything ``memory`` says about one model in one weight format."""

    estimate: MemoryEstimate
    fit: FitResult | None = None
    needed: FitResult | None = None
    max_context_tokens: int | None = None
    max_batch_size: int | None = None
    max_context_note: str | None = None
    #: The number of GPUs the solver answers are for: --gpus, else the GPUs needed.
    solver_num_gpus: int | None = None
    #: where each part lives under an offload plan (llmcalc.plans), and the command that realises it
    plan: Plan | None = None
    command: str | None = None
    #: GGUF file types: the whole file's bytes (header, metadata, padding; WeightsResult.file_bytes).
    file_bytes: int | None = None
    #: published quality cost of the format (llmcalc.quality), and estimated decode tokens/s per sequence
    #: on the GPU set (llmcalc.speed; None without a GPU or its figures)
    quality: QualityCost | None = None
    decode_tokens_per_s: float | None = None


@dataclass(frozen=True)
class MemoryReport:
    """What ``llmcalc memory MODEL`` says; :func:`report_json` is its ``--json`` form."""

    model: str
    source: str
    engine: str
    engine_default_reason: str
    gpu: str | None
    num_gpus: int
    formats: tuple[FormatReport, ...]
    best_quant: QuantChoice | None = None
    best_quant_searched: bool = False
    warnings: tuple[str, ...] = ()


def choose_engine(engine: str | None, quant: str | Sequence[str] | None, *, kind: str = "") -> tuple[str, str]:
    """The engine and why: as given, else llama.cpp for GGUF formats and .gguf files, else hf.

    With several formats, llama.cpp only when every one of them is a GGUF format.
    """
    if engine:
        return engine, "given"
    quants = [quant] if isinstance(quant, str) else list(quant or ())
    if quants and all(get_format(q).engine_hint == "llama.cpp" for q in quants):
        return "llama.cpp", "default for GGUF formats"
    if kind == "gguf" and not quant:
        return "llama.cpp", "default for GGUF files"
    return "hf", "default"


def stored_weights(loaded: LoadedModel) -> WeightsResult | None:
    """The bytes of real model files as a :class:`WeightsResult` (None for presets and configs)."""
    w = loaded.weights
    if w is None:
        return None
    from llmcalc.quant import TypeBytes

    return WeightsResult(
        format=f"stored ({loaded.kind})",
        params=w.params,
        total_bytes=w.total_bytes,
        bits_per_weight=w.bits_per_weight,
        approximate=False,
        notes=tuple(w.notes),
        by_type=tuple(TypeBytes(name, 0, size) for name, size in w.bytes_by_dtype),
    )


def weights_choices(loaded: LoadedModel, *, bpws: Sequence[str],
                    quant: str | Sequence[str] | None) -> list[WeightsResult]:
    """The weight variants to report: each --bpw, or each --quant, or the stored files, or the preset's
    release format (``native_format``: DeepSeek-V3's block-128 FP8, gpt-oss's MXFP4 experts), or bf16."""
    if bpws and quant:
        raise UsageError("--bpw and --quant both set the weight format; give one of them")
    spec = loaded.spec
    if bpws:
        return [weights_for_bpw(spec, b) for b in bpws]
    if quant:
        quants = [quant] if isinstance(quant, str) else list(quant)
        from llmcalc.gguf_source import gguf_options

        if any(get_format(q).family == "gguf" for q in quants):
            return [weights_for_format(spec, get_format(q), **gguf_options(loaded)) for q in quants]
        return [weights_for_format(spec, get_format(q)) for q in quants]
    stored = stored_weights(loaded)
    if stored is not None:
        return [stored]
    native = loaded.preset.native_format if loaded.preset is not None else None
    if native:
        from dataclasses import replace

        weights = weights_for_format(spec, get_format(native))
        said = (f"weights in {weights.format}, the format {spec.name}'s checkpoint is released in "
                "(no --bpw/--quant given; --quant bf16 for 16-bit)")
        return [replace(weights, notes=(said, *weights.notes))]
    return [weights_for_format(spec, get_format("bf16"))]


def memory_report(
    loaded: LoadedModel,
    *,
    bpws: Sequence[str] = (),
    quant: str | Sequence[str] | None = None,
    context_tokens: int | None = None,
    batch_size: int = 1,
    kv_dtype: str = "f16",
    engine: str | None = None,
    gpu: GPU | None = None,
    num_gpus: int | None = None,
    solve_context: bool = False,
    solve_batch: bool = False,
    solve_quant: bool = False,
    quality_order: Sequence[str] = (),
    settings_overrides: dict[str, object] | None = None,
    gpu_list: Sequence[GPU] = (),
    plan_options: PlanOptions | None = None,
    emit: str | None = None,
    vllm_entry_point: str = "serve",
    extra_context_tokens: int = 0,
    encoder_tokens: int | None = None,
) -> MemoryReport:
    """Estimate memory for each requested weight format, and answer the fit questions asked.

    ``num_gpus`` fixes the GPU count; without it (and with a ``gpu``) the report says how many are
    needed. ``solve_*`` need a ``gpu``. ``gpu_list`` is a mixed set (``rtx4090,rtx3090``): it gets a
    plan, not a tensor-parallel fit. ``plan_options`` (or ``emit``, or a mixed set) asks for an offload
    plan (:mod:`llmcalc.plans`) on llama.cpp or vLLM; ``emit`` (``llama.cpp`` or ``vllm``) also writes
    the command line that realises it, and is the engine when none is given. vLLM's batch defaults
    follow the GPU and ``vllm_entry_point`` (``serve`` or ``llm``) as
    :func:`llmcalc.engines.vllm.batch_defaults` says. ``extra_context_tokens`` (images and audio,
    :func:`llmcalc.media.media_tokens`) join each sequence's context; ``encoder_tokens`` is what
    cross-attention layers cache (Mllama's images).
    """
    if (solve_context or solve_batch or solve_quant or num_gpus) and gpu is None and not gpu_list:
        raise UsageError("--gpus, --max-context, --max-batch and --best-quant need --gpu")
    if gpu_list and (solve_context or solve_batch or solve_quant):
        raise UsageError("--max-context, --max-batch and --best-quant take one kind of GPU; a mixed set gets a plan")
    if emit and not engine:
        engine_name, reason = emit, "for --emit"
    else:
        engine_name, reason = choose_engine(engine, quant, kind=loaded.kind)
    spec = loaded.spec
    ctx = context_tokens or DEFAULT_CONTEXT
    if context_tokens is None and spec.max_context and spec.max_context < ctx:
        ctx = spec.max_context
    ctx += extra_context_tokens  # images and audio in each sequence (llmcalc.media)
    overrides = dict(settings_overrides or {})
    first_gpu = gpu or (min(gpu_list, key=lambda g: g.usable_memory_bytes) if gpu_list else None)
    overrides = with_batch_defaults(engine_name, overrides,
                                    gpu_total_bytes=first_gpu.usable_memory_bytes if first_gpu else None,
                                    gpu_name=first_gpu.name if first_gpu else "", context_tokens=ctx,
                                    entry_point=vllm_entry_point)
    if "gpu_memory_utilization" in overrides and normalise_engine(engine_name) != "vllm":
        raise UsageError(f"--gpu-memory-utilization is vLLM's share of each GPU; engine {engine_name} does not "
                         "take one (give --engine vllm)")
    settings: EngineSettings = engine_settings(engine_name, **overrides)
    if (plan_options is not None or gpu_list or emit) and settings.engine not in ("llama.cpp", "vllm"):
        raise UsageError("offload plans, mixed GPU sets and --emit are for --engine llama.cpp or vllm")
    if plan_options is None and (gpu_list or emit):
        from llmcalc.plans import PlanOptions

        plan_options = PlanOptions()
    from llmcalc.engine_support import FILE_FAMILIES, StoredFormat
    from llmcalc.engine_support import check as check_support

    quants = [quant] if isinstance(quant, str) else list(quant or ())
    checked: list[object] = [get_format(q) for q in quants]
    if not quants and not bpws and loaded.kind in FILE_FAMILIES:  # the files' own weights, e.g. a .gguf on hf
        checked.append(StoredFormat(f"stored ({loaded.kind})", FILE_FAMILIES[loaded.kind]))
    warnings: list[str] = check_support(settings.engine, formats=checked, kv_dtype=kv_dtype)
    check_context(spec, ctx)
    if spec.max_context is None and context_tokens is not None:
        warnings.append(f"{spec.name} states no maximum context; {ctx:,} tokens is not checked against one")
    reports = []
    for weights in weights_choices(loaded, bpws=bpws, quant=quant):
        est = estimate_memory(spec, weights=weights, context_tokens=ctx, batch_size=batch_size,
                              kv_dtype=kv_dtype, settings=settings, encoder_tokens=encoder_tokens)
        fit = needed = None
        mc = mb = None
        if gpu is not None:
            n = num_gpus or 1
            fit = check_fit(spec, est, gpu, n, settings)
            needed = gpus_needed(spec, est, gpu, settings)  # also with --gpus: what would fit when that does not
            if num_gpus is None:
                n = needed.num_gpus if needed else n
            if solve_context:
                mc = max_context(spec, weights=weights, gpu=gpu, num_gpus=n, batch_size=batch_size,
                                 kv_dtype=kv_dtype, settings=settings)
            if solve_batch:
                mb = max_batch(spec, weights=weights, gpu=gpu, context_tokens=ctx, num_gpus=n,
                               kv_dtype=kv_dtype, settings=settings)
        note = None
        if mc is not None and spec.max_context and mc > spec.max_context:
            note = (f"memory allows {mc:,} tokens on {n} x {gpu.name if gpu else ''}, beyond the "
                    f"{spec.max_context:,} the model was trained for")
        elif mc == 0:
            note = "not even one token of context fits"
        plan = command = None
        if plan_options is not None:
            plan, command = _plan(loaded, weights, gpu=gpu, gpu_list=gpu_list, num_gpus=num_gpus, needed=needed,
                                  ctx=ctx, batch_size=batch_size, kv_dtype=kv_dtype, settings=settings,
                                  options=plan_options, emit=emit)
        speed = decode_tps_or_none(spec, weights_bytes=weights.total_bytes, weights_params=weights.params,
                                   fmt=weights.format, gpu=gpu, num_gpus=n, engine=settings.engine,
                                   context_tokens=ctx, batch_size=batch_size, kv_dtype=kv_dtype) if gpu else None
        reports.append(FormatReport(est, fit, needed, mc, mb, note, n if gpu is not None else None,
                                    plan=plan, command=command, file_bytes=weights.file_bytes,
                                    quality=quality_cost(weights.format), decode_tokens_per_s=speed))
    choice = None
    if solve_quant and gpu is not None:
        overrides = settings_overrides or {}

        def engine_for(name: str) -> EngineSettings:
            return settings if engine else engine_settings(choose_engine(None, name)[0], **overrides)

        choice = best_quant(spec, gpu=gpu, context_tokens=ctx, formats=quality_order, num_gpus=num_gpus or 1,
                            batch_size=batch_size, kv_dtype=kv_dtype, settings=engine_for)
    warnings = list(reports[0].estimate.warnings) + warnings  # the same for every format
    return MemoryReport(
        model=spec.name,
        source=loaded.source,
        engine=settings.engine,
        engine_default_reason=reason,
        gpu=gpu.name if gpu else (",".join(g.name for g in gpu_list) if gpu_list else None),
        num_gpus=num_gpus or (len(gpu_list) if gpu_list else 1),
        formats=tuple(reports),
        best_quant=choice,
        best_quant_searched=solve_quant,
        warnings=tuple(warnings),
    )


def _plan(loaded: LoadedModel, weights: WeightsResult, *, gpu: GPU | None, gpu_list: Sequence[GPU],
          num_gpus: int | None, needed: FitResult | None, ctx: int, batch_size: int, kv_dtype: str,
          settings: EngineSettings, options: PlanOptions, emit: str | None) -> tuple[Plan, str | None]:
    """The plan for one format on the GPUs given (vLLM: the count given or needed), and its command."""
    from llmcalc.emit import Adapters, command
    from llmcalc.plans import plan_for

    if gpu_list:
        gpus = list(gpu_list)
    elif gpu is not None:
        count = num_gpus or (needed.num_gpus if needed and settings.engine == "vllm" else 1)
        gpus = [gpu] * count
    else:
        raise UsageError("an offload plan needs --gpu (one GPU, 2xh100, or a mixed set rtx4090,rtx3090)")
    plan = plan_for(loaded.spec, weights=weights, gpus=gpus, context_tokens=ctx, batch_size=batch_size,
                    kv_dtype=kv_dtype, settings=settings, options=options)
    if not emit:
        return plan, None
    adapters = Adapters(lora_rank=options.lora_rank, lora_count=options.lora_count,
                        draft=options.draft[0] if options.draft else None, mtp=options.mtp,
                        mmproj="mmproj-F16.gguf" if loaded.spec.towers and plan.engine == "llama.cpp" else None)
    return plan, command(plan, model_ref=model_reference(loaded, weights, plan.engine), adapters=adapters)


def model_reference(loaded: LoadedModel, weights: WeightsResult, engine: str) -> str:
    """What the command line names: the .gguf file or a placeholder for llama.cpp, the Hugging Face id for vLLM."""
    repo = loaded.preset.hf_repo if loaded.preset is not None else None
    if engine == "llama.cpp":
        if loaded.kind == "gguf":
            return loaded.source
        stem = (repo or loaded.spec.name).rsplit("/", 1)[-1]
        return f"{stem}-{weights.format.upper()}.gguf"
    return repo or loaded.source


#: The byte figures ``--json`` repeats at the top level, from the first (often the only) format.
TOP_LEVEL_KEYS = ("weights_bytes", "kv_cache_bytes", "state_bytes", "activation_bytes", "overhead_bytes",
                  "total_bytes", "exact_bytes", "estimated_bytes", "activation_bytes_low", "activation_bytes_high",
                  "overhead_bytes_low", "overhead_bytes_high", "total_bytes_low", "total_bytes_high",
                  "outside_budget_bytes", "kv_cache_peak_bytes", "kv_cache_steady_bytes", "tower_bytes")


def report_json(report: MemoryReport) -> dict[str, object]:
    """The report as plain JSON data: the inputs used, the first format's figures, then every format.

    ``formats[i]`` holds each format's full estimate (with its KV cache, activation and overhead
    breakdowns), fit and solver answers; the top-level byte keys repeat ``formats[0]``'s so that a
    one-format query reads like ``{"weights_bytes": ..., "kv_cache_bytes": ..., ...}``.
    """
    from llmcalc.jsonout import to_jsonable

    first = report.formats[0].estimate
    data: dict[str, object] = {
        "model": report.model,
        "source": report.source,
        "inputs": {
            "context_tokens": first.context_tokens,
            "batch_size": first.batch_size,
            "kv_dtype": first.kv_dtype,
            "engine": report.engine,
            "engine_reason": report.engine_default_reason,
            "weights_formats": [f.estimate.weights_format for f in report.formats],
            "gpu": report.gpu,
            "num_gpus": report.num_gpus,
        },
        "weights_format": first.weights_format,
    }
    data.update({key: getattr(first, key) for key in TOP_LEVEL_KEYS})
    data["formats"] = to_jsonable(report.formats)
    first_report = report.formats[0]
    if first_report.plan is not None:
        data["plan"] = to_jsonable(first_report.plan)
        data["plan_settings"] = dict(first_report.plan.settings)
        data["command"] = first_report.command
    data["best_quant"] = to_jsonable(report.best_quant)
    data["warnings"] = list(report.warnings)
    return data

