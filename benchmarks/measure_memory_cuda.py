"""Measure transformers' GPU memory against llmcalc's estimate (UNRUN: no GPU was lent to the session that wrote it).

For each config (a few small real architectures, written out below so nothing is downloaded) the
script builds a random-weight model on the GPU in bf16, runs one prefill with SDPA and
``logits_to_keep=1`` (what ``generate()`` does) and one decode step, for several contexts and
batch sizes, each in a fresh process, and records:

- ``torch.cuda.max_memory_allocated`` and ``max_memory_reserved`` (the caching allocator's view),
- ``torch.cuda.mem_get_info`` before CUDA is touched, after the model is loaded and at the end
  (the device's view: CUDA context, allocator segments, everything),

beside llmcalc's ``estimate_memory`` for the same model (engine ``hf``): weights, KV cache (steady
state and right after prefill), activations and overhead with their ranges. One JSON line per run
goes to stdout; ``--out FILE`` writes them all.

Usage on a machine with a CUDA GPU, PyTorch and transformers (no network needed)::

    python benchmarks/measure_memory_cuda.py --out cuda-memory.jsonl
    python benchmarks/measure_memory_cuda.py --models qwen2-0.5b --contexts 1024,8192 --batches 1,8

Not part of the package or its tests (it imports torch and transformers).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: config.json fields of the models measured (copied from their Hugging Face config.json files).
CONFIGS: dict[str, dict[str, object]] = {
    "qwen2-0.5b": {"model_type": "qwen2", "vocab_size": 151936, "hidden_size": 896, "intermediate_size": 4864,
                   "num_hidden_layers": 24, "num_attention_heads": 14, "num_key_value_heads": 2,
                   "max_position_embeddings": 32768, "rope_theta": 1000000.0, "rms_norm_eps": 1e-6,
                   "tie_word_embeddings": True, "torch_dtype": "bfloat16"},
    "llama-3.2-1b": {"model_type": "llama", "vocab_size": 128256, "hidden_size": 2048, "intermediate_size": 8192,
                     "num_hidden_layers": 16, "num_attention_heads": 32, "num_key_value_heads": 8, "head_dim": 64,
                     "max_position_embeddings": 131072, "rope_theta": 500000.0, "rms_norm_eps": 1e-5,
                     "tie_word_embeddings": True, "torch_dtype": "bfloat16"},
    "gemma-3-1b": {"model_type": "gemma3_text", "vocab_size": 262144, "hidden_size": 1152,
                   "intermediate_size": 6912, "num_hidden_layers": 26, "num_attention_heads": 4,
                   "num_key_value_heads": 1, "head_dim": 256, "sliding_window": 512,
                   "max_position_embeddings": 32768, "query_pre_attn_scalar": 256, "rms_norm_eps": 1e-6,
                   "torch_dtype": "bfloat16"},
}

_CHILD = r"""
import json, sys, torch
from transformers import AutoConfig, AutoModelForCausalLM
name, cfg, ctx, batch = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
free0, total = torch.cuda.mem_get_info()
config = AutoConfig.for_model(**cfg)
config._attn_implementation = "sdpa"
with torch.device("cuda"):
    model = AutoModelForCausalLM.from_config(config, torch_dtype=torch.bfloat16)
model.eval()
torch.cuda.synchronize()
free_loaded = torch.cuda.mem_get_info()[0]
weights_alloc = torch.cuda.memory_allocated()
torch.cuda.reset_peak_memory_stats()
ids = torch.randint(0, cfg["vocab_size"], (batch, ctx), device="cuda")
with torch.inference_mode():
    out = model(input_ids=ids, use_cache=True, logits_to_keep=1)
    torch.cuda.synchronize()
    prefill_peak = torch.cuda.max_memory_allocated()
    nxt = out.logits[:, -1:].argmax(-1)
    out = model(input_ids=nxt, past_key_values=out.past_key_values, use_cache=True, logits_to_keep=1)
    torch.cuda.synchronize()
print(json.dumps({"model": name, "context": ctx, "batch": batch, "total_bytes": total, "free_start": free0,
                  "free_loaded": free_loaded, "free_end": torch.cuda.mem_get_info()[0],
                  "weights_allocated": weights_alloc, "prefill_peak_allocated": prefill_peak,
                  "peak_allocated": torch.cuda.max_memory_allocated(),
                  "peak_reserved": torch.cuda.max_memory_reserved(), "device": torch.cuda.get_device_name()}))
"""


def predict(name: str, ctx: int, batch: int) -> dict[str, int]:
    """llmcalc's hf estimate for the same run."""
    sys.path.insert(0, str(ROOT))
    from llmcalc.importers.hf import spec_from_hf_config
    from llmcalc.memory import estimate_memory
    from llmcalc.quant import weights_for_format

    spec = spec_from_hf_config(dict(CONFIGS[name]), source=name, name=name)
    est = estimate_memory(spec, weights=weights_for_format(spec, "bf16"), context_tokens=ctx, batch_size=batch)
    keys = ("weights_bytes", "kv_cache_bytes", "kv_cache_peak_bytes", "activation_bytes", "activation_bytes_low",
            "activation_bytes_high", "overhead_bytes", "overhead_bytes_low", "overhead_bytes_high", "total_bytes",
            "total_bytes_low", "total_bytes_high")
    return {f"predicted_{k}": getattr(est, k) for k in keys}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(CONFIGS))
    parser.add_argument("--contexts", default="1024,4096,16384")
    parser.add_argument("--batches", default="1,4")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    rows = []
    for name in args.models.split(","):
        for ctx in (int(c) for c in args.contexts.split(",")):
            for batch in (int(b) for b in args.batches.split(",")):
                run = subprocess.run([sys.executable, "-c", _CHILD, name, json.dumps(CONFIGS[name]), str(ctx),
                                      str(batch)], capture_output=True, text=True, timeout=300)
                if run.returncode:
                    row: dict[str, object] = {"model": name, "context": ctx, "batch": batch,
                                              "error": run.stderr.strip().splitlines()[-1:]}
                else:
                    row = json.loads(run.stdout.strip().splitlines()[-1])
                    row.update(predict(name, ctx, batch))
                print(json.dumps(row), flush=True)
                rows.append(row)
    if args.out:
        args.out.write_text("".join(json.dumps(r) + "\n" for r in rows))


if __name__ == "__main__":
    main()
