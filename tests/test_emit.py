"""The command lines that realise a plan, flag for flag."""

from __future__ import annotations

from dataclasses import replace

import llmcalc
from llmcalc.emit import Adapters, command
from llmcalc.gpus import get_gpu
from llmcalc.memory import engine_settings
from llmcalc.plans import llama_cpp_plan, vllm_plan
from llmcalc.quant import weights_for_bpw, weights_for_format
from llmcalc.units import GIB


def test_llama_server_with_experts_in_ram() -> None:
    """llama-server flags of common/arg.cpp: -c, -ngl, --n-cpu-moe, -ctk/-ctv (only non-defaults besides -c)."""
    spec = llmcalc.load_model("qwen3-30b-a3b").spec
    plan = llama_cpp_plan(spec, weights=weights_for_format(spec, "Q4_K_M"), gpus=[get_gpu("rtx-4090")],
                          context_tokens=32768, n_cpu_moe=12, kv_dtype="q8_0")
    assert command(plan, model_ref="Qwen3-30B-A3B-Q4_K_M.gguf") == (
        "llama-server -m Qwen3-30B-A3B-Q4_K_M.gguf -c 32768 -ngl 49 --n-cpu-moe 12 -ctk q8_0 -ctv q8_0"
    )


def test_llama_server_mixed_gpus_and_no_kv_offload() -> None:
    """Two devices give -ts in percent of free memory; --no-kv-offload is -nkvo; 4 sequences -np 4."""
    spec = llmcalc.load_model("llama-3.1-8b").spec
    a, b = replace(get_gpu("rtx-4090"), usable_memory_bytes=24 * GIB), replace(get_gpu("rtx-3060"),
                                                                              usable_memory_bytes=8 * GIB)
    plan = llama_cpp_plan(spec, weights=weights_for_format(spec, "Q8_0"), gpus=[a, b], context_tokens=8192,
                          batch_size=4, kv_offload=False, n_gpu_layers=20)
    assert command(plan, model_ref="m.gguf", adapters=Adapters(lora_count=1, lora_rank=16)) == (
        "llama-server -m m.gguf -c 8192 -ngl 20 -ts 75,25 -np 4 -nkvo --lora adapter-1.gguf"
    )


def test_vllm_serve() -> None:
    """vllm serve flags of vllm/engine/arg_utils.py: --max-model-len, --gpu-memory-utilization, TP, KV bytes."""
    spec = llmcalc.load_model("llama-3.1-8b").spec
    h100 = get_gpu("h100")
    plan = vllm_plan(spec, weights=weights_for_bpw(spec, 16), gpus=[h100, h100], context_tokens=32768,
                     kv_dtype="fp8", settings=engine_settings("vllm"))
    kv = plan.setting("kv_cache_memory_bytes")
    assert command(plan, model_ref="meta-llama/Llama-3.1-8B", adapters=Adapters(lora_count=4, lora_rank=64)) == (
        "vllm serve meta-llama/Llama-3.1-8B --max-model-len 32768 --gpu-memory-utilization 0.92 "
        f"--tensor-parallel-size 2 --kv-cache-dtype fp8 --kv-cache-memory-bytes {kv} "
        "--enable-lora --max-loras 4 --max-lora-rank 64"
    )
    assert kv == 32768 * 32 * 4 * 128 * 2  # 8 KV heads split in two, fp8 K and V


def test_vllm_serve_with_cpu_offload() -> None:
    """--cpu-offload-gb appears when the plan offloads."""
    spec = llmcalc.load_model("llama-3.1-8b").spec
    small = replace(get_gpu("rtx-4090"), usable_memory_bytes=16 * GIB)
    plan = vllm_plan(spec, weights=weights_for_bpw(spec, 16), gpus=[small], context_tokens=4096)
    assert f"--cpu-offload-gb {plan.setting('cpu_offload_gb')} " in command(plan, model_ref="x/y") + " "


def test_vllm_serve_with_draft_or_mtp() -> None:
    """--speculative-config names the draft model, or the model's own MTP heads."""
    spec = llmcalc.load_model("llama-3.1-8b").spec
    plan = vllm_plan(spec, weights=weights_for_bpw(spec, 16), gpus=[get_gpu("h100")], context_tokens=4096)
    drafted = command(plan, model_ref="x/y", adapters=Adapters(draft="org/draft"))
    assert drafted.endswith("""--speculative-config '{"model": "org/draft", "num_speculative_tokens": 3}'""")
    mtp = command(plan, model_ref="x/y", adapters=Adapters(mtp=True))
    assert mtp.endswith("""--speculative-config '{"method": "mtp", "num_speculative_tokens": 1}'""")
