"""vLLM (V1 engine): what its memory budget holds, its batch defaults, its block sizes, as data.

**The budget** (``vllm/v1/worker/gpu_worker.py``, ``Worker.init_device`` and
``Worker.determine_available_memory``; ``vllm/utils/mem_utils.py``, ``memory_profiling``): the worker
takes its baseline snapshot (``init_snapshot``) after the CUDA context and the distributed (NCCL)
environment exist, and requires ``init_snapshot.free_memory >= requested_memory``, where
``requested_memory = gpu_memory_utilization x total``. Inside that budget go the weights, the peak
of the profiling run (``profile_run``: ``max_num_batched_tokens`` dummy tokens over ``max_num_seqs``
requests plus a sampler pass), memory allocated outside torch since the baseline, and the KV cache,
which gets everything left (``available_kv_cache_memory_bytes = requested_memory -
non_kv_cache_memory``). So the CUDA context and NCCL sit **outside** the budget, in the
``1 - gpu_memory_utilization`` share, and so do CUDA graphs: they are captured after the KV cache is
allocated and are charged to the budget only with ``VLLM_MEMORY_PROFILER_ESTIMATE_CUDAGRAPHS=1``
(default ``0``, ``vllm/envs.py``).

**Batch defaults** (``vllm/engine/arg_utils.py``, ``EngineArgs.get_batch_defaults`` and
``_set_default_max_num_seqs_and_batched_tokens_args``): on a GPU with at least 70 GiB that is not an
A100, ``max_num_batched_tokens`` is 16,384 for the ``LLM`` class and 8,192 for the API server
(``vllm serve``), ``max_num_seqs`` 1,024 for both; on other GPUs 8,192 / 2,048 tokens and 256
sequences. Then ``max_num_batched_tokens = min(max_num_seqs x max_model_len, that)`` and
``max_num_seqs = min(max_num_seqs, max_num_batched_tokens)``. Flags: ``--max-num-batched-tokens``,
``--max-num-seqs``.

**KV blocks**: 16 tokens (``CacheConfig`` default ``block_size``); MLA models use 64-token blocks
with FlashMLA (Hopper) and 128 with CUTLASS MLA (Blackwell) (``vllm/v1/attention/backends/mla/
flashmla.py`` and ``cutlass_mla.py``, ``get_supported_kernel_block_sizes``).

**Tensor parallelism** (``vllm/model_executor/layers/linear.py``: ``ReplicatedLinear`` vs
``ColumnParallelLinear``/``RowParallelLinear``): the MLA down-projections (``q_a_proj``,
``kv_a_proj_with_mqa``, DeepSeek's fused ``fused_qkv_a_proj``), MoE routers (``gate``, a
``ReplicatedLinear``) and norms are replicated on every GPU; the rest is split.

**Activations** against vLLM's own start-up logs (llm-d benchmark table, H100, 16,384 batched tokens,
1,024 sequences): 4.76 GiB logged for Llama-3.1-8B and 7.38 GiB for gpt-oss-20b, where llmcalc's
formula gives 3.03 and 3.53 GiB: the logged peak is 1.57-2.09 x the formula; :data:`ACTIVATION_RANGE`
is 1.0-2.1.

**LoRA** (``vllm/lora/models.py``, ``model_manager.py`` in newer releases, ``LoRAModelManager``; ``vllm/lora/layers``
``create_lora_weights``): vLLM preallocates, per LoRA-wrapped linear layer, ``lora_a`` stacks of
``max_loras x max_lora_rank x in`` and ``lora_b`` of ``max_loras x out x max_lora_rank`` in the
model dtype, whether or not adapters are loaded.

**CPU offload** (``--cpu-offload-gb``, ``vllm/model_executor/models/utils.py`` ``maybe_offload_to_cpu``):
up to that many GiB of weights per GPU stay in pinned CPU memory and are streamed each step.
"""

from __future__ import annotations

from fractions import Fraction

from llmcalc.units import GIB

#: Weight-format families vLLM loads (quantization methods it implements).
SUPPORTED_FAMILIES: tuple[str, ...] = ("float", "integer", "gptq", "awq", "microscaling", "nvfp4", "bitsandbytes",
                                       "gguf")

ENTRY_POINTS = ("serve", "llm")

#: GPU memory from which the larger batch defaults apply (device total memory, bytes).
LARGE_GPU_BYTES = 70 * GIB

#: (max_num_batched_tokens, max_num_seqs) defaults: [large GPU][entry point]
BATCH_DEFAULTS: dict[bool, dict[str, tuple[int, int]]] = {
    True: {"llm": (16384, 1024), "serve": (8192, 1024)},
    False: {"llm": (8192, 256), "serve": (2048, 256)},
}

BLOCK_TOKENS = 16
#: MLA KV block sizes by attention backend
MLA_BLOCK_TOKENS = {"flashmla": 64, "cutlass_mla": 128}
DEFAULT_MLA_BACKEND = "flashmla"

#: logged profiling peak / formula: low and high multipliers (module docstring)
ACTIVATION_RANGE = (Fraction(1), Fraction(21, 10))

DEFAULT_GPU_MEMORY_UTILIZATION = 0.92


def batch_defaults(
    *, gpu_total_bytes: int | None, gpu_name: str = "", entry_point: str = "serve", max_model_len: int | None = None
) -> tuple[int, int]:
    """``(max_num_batched_tokens, max_num_seqs)`` vLLM picks by default (``EngineArgs.get_batch_defaults``).

    ``gpu_total_bytes`` None (no GPU named) gives the defaults for GPUs under 70 GiB, as vLLM does when
    it cannot query the device. ``max_model_len`` applies the caps of
    ``_set_default_max_num_seqs_and_batched_tokens_args`` (chunked prefill on).
    """
    large = gpu_total_bytes is not None and gpu_total_bytes >= LARGE_GPU_BYTES and "a100" not in gpu_name.lower()
    tokens, seqs = BATCH_DEFAULTS[large][entry_point]
    if max_model_len is not None:
        tokens = min(seqs * max_model_len, tokens)
    seqs = min(seqs, tokens)
    return tokens, seqs


def lora_bytes(linears: list[tuple[int, int]], *, max_loras: int, max_lora_rank: int, dtype_bytes: int = 2) -> int:
    """Preallocated LoRA slots: ``max_loras x rank x (in + out) x dtype`` summed over wrapped linears ``(in, out)``."""
    return sum(max_loras * max_lora_rank * (n_in + n_out) * dtype_bytes for n_in, n_out in linears)
