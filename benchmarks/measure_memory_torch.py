"""Measure real CPU memory of small transformers models and compare it with llmcalc's figures.

Documentation of how the "Caveats" figures in the README were obtained. Not part of the package,
not imported by the tests, and not a dependency of anything: it needs torch and transformers, which
llmcalc does not.

What it measures, for each model x context x batch, each run in a fresh subprocess:

1. weights: ``sum(p.nbytes)`` over the unique parameters of the model built from its config in bf16
   (random weights; buffers such as RoPE ``inv_freq`` reported apart), against
   ``llmcalc.quant.weights_for_bpw(spec, 16)``.
2. KV cache: one prefill ``model(input_ids, use_cache=True)`` under ``torch.no_grad()``; the logical
   size (``nbytes``) of every key and value tensor in the returned cache, and the bytes of the
   distinct storages behind them (a sliding layer's cache is a slice of a larger tensor), against
   ``llmcalc.kvcache.kv_cache(..., kv_dtype="bf16", engine="hf")``.
3. activations: peak RSS increase during the prefill (``VmHWM`` after resetting it through
   ``/proc/self/clear_refs``; ``ru_maxrss`` reported too) minus the KV cache storage, against
   ``llmcalc.memory.activation_estimate(..., settings=engine_settings("hf"))``. The baseline is taken
   after building the model and an 8-token warm-up forward.

Usage (from the repository root)::

    python benchmarks/measure_memory_torch.py --out results.jsonl            # the whole grid
    python benchmarks/measure_memory_torch.py --one smollm-135m 1024 1 sdpa 1  # one run, JSON to stdout
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = Path(os.environ.get("LLMCALC_REF_CONFIGS", "/work/shared/reference/configs"))
MODELS = ["smollm-135m", "qwen2-0.5b", "qwen3-0.6b", "llama-3.2-1b", "gemma-3-1b"]
CONTEXTS = [256, 1024, 4096]
BATCHES = [1, 4]


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def llmcalc_figures(name: str, ctx: int, batch: int) -> dict:
    sys.path.insert(0, str(ROOT))
    import llmcalc
    from llmcalc.kvcache import kv_cache
    from llmcalc.memory import activation_estimate, engine_settings
    from llmcalc.quant import weights_for_bpw

    cfg = json.loads((CONFIGS / f"{name}.json").read_text())
    spec = llmcalc.spec_from_hf_config(cfg, source=name)
    kv = kv_cache(spec, context_tokens=ctx, batch_size=batch, kv_dtype="bf16", engine="hf")
    act = activation_estimate(spec, context_tokens=ctx, batch_size=batch, settings=engine_settings("hf"))
    return {
        "calc_weights": weights_for_bpw(spec, 16).total_bytes,
        "calc_kv": kv.total_bytes,
        "calc_act": act.total_bytes,
        "calc_act_hidden": act.hidden_bytes,
        "calc_act_logits": act.logits_bytes,
        "vocab": spec.vocab_size,
    }


def _cache_tensors(cache) -> list:
    """Every key and value tensor in a transformers cache (5.x ``layers``, or 4.x ``key_cache``)."""
    if hasattr(cache, "layers"):
        out = []
        for layer in cache.layers:
            out += [layer.keys, layer.values]
        return out
    return list(cache.key_cache) + list(cache.value_cache)


def measure_one(name: str, ctx: int, batch: int, attn: str, logits_to_keep: int) -> dict:
    import torch
    import transformers
    from transformers import AutoConfig, AutoModelForCausalLM

    torch.manual_seed(0)
    torch.set_num_threads(os.cpu_count() or 1)
    cfg = AutoConfig.from_pretrained(CONFIGS / f"{name}.json")
    kwargs = {} if attn == "default" else {"attn_implementation": attn}
    t0 = time.time()
    model = AutoModelForCausalLM.from_config(cfg, dtype=torch.bfloat16, **kwargs).eval()
    build_s = time.time() - t0

    params = {p.data_ptr(): p for p in model.parameters()}
    buffers = {b.data_ptr(): b for b in model.buffers()}
    res = {
        "model": name, "ctx": ctx, "batch": batch, "attn_requested": attn, "logits_to_keep": logits_to_keep,
        "attn_impl": model.config._attn_implementation,
        "torch": torch.__version__, "transformers": transformers.__version__,
        "threads": torch.get_num_threads(),
        "weights_bytes": sum(p.nbytes for p in params.values()),
        "param_count": sum(p.numel() for p in params.values()),
        "buffer_bytes": sum(b.nbytes for b in buffers.values()),
        "buffer_dtypes": sorted({str(b.dtype) for b in buffers.values()}),
        "build_s": round(build_s, 2),
    }
    vocab = model.config.vocab_size
    with torch.no_grad():
        warm = torch.randint(0, vocab, (1, 8))
        out = model(warm, use_cache=True, logits_to_keep=logits_to_keep)
        del out
        ids = torch.randint(0, vocab, (batch, ctx))
        base_rss = _status_kib("VmRSS")
        base_maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        res["peak_reset"] = _reset_peak()
        t0 = time.time()
        out = model(ids, use_cache=True, logits_to_keep=logits_to_keep)
        res["forward_s"] = round(time.time() - t0, 2)
        peak_hwm = _status_kib("VmHWM")
        after_rss = _status_kib("VmRSS")
        maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    cache = getattr(out, "cache", None) or out.past_key_values
    tensors = _cache_tensors(cache)
    storages = {}
    for t in tensors:
        s = t.untyped_storage()
        storages[s.data_ptr()] = s.nbytes()
    res.update(
        cache_class=type(cache).__name__,
        layer_classes=sorted({type(layer).__name__ for layer in getattr(cache, "layers", [])}),
        kv_bytes=sum(t.nbytes for t in tensors),
        kv_storage_bytes=sum(storages.values()),
        kv_seq_lens=sorted({int(t.shape[-2]) for t in tensors}),
        logits_shape=list(out.logits.shape), logits_dtype=str(out.logits.dtype),
        logits_bytes=out.logits.nbytes,
        base_rss_kib=base_rss, base_maxrss_kib=base_maxrss, peak_hwm_kib=peak_hwm,
        after_rss_kib=after_rss, maxrss_kib=maxrss,
        peak_increase_bytes=(peak_hwm - base_rss) * 1024,
        maxrss_increase_bytes=(maxrss - base_rss) * 1024,  # clear_refs resets ru_maxrss too
    )
    res["act_bytes"] = res["peak_increase_bytes"] - res["kv_storage_bytes"]
    res.update(llmcalc_figures(name, ctx, batch))
    return res


def run_grid(out_path: Path, models: list[str], variants: list[tuple[str, int]], batches: list[int],
             contexts: list[int], max_s: float, timeout: float) -> None:
    """Fresh subprocess per run; skip a model's larger runs once one would exceed ``max_s``."""
    for name in models:
        for attn, keep in variants:
            last_rate = None  # seconds per token (prefill), from the previous run
            for batch in batches:
                for ctx in contexts:
                    tokens = batch * ctx
                    if last_rate is not None:
                        # attention is quadratic: scale conservatively by tokens x ctx ratio
                        scale = max(1.0, ctx / last_rate["ctx"]) ** 0.5
                        predicted = last_rate["s"] * (tokens / last_rate["tokens"]) * scale
                        if predicted > max_s:
                            row = {"model": name, "ctx": ctx, "batch": batch, "attn_requested": attn,
                                   "logits_to_keep": keep, "skipped": f"predicted {predicted:.0f} s > {max_s:.0f} s"}
                            print(json.dumps(row), flush=True)
                            with out_path.open("a") as f:
                                f.write(json.dumps(row) + "\n")
                            continue
                    cmd = [sys.executable, __file__, "--one", name, str(ctx), str(batch), attn, str(keep)]
                    t0 = time.time()
                    try:
                        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
                        line = p.stdout.strip().splitlines()[-1] if p.returncode == 0 else None
                        row = json.loads(line) if line else {"model": name, "ctx": ctx, "batch": batch,
                                                             "attn_requested": attn, "logits_to_keep": keep,
                                                             "error": p.stderr[-2000:]}
                    except subprocess.TimeoutExpired:
                        row = {"model": name, "ctx": ctx, "batch": batch, "attn_requested": attn,
                               "logits_to_keep": keep, "skipped": f"timeout {timeout:.0f} s"}
                    row["wall_s"] = round(time.time() - t0, 1)
                    if "forward_s" in row:
                        last_rate = {"s": row["forward_s"], "tokens": tokens, "ctx": ctx}
                    print(json.dumps(row), flush=True)
                    with out_path.open("a") as f:
                        f.write(json.dumps(row) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--one", nargs=5, metavar=("MODEL", "CTX", "BATCH", "ATTN", "LOGITS_TO_KEEP"))
    ap.add_argument("--out", type=Path, default=Path("results.jsonl"))
    ap.add_argument("--models", nargs="*", default=MODELS)
    ap.add_argument("--contexts", nargs="*", type=int, default=CONTEXTS)
    ap.add_argument("--batches", nargs="*", type=int, default=BATCHES)
    ap.add_argument("--variants", nargs="*", default=["default:1"],
                    help="ATTN:LOGITS_TO_KEEP pairs, e.g. default:1 eager:1 sdpa:0")
    ap.add_argument("--max-s", type=float, default=60.0, help="skip runs predicted to take longer")
    ap.add_argument("--timeout", type=float, default=180.0)
    a = ap.parse_args()
    if a.one:
        name, ctx, batch, attn, keep = a.one
        print(json.dumps(measure_one(name, int(ctx), int(batch), attn, int(keep))))
        return
    variants = [(v.split(":")[0], int(v.split(":")[1])) for v in a.variants]
    run_grid(a.out, a.models, variants, a.batches, a.contexts, a.max_s, a.timeout)


if __name__ == "__main__":
    main()
