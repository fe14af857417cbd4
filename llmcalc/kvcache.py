"""KV cache: exact bytes for a context length, batch, cache dtype and inference engine.

The cache holds, for every attention layer and every cached token, the keys and values of its KV
heads::

    bytes = sum over layers of  (n_kv x d_k + n_kv x d_v) x cached_tokens(layer) x batch x bytes_per_value

(Vaswani et al. 2017 section 3.2; GQA/MQA shrink ``n_kv``, Ainslie et al. 2023). What differs
between engines, and is modelled here, is what a layer caches and for how many tokens:

- **MLA** (DeepSeek-V2/V3, Kimi K2): vLLM (``MLAAttentionSpec`` in ``vllm/v1/kv_cache_interface.py``)
  and llama.cpp (``src/llama-kv-cache.cpp``, V-less cache since PR #19067) cache the compressed latent,
  ``kv_lora_rank + qk_rope_head_dim`` values per layer and token, and so does Hugging Face
  transformers 5.24 (``DeepseekV3Attention.forward`` updates the cache before ``expand_kv``; also V2,
  V3.2, LongCat-Flash, Kimi Linear: ``MLA.hf_caches_latent``). Kimi K2's remote code (DeepSeek's
  original ``modeling_deepseek.py``) caches the expanded per-head K (``n_h x (d_nope + d_rope)``) and
  V (``n_h x d_v``).
- **Sliding-window layers** cache at most the window, except right after a transformers prefill.
  transformers' ``DynamicSlidingWindowLayer`` (``cache_utils.py``) keeps ``window - 1`` tokens as the
  logical cache, as a view of the tensor it was given: right after a prefill of ``T`` tokens that is
  the whole prompt's K/V, so ``T`` tokens of storage (``total_bytes``: what the cache object holds
  after the prefill, measured in tests/data/text_cache_measured.json); from the first decode step on it
  holds a ``window``-token tensor (``steady_bytes``; measured: README, Caveats). vLLM keeps
  ``window - 1 + max_num_batched_tokens`` tokens rounded up to blocks, plus one block; llama.cpp's
  SWA cache holds ``window + n_ubatch`` cells padded to 256 (``llama-kv-cache-iswa.cpp``).
- **Token rounding**: vLLM allocates blocks of 16 tokens (``CacheConfig.DEFAULT_BLOCK_SIZE``), and
  of 64 (FlashMLA) or 128 (CUTLASS MLA) for MLA latents (:class:`EngineCache`);
  llama.cpp pads the context to a multiple of 256 cells (``llama-context.cpp``); transformers caches
  exactly the tokens seen.
- **KV-sharing layers** (Gemma 3n's last ``num_kv_shared_layers``) read an earlier layer's cache
  and hold none (``Gemma3nTextAttention.is_kv_shared_layer``).
- **Cross-attention** (encoder-decoder models): every decoder layer caches K and V of the encoder
  output, ``encoder_tokens`` long (transformers ``EncoderDecoderCache``).
- **Quantized caches**: llama.cpp's ``q8_0`` stores 32 values in 34 bytes, ``q4_0`` 32 in 18
  (``ggml/src/ggml-common.h``); ``fp8`` is one byte per value (vLLM ``kv_cache_dtype=fp8``).

Left out: a static cache's pre-allocation beyond the context (transformers ``StaticCache``), vLLM's
pre-allocation of all free memory to KV blocks (see :mod:`llmcalc.memory`), prefix-caching copies,
speculative-decoding draft caches, and the transient second copy transformers makes while
concatenating a layer's cache.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction

from llmcalc.errors import UsageError
from llmcalc.spec import Attention, ModelSpec

#: Bytes per cached value for each KV cache dtype (exact fractions for block-quantized types).
KV_DTYPE_BYTES: dict[str, Fraction] = {
    "f32": Fraction(4),
    "f16": Fraction(2),
    "bf16": Fraction(2),
    "fp8": Fraction(1),
    "q8_0": Fraction(34, 32),
    "q4_0": Fraction(18, 32),
}
KV_DTYPE_ALIASES = {"fp32": "f32", "float32": "f32", "fp16": "f16", "float16": "f16", "half": "f16",
                    "bfloat16": "bf16", "fp8_e4m3": "fp8", "fp8_e5m2": "fp8", "f8": "fp8", "auto": "f16"}

ENGINES = ("hf", "vllm", "llama.cpp")
ENGINE_ALIASES = {"transformers": "hf", "huggingface": "hf", "llamacpp": "llama.cpp", "llama-cpp": "llama.cpp",
                  "gguf": "llama.cpp", "ollama": "llama.cpp"}

VLLM_BLOCK_TOKENS = 16
LLAMA_CPP_PAD_TOKENS = 256


def _canonical(name: str, aliases: dict[str, str], choices: Iterable[str], what: str) -> str:
    """``name`` lower-cased and de-aliased; raises UsageError listing ``choices``."""
    key = name.strip().lower()
    key = aliases.get(key, key)
    if key not in choices:
        raise UsageError(f"unknown {what} '{name}'; choose one of {', '.join(choices)}")
    return key


def normalise_kv_dtype(name: str) -> str:
    """Canonical KV dtype name (case-insensitive); raises UsageError listing the choices."""
    return _canonical(name, KV_DTYPE_ALIASES, KV_DTYPE_BYTES, "KV cache dtype")


def normalise_engine(name: str) -> str:
    """Canonical engine name (case-insensitive); raises UsageError listing the choices."""
    return _canonical(name, ENGINE_ALIASES, ENGINES, "engine")


def caches_latent(attn: Attention, engine: str) -> bool:
    """True when the engine caches MLA's compressed latent instead of expanded K and V."""
    return attn.mla is not None and (engine in ("vllm", "llama.cpp") or attn.mla.hf_caches_latent)


def kv_values_per_token(attn: Attention, *, engine: str) -> int:
    """Values one layer caches per token: ``n_kv (d_k + d_v)``, or MLA's ``r_kv + d_rope`` latent."""
    if caches_latent(attn, engine):
        assert attn.mla is not None
        return attn.mla.kv_lora_rank + attn.mla.qk_rope_head_dim
    return attn.num_kv_heads * (attn.head_dim + attn.v_head_dim)


@dataclass(frozen=True)
class EngineCache:
    """How an engine sizes its cache; defaults are each engine's own (see module docstring)."""

    engine: str
    max_num_batched_tokens: int = 8192
    n_ubatch: int = 512
    #: vLLM's block for MLA latents: 64 tokens with FlashMLA, 128 with CUTLASS MLA
    #: (``get_supported_kernel_block_sizes`` in vllm/v1/attention/backends/mla/flashmla.py, cutlass_mla.py)
    latent_block_tokens: int = VLLM_BLOCK_TOKENS
    #: vLLM's attention block; a hybrid state-space model raises it so one page holds a layer's state
    #: (``HybridAttentionMambaModelConfig``, :func:`llmcalc.state.state_bytes`'s ``attention_block_tokens``)
    block_tokens: int = VLLM_BLOCK_TOKENS

    def cached_tokens(self, context_tokens: int, window: int | None, *, latent: bool = False) -> int:
        """Token slots one sequence occupies in one layer (``latent``: an MLA latent cache)."""
        if self.engine == "vllm":
            block = self.latent_block_tokens if latent else self.block_tokens
            if window is None:
                return _round_up(context_tokens, block)
            span = min(window - 1 + self.max_num_batched_tokens, context_tokens)
            return _round_up(span, block) + block
        if self.engine == "llama.cpp":
            padded = _round_up(context_tokens, LLAMA_CPP_PAD_TOKENS)
            if window is None:
                return padded
            return _round_up(min(padded, window + self.n_ubatch), LLAMA_CPP_PAD_TOKENS)
        # transformers: right after a prefill of T tokens a sliding-window layer still holds the
        # prompt's whole K/V tensor (DynamicSlidingWindowLayer keeps a view of its last window - 1
        # tokens), so its storage is T tokens until the next update (measured:
        # benchmarks/measure_text_cache.py, tests/data/text_cache_measured.json)
        return context_tokens

    def steady_tokens(self, context_tokens: int, window: int | None, *, latent: bool = False) -> int:
        """Token slots once decoding has started: transformers' sliding layers settle at ``window``
        tokens of storage (README, Caveats); vLLM and llama.cpp never hold more than their cap."""
        if self.engine == "hf":
            return context_tokens if window is None else min(context_tokens, window)
        return self.cached_tokens(context_tokens, window, latent=latent)


def _round_up(n: int, multiple: int) -> int:
    return -(-n // multiple) * multiple


@dataclass(frozen=True)
class KVCacheEstimate:
    """The KV cache of one model at one context length and batch."""

    context_tokens: int
    batch_size: int
    kv_dtype: str
    engine: str
    bytes_per_token: int
    self_attention_bytes: int
    cross_attention_bytes: int
    total_bytes: int
    full_layers: int
    windowed_layers: int
    latent: bool
    #: once decoding has started: transformers' sliding-window layers settle at their window;
    #: equal to ``total_bytes`` for vLLM and llama.cpp, and wherever no layer is windowed
    steady_bytes: int = 0
    #: DeepSeek-V3.2's sparse-attention indexer keys (:func:`indexer_cache_bytes`), in ``total_bytes``
    indexer_bytes: int = 0


def kv_bytes_per_token(spec: ModelSpec, *, kv_dtype: str = "f16", engine: str = "hf") -> int:
    """KV cache bytes for one token of context, all decoder layers, batch 1, before window caps.

    Llama-2-7B at f16: ``2 x 32 layers x 32 heads x 128 x 2 bytes = 524,288``. For block-quantized
    dtypes the result is rounded up to a whole byte.
    """
    kv_dtype, engine = normalise_kv_dtype(kv_dtype), normalise_engine(engine)
    stack = spec.decoder
    if stack is None:
        return 0
    values = sum(
        g.count * kv_values_per_token(g.attention, engine=engine)
        for g in stack.groups
        if g.attention is not None and not g.attention.kv_shared
    )
    return math.ceil(values * KV_DTYPE_BYTES[kv_dtype])


def kv_cache(
    spec: ModelSpec,
    *,
    context_tokens: int,
    batch_size: int = 1,
    kv_dtype: str = "f16",
    engine: str = "hf",
    encoder_tokens: int | None = None,
    cache: EngineCache | None = None,
) -> KVCacheEstimate:
    """Exact KV cache bytes for ``context_tokens`` per sequence and ``batch_size`` sequences.

    ``encoder_tokens`` (encoder-decoder models) is the encoder input length whose K and V every
    decoder layer caches for cross-attention; it defaults to ``context_tokens`` (T5), or for Whisper
    to its encoder's fixed 1,500 frames (:func:`llmcalc.media.encoder_frames`). Encoder-only models
    (BERT) keep no cache. The byte total is rounded up once, at the end.
    """
    from llmcalc.validate import require_count, require_optional_count, require_spec

    require_spec(spec)
    require_count(context_tokens, "context_tokens")
    require_count(batch_size, "batch_size")
    require_optional_count(encoder_tokens, "encoder_tokens", minimum=0)
    kv_dtype, engine = normalise_kv_dtype(kv_dtype), normalise_engine(engine)
    cache = cache or EngineCache(engine)
    per_value = KV_DTYPE_BYTES[kv_dtype]
    stack = spec.decoder
    from llmcalc.media import encoder_frames  # Whisper: the decoder cross-attends to 1,500 encoder frames

    frames = encoder_frames(spec)
    self_values = cross_values = steady_values = 0
    full = windowed = 0
    latent = False
    if stack is not None:
        for g in stack.groups:
            attn = g.attention
            if attn is None:  # state-space / linear-attention layers: see llmcalc.state
                if g.cross_attention is not None and encoder_tokens:  # Mllama: images' vision tokens
                    cross_values += g.count * kv_values_per_token(g.cross_attention, engine=engine) * encoder_tokens
                continue
            if attn.kv_shared:  # Gemma 3n: reads an earlier layer's cache, holds none of its own
                continue
            group_latent = caches_latent(attn, engine)
            latent = latent or group_latent
            window = attn.sliding_window if attn.sliding_window and attn.sliding_window < context_tokens else None
            tokens = cache.cached_tokens(context_tokens, attn.sliding_window, latent=group_latent)
            steady = cache.steady_tokens(context_tokens, attn.sliding_window, latent=group_latent)
            self_values += g.count * kv_values_per_token(attn, engine=engine) * tokens
            steady_values += g.count * kv_values_per_token(attn, engine=engine) * steady
            if window is None:
                full += g.count
            else:
                windowed += g.count
            if g.cross_attention is not None:
                enc = encoder_tokens if encoder_tokens is not None else (frames or context_tokens)
                cross_values += g.count * kv_values_per_token(g.cross_attention, engine=engine) * enc
    self_bytes = math.ceil(self_values * batch_size * per_value)
    cross_bytes = math.ceil(cross_values * batch_size * per_value)
    indexer = indexer_cache_bytes(spec, context_tokens=context_tokens, batch_size=batch_size, kv_dtype=kv_dtype,
                                  engine=engine, cache=cache)
    steady_bytes = math.ceil(steady_values * batch_size * per_value) + cross_bytes + indexer
    return KVCacheEstimate(
        context_tokens=context_tokens,
        batch_size=batch_size,
        kv_dtype=kv_dtype,
        engine=engine,
        bytes_per_token=kv_bytes_per_token(spec, kv_dtype=kv_dtype, engine=engine),
        self_attention_bytes=self_bytes,
        cross_attention_bytes=cross_bytes,
        total_bytes=self_bytes + cross_bytes + indexer,
        full_layers=full,
        windowed_layers=windowed,
        latent=latent,
        steady_bytes=steady_bytes,
        indexer_bytes=indexer,
    )


#: vLLM keeps the DSA indexer's keys in fp8 with one fp32 scale per block of this many values
#: (``DeepseekV32IndexerCache``: ``index_head_dim + index_head_dim // 128 * 4`` bytes per token).
VLLM_INDEXER_QUANT_BLOCK = 128


def indexer_cache_bytes(
    spec: ModelSpec,
    *,
    context_tokens: int,
    batch_size: int = 1,
    kv_dtype: str = "f16",
    engine: str = "hf",
    cache: EngineCache | None = None,
) -> int:
    """Bytes of the sparse-attention indexer's key cache (DeepSeek-V3.2's DSA), beside the KV cache.

    Each layer with an indexer caches one key of ``index_head_dim`` values per token::

        bytes = sum over indexed layers of  d_i x cached_tokens x batch x bytes_per_value

    transformers (``DynamicIndexedLayer`` in ``cache_utils.py``) keeps the keys in the model dtype,
    as the KV cache (``kv_dtype``); vLLM keeps them in fp8 with an fp32 scale per 128 values
    (``d_i + 4 d_i / 128`` bytes per token: 132 for DeepSeek-V3.2), in its usual token blocks;
    llama.cpp is taken to keep them in the KV cache dtype, padded as its KV cache is (an estimate).
    0 for a model without an indexer.
    """
    if context_tokens <= 0:
        raise UsageError(f"context must be a positive number of tokens, got {context_tokens}")
    if batch_size <= 0:
        raise UsageError(f"batch size must be positive, got {batch_size}")
    kv_dtype, engine = normalise_kv_dtype(kv_dtype), normalise_engine(engine)
    cache = cache or EngineCache(engine)
    stack = spec.decoder
    total = Fraction(0)
    for g in stack.groups if stack is not None else ():
        if g.attention is None or g.attention.indexer is None:
            continue
        d = g.attention.indexer.head_dim
        tokens = cache.cached_tokens(context_tokens, g.attention.sliding_window)
        if engine == "vllm":
            per_token = Fraction(d + d // VLLM_INDEXER_QUANT_BLOCK * 4)
        else:
            per_token = d * KV_DTYPE_BYTES[kv_dtype]
        total += g.count * per_token * tokens * batch_size
    return math.ceil(total)
