"""Does it fit? Per-GPU memory across GPUs, the GPUs needed, and solvers for the largest context,
the largest batch and the best weight format that fit.

Splitting across ``N`` GPUs (Megatron-LM tensor parallelism, Shoeybi et al. 2019, arXiv 1909.08053,
section 3, as vLLM implements it):

- **weights**: every linear layer and the vocabulary are split ``N`` ways; what vLLM builds as
  ``ReplicatedLinear`` or keeps whole (``vllm/model_executor/layers/linear.py``) sits on every GPU:
  norms, MoE routers (``gate``) and MLA's down-projections (``q_a_proj``, ``kv_a_proj_with_mqa``)
  with their norms (:func:`replicated_params`). Per GPU: ``ceil((weights - R) / N) + R``, with ``R``
  those tensors' bytes at the format's average bits per weight (:func:`weights_share_bytes`).
- **KV cache**: KV heads are split; with fewer KV heads than GPUs each head is replicated, so a GPU
  holds ``ceil(n_kv / N)`` heads' worth: ``kv x ceil(n_kv / N) / n_kv``. An MLA latent has no heads
  and is replicated on every GPU (vLLM ``MLAAttentionSpec``).
- **llama.cpp** splits by layer (``--split-mode layer``, its default): weights and KV cache ``/ N``.
- **activations** are not divided (a conservative estimate: hidden states are replicated under TP)
  and **overhead** (CUDA context, graphs, NCCL buffers) is paid on every GPU.

A fit compares the per-GPU total with ``usable = memory the driver exposes x gpu_memory_utilization``
(vLLM's fraction; 1.0 for the other engines) and reports the headroom. ``N`` is tried in powers of two, the
sizes tensor parallelism supports on real nodes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from llmcalc.errors import UsageError
from llmcalc.memory import EngineSettings, MemoryEstimate, engine_settings, estimate_memory, overhead_estimate
from llmcalc.spec import ModelSpec

if TYPE_CHECKING:
    from llmcalc.gpus import GPU
    from llmcalc.quant import WeightFormat, WeightsResult

#: Tensor-parallel sizes tried by :func:`gpus_needed`.
TP_SIZES = (1, 2, 4, 8, 16, 32, 64)

#: Largest context the solvers consider (tokens): 16M, beyond every released model.
MAX_SOLVER_CONTEXT = 1 << 24
MAX_SOLVER_BATCH = 1 << 20


@dataclass(frozen=True)
class PerGPU:
    """One GPU's share of a :class:`~llmcalc.memory.MemoryEstimate` split ``num_gpus`` ways."""

    num_gpus: int
    weights_bytes: int
    kv_cache_bytes: int
    activation_bytes: int
    overhead_bytes: int
    total_bytes: int
    #: the per-GPU total at the low and high ends of the estimated parts' ranges
    total_bytes_low: int = 0
    total_bytes_high: int = 0


@dataclass(frozen=True)
class FitResult:
    """The verdict for one GPU type and count."""

    gpu: str
    num_gpus: int
    usable_bytes_per_gpu: int
    per_gpu: PerGPU
    fits: bool
    headroom_bytes: int
    note: str | None = None
    #: whether it still fits at the high end of the estimates' range (``per_gpu.total_bytes_high``)
    fits_high: bool = True


def kv_share_bytes(kv_bytes: int, num_gpus: int, *, engine: str, latent: bool, kv_heads: int) -> int:
    """One GPU's part of a KV cache of ``kv_bytes`` on ``num_gpus`` GPUs.

    llama.cpp splits by layer (``/ N``); an MLA latent is replicated; otherwise a GPU holds
    ``ceil(n_kv / N)`` KV heads, so KV heads are replicated once there are more GPUs than heads.
    """
    if engine == "llama.cpp":
        return math.ceil(kv_bytes / num_gpus)
    if latent:
        return kv_bytes
    if not kv_heads:  # no attention layer (a state-space model): nothing is split by heads
        return math.ceil(kv_bytes / num_gpus)
    return math.ceil(kv_bytes * math.ceil(kv_heads / num_gpus) / kv_heads)


def replicated_params(spec: ModelSpec) -> int:
    """Parameters every GPU holds whole under tensor parallelism: norms, routers, MLA down-projections.

    vLLM builds MoE routers and MLA's ``q_a_proj`` / ``kv_a_proj_with_mqa`` as ``ReplicatedLinear``
    (``vllm/model_executor/models/deepseek_v2.py``, ``DeepseekV2MLAAttention``; ``.../fused_moe``
    ``gate``) and keeps every norm whole.
    """
    key = id(spec)
    hit = _REPLICATED.get(key)
    if hit is not None and hit[0] is spec:
        return hit[1]
    from llmcalc.tensors import weight_tensors

    names = ("attn_q_a.", "attn_q_a_norm.", "attn_kv_a_mqa.", "attn_kv_a_norm.")
    total = sum(t.n_elements for t in weight_tensors(spec)
                if t.role in ("norms", "router") or any(n in t.name for n in names))
    if len(_REPLICATED) > 256:
        _REPLICATED.clear()
    _REPLICATED[key] = (spec, total)
    return total


_REPLICATED: dict[int, tuple[ModelSpec, int]] = {}


def replicated_bytes(spec: ModelSpec, weights_bytes: int) -> int:
    """Bytes of :func:`replicated_params` at the weights' average bytes per parameter (rounded up)."""
    key = id(spec)
    hit = _TOTALS.get(key)
    if hit is None or hit[0] is not spec:
        from llmcalc.params import count_params

        if len(_TOTALS) > 256:
            _TOTALS.clear()
        hit = _TOTALS[key] = (spec, count_params(spec).total_params)
    total = hit[1]
    return -(-replicated_params(spec) * weights_bytes // total) if total else 0


_TOTALS: dict[int, tuple[ModelSpec, int]] = {}


def weights_share_bytes(weights_bytes: int, num_gpus: int, replicated: int, *, engine: str) -> int:
    """One GPU's weights: ``ceil((W - R) / N) + R`` under tensor parallelism, ``ceil(W / N)`` for llama.cpp's layers."""
    if num_gpus == 1:
        return weights_bytes
    if engine == "llama.cpp":
        return math.ceil(weights_bytes / num_gpus)
    return math.ceil((weights_bytes - replicated) / num_gpus) + replicated


def per_gpu(spec: ModelSpec, estimate: MemoryEstimate, num_gpus: int, settings: EngineSettings) -> PerGPU:
    """Split ``estimate`` over ``num_gpus`` GPUs by the rules in the module docstring."""
    if num_gpus < 1:
        raise UsageError(f"the number of GPUs must be at least 1, got {num_gpus}")
    n = num_gpus
    rep = replicated_bytes(spec, estimate.weights_bytes) if n > 1 and settings.engine != "llama.cpp" else 0
    weights = weights_share_bytes(estimate.weights_bytes, n, rep, engine=settings.engine)
    kv = kv_share_bytes(estimate.kv_cache_bytes, n, engine=settings.engine, latent=estimate.kv_cache.latent,
                        kv_heads=spec.num_key_value_heads)
    act = estimate.activation_bytes
    rounding = math.ceil(estimate.overhead.allocator_rounding_bytes / n)
    over = overhead_estimate(settings, tensor_bytes=weights + kv + act, num_gpus=n,
                             allocator_rounding_bytes=rounding)
    total = weights + kv + act + over.total_bytes
    return PerGPU(n, weights, kv, act, over.total_bytes, total,
                  total_bytes_low=weights + kv + estimate.activation_bytes_low + over.total_bytes_low,
                  total_bytes_high=weights + kv + estimate.activation_bytes_high + over.total_bytes_high)


def usable_bytes(gpu: GPU, settings: EngineSettings) -> int:
    """Memory an engine may use on one GPU: the GPU's usable memory x gpu_memory_utilization.

    ``gpu.usable_memory_bytes`` is the one figure :mod:`llmcalc.gpus` defines (the total CUDA reports
    where a public log records it, else nvidia-smi's total, else the capacity; on Apple machines the
    GPU wired limit), the same that ``llmcalc gpus --json`` prints. vLLM needs its CUDA context
    (``settings.outside_context_bytes``) in the ``1 - gpu_memory_utilization`` share
    (``Worker.determine_available_memory`` checks the baseline's free memory against the budget); when
    it does not fit there nothing does, and this is 0. CUDA graphs, captured later, are not checked.
    """
    budget = int(gpu.usable_memory_bytes * settings.gpu_memory_utilization)
    if settings.outside_context_bytes and gpu.usable_memory_bytes - budget < settings.outside_context_bytes:
        return 0  # vLLM refuses to start: free memory at its baseline is below the requested budget
    return budget


def check_fit(
    spec: ModelSpec, estimate: MemoryEstimate, gpu: GPU, num_gpus: int, settings: EngineSettings
) -> FitResult:
    """Whether ``estimate`` fits on ``num_gpus`` of ``gpu``, and with how much headroom."""
    share = per_gpu(spec, estimate, num_gpus, settings)
    usable = usable_bytes(gpu, settings)
    note = None
    if num_gpus > 1 and settings.engine != "llama.cpp" and spec.num_attention_heads % num_gpus:
        note = f"{spec.num_attention_heads} attention heads do not split evenly over {num_gpus} GPUs"
    if usable == 0 and settings.outside_context_bytes:
        note = (f"gpu_memory_utilization {settings.gpu_memory_utilization} leaves less than the "
                f"{settings.outside_context_bytes:,} bytes of CUDA context vLLM needs outside its budget")
    return FitResult(
        gpu=gpu.name,
        num_gpus=num_gpus,
        usable_bytes_per_gpu=usable,
        per_gpu=share,
        fits=share.total_bytes <= usable,
        headroom_bytes=usable - share.total_bytes,
        note=note,
        fits_high=share.total_bytes_high <= usable,
    )


def gpus_needed(spec: ModelSpec, estimate: MemoryEstimate, gpu: GPU, settings: EngineSettings) -> FitResult | None:
    """The smallest tensor-parallel size in :data:`TP_SIZES` that fits, or None if even 64 do not."""
    for n in TP_SIZES:
        result = check_fit(spec, estimate, gpu, n, settings)
        if result.fits:
            return result
    return None


def largest_where(ok: Callable[[int], bool], low: int, high: int) -> int | None:
    """Largest ``x`` in ``[low, high]`` with ``ok(x)``, by binary search; None if not even ``ok(low)``.

    ``ok`` must be monotone decreasing (true up to some ``x``, false after), as "fits" is in
    context, batch or GPU layers; then the search is exact. The solvers here and in llmcalc.plans use it.
    """
    if not ok(low):
        return None
    while low < high:
        mid = (low + high + 1) // 2
        if ok(mid):
            low = mid
        else:
            high = mid - 1
    return low


def smallest_where(ok: Callable[[int], bool], low: int, high: int) -> int | None:
    """Smallest ``x`` in ``[low, high]`` with ``ok(x)``, by binary search; None if not even ``ok(high)``.

    ``ok`` must be monotone increasing (false up to some ``x``, true after), as "the KV cache has
    reached the weights" is in context; then the search is exact.
    """
    if not ok(high):
        return None
    while low < high:
        mid = (low + high) // 2
        if ok(mid):
            high = mid
        else:
            low = mid + 1
    return low


def max_context(
    spec: ModelSpec,
    *,
    weights: WeightsResult,
    gpu: GPU,
    num_gpus: int = 1,
    batch_size: int = 1,
    kv_dtype: str = "f16",
    settings: EngineSettings | None = None,
    limit: int | None = None,
    encoder_tokens: int | None = None,
) -> int:
    """The largest context (tokens per sequence) that fits, up to ``limit`` (default 16M); 0 if none.

    Memory grows with context, so a binary search over the exact estimate is exact for it.
    ``encoder_tokens`` is what cross-attention layers cache (Mllama's image tokens), fixed.
    """
    settings = settings or engine_settings("hf")

    def fits(ctx: int) -> bool:
        est = estimate_memory(spec, weights=weights, context_tokens=ctx, batch_size=batch_size,
                              kv_dtype=kv_dtype, settings=settings, encoder_tokens=encoder_tokens)
        return check_fit(spec, est, gpu, num_gpus, settings).fits

    return largest_where(fits, 1, limit or MAX_SOLVER_CONTEXT) or 0


def max_batch(
    spec: ModelSpec,
    *,
    weights: WeightsResult,
    gpu: GPU,
    context_tokens: int,
    num_gpus: int = 1,
    kv_dtype: str = "f16",
    settings: EngineSettings | None = None,
) -> int:
    """The largest batch of ``context_tokens``-long sequences that fits; 0 if not even one."""
    settings = settings or engine_settings("hf")

    def fits(batch: int) -> bool:
        est = estimate_memory(spec, weights=weights, context_tokens=context_tokens, batch_size=batch,
                              kv_dtype=kv_dtype, settings=settings)
        return check_fit(spec, est, gpu, num_gpus, settings).fits

    return largest_where(fits, 1, MAX_SOLVER_BATCH) or 0


@dataclass(frozen=True)
class QuantChoice:
    """The best weight format that fits, with its verdict."""

    format: str
    fit: FitResult
    estimate: MemoryEstimate


def _least_bits(fmt: WeightFormat) -> float:
    """Bits per parameter no weights in ``fmt`` can go below: a lower bound for skipping formats.

    A GGUF file type may give a tensor any ggml type, so its bound is the smallest ggml type's bits;
    a linear-layer format keeps the rest at 16 bits or more, so its bits (at most 16) bound it; a
    uniform format is exact.
    """
    from llmcalc.quant import GGML_TYPES

    if fmt.family == "gguf":
        return float(min(t.bits_per_weight for t in GGML_TYPES.values()))
    return min(float(fmt.bits_per_weight), 16.0)


def best_quant(
    spec: ModelSpec,
    *,
    gpu: GPU,
    context_tokens: int,
    formats: Sequence[str],
    num_gpus: int = 1,
    batch_size: int = 1,
    kv_dtype: str = "f16",
    settings: EngineSettings | Callable[[str], EngineSettings] | None = None,
) -> QuantChoice | None:
    """The best-quality of ``formats`` that fits, ranked by published quality cost.

    ``formats`` are ranked by :func:`llmcalc.quality.quality_order` (published perplexity increase vs
    16-bit, llama.cpp's Llama-3-8B scoreboard and the AWQ/GPTQ tables; unmeasured formats placed by
    their bits per weight), not by the order given. ``settings`` is one engine for every format, or a
    function giving each format's engine (GGUF formats run on llama.cpp, the rest on transformers, as
    ``llmcalc memory`` chooses by default).
    """
    from llmcalc.params import count_params
    from llmcalc.quality import quality_order
    from llmcalc.quant import get_format, weights_for_format

    params = count_params(spec).total_params
    for name in quality_order(formats):
        if callable(settings):
            chosen = settings(name)
        else:
            chosen = settings or engine_settings("hf")
        fmt = get_format(name)
        if params * _least_bits(fmt) / 8 / num_gpus > usable_bytes(gpu, chosen):
            continue  # even the format's smallest weights do not fit: skip pricing its per-tensor mix
        weights = weights_for_format(spec, fmt)
        est = estimate_memory(spec, weights=weights, context_tokens=context_tokens, batch_size=batch_size,
                              kv_dtype=kv_dtype, settings=chosen)
        result = check_fit(spec, est, gpu, num_gpus, chosen)
        if result.fits:
            return QuantChoice(format=name, fit=result, estimate=est)
    return None
