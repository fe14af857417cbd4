"""Inference memory: exact weights and KV cache, estimated activations and runtime overhead.

``total = weights + kv_cache + activations + overhead``. The first two are exact for the format and
engine given (:mod:`llmcalc.quant`, :mod:`llmcalc.kvcache`); the last two are **estimates**, each a
named formula below with its source, and are always reported apart from the exact parts.

Engines and their defaults (all overridable through :class:`EngineSettings`):

- ``hf``: Hugging Face transformers ``generate()`` on one GPU per process, the prompt prefilled in
  one forward pass with SDPA/flash attention (no ``T x T`` score matrix), logits kept for the last
  token only (``logits_to_keep=1``). Right after the prefill, sliding-window layers still hold the
  whole prompt's K/V (measured), so the KV cache figure is that peak, what the cache object holds
  after a prefill of the context (:mod:`llmcalc.kvcache`); the window-capped figure once decoding
  has started is :attr:`MemoryEstimate.kv_cache_steady_bytes`. Overhead is the CUDA context and the
  caching allocator's rounding (:mod:`llmcalc.engines.hf`).
- ``vllm``: vLLM's V1 engine. Activations are what its start-up profiling pass peaks at
  (``max_num_batched_tokens`` tokens through the model plus a sampler pass over ``max_num_seqs``
  rows, ``vllm/v1/worker/gpu_worker.py``), with the batch defaults of
  :func:`llmcalc.engines.vllm.batch_defaults`; the engine then claims
  ``gpu_memory_utilization x GPU memory`` (0.92 in current releases, 0.9 before) and fills what is
  left with KV blocks, so a fit is judged against that fraction. The CUDA context, NCCL's
  communicators and (by default) CUDA graphs are outside that budget (:mod:`llmcalc.engines.vllm`):
  they are :attr:`MemoryEstimate.outside_budget_bytes`, not part of the total.
- ``llama.cpp``: the compute buffer that ``ggml_backend_sched_reserve`` sizes for ``n_ubatch`` (512)
  tokens, flash attention on by default (:mod:`llmcalc.engines.llamacpp`).

**Ranges.** The estimated parts carry a low-high range (``activation_bytes_low/high``,
``overhead_bytes_low/high``, ``total_bytes_low/high``) from the measured and published spread named
in each engine's module; the point figures (``activation_bytes``, ``overhead_bytes``) are the
formulas themselves, the low end of what was measured.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING

from llmcalc.errors import UsageError
from llmcalc.kvcache import EngineCache, KVCacheEstimate, kv_cache, normalise_engine, normalise_kv_dtype
from llmcalc.spec import LayerGroup, ModelSpec
from llmcalc.state import StateEstimate, state_bytes
from llmcalc.units import MIB

#: Bytes of cuBLAS workspace and similar allocations vLLM makes after its baseline, per GPU, when
#: more than one GPU is used (NCCL buffers during the profiling forward pass, custom all-reduce).
VLLM_NCCL_INSIDE_BYTES = 512 * MIB
#: CUDA graphs "typically 0.1-1 GiB" (vLLM PR #21489): (low, point, high)
CUDA_GRAPH_BYTES = (100 * MIB, 512 * MIB, 1024 * MIB)

if TYPE_CHECKING:
    from llmcalc.quant import WeightsResult


@dataclass(frozen=True)
class EngineSettings:
    """The knobs of an inference engine that change its memory; defaults per engine in :func:`engine_settings`."""

    engine: str
    #: bytes of activations per value (bf16/fp16 on GPU frameworks; ggml computes in fp32)
    activation_bytes: int = 2
    #: tokens in one forward pass at prefill (None: the whole prompt, as transformers does)
    prefill_chunk_tokens: int | None = None
    #: rows of logits kept in fp32 at once (None: the batch size)
    logits_rows: int | None = None
    #: fp32 copies of the logits the sampler holds (logits, probabilities, sorted copy)
    logits_copies: int = 1
    #: CUDA context plus library workspaces (cuBLAS), per GPU
    cuda_context_bytes: int = 512 * MIB
    #: CUDA graphs captured by the engine, per GPU
    cuda_graph_bytes: int = 0
    #: allocator fragmentation and cache, as a fraction of weights + KV + activations
    allocator_reserve_fraction: float = 0.0
    #: NCCL communicator buffers, per GPU, when more than one GPU is used
    multi_gpu_bytes: int = 512 * MIB
    #: the share of each GPU's memory the engine lets itself use
    gpu_memory_utilization: float = 1.0
    #: vLLM's max_num_batched_tokens and llama.cpp's n_ubatch, for the KV cache's window rules
    max_num_batched_tokens: int = 8192
    n_ubatch: int = 512
    #: vLLM's max_num_seqs (sampler rows of the profiling run)
    max_num_seqs: int = 256
    #: vLLM's KV block for MLA models (64 FlashMLA, 128 CUTLASS MLA)
    mla_block_tokens: int = 64
    #: llama.cpp flash attention (off: the compute buffer holds n_ubatch x n_ctx x heads fp32 scores)
    flash_attention: bool = True
    #: vLLM: CUDA context + NCCL communicators + CUDA graphs, per GPU, outside gpu_memory_utilization
    outside_budget_bytes: int = 0
    #: vLLM: the part of that present at its baseline (the CUDA context), which must fit beside the budget
    outside_context_bytes: int = 0

    def __post_init__(self) -> None:
        if not 0 < self.gpu_memory_utilization <= 1:
            raise UsageError(
                f"gpu_memory_utilization must be in (0, 1], got {self.gpu_memory_utilization}"
            )

    @property
    def cache(self) -> EngineCache:
        return EngineCache(self.engine, max_num_batched_tokens=self.max_num_batched_tokens, n_ubatch=self.n_ubatch,
                           latent_block_tokens=self.mla_block_tokens if self.engine == "vllm" else 16)


def engine_settings(engine: str, **overrides: object) -> EngineSettings:
    """Defaults for ``hf``, ``vllm`` or ``llama.cpp``, with ``overrides`` applied.

    Sources: the CUDA context (274-636 MiB, 512 MiB taken) in :mod:`llmcalc.engines.hf`; vLLM's
    ``gpu_memory_utilization`` 0.92 and its batch defaults for ``vllm serve`` on a GPU under 70 GiB
    (2,048 batched tokens, 256 sequences: :func:`llmcalc.engines.vllm.batch_defaults`; the report
    passes a named GPU's), CUDA graphs "typically 0.1-1 GiB" (vLLM PR #21489) outside vLLM's budget
    with the CUDA context; llama.cpp ``n_ubatch`` 512 (``common/common.h``), fp32 compute, flash
    attention on. ``VLLM_MEMORY_PROFILER_ESTIMATE_CUDAGRAPHS=1`` is ``cuda_graph_bytes=...,
    outside_budget_bytes=<context only>``.
    """
    name = normalise_engine(engine)
    base: dict[str, object]
    if name == "vllm":
        from llmcalc.engines import vllm

        tokens, seqs = vllm.batch_defaults(gpu_total_bytes=None)
        base = dict(prefill_chunk_tokens=tokens, logits_rows=seqs, max_num_seqs=seqs, logits_copies=3,
                    cuda_context_bytes=0, cuda_graph_bytes=0, multi_gpu_bytes=VLLM_NCCL_INSIDE_BYTES,
                    outside_budget_bytes=512 * MIB + CUDA_GRAPH_BYTES[1], outside_context_bytes=512 * MIB,
                    gpu_memory_utilization=vllm.DEFAULT_GPU_MEMORY_UTILIZATION)
    elif name == "llama.cpp":
        base = dict(activation_bytes=4, prefill_chunk_tokens=512, logits_rows=512, cuda_context_bytes=384 * MIB)
    else:
        base = dict()
    base.update(overrides)
    if name == "llama.cpp" and "n_ubatch" in overrides:
        for key in ("prefill_chunk_tokens", "logits_rows"):
            if key not in overrides:
                base[key] = overrides["n_ubatch"]
    if name == "vllm":
        if "max_num_batched_tokens" in overrides and "prefill_chunk_tokens" not in overrides:
            base["prefill_chunk_tokens"] = overrides["max_num_batched_tokens"]
        if "max_num_seqs" in overrides and "logits_rows" not in overrides:
            base["logits_rows"] = overrides["max_num_seqs"]
    settings = EngineSettings(engine=name, **base)  # type: ignore[arg-type]
    if name == "vllm" and "max_num_batched_tokens" not in overrides:
        settings = _replace(settings, max_num_batched_tokens=settings.prefill_chunk_tokens or 8192)
    return settings


def with_batch_defaults(
    engine: str,
    overrides: dict[str, object],
    *,
    gpu_total_bytes: int | None,
    gpu_name: str = "",
    context_tokens: int,
    entry_point: str = "serve",
) -> dict[str, object]:
    """``overrides`` plus vLLM's batch defaults for the GPU and context when the user set none.

    ``max_num_batched_tokens`` and ``max_num_seqs`` from :func:`llmcalc.engines.vllm.batch_defaults`
    (``EngineArgs.get_batch_defaults``: larger on GPUs of 70 GiB or more, other than A100s, and on the
    ``LLM`` class); what ``llmcalc memory`` and ``llmcalc sweep`` pass to :func:`engine_settings`.
    Other engines' overrides are returned as given.
    """
    out = dict(overrides)
    if normalise_engine(engine) == "vllm" and "max_num_batched_tokens" not in out:
        from llmcalc.engines.vllm import batch_defaults

        tokens, seqs = batch_defaults(gpu_total_bytes=gpu_total_bytes, gpu_name=gpu_name, entry_point=entry_point,
                                      max_model_len=context_tokens)
        out["max_num_batched_tokens"] = tokens
        out.setdefault("max_num_seqs", seqs)
    return out


def _replace(settings: EngineSettings, **changes: object) -> EngineSettings:
    from dataclasses import replace

    return replace(settings, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True)
class ActivationEstimate:
    """Peak transient activations during a forward pass (an estimate)."""

    tokens_in_flight: int
    values_per_token: int
    hidden_bytes: int
    logits_bytes: int
    total_bytes: int
    #: llama.cpp without flash attention: the fp32 ``n_ubatch x n_ctx x heads`` attention scores
    scores_bytes: int = 0
    #: llama.cpp: the KQ mask (``n_ctx x n_ubatch``, F16 with flash attention, F32 without)
    mask_bytes: int = 0
    #: the range of ``total_bytes`` from the measured spread (:mod:`llmcalc.engines`)
    total_bytes_low: int = 0
    total_bytes_high: int = 0


def _layer_working_values(group: LayerGroup, hidden: int) -> int:
    """Values alive per token inside one layer at its peak (an estimate).

    Residual stream and normed input (``2H``) plus the larger of the attention projections
    (``q + k + v + attention output``) and the MLP's intermediate tensors (gate, up and their
    product: ``3 I``, or ``2 I`` for a plain MLP; for MoE, each token's ``experts_per_token`` expert
    widths plus the shared expert).
    """
    attn = group.attention
    if attn is not None:
        q = attn.num_heads * attn.head_dim
        kv = attn.num_kv_heads * (attn.head_dim + attn.v_head_dim)
        attention = q + kv + attn.num_heads * attn.v_head_dim
    elif group.mixer is not None:  # a state-space / linear-attention block: its widest projection
        attention = max((w.shape[-1] for w in group.mixer.weights(hidden) if w.kind == "linear"), default=hidden)
    else:
        attention = 0
    if group.mlp is not None:
        mlp = group.mlp.matrices * group.mlp.intermediate_size
    elif group.moe is None:
        mlp = 0
    else:
        moe = group.moe
        per = moe.expert.matrices * moe.expert.intermediate_size
        mlp = moe.experts_per_token * per
        if moe.shared_expert is not None:
            mlp += moe.shared_expert.matrices * moe.shared_expert.intermediate_size
    return 2 * hidden + max(attention, mlp)


def activation_estimate(
    spec: ModelSpec, *, context_tokens: int, batch_size: int, settings: EngineSettings
) -> ActivationEstimate:
    """Estimated peak activations: one layer's working set for the tokens of one forward pass, plus logits.

    ``tokens = min(batch x context, prefill_chunk)`` (all of the prompt for transformers, vLLM's
    ``max_num_batched_tokens``, llama.cpp's ``n_ubatch``), ``hidden = tokens x values_per_token x
    activation_bytes`` with ``values_per_token`` from the widest layer (:func:`_layer_working_values`),
    and ``logits = rows x vocab x 4 x copies`` (fp32). Layers run one at a time, so only one layer's
    intermediates are alive (activation checkpointing is irrelevant at inference).
    Not included: attention score matrices (flash/SDPA kernels do not materialise them; eager attention
    would add ``batch x heads x T^2 x 2`` bytes; llama.cpp without flash attention is modelled:
    ``n_ubatch x n_ctx x heads x 4``), MoE dispatch buffers, and vision towers. (The whole-prompt
    K/V that transformers' sliding-window layers hold right after prefill is in the KV cache
    figure, :func:`llmcalc.kvcache.kv_cache`.)
    The range (``total_bytes_low/high``) multiplies the formula by the engine's ``ACTIVATION_RANGE``.
    How far off it is: vLLM's start-up log as published in the llm-d benchmark table (H100,
    ``max_num_batched_tokens`` 16,384, 1,024 sequences) shows a peak activation of 4.76 GiB for
    Llama-3.1-8B and 7.38 GiB for gpt-oss-20b; this formula, with those settings, gives 3.03 GiB and
    3.53 GiB: it underestimates vLLM's profiling peak by 35-50% (fused-MoE scratch buffers and the
    sampler's extra copies are not modelled).
    """
    if settings.prefill_chunk_tokens is None:
        tokens = batch_size * context_tokens
    else:
        tokens = min(batch_size * context_tokens, settings.prefill_chunk_tokens)
    values = max(_layer_working_values(g, spec.hidden_size) for s in spec.stacks for g in s.groups)
    hidden_bytes = tokens * values * settings.activation_bytes
    rows = batch_size if settings.logits_rows is None else min(settings.logits_rows, max(tokens, batch_size))
    logits = rows * spec.vocab_size * 4 * settings.logits_copies if spec.lm_head != "none" else 0
    scores = mask = 0
    if settings.engine == "llama.cpp":
        padded = -(-context_tokens // 256) * 256
        if not settings.flash_attention:
            heads = max((g.attention.num_heads for g in spec.main_stack.groups if g.attention), default=0)
            scores = tokens * padded * heads * 4
        if any(g.attention is not None for g in spec.main_stack.groups):
            # the KQ mask, a graph input of n_kv x n_ubatch made F16 for flash attention and F32 without
            # (src/llama-graph.cpp build_attn_inp_kq_mask); inputs stay alive through the whole graph
            mask = tokens * padded * (2 if settings.flash_attention else 4)
        # ggml's allocator reuses buffers: the peak is inside a layer (its tensors beside the attention
        # scores) or at the output (the logits), not their sum.
        total = max(hidden_bytes + scores, logits) + mask
    else:
        total = hidden_bytes + logits
    low_f, high_f = _activation_range(settings.engine)
    formula = total
    return ActivationEstimate(
        tokens_in_flight=tokens,
        values_per_token=values,
        hidden_bytes=hidden_bytes,
        logits_bytes=logits,
        total_bytes=total,
        scores_bytes=scores,
        mask_bytes=mask,
        total_bytes_low=int(formula * low_f),
        total_bytes_high=-(-formula * high_f.numerator // high_f.denominator),
    )


def _activation_range(engine: str) -> tuple[Fraction, Fraction]:
    from llmcalc.engines import rules

    low, high = rules(engine).ACTIVATION_RANGE
    return Fraction(low), Fraction(high)


@dataclass(frozen=True)
class OverheadEstimate:
    """Runtime memory outside the model's tensors, per GPU (an estimate)."""

    cuda_context_bytes: int
    cuda_graph_bytes: int
    allocator_reserve_bytes: int
    multi_gpu_bytes: int
    total_bytes: int
    #: the range of ``total_bytes``: the engine's CUDA context range; for transformers the high end adds
    #: the caching allocator's rounding of the weights (:func:`llmcalc.engines.hf.reserved_bytes`)
    total_bytes_low: int = 0
    total_bytes_high: int = 0
    #: transformers: segments the caching allocator reserves beyond the weights (in the high end only)
    allocator_rounding_bytes: int = 0


def overhead_estimate(
    settings: EngineSettings, *, tensor_bytes: int, num_gpus: int = 1, allocator_rounding_bytes: int = 0
) -> OverheadEstimate:
    """CUDA context + CUDA graphs + allocator slack (a fraction of ``tensor_bytes``) + NCCL buffers.

    Per GPU; ``tensor_bytes`` is what that GPU holds of weights, KV cache and activations. The
    fraction is 0 by default for every engine (transformers' former flat 5% is replaced by the caching
    allocator's modelled rounding, in the high end of the range: ``allocator_rounding_bytes``). For
    vLLM the CUDA context and graphs are outside its budget (``settings.outside_budget_bytes``) and
    not counted here.
    """
    reserve = int(tensor_bytes * settings.allocator_reserve_fraction)
    nccl = settings.multi_gpu_bytes if num_gpus > 1 else 0
    total = settings.cuda_context_bytes + settings.cuda_graph_bytes + reserve + nccl
    low = high = total
    if settings.cuda_context_bytes:
        from llmcalc.engines import rules

        c_low, c_point, c_high = rules(settings.engine).CUDA_CONTEXT_BYTES
        low = max(0, total + c_low - c_point)
        high = total + c_high - c_point
    return OverheadEstimate(
        cuda_context_bytes=settings.cuda_context_bytes,
        cuda_graph_bytes=settings.cuda_graph_bytes,
        allocator_reserve_bytes=reserve,
        multi_gpu_bytes=nccl,
        total_bytes=total,
        total_bytes_low=low,
        total_bytes_high=high + allocator_rounding_bytes,
        allocator_rounding_bytes=allocator_rounding_bytes,
    )


def outside_budget_range(settings: EngineSettings) -> tuple[int, int]:
    """vLLM: the (low, high) of what sits outside ``gpu_memory_utilization`` per GPU: CUDA context + graphs.

    0 for the other engines. From the CUDA context range (:mod:`llmcalc.engines.hf`) and CUDA graphs
    0.1-1 GiB (vLLM PR #21489), shifted with ``settings.outside_budget_bytes``.
    """
    if not settings.outside_budget_bytes:
        return 0, 0
    from llmcalc.engines import hf

    point = 512 * MIB + CUDA_GRAPH_BYTES[1]
    low = hf.CUDA_CONTEXT_BYTES[0] + CUDA_GRAPH_BYTES[0]
    high = hf.CUDA_CONTEXT_BYTES[2] + CUDA_GRAPH_BYTES[2]
    shift = settings.outside_budget_bytes - point
    return max(0, low + shift), high + shift


def allocator_rounding(spec: ModelSpec, bits_per_weight: float) -> int:
    """Bytes PyTorch's caching allocator reserves beyond the weights' own, loading them one tensor at a time.

    Each tensor of ``ceil(elements x bits / 8)`` bytes through :func:`llmcalc.engines.hf.reserved_bytes`
    (c10/cuda/CUDACachingAllocator.cpp), minus their sum. Uses the format's average bits per weight
    for every tensor (an approximation for mixed formats).
    """
    return _allocator_rounding(spec, round(bits_per_weight * 1000))


def _allocator_rounding(spec: ModelSpec, milli_bits: int) -> int:
    key = (id(spec), milli_bits)
    hit = _ROUNDING_CACHE.get(key)
    if hit is not None and hit[0] is spec:
        return hit[1]
    from llmcalc.engines.hf import reserved_bytes
    from llmcalc.tensors import weight_tensors

    sizes = [-(-t.n_elements * milli_bits // 8000) for t in weight_tensors(spec)]
    value = reserved_bytes(sizes) - sum(sizes)
    if len(_ROUNDING_CACHE) > 256:
        _ROUNDING_CACHE.clear()
    _ROUNDING_CACHE[key] = (spec, value)
    return value


_ROUNDING_CACHE: dict[tuple[int, int], tuple[ModelSpec, int]] = {}


@dataclass(frozen=True)
class MemoryEstimate:
    """Memory to run one model for one context length and batch on one engine (one device's worth).

    ``weights_bytes`` and ``kv_cache_bytes`` are exact for the stated format and engine;
    ``activation_bytes`` and ``overhead_bytes`` are estimates (``estimated_bytes``).
    """

    model: str
    engine: str
    weights_format: str
    bits_per_weight: float
    context_tokens: int
    batch_size: int
    kv_dtype: str
    weights_bytes: int
    kv_cache_bytes: int
    activation_bytes: int
    overhead_bytes: int
    total_bytes: int
    exact_bytes: int
    estimated_bytes: int
    weights_approximate: bool
    kv_cache: KVCacheEstimate
    activations: ActivationEstimate
    overhead: OverheadEstimate
    notes: tuple[str, ...] = field(default=())
    #: what the user must be told (a context beyond the trained maximum); the CLI prints these on stderr
    warnings: tuple[str, ...] = field(default=())
    #: ranges of the estimated parts (module docstring); the point figures lie between them
    activation_bytes_low: int = 0
    activation_bytes_high: int = 0
    overhead_bytes_low: int = 0
    overhead_bytes_high: int = 0
    total_bytes_low: int = 0
    total_bytes_high: int = 0
    #: vLLM: CUDA context + NCCL communicators + CUDA graphs per GPU, outside gpu_memory_utilization
    #: (not in ``total_bytes``); 0 for the other engines
    outside_budget_bytes: int = 0
    outside_budget_bytes_low: int = 0
    outside_budget_bytes_high: int = 0
    #: the KV cache at its peak; ``kv_cache_bytes`` is that peak for every engine (transformers'
    #: sliding-window layers right after prefill hold the whole prompt), kept as its own key
    kv_cache_peak_bytes: int = 0
    #: once decoding has started: transformers' sliding-window layers settle at their window
    #: (equal to ``kv_cache_bytes`` for vLLM, llama.cpp and models without windowed layers)
    kv_cache_steady_bytes: int = 0
    #: conv + SSM / recurrent state of state-space and linear-attention layers (exact, constant in
    #: context; :mod:`llmcalc.state`), counted in ``total_bytes`` and ``exact_bytes``
    state_bytes: int = 0
    state: StateEstimate | None = None
    #: the vision/audio towers' and projector's share of ``weights_bytes`` (:mod:`llmcalc.towers.weights`)
    tower_bytes: int = 0


def estimate_memory(
    spec: ModelSpec,
    *,
    weights: WeightsResult,
    context_tokens: int,
    batch_size: int = 1,
    kv_dtype: str = "f16",
    engine: str = "hf",
    settings: EngineSettings | None = None,
    encoder_tokens: int | None = None,
) -> MemoryEstimate:
    """Weights + KV cache + activations + overhead for the whole model on a single device.

    ``weights`` comes from :func:`llmcalc.quant.weights_for_format`, :func:`llmcalc.quant.weights_for_bpw`
    or the stored bytes of real files. Splitting across GPUs is :func:`llmcalc.fit.per_gpu`.
    """
    from llmcalc.quant import WeightsResult as _Weights
    from llmcalc.validate import require_count, require_spec

    require_spec(spec)
    require_count(context_tokens, "context_tokens")
    require_count(batch_size, "batch_size")
    if not isinstance(weights, _Weights):
        raise UsageError(f"weights must be a WeightsResult (from weights_for_format), got {type(weights).__name__}")
    settings = settings or engine_settings(engine)
    kv_dtype = normalise_kv_dtype(kv_dtype)
    state = state_bytes(spec, batch_size=batch_size, engine=settings.engine, kv_dtype=kv_dtype)
    cache = settings.cache
    if state.attention_block_tokens:  # vLLM hybrid: attention blocks sized to hold one layer's state
        from dataclasses import replace

        cache = replace(cache, block_tokens=state.attention_block_tokens)
    kv = kv_cache(spec, context_tokens=context_tokens, batch_size=batch_size, kv_dtype=kv_dtype,
                  engine=settings.engine, encoder_tokens=encoder_tokens, cache=cache)
    act = activation_estimate(spec, context_tokens=context_tokens, batch_size=batch_size, settings=settings)
    tensors = weights.total_bytes + kv.total_bytes + state.total_bytes + act.total_bytes
    rounding = allocator_rounding(spec, weights.bits_per_weight) if settings.engine == "hf" else 0
    over = overhead_estimate(settings, tensor_bytes=tensors, allocator_rounding_bytes=rounding)
    notes = list(weights.notes)
    warnings = []
    if spec.max_context and context_tokens > spec.max_context:
        warnings.append(
            f"context {context_tokens:,} is beyond {spec.name}'s maximum of {spec.max_context:,} tokens "
            "(max_position_embeddings): the model was not trained for it"
        )
    if kv.latent:
        notes.append(f"{settings.engine} caches MLA's compressed latent (kv_lora_rank + qk_rope_head_dim)")
    elif any(g.attention and g.attention.mla for g in spec.main_stack.groups):
        notes.append("this model's transformers code caches MLA as expanded per-head K and V "
                     "(vLLM and llama.cpp cache the latent)")
    if kv.windowed_layers:
        notes.append(f"{kv.windowed_layers} sliding-window layers cache only their window")
    if kv.steady_bytes < kv.total_bytes:
        notes.append(
            f"right after prefill transformers' sliding-window layers hold the whole prompt: the KV cache "
            f"is {kv.total_bytes:,} bytes (counted) and settles to the window-capped {kv.steady_bytes:,} "
            "once decoding starts"
        )
    outside_low, outside_high = outside_budget_range(settings)
    if state.state_layers:
        notes.append(f"{state.state_layers} state-space / linear-attention layers keep {state.bytes_per_sequence:,} "
                     "bytes of state per sequence, whatever the context (recurrent state line)")
        if state.attention_block_tokens:
            notes.append(f"vLLM sizes attention blocks at {state.attention_block_tokens} tokens so that one page "
                         "holds a layer's state (state pages padded to it)")
    exact = weights.total_bytes + kv.total_bytes + state.total_bytes
    estimated = act.total_bytes + over.total_bytes
    return MemoryEstimate(
        model=spec.name,
        engine=settings.engine,
        weights_format=weights.format,
        bits_per_weight=weights.bits_per_weight,
        context_tokens=context_tokens,
        batch_size=batch_size,
        kv_dtype=kv_dtype,
        weights_bytes=weights.total_bytes,
        kv_cache_bytes=kv.total_bytes,
        activation_bytes=act.total_bytes,
        overhead_bytes=over.total_bytes,
        total_bytes=exact + estimated,
        exact_bytes=exact,
        estimated_bytes=estimated,
        weights_approximate=weights.approximate,
        kv_cache=kv,
        activations=act,
        overhead=over,
        notes=tuple(notes),
        warnings=tuple(warnings),
        activation_bytes_low=act.total_bytes_low,
        activation_bytes_high=act.total_bytes_high,
        overhead_bytes_low=over.total_bytes_low,
        overhead_bytes_high=over.total_bytes_high,
        total_bytes_low=exact + act.total_bytes_low + over.total_bytes_low,
        total_bytes_high=exact + act.total_bytes_high + over.total_bytes_high,
        outside_budget_bytes=settings.outside_budget_bytes,
        outside_budget_bytes_low=outside_low,
        outside_budget_bytes_high=outside_high,
        kv_cache_peak_bytes=kv.total_bytes,
        kv_cache_steady_bytes=kv.steady_bytes,
        tower_bytes=sum(p.bytes for p in weights.by_type if p.type_name.endswith(" (towers)")),
        state_bytes=state.total_bytes,
        state=state,
    )
