"""The context window: what a model's positional encoding costs and allows, and memory against context.

How a model encodes positions decides what a longer context costs in parameters:

- **learned** absolute positions (GPT-2: Radford et al. 2019, ``wpe`` in ``modeling_gpt2.py``; OPT,
  BERT, GPT-BigCode) are a table of ``rows x d_model`` parameters added to the token embedding. The
  table has ``rows = max_position_embeddings + offset`` rows (OPT reserves ``offset = 2``:
  ``OPTLearnedPositionalEmbedding`` in ``modeling_opt.py``); a longer context needs a longer table.
- **rotary** (RoPE, Su et al. 2021, arXiv 2104.09864; Llama, Mistral, Qwen) rotates queries and keys by
  angles ``position x rope_theta^(-2i/d)``; it has no parameters (``inv_freq`` is a buffer). Its limit is
  the length it was trained at, stretched by rope scaling: Position Interpolation (Chen et al. 2023,
  arXiv 2306.15595) divides positions by a ``factor``; YaRN (Peng et al. 2023, arXiv 2309.00071),
  Llama 3's ``llama3`` and Phi's ``longrope`` scale frequency bands by ``factor`` over
  ``original_max_position_embeddings``.
- **alibi** (Press et al. 2021, arXiv 2108.12409; BLOOM) adds a fixed linear bias ``-m x distance`` per
  head to attention scores: no parameters, and no scaling knob.
- **relative** (T5: Raffel et al. 2020, section 2.1) learns one scalar per bucket of relative distance
  and head, shared by every layer of a stack (``relative_attention_num_buckets x heads``); distances
  past the last bucket share it, so the table does not grow with context.

Every token of context costs KV cache (:mod:`llmcalc.kvcache`). :func:`memory_curve` evaluates
:func:`llmcalc.memory.estimate_memory` (and :func:`llmcalc.fit.check_fit`) at each context, so its
figures are exactly those of ``llmcalc memory``; :func:`crossover_context` finds where the KV cache
overtakes the weights. :func:`context_report` puts it all together for ``llmcalc context``.

Everything here is pure: a spec and keyword arguments in, integers and frozen dataclasses out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from llmcalc.errors import UsageError
from llmcalc.fit import MAX_SOLVER_CONTEXT, check_fit, max_context, smallest_where, usable_bytes
from llmcalc.kvcache import kv_bytes_per_token, kv_cache, normalise_engine, normalise_kv_dtype
from llmcalc.memory import EngineSettings, engine_settings, estimate_memory, with_batch_defaults
from llmcalc.params import count_params, positional_params, token_embedding_params
from llmcalc.spec import ModelSpec
from llmcalc.state import state_bytes

if TYPE_CHECKING:
    from llmcalc.gpus import GPU
    from llmcalc.loading import LoadedModel
    from llmcalc.quant import WeightsResult

#: The largest context llmcalc accepts (tokens): 2^31, beyond any model and any int32 position id.
MAX_CONTEXT_TOKENS = 2**31
#: A context more than this many times the model's maximum is taken for a typing mistake.
MAX_CONTEXT_RATIO = 1000
#: Where the curve stops for a model that records no maximum context (tokens), unless --context is larger.
DEFAULT_CURVE_TOKENS = 131_072
#: The curve starts at 512 tokens, or lower for short models (see :func:`doubling_contexts`).
CURVE_START_TOKENS = 512
#: Bytes per parameter for each ``torch_dtype`` a config.json states.
DTYPE_BYTES = {"float32": 4, "fp32": 4, "float64": 8, "float16": 2, "fp16": 2, "bfloat16": 2, "bf16": 2}
#: Bytes per parameter when the config states no ``torch_dtype``.
DEFAULT_DTYPE_BYTES = 2

ENCODING_LABELS = {
    "learned": "learned absolute table",
    "rotary": "rotary (RoPE)",
    "alibi": "ALiBi (linear attention bias)",
    "relative": "relative position buckets (T5)",
    "none": "none",
}


@dataclass(frozen=True)
class SlidingWindow:
    """``layers`` layers of the main stack attend to (and cache) at most ``window_tokens`` tokens."""

    window_tokens: int
    layers: int


@dataclass(frozen=True)
class ContextInfo:
    """What a model's positional encoding is, allows and costs (see the module docstring).

    ``positional_params`` is the learned table (0 for every encoding but ``learned``);
    ``relative_bias_params`` is T5's bucket table, summed over its stacks. Byte figures are at
    ``dtype_bytes`` per parameter (the config's ``torch_dtype``; ``dtype_assumed`` when it states none).
    ``kv_cache_bytes_per_token`` is one token of one sequence across every decoder layer, before
    sliding-window caps (:func:`llmcalc.kvcache.kv_bytes_per_token`).
    """

    model: str
    positional_encoding: str
    max_context: int | None
    rope_theta: float | None
    rope_scaling_type: str | None
    rope_scaling_factor: float | None
    original_max_context: int | None
    rotary_dim: int | None
    sliding_windows: tuple[SlidingWindow, ...]
    positional_params: int
    positional_bytes: int
    positional_offset: int
    positional_table_rows: int
    relative_bias_params: int
    token_embedding_params: int
    token_embedding_bytes: int
    total_params: int
    positional_share_of_total: float
    kv_cache_bytes_per_token: int
    kv_dtype: str
    engine: str
    dtype: str | None
    dtype_bytes: int
    dtype_assumed: bool
    #: conv + SSM / recurrent state of one sequence (llmcalc.state): constant in context
    state_bytes_per_sequence: int = 0


@dataclass(frozen=True)
class MemoryPoint:
    """Memory at one context length: the parts of :class:`llmcalc.memory.MemoryEstimate`, and the fit.

    ``fits`` and ``per_gpu_total_bytes`` are None when no GPU was given.
    """

    context_tokens: int
    weights_bytes: int
    kv_cache_bytes: int
    activation_bytes: int
    overhead_bytes: int
    total_bytes: int
    per_gpu_total_bytes: int | None
    fits: bool | None
    beyond_max_context: bool
    #: recurrent (conv + SSM) state of state-space / linear-attention layers: the same at every context
    state_bytes: int = 0


@dataclass(frozen=True)
class WindowGrowth:
    """What running at ``context_tokens`` asks of the model, past its trained maximum.

    Learned tables need ``extra_positional_params`` new (untrained) parameters; rotary models need
    ``implied_rope_factor``; ALiBi and T5's buckets need neither. ``warning`` is None within the maximum.
    """

    context_tokens: int
    max_context: int | None
    positional_encoding: str
    table_rows_needed: int
    extra_positional_params: int
    extra_positional_bytes: int
    implied_rope_factor: float | None
    current_rope_factor: float | None
    original_max_context: int | None
    warning: str | None


@dataclass(frozen=True)
class ContextReport:
    """Everything ``llmcalc context`` says about one model; its JSON is ``--json``.

    The first five fields repeat :class:`ContextInfo`'s so that scripts find them at the top level.
    ``first_context_not_fitting`` is the first context of ``series`` that does not fit the GPUs.
    """

    model: str
    positional_encoding: str
    max_context: int | None
    positional_params: int
    kv_cache_bytes_per_token: int
    info: ContextInfo
    weights_format: str
    bits_per_weight: float
    weights_bytes: int
    weights_approximate: bool
    engine: str
    kv_dtype: str
    batch_size: int
    gpu: str | None
    num_gpus: int
    usable_bytes_per_gpu: int | None
    series: tuple[MemoryPoint, ...]
    crossover_context: int | None
    max_context_that_fits: int | None
    first_context_not_fitting: int | None
    window_growth: WindowGrowth | None
    notes: tuple[str, ...] = ()


# --- the positional encoding -------------------------------------------------------------------


def dtype_bytes_of(spec: ModelSpec) -> tuple[int, bool]:
    """Bytes per parameter at the config's ``torch_dtype`` and whether it was assumed (no dtype stated).

    ``float32`` -> 4, ``float16``/``bfloat16`` -> 2; a config without ``torch_dtype`` (GPT-2, OPT-1.3B)
    is taken as 16-bit, how such checkpoints are usually served.
    """
    if spec.torch_dtype is None:
        return DEFAULT_DTYPE_BYTES, True
    key = spec.torch_dtype.strip().lower().removeprefix("torch.")
    if key not in DTYPE_BYTES:
        return DEFAULT_DTYPE_BYTES, True
    return DTYPE_BYTES[key], False


def positional_table_bytes(spec: ModelSpec, *, dtype_bytes: int | None = None) -> int:
    """Bytes of the learned position table: ``(max_position_embeddings + offset) x d_model x dtype_bytes``.

    GPT-2: ``1,024 x 768 = 786,432`` parameters (``wpe``, ``modeling_gpt2.py``); OPT-1.3B:
    ``(2,048 + 2) x 2,048 = 4,198,400`` (``OPTLearnedPositionalEmbedding``, offset 2, ``modeling_opt.py``);
    rotary, ALiBi and relative encodings: 0. ``dtype_bytes`` defaults to the config's ``torch_dtype``.
    """
    size = dtype_bytes if dtype_bytes is not None else dtype_bytes_of(spec)[0]
    return positional_params(spec) * size


def sliding_windows(spec: ModelSpec) -> tuple[SlidingWindow, ...]:
    """The main stack's sliding windows, smallest first, with the number of layers using each."""
    counts: dict[int, int] = {}
    for g in spec.main_stack.groups:
        if g.attention is not None and g.attention.sliding_window is not None:
            counts[g.attention.sliding_window] = counts.get(g.attention.sliding_window, 0) + g.count
    return tuple(SlidingWindow(w, n) for w, n in sorted(counts.items()))


def context_info(
    spec: ModelSpec, *, dtype_bytes: int | None = None, kv_dtype: str = "f16", engine: str = "hf"
) -> ContextInfo:
    """The positional encoding, maximum context, table sizes and KV cost per token of ``spec``.

    ``positional_share_of_total = positional_params / total_params`` (:func:`llmcalc.params.count_params`);
    bytes are ``params x dtype_bytes``, exact integers.
    """
    assumed = False
    if dtype_bytes is None:
        dtype_bytes, assumed = dtype_bytes_of(spec)
    elif dtype_bytes <= 0:
        raise UsageError(f"bytes per parameter must be positive, got {dtype_bytes}")
    pos = spec.positional
    scaling = pos.rope_scaling
    table = positional_params(spec)
    counts = count_params(spec)
    total = counts.total_params
    embed = token_embedding_params(spec)
    return ContextInfo(
        model=spec.name,
        positional_encoding=pos.kind,
        max_context=spec.max_context,
        rope_theta=pos.rope_theta if pos.kind == "rotary" else None,
        rope_scaling_type=scaling.rope_type if scaling else None,
        rope_scaling_factor=scaling.factor if scaling else None,
        original_max_context=scaling.original_max_position_embeddings if scaling else None,
        rotary_dim=pos.rotary_dim if pos.kind == "rotary" else None,
        sliding_windows=sliding_windows(spec),
        positional_params=table,
        positional_bytes=table * dtype_bytes,
        positional_offset=pos.offset,
        positional_table_rows=pos.table_rows,
        relative_bias_params=counts.component("relative_position_bias"),
        token_embedding_params=embed,
        token_embedding_bytes=embed * dtype_bytes,
        total_params=total,
        positional_share_of_total=table / total,
        kv_cache_bytes_per_token=kv_bytes_per_token(spec, kv_dtype=kv_dtype, engine=engine),
        kv_dtype=normalise_kv_dtype(kv_dtype),
        engine=normalise_engine(engine),
        dtype=spec.torch_dtype,
        dtype_bytes=dtype_bytes,
        dtype_assumed=assumed,
        state_bytes_per_sequence=state_bytes(spec, engine=engine, kv_dtype=kv_dtype).bytes_per_sequence,
    )


# --- context lengths ---------------------------------------------------------------------------


def check_context(spec: ModelSpec, context_tokens: int) -> None:
    """Reject a context that cannot be meant: not positive, over 2^31 tokens, or over 1,000 x the maximum."""
    if context_tokens <= 0:
        raise UsageError(f"context must be a positive number of tokens, got {context_tokens:,}")
    if context_tokens > MAX_CONTEXT_TOKENS:
        raise UsageError(
            f"context {context_tokens:,} is more than the {MAX_CONTEXT_TOKENS:,} tokens llmcalc accepts"
        )
    if spec.max_context and context_tokens > MAX_CONTEXT_RATIO * spec.max_context:
        raise UsageError(
            f"context {context_tokens:,} is more than {MAX_CONTEXT_RATIO:,} times {spec.name}'s maximum "
            f"of {spec.max_context:,} tokens"
        )


def doubling_contexts(top: int, *, extra: Iterable[int] = ()) -> tuple[int, ...]:
    """Powers of two from a start up to ``top``, then ``top`` itself, plus ``extra``, sorted and unique.

    The start is 512 tokens, or ``top / 16`` rounded down to a power of two when that is smaller, so a
    short model still gets five rows (GPT-2, 1,024: 64, 128, 256, 512, 1,024).
    """
    if top <= 0:
        raise UsageError(f"context must be a positive number of tokens, got {top:,}")
    start = min(CURVE_START_TOKENS, 1 << max(0, (top // 16).bit_length() - 1))
    points = set()
    c = start
    while c < top:
        points.add(c)
        c *= 2
    points.add(top)
    points.update(extra)
    return tuple(sorted(points))


def curve_contexts(spec: ModelSpec, context_tokens: int | None = None) -> tuple[int, ...]:
    """The contexts ``llmcalc context`` tabulates: doublings up to the larger of the maximum and ``context_tokens``.

    Both the maximum and ``context_tokens`` are in the list. Without a recorded maximum the curve runs to
    ``context_tokens`` or :data:`DEFAULT_CURVE_TOKENS`.
    """
    top = spec.max_context or DEFAULT_CURVE_TOKENS
    extra: list[int] = []
    if context_tokens is not None:
        extra.append(context_tokens)
        if spec.max_context is None:
            top = context_tokens
        elif context_tokens > top:
            extra.append(top)
            top = context_tokens
    return doubling_contexts(top, extra=extra)


# --- memory against context --------------------------------------------------------------------


def memory_curve(
    spec: ModelSpec,
    *,
    weights: WeightsResult,
    contexts: Sequence[int] | None = None,
    batch_size: int = 1,
    kv_dtype: str = "f16",
    engine: str = "hf",
    settings: EngineSettings | None = None,
    gpu: GPU | None = None,
    num_gpus: int = 1,
    encoder_tokens: int | None = None,
) -> tuple[MemoryPoint, ...]:
    """Memory at each of ``contexts`` (default :func:`curve_contexts`): :func:`~llmcalc.memory.estimate_memory`
    at each point, and with a ``gpu`` :func:`~llmcalc.fit.check_fit` on ``num_gpus`` of them.

    ``total = weights + kv_cache(context) + activations(context) + overhead``; weights are the trained
    model's at every point (a longer learned table is in :func:`grow_window`, not here).
    ``encoder_tokens`` is what cross-attention layers cache at every point (Mllama's images).
    """
    settings = settings or engine_settings(engine)
    points = []
    for ctx in contexts if contexts is not None else curve_contexts(spec):
        est = estimate_memory(spec, weights=weights, context_tokens=ctx, batch_size=batch_size,
                              kv_dtype=kv_dtype, settings=settings, encoder_tokens=encoder_tokens)
        fit = check_fit(spec, est, gpu, num_gpus, settings) if gpu is not None else None
        points.append(MemoryPoint(
            context_tokens=ctx,
            weights_bytes=est.weights_bytes,
            kv_cache_bytes=est.kv_cache_bytes,
            activation_bytes=est.activation_bytes,
            overhead_bytes=est.overhead_bytes,
            total_bytes=est.total_bytes,
            per_gpu_total_bytes=fit.per_gpu.total_bytes if fit else None,
            fits=fit.fits if fit else None,
            beyond_max_context=bool(spec.max_context and ctx > spec.max_context),
            state_bytes=est.state_bytes,
        ))
    return tuple(points)


def crossover_context(
    spec: ModelSpec,
    *,
    weights_bytes: int,
    batch_size: int = 1,
    kv_dtype: str = "f16",
    engine: str = "hf",
    settings: EngineSettings | None = None,
    limit: int = MAX_CONTEXT_TOKENS,
) -> int | None:
    """The smallest context ``c`` with ``kv_cache(c) >= weights_bytes``; None if not reached by ``limit``.

    The KV cache never shrinks as context grows, so a binary search over the exact
    :func:`llmcalc.kvcache.kv_cache` (with the engine's rounding and window caps) gives
    ``kv(c - 1) < weights <= kv(c)``. None for models whose cache stops growing below the weights
    (every layer windowed, Mistral-7B-v0.1 at small batch on vLLM or llama.cpp; transformers' windowed
    layers hold the whole prompt right after the prefill) or that keep none (encoder-only).
    """
    settings = settings or engine_settings(engine)

    def kv(ctx: int) -> int:
        return kv_cache(spec, context_tokens=ctx, batch_size=batch_size, kv_dtype=kv_dtype,
                        engine=settings.engine, cache=settings.cache).total_bytes

    return smallest_where(lambda ctx: kv(ctx) >= weights_bytes, 1, limit)


# --- growing the window ------------------------------------------------------------------------


def grow_window(spec: ModelSpec, context_tokens: int, *, dtype_bytes: int | None = None) -> WindowGrowth:
    """What ``context_tokens`` asks of the model beyond the context it was trained for.

    - learned: ``extra = (context + offset - table_rows) x d_model`` new parameters (GPT-2 at 2,048:
      ``1,024 x 768 = 786,432``), untrained until the model is fine-tuned.
    - rotary: ``implied factor = context / original_max_position_embeddings`` (or
      ``max_position_embeddings`` when the config has no rope scaling), the factor Position
      Interpolation or YaRN would need; the config's current factor is reported beside it.
    - alibi, relative: nothing to add and no factor to set.

    Within the maximum nothing is needed and ``warning`` is None. A model with no recorded maximum
    gets a warning that its limit is unknown.
    """
    check_context(spec, context_tokens)
    size = dtype_bytes if dtype_bytes is not None else dtype_bytes_of(spec)[0]
    pos = spec.positional
    scaling = pos.rope_scaling
    maximum = spec.max_context
    rows_needed = context_tokens + pos.offset if pos.kind == "learned" else 0
    extra = max(0, rows_needed - pos.table_rows) * spec.hidden_size if pos.kind == "learned" else 0
    original = scaling.original_max_position_embeddings if scaling else None
    factor = None
    if pos.kind == "rotary" and maximum:
        base = original or maximum
        factor = context_tokens / base
    untrained = "the model was not trained for this context, expect degraded output unless it is fine-tuned"
    warning: str | None = None
    if maximum is None:
        warning = (f"no maximum context is recorded for {spec.name}; whether it handles "
                   f"{context_tokens:,} tokens is unknown")
    elif context_tokens > maximum:
        head = f"{context_tokens:,} tokens is beyond {spec.name}'s maximum of {maximum:,}"
        if pos.kind == "learned":
            warning = (f"{head}: its learned position table would need {rows_needed - pos.table_rows:,} more rows, "
                       f"{extra:,} new untrained parameters; {untrained}")
        elif pos.kind == "rotary" and scaling is not None:
            assert factor is not None
            warning = (f"{head}: rope scaling {scaling.rope_type} stretches {original or maximum:,} positions by "
                       f"a factor of {scaling.factor:g}; this context needs a factor of {factor:g} "
                       f"({factor / scaling.factor:g}x the current); {untrained}")
        elif pos.kind == "rotary":
            warning = (f"{head}: it has no rope scaling; this context needs a factor of {factor:g} over its "
                       f"{maximum:,} positions (Position Interpolation or YaRN); {untrained}")
        elif pos.kind == "alibi":
            warning = f"{head}: ALiBi adds no parameters and has no factor to set; {untrained}"
        elif pos.kind == "relative":
            warning = (f"{head}: its relative position buckets stay as they are (distances past the last "
                       f"bucket share it); {untrained}")
        else:
            warning = f"{head}: {untrained}"
    return WindowGrowth(
        context_tokens=context_tokens,
        max_context=maximum,
        positional_encoding=pos.kind,
        table_rows_needed=rows_needed,
        extra_positional_params=extra,
        extra_positional_bytes=extra * size,
        implied_rope_factor=factor,
        current_rope_factor=scaling.factor if scaling else None,
        original_max_context=original,
        warning=warning,
    )


# --- the report --------------------------------------------------------------------------------


def context_report(
    loaded: LoadedModel,
    *,
    bpw: str | None = None,
    quant: str | None = None,
    context_tokens: int | None = None,
    batch_size: int = 1,
    kv_dtype: str = "f16",
    engine: str | None = None,
    gpu: GPU | None = None,
    num_gpus: int | None = None,
    encoder_tokens: int | None = None,
) -> ContextReport:
    """Everything ``llmcalc context`` shows: the encoding, the curve, the crossover, the fit and the growth.

    Weights are chosen as ``llmcalc memory`` chooses them (``--bpw``, ``--quant``, the stored files,
    else bf16), and so is the engine, with vLLM's batch defaults for the GPU
    (:func:`llmcalc.memory.with_batch_defaults`). ``encoder_tokens`` is what cross-attention
    layers cache (Mllama's image tokens), the same at every point of the curve.
    """
    from llmcalc.report import choose_engine, weights_choices

    if num_gpus is not None and gpu is None:
        raise UsageError("--gpus needs --gpu")
    if batch_size <= 0:
        raise UsageError(f"batch size must be positive, got {batch_size}")
    spec = loaded.spec
    if context_tokens is not None:
        check_context(spec, context_tokens)
    engine_name, _ = choose_engine(engine, quant, kind=loaded.kind)
    top = context_tokens or spec.max_context or DEFAULT_CURVE_TOKENS
    settings = engine_settings(engine_name, **with_batch_defaults(
        engine_name, {}, gpu_total_bytes=gpu.usable_memory_bytes if gpu else None, gpu_name=gpu.name if gpu else "",
        context_tokens=top))
    weights = weights_choices(loaded, bpws=[bpw] if bpw else [], quant=quant)[0]
    info = context_info(spec, kv_dtype=kv_dtype, engine=settings.engine)
    contexts = curve_contexts(spec, context_tokens)
    n = num_gpus or 1
    series = memory_curve(spec, weights=weights, contexts=contexts, batch_size=batch_size, kv_dtype=kv_dtype,
                          settings=settings, gpu=gpu, num_gpus=n, encoder_tokens=encoder_tokens)
    crossover = crossover_context(spec, weights_bytes=weights.total_bytes, batch_size=batch_size,
                                  kv_dtype=kv_dtype, settings=settings)
    fits_max = first_out = None
    if gpu is not None:
        fits_max = max_context(spec, weights=weights, gpu=gpu, num_gpus=n, batch_size=batch_size,
                               kv_dtype=kv_dtype, settings=settings,
                               limit=max(MAX_SOLVER_CONTEXT, contexts[-1]), encoder_tokens=encoder_tokens)
        first_out = next((p.context_tokens for p in series if p.fits is False), None)
    growth = None
    if context_tokens is not None and (spec.max_context is None or context_tokens > spec.max_context):
        growth = grow_window(spec, context_tokens, dtype_bytes=info.dtype_bytes)
    return ContextReport(
        model=spec.name,
        positional_encoding=info.positional_encoding,
        max_context=info.max_context,
        positional_params=info.positional_params,
        kv_cache_bytes_per_token=info.kv_cache_bytes_per_token,
        info=info,
        weights_format=weights.format,
        bits_per_weight=weights.bits_per_weight,
        weights_bytes=weights.total_bytes,
        weights_approximate=weights.approximate,
        engine=settings.engine,
        kv_dtype=info.kv_dtype,
        batch_size=batch_size,
        gpu=gpu.name if gpu else None,
        num_gpus=n,
        usable_bytes_per_gpu=usable_bytes(gpu, settings) if gpu else None,
        series=series,
        crossover_context=crossover,
        max_context_that_fits=fits_max,
        first_context_not_fitting=first_out,
        window_growth=growth,
        notes=tuple(_notes(spec, info, crossover, context_tokens)),
    )


def _notes(spec: ModelSpec, info: ContextInfo, crossover: int | None, context_tokens: int | None) -> list[str]:
    notes = []
    if info.max_context is None:
        top = context_tokens or DEFAULT_CURVE_TOKENS
        notes.append(f"no maximum context is recorded for {spec.name}; the curve runs to {top:,} tokens")
    if info.dtype_assumed:
        notes.append(f"{spec.name}'s config states no torch_dtype; table bytes assume "
                     f"{info.dtype_bytes} bytes per parameter")
    if spec.architecture == "encoder":
        notes.append(f"{spec.name} is encoder-only: it keeps no KV cache")
    elif spec.architecture == "encoder-decoder":
        notes.append("the KV cache includes cross-attention K and V of an encoder input as long as the context")
    if crossover is None and info.kv_cache_bytes_per_token:
        notes.append("the KV cache stays below the weights at every context up to 2^31 tokens")
    for w in info.sliding_windows:
        if info.max_context and w.window_tokens >= info.max_context:
            notes.append(f"the {w.window_tokens:,}-token sliding window of {w.layers} layers is not smaller "
                         "than the maximum context, so it never limits the cache")
    return notes
