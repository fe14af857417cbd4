"""Inference memory: exact weights and KV cache, estimated activations and runtime overhead.

``total = weights + kv_cache + activations + overhead``. The first two are exact for the format and
engine given (:mod:`llmcalc.quant`, :mod:`llmcalc.kvcache`); the last two are **estimates**, each a
named formula below with its source, and are always reported apart from the exact parts.

Engines and their defaults (all overridable through :class:`EngineSettings`):

- ``hf``: Hugging Face transformers ``generate()`` on one GPU per process, the prompt prefilled in
  one forward pass with SDPA/flash attention (no ``T x T`` score matrix), logits kept for the last
  token only (``logits_to_keep=1``).
- ``vllm``: vLLM's V1 engine. Activations are what its start-up profiling pass peaks at
  (``max_num_batched_tokens`` tokens through the model plus a sampler pass over ``max_num_seqs``
  rows, ``vllm/v1/worker/gpu_worker.py``); the engine then claims
  ``gpu_memory_utilization x GPU memory`` (0.92 in current releases, 0.9 before) and fills what is
  left with KV blocks, so a fit is judged against that fraction.
- ``llama.cpp``: the compute buffer that ``ggml_backend_sched_reserve`` sizes for ``n_ubatch`` (512)
  tokens with flash attention on, dominated by the ``n_ubatch x vocab`` fp32 logits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from llmcalc.errors import UsageError
from llmcalc.kvcache import EngineCache, KVCacheEstimate, kv_cache, normalise_engine, normalise_kv_dtype
from llmcalc.spec import LayerGroup, ModelSpec
from llmcalc.units import MIB

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

    def __post_init__(self) -> None:
        if not 0 < self.gpu_memory_utilization <= 1:
            raise UsageError(
                f"gpu_memory_utilization must be in (0, 1], got {self.gpu_memory_utilization}"
            )

    @property
    def cache(self) -> EngineCache:
        return EngineCache(self.engine, max_num_batched_tokens=self.max_num_batched_tokens, n_ubatch=self.n_ubatch)


def engine_settings(engine: str, **overrides: object) -> EngineSettings:
    """Defaults for ``hf``, ``vllm`` or ``llama.cpp``, with ``overrides`` applied.

    Sources of the defaults: CUDA context 274-636 MiB measured in PyTorch PR #86509 (lazy vs eager
    module loading) and 426 MiB in unsloth-zoo PR #1053, so 512 MiB; vLLM ``gpu_memory_utilization``
    0.92, ``max_num_batched_tokens`` 8192, ``max_num_seqs`` 256 (``vllm/engine/arg_utils.py``), CUDA
    graphs "typically 0.1-1 GiB" (vLLM PR #21489), so 512 MiB; llama.cpp ``n_ubatch`` 512
    (``common/common.h``), fp32 compute; transformers: PyTorch caching-allocator slack taken as 5%.
    """
    name = normalise_engine(engine)
    base: dict[str, object]
    if name == "vllm":
        base = dict(prefill_chunk_tokens=8192, logits_rows=256, logits_copies=3, cuda_graph_bytes=512 * MIB,
                    gpu_memory_utilization=0.92)
    elif name == "llama.cpp":
        base = dict(activation_bytes=4, prefill_chunk_tokens=512, logits_rows=512, cuda_context_bytes=384 * MIB)
    else:
        base = dict(allocator_reserve_fraction=0.05)
    base.update(overrides)
    settings = EngineSettings(engine=name, **base)  # type: ignore[arg-type]
    if name == "vllm" and "max_num_batched_tokens" not in overrides:
        settings = _replace(settings, max_num_batched_tokens=settings.prefill_chunk_tokens or 8192)
    return settings


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
    would add ``batch x heads x T^2 x 2`` bytes), MoE dispatch buffers, and vision towers.
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
    if settings.engine == "llama.cpp":
        # ggml's allocator reuses buffers: the compute buffer is the larger of the two, not the sum.
        total = max(hidden_bytes, logits)
    else:
        total = hidden_bytes + logits
    return ActivationEstimate(
        tokens_in_flight=tokens,
        values_per_token=values,
        hidden_bytes=hidden_bytes,
        logits_bytes=logits,
        total_bytes=total,
    )


@dataclass(frozen=True)
class OverheadEstimate:
    """Runtime memory outside the model's tensors, per GPU (an estimate)."""

    cuda_context_bytes: int
    cuda_graph_bytes: int
    allocator_reserve_bytes: int
    multi_gpu_bytes: int
    total_bytes: int


def overhead_estimate(settings: EngineSettings, *, tensor_bytes: int, num_gpus: int = 1) -> OverheadEstimate:
    """CUDA context + CUDA graphs + allocator slack (a fraction of ``tensor_bytes``) + NCCL buffers.

    Per GPU; ``tensor_bytes`` is what that GPU holds of weights, KV cache and activations.
    """
    reserve = int(tensor_bytes * settings.allocator_reserve_fraction)
    nccl = settings.multi_gpu_bytes if num_gpus > 1 else 0
    total = settings.cuda_context_bytes + settings.cuda_graph_bytes + reserve + nccl
    return OverheadEstimate(
        cuda_context_bytes=settings.cuda_context_bytes,
        cuda_graph_bytes=settings.cuda_graph_bytes,
        allocator_reserve_bytes=reserve,
        multi_gpu_bytes=nccl,
        total_bytes=total,
    )


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
    settings = settings or engine_settings(engine)
    kv_dtype = normalise_kv_dtype(kv_dtype)
    kv = kv_cache(spec, context_tokens=context_tokens, batch_size=batch_size, kv_dtype=kv_dtype,
                  engine=settings.engine, encoder_tokens=encoder_tokens, cache=settings.cache)
    act = activation_estimate(spec, context_tokens=context_tokens, batch_size=batch_size, settings=settings)
    tensors = weights.total_bytes + kv.total_bytes + act.total_bytes
    over = overhead_estimate(settings, tensor_bytes=tensors)
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
        notes.append("transformers caches MLA as expanded per-head K and V (vLLM and llama.cpp cache the latent)")
    if kv.windowed_layers:
        notes.append(f"{kv.windowed_layers} sliding-window layers cache only their window")
    exact = weights.total_bytes + kv.total_bytes
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
    )
