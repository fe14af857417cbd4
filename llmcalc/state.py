"""The memory of state: per-sequence conv and SSM / recurrent state of non-attention layers, per engine.

A state-space, linear-attention, recurrent or short-convolution layer (:mod:`llmcalc.mixers`)
keeps a fixed-size state for each sequence instead of a growing KV cache, so its bytes do not
depend on the context length. Each mixer lists its state tensors (:meth:`Mixer.state`) as
transformers holds them; the engines differ in widths, dtypes and paging:

- ``hf`` (transformers 5.24 ``DynamicCache`` / ``LinearAttentionLayer`` in ``cache_utils.py``):
  the conv window keeps the full kernel width ``k`` (``conv_states`` of ``channels x k``) in the
  model dtype; Mamba's SSM state and the delta-rule matrices (Qwen3-Next, Kimi Linear) are kept in
  float32 whatever the model dtype (the modeling code casts them before ``update_recurrent_state``);
  MiniMax's lightning-attention state stays in the model dtype. Measured after a prefill for every
  family in ``benchmarks/measure_state_torch.py`` (``tests/data/state_measured.json``).
- ``vllm`` (``vllm/model_executor/layers/mamba/mamba_utils.py`` state shapes, ``MambaSpec`` in
  ``vllm/v1/kv_cache_interface.py``): the conv state keeps ``k - 1`` columns; both states are in
  the cache dtype (``mamba_ssm_cache_dtype`` defaults to ``auto``, the model dtype). In a hybrid
  model ``HybridAttentionMambaModelConfig.verify_and_update_config``
  (``vllm/model_executor/models/config.py``) raises the attention block size to
  ``16 x ceil(mamba_page / (16 x attention_page_per_token))`` tokens and pads every state page to the
  attention page, so each state layer holds one attention-sized page per sequence.
- ``llama.cpp`` (``src/llama-memory-recurrent.cpp``): per sequence and recurrent layer, ``r_l`` holds
  the conv window and ``s_l`` the SSM state, both f32; their widths are ``llama_hparams::n_embd_r``
  (``(k - 1) x (d_inner + 2 G N)``, LFM2 ``(L - 1) x H``, KDA ``3 (k - 1) h d``) and ``n_embd_s``
  (``N x d_inner``) in ``src/llama-hparams.cpp``.

The larger vLLM attention block (``attention_block_tokens``) also rounds the attention layers' KV:
:func:`llmcalc.memory.estimate_memory` passes it to the KV cache (Qwen3-Next: 544 tokens).

Left out: vLLM's prefix-caching copies of state (off for hybrid models by default), speculative-
decoding state copies, and the sweep's KV rounding, which keeps 16-token blocks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from llmcalc.kvcache import KV_DTYPE_BYTES, kv_values_per_token, normalise_engine, normalise_kv_dtype
from llmcalc.mixers.base import Mixer, StateTensor
from llmcalc.spec import ModelSpec

VLLM_BLOCK_ALIGN = 16


@dataclass(frozen=True, slots=True)
class StateEstimate:
    """Per-sequence state of a model's non-attention layers, for ``batch_size`` sequences (exact bytes)."""

    engine: str
    batch_size: int
    state_layers: int
    conv_bytes: int
    recurrent_bytes: int
    padding_bytes: int
    bytes_per_sequence: int
    total_bytes: int
    #: vLLM hybrid models: the attention block size chosen so a page holds one layer's state (0 otherwise)
    attention_block_tokens: int = 0


def _tensor_bytes(mixer: Mixer, tensor: StateTensor, *, engine: str, value_bytes: float) -> int:
    """Bytes of one state tensor of one layer for one sequence on ``engine``."""
    values = tensor.values
    if tensor.conv_width and engine != "hf":
        channels = getattr(mixer, "conv_channels", None) or tensor.values // tensor.conv_width
        values = channels * (tensor.conv_width - 1)
    # llama.cpp keeps r_l / s_l in f32; transformers keeps the fp32-marked tensors in float32
    per_value = 4.0 if engine == "llama.cpp" or (engine == "hf" and tensor.dtype == "fp32") else value_bytes
    return math.ceil(values * per_value)


def layer_state_bytes(mixer: Mixer, *, engine: str = "hf", kv_dtype: str = "bf16") -> tuple[int, int]:
    """``(conv, recurrent)`` bytes of one layer's state for one sequence, before any page padding."""
    engine, kv_dtype = normalise_engine(engine), normalise_kv_dtype(kv_dtype)
    value_bytes = float(KV_DTYPE_BYTES[kv_dtype])
    conv = rec = 0
    for tensor in mixer.state():
        size = _tensor_bytes(mixer, tensor, engine=engine, value_bytes=value_bytes)
        if tensor.conv_width:
            conv += size
        else:
            rec += size
    return conv, rec


def state_bytes(spec: ModelSpec, *, batch_size: int = 1, engine: str = "hf", kv_dtype: str = "bf16") -> StateEstimate:
    """Conv + SSM / recurrent state of every state layer of the main stack, for ``batch_size`` sequences.

    ``kv_dtype`` is the cache dtype (for ``hf`` the model dtype): the dtype of the state tensors each
    engine keeps in it. Constant in the context length. Pure: a spec in, a frozen result out.
    """
    engine, kv_dtype = normalise_engine(engine), normalise_kv_dtype(kv_dtype)
    conv = rec = pad = layers = 0
    pages: list[tuple[int, int]] = []
    for g in spec.main_stack.groups:
        if g.mixer is None:
            continue
        c, r = layer_state_bytes(g.mixer, engine=engine, kv_dtype=kv_dtype)
        conv += g.count * c
        rec += g.count * r
        layers += g.count
        pages.append((g.count, c + r))
    block = 0
    attn = next((g.attention for g in spec.main_stack.groups if g.attention is not None), None)
    if engine == "vllm" and pages and attn is not None:
        per_token = math.ceil(kv_values_per_token(attn, engine=engine) * KV_DTYPE_BYTES[kv_dtype])
        largest = max(size for _, size in pages)
        block = VLLM_BLOCK_ALIGN * -(-largest // (VLLM_BLOCK_ALIGN * per_token))
        page = block * per_token
        pad = sum(count * (page - size) for count, size in pages)
    per_sequence = conv + rec + pad
    return StateEstimate(
        engine=engine,
        batch_size=batch_size,
        state_layers=layers,
        conv_bytes=conv * batch_size,
        recurrent_bytes=rec * batch_size,
        padding_bytes=pad * batch_size,
        bytes_per_sequence=per_sequence,
        total_bytes=per_sequence * batch_size,
        attention_block_tokens=block,
    )
