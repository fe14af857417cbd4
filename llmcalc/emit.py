"""The command line that realises a plan: ``llama-server ...`` or ``vllm serve ...``.

Flag names are the engines' own: llama.cpp's ``common/arg.cpp`` (``-m``, ``-c``, ``-ngl``,
``--n-cpu-moe``, ``--cpu-moe``, ``-ts``, ``-np``, ``-ctk``/``-ctv``, ``-nkvo``, ``-fa``, ``--mmproj``,
``--lora``, ``-md``) and vLLM's ``vllm/engine/arg_utils.py`` (``--max-model-len``,
``--gpu-memory-utilization``, ``--tensor-parallel-size``, ``--kv-cache-dtype``, ``--cpu-offload-gb``,
``--kv-cache-memory-bytes``, ``--max-num-seqs``, ``--max-num-batched-tokens``, ``--enable-lora``,
``--max-loras``, ``--max-lora-rank``). Only settings that differ from the engine's default are
written, except the context, which is always given. Pure: a plan and names in, a string out.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from llmcalc.plans import Plan

EMIT_TARGETS = ("llama.cpp", "vllm")


@dataclass(frozen=True, slots=True)
class Adapters:
    """LoRA adapters and a draft model to name on the command line (placeholders where no file is known)."""

    lora_rank: int = 0
    lora_count: int = 0
    draft: str | None = None
    mmproj: str | None = None
    #: the model's own multi-token-prediction heads draft (vLLM ``"method": "mtp"``)
    mtp: bool = False


def _words(args: list[str]) -> str:
    return " ".join(shlex.quote(a) for a in args)


def llama_cpp_command(plan: Plan, *, model_file: str, adapters: Adapters = Adapters()) -> str:
    """``llama-server -m FILE -c CTX -ngl N [--n-cpu-moe K | --cpu-moe] [-ts a,b] ...`` for a llama.cpp plan."""
    s = dict(plan.settings)
    args = ["llama-server", "-m", model_file, "-c", str(s["ctx_size"]), "-ngl", str(s["n_gpu_layers"])]
    if s.get("cpu_moe"):
        args.append("--cpu-moe")
    elif s.get("n_cpu_moe"):
        args += ["--n-cpu-moe", str(s["n_cpu_moe"])]
    split = s.get("tensor_split")
    if isinstance(split, tuple):
        args += ["-ts", ",".join(str(x) for x in split)]
    if s.get("parallel", 1) != 1:
        args += ["-np", str(s["parallel"])]
    if s.get("cache_type_k", "f16") != "f16":
        args += ["-ctk", str(s["cache_type_k"]), "-ctv", str(s["cache_type_v"])]
    if not s.get("kv_offload", True):
        args.append("-nkvo")
    if not s.get("flash_attn", True):
        args += ["-fa", "off"]
    if adapters.mmproj:
        args += ["--mmproj", adapters.mmproj]
    if adapters.draft:
        args += ["-md", adapters.draft]
    for i in range(adapters.lora_count):
        args += ["--lora", f"adapter-{i + 1}.gguf"]
    return _words(args)


def vllm_command(plan: Plan, *, model_id: str, adapters: Adapters = Adapters()) -> str:
    """``vllm serve MODEL --max-model-len ... --gpu-memory-utilization ... --tensor-parallel-size ...``."""
    s = dict(plan.settings)
    args = ["vllm", "serve", model_id, "--max-model-len", str(s["max_model_len"]),
            "--gpu-memory-utilization", f"{s['gpu_memory_utilization']:g}",
            "--tensor-parallel-size", str(s["tensor_parallel_size"])]
    if s.get("kv_cache_dtype", "f16") not in ("f16", "bf16"):
        args += ["--kv-cache-dtype", str(s["kv_cache_dtype"])]
    if s.get("cpu_offload_gb"):
        args += ["--cpu-offload-gb", str(s["cpu_offload_gb"])]
    if s.get("kv_cache_memory_bytes"):
        args += ["--kv-cache-memory-bytes", str(s["kv_cache_memory_bytes"])]
    if adapters.lora_count:
        args += ["--enable-lora", "--max-loras", str(adapters.lora_count), "--max-lora-rank", str(adapters.lora_rank)]
    if adapters.draft:
        args += ["--speculative-config", f'{{"model": "{adapters.draft}", "num_speculative_tokens": 3}}']
    elif adapters.mtp:
        args += ["--speculative-config", '{"method": "mtp", "num_speculative_tokens": 1}']
    return _words(args)


def command(plan: Plan, *, model_ref: str, adapters: Adapters = Adapters()) -> str:
    """The command for ``plan.engine``: a GGUF file name for llama.cpp, a Hugging Face id for vLLM."""
    if plan.engine == "llama.cpp":
        return llama_cpp_command(plan, model_file=model_ref, adapters=adapters)
    return vllm_command(plan, model_id=model_ref, adapters=adapters)
