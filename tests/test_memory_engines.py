"""Engine-faithful budgets: each figure from an engine's source, cited in the test's docstring."""

from __future__ import annotations

import pytest

import llmcalc
from llmcalc.engines import hf, llamacpp, vllm
from llmcalc.fit import check_fit, per_gpu, replicated_params, usable_bytes
from llmcalc.gpus import get_gpu
from llmcalc.kvcache import kv_cache
from llmcalc.memory import activation_estimate, engine_settings, estimate_memory
from llmcalc.quant import weights_for_bpw
from llmcalc.units import GIB, MIB


def _spec(name: str) -> llmcalc.ModelSpec:
    return llmcalc.load_model(name).spec


@pytest.mark.parametrize(
    ("total", "name", "entry", "expected"),
    [
        (80 * GIB, "h100", "serve", (8192, 1024)),
        (80 * GIB, "h100", "llm", (16384, 1024)),
        (80 * GIB, "a100-80gb", "serve", (2048, 256)),
        (24 * GIB, "rtx-4090", "serve", (2048, 256)),
        (24 * GIB, "rtx-4090", "llm", (8192, 256)),
        (None, "", "serve", (2048, 256)),
    ],
    ids=["h100-serve", "h100-llm", "a100-serve", "4090-serve", "4090-llm", "no-gpu"],
)
def test_vllm_batch_defaults(total: int | None, name: str, entry: str, expected: tuple[int, int]) -> None:
    """vllm/engine/arg_utils.py EngineArgs.get_batch_defaults: >= 70 GiB and not A100 get larger defaults."""
    assert vllm.batch_defaults(gpu_total_bytes=total, gpu_name=name, entry_point=entry) == expected


def test_vllm_batch_defaults_capped_by_model_len() -> None:
    """arg_utils.py _set_default_max_num_seqs_and_batched_tokens_args: tokens <= seqs x model len, seqs <= tokens."""
    assert vllm.batch_defaults(gpu_total_bytes=80 * GIB, gpu_name="h100", max_model_len=4) == (4096, 1024)
    assert vllm.batch_defaults(gpu_total_bytes=24 * GIB, max_model_len=1) == (256, 256)


def test_vllm_context_and_graphs_outside_budget() -> None:
    """vllm/v1/worker/gpu_worker.py determine_available_memory: baseline after CUDA context/NCCL; graphs not
    charged unless VLLM_MEMORY_PROFILER_ESTIMATE_CUDAGRAPHS=1 (vllm/envs.py default 0)."""
    spec = _spec("llama-3.1-8b")
    settings = engine_settings("vllm")
    est = estimate_memory(spec, weights=weights_for_bpw(spec, 16), context_tokens=4096, settings=settings)
    assert est.overhead_bytes == 0
    assert est.total_bytes == est.weights_bytes + est.kv_cache_bytes + est.activation_bytes
    assert est.outside_budget_bytes == 1024 * MIB
    assert est.outside_budget_bytes_low < est.outside_budget_bytes < est.outside_budget_bytes_high


def test_vllm_nothing_fits_when_utilization_leaves_no_room_outside() -> None:
    """gpu_worker.py: init_snapshot.free_memory must be >= requested_memory, so 0.99 of 24 GiB cannot start."""
    gpu = get_gpu("rtx-4090")
    assert usable_bytes(gpu, engine_settings("vllm", gpu_memory_utilization=0.99)) == 0
    assert usable_bytes(gpu, engine_settings("vllm")) == int(gpu.usable_memory_bytes * 0.92)


def test_vllm_activation_uses_batch_defaults() -> None:
    """gpu_model_runner.py profile_run: max_num_batched_tokens through the model, a sampler over max_num_seqs rows."""
    spec = _spec("llama-3.1-8b")
    small = activation_estimate(spec, context_tokens=65536, batch_size=1, settings=engine_settings("vllm"))
    big = activation_estimate(spec, context_tokens=65536, batch_size=1,
                              settings=engine_settings("vllm", max_num_batched_tokens=8192, max_num_seqs=1024))
    assert small.tokens_in_flight == 2048 and big.tokens_in_flight == 8192
    assert small.logits_bytes == 256 * 128256 * 4 * 3
    assert big.logits_bytes == 1024 * 128256 * 4 * 3


@pytest.mark.parametrize("block", [64, 128], ids=["flashmla", "cutlass-mla"])
def test_vllm_mla_block_size(block: int) -> None:
    """vllm/v1/attention/backends/mla/flashmla.py (64) and cutlass_mla.py (128): MLA latent blocks."""
    spec = _spec("deepseek-v3")
    kv = kv_cache(spec, context_tokens=100, engine="vllm", cache=engine_settings("vllm", mla_block_tokens=block).cache)
    assert kv.total_bytes == 61 * 576 * 2 * block * -(-100 // block)


def test_replicated_under_tp_deepseek() -> None:
    """vllm deepseek_v2.py: q_a_proj, kv_a_proj_with_mqa (+ norms) and MoE gate are ReplicatedLinear."""
    spec = _spec("deepseek-v3")
    per_layer_mla = 7168 * 1536 + 1536 + 7168 * 576 + 512  # q_a + q_a_norm + kv_a_mqa + kv_a_norm
    routers = 58 * 7168 * 256
    norms = 61 * 2 * 7168 + 7168
    assert replicated_params(spec) == 61 * per_layer_mla + routers + norms


def test_llama_cpp_fit_margin_and_defaults() -> None:
    """llama.cpp common/common.h: fit_params_target 1024 MiB per device, fit_params_min_ctx 4096, n_ubatch 512."""
    assert llamacpp.FIT_MARGIN_BYTES == 1024 * MIB
    assert (llamacpp.FIT_MIN_CONTEXT, llamacpp.N_UBATCH, llamacpp.N_BATCH) == (4096, 512, 2048)


@pytest.mark.parametrize(
    ("n_layer", "ngl", "splits", "expected"),
    [
        (4, 99, [1.0], [0, 0, 0, 0, 0]),
        (4, 2, [1.0], [-1, -1, -1, 0, 0]),
        (4, 1, [1.0], [-1, -1, -1, -1, 0]),
        (4, 0, [1.0], [-1, -1, -1, -1, -1]),
        (4, 99, [3.0, 2.0], [0, 0, 0, 1, 1]),
    ],
    ids=["all", "ngl2", "ngl1-output-only", "cpu", "two-devices-3-2"],
)
def test_llama_cpp_layer_devices(n_layer: int, ngl: int, splits: list[float], expected: list[int]) -> None:
    """src/llama-model.cpp load_tensors: i_gpu_start = n_layer + 1 - ngl, device by upper_bound of cumulative splits."""
    assert llamacpp.layer_devices(n_layer, ngl, splits) == expected


def test_llama_cpp_compute_buffer_flash_attention() -> None:
    """src/llama-context.cpp graph reserve: without flash attention the n_ubatch x n_ctx x heads fp32 scores
    beside the layer's other tensors; the KQ mask (src/llama-graph.cpp build_attn_inp_kq_mask) F16 with flash
    attention, F32 without (both measured on the CPU backend, tests/data/gguf_llamacpp_measured.json)."""
    spec = _spec("llama-3.1-8b")
    on = activation_estimate(spec, context_tokens=32768, batch_size=1, settings=engine_settings("llama.cpp"))
    off = activation_estimate(spec, context_tokens=32768, batch_size=1,
                              settings=engine_settings("llama.cpp", flash_attention=False))
    assert on.scores_bytes == 0 and on.mask_bytes == 512 * 32768 * 2
    assert on.total_bytes == max(on.hidden_bytes, on.logits_bytes) + on.mask_bytes
    assert off.scores_bytes == 512 * 32768 * 32 * 4
    assert off.total_bytes == off.hidden_bytes + off.scores_bytes + 512 * 32768 * 4
    small = activation_estimate(spec, context_tokens=32768, batch_size=1,
                                settings=engine_settings("llama.cpp", n_ubatch=128))
    assert small.logits_bytes == 128 * 128256 * 4


def test_hf_sliding_window_prefill_peak() -> None:
    """transformers cache_utils.py DynamicSlidingWindowLayer: the prefill returns (and holds) the whole prompt.

    README Caveats measured gemma-3-1b at 4,096 tokens: 109 MB held against 28 MB window-capped. The
    KV figure is what the cache holds after the prefill; the steady state is its own key.
    """
    spec = _spec("gemma-3-1b")
    est = estimate_memory(spec, weights=weights_for_bpw(spec, 16), context_tokens=4096)
    cache = kv_cache(spec, context_tokens=4096, engine="hf")
    assert est.kv_cache_bytes == est.kv_cache_peak_bytes == cache.total_bytes == 26 * 1 * 512 * 4096 * 2
    assert est.kv_cache_steady_bytes == cache.steady_bytes < est.kv_cache_bytes
    assert est.kv_cache_bytes / 1e6 == pytest.approx(109, rel=0.02)
    assert est.kv_cache_steady_bytes / 1e6 == pytest.approx(28, rel=0.05)


@pytest.mark.parametrize(
    ("sizes", "reserved"),
    [
        ([100], 2 * MIB),
        ([512 * 1024] * 5, 2 * 2 * MIB),
        ([3 * MIB] * 7, 20 * MIB + 20 * MIB),
        ([11 * MIB], 12 * MIB),
        ([20 * MIB + 1], 22 * MIB),
    ],
    ids=["one-small", "small-packing", "mid-packing", "large-rounding", "large-plus-one"],
)
def test_caching_allocator_segments(sizes: list[int], reserved: int) -> None:
    """c10/cuda/CUDACachingAllocator.cpp: 2 MiB small segments, 20 MiB for < 10 MiB, large rounded to 2 MiB."""
    assert hf.reserved_bytes(sizes) == reserved


def test_hf_overhead_is_not_five_percent() -> None:
    """Overhead is the CUDA context (274-636 MiB, PyTorch PR #86509), not 5% of everything (38.5 GiB at 405B)."""
    spec = _spec("llama-3.1-405b")
    est = estimate_memory(spec, weights=weights_for_bpw(spec, 16), context_tokens=4096)
    assert est.overhead_bytes == 512 * MIB
    assert est.overhead_bytes_low == 274 * MIB
    rounding = est.overhead.allocator_rounding_bytes
    assert 0 < rounding < 2 * MIB * 126 * 8
    assert est.overhead_bytes_high == 636 * MIB + rounding


@pytest.mark.parametrize("engine", ["hf", "vllm", "llama.cpp"])
def test_estimates_are_ranges(engine: str) -> None:
    """README Caveats: activations 17-36% low (hf, CPU), 35-50% low (vLLM logs): formula x 1-1.6 / 1-2.1;
    llama.cpp's compute buffer 0.74-1.77 x the formula (CPU backend): x 0.73-1.8."""
    spec = _spec("llama-3.1-8b")
    est = estimate_memory(spec, weights=weights_for_bpw(spec, 16), context_tokens=8192, engine=engine)
    low, high = {"hf": (1, 1.6), "vllm": (1, 2.1), "llama.cpp": (0.73, 1.8)}[engine]
    assert est.activation_bytes_low == pytest.approx(est.activation_bytes * low, abs=1)
    assert est.activation_bytes_high == pytest.approx(est.activation_bytes * high, abs=1)
    assert est.total_bytes_low <= est.total_bytes < est.total_bytes_high
    assert est.total_bytes_high == est.exact_bytes + est.activation_bytes_high + est.overhead_bytes_high


def test_fit_high_end() -> None:
    """A fit says whether it still holds at the high end of the estimates."""
    spec = _spec("llama-3.1-8b")
    gpu = get_gpu("rtx-4090")
    settings = engine_settings("hf")
    est = estimate_memory(spec, weights=weights_for_bpw(spec, 16), context_tokens=4096, settings=settings)
    fit = check_fit(spec, est, gpu, 1, settings)
    assert fit.fits_high == (per_gpu(spec, est, 1, settings).total_bytes_high <= fit.usable_bytes_per_gpu)


@pytest.mark.parametrize(("gpu", "entry", "expected"), [("h100", "serve", (8192, 1024)), ("h100", "llm", (16384, 1024)),
                                                        ("rtx-4090", "serve", (2048, 256))])
def test_memory_report_uses_vllm_batch_defaults_of_the_gpu(gpu: str, entry: str, expected: tuple[int, int]) -> None:
    """memory --engine vllm --gpu picks EngineArgs.get_batch_defaults for that GPU and entry point."""
    from llmcalc.report import memory_report

    report = memory_report(llmcalc.load_model("llama-3.1-8b"), engine="vllm", gpu=get_gpu(gpu), context_tokens=32768,
                           vllm_entry_point=entry)
    act = report.formats[0].estimate.activations
    assert (act.tokens_in_flight, act.logits_bytes // (128256 * 4 * 3)) == expected
