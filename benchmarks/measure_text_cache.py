"""Measure the bytes a transformers cache holds after a prefill, for the 2025-26 text families.

Builds small random-weight models from synthetic configs (CPU, bf16) with the measurement venv
(``/work/mvenv/bin/python benchmarks/measure_text_cache.py``), runs one forward pass of ``T`` tokens
at batch ``B`` with ``use_cache=True``, and sums the bytes of every distinct tensor storage reachable
from the returned cache (K/V of each layer, DeepSeek-V3.2's indexer keys). Writes
``tests/data/text_cache_measured.json``; ``tests/test_families_cache.py`` checks that llmcalc's
hf-engine ``kv_cache`` plus ``indexer_cache_bytes`` equals each row exactly. What it shows: MLA
layers cache the latent (``kv_lora_rank + qk_rope_head_dim``) in transformers 5.24, DeepSeek-V3 as
well as V3.2 and LongCat-Flash (twice per layer), not expanded K and V; Gemma 3n's
KV-sharing layers cache nothing, sliding-window layers hold at most the window after a prefill
longer than it. Not imported by the package.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import torch
import transformers
from transformers import AutoConfig, AutoModelForCausalLM

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "text_cache_measured.json"
SHAPES = [(7, 1), (24, 2), (40, 3)]
_S = dict(
    vocab_size=256,
    hidden_size=64,
    num_attention_heads=4,
    num_hidden_layers=4,
    pad_token_id=0,
    bos_token_id=1,
    eos_token_id=2,
)

#: (label, config): small synthetic configs, one or more per family.
CONFIGS: list[tuple[str, dict[str, Any]]] = [
    (
        "deepseek_v32",
        dict(
            model_type="deepseek_v32",
            **_S,
            intermediate_size=96,
            moe_intermediate_size=32,
            n_routed_experts=4,
            num_experts_per_tok=2,
            n_shared_experts=1,
            first_k_dense_replace=1,
            kv_lora_rank=32,
            q_lora_rank=48,
            qk_rope_head_dim=8,
            qk_nope_head_dim=16,
            v_head_dim=12,
            index_n_heads=2,
            index_head_dim=16,
            index_topk=8,
            n_group=1,
            topk_group=1,
        ),
    ),
    (
        "deepseek_v3",
        dict(
            model_type="deepseek_v3",
            **_S,
            intermediate_size=96,
            moe_intermediate_size=32,
            n_routed_experts=4,
            num_experts_per_tok=2,
            n_shared_experts=1,
            first_k_dense_replace=1,
            kv_lora_rank=32,
            q_lora_rank=48,
            qk_rope_head_dim=8,
            qk_nope_head_dim=16,
            v_head_dim=12,
            n_group=1,
            topk_group=1,
        ),
    ),
    (
        "longcat_flash",
        dict(
            model_type="longcat_flash",
            vocab_size=256,
            hidden_size=64,
            num_attention_heads=4,
            num_layers=2,
            ffn_hidden_size=96,
            expert_ffn_hidden_size=32,
            n_routed_experts=4,
            zero_expert_num=2,
            moe_topk=2,
            kv_lora_rank=32,
            q_lora_rank=48,
            qk_rope_head_dim=8,
            qk_nope_head_dim=16,
            v_head_dim=16,
            head_dim=8,
            pad_token_id=0,
            bos_token_id=1,
            eos_token_id=2,
        ),
    ),
    (
        "gemma3n_text",
        dict(
            model_type="gemma3n_text",
            **{**_S, "num_hidden_layers": 10},
            num_key_value_heads=2,
            head_dim=16,
            intermediate_size=96,
            vocab_size_per_layer_input=128,
            hidden_size_per_layer_input=8,
            num_kv_shared_layers=5,
            laurel_rank=4,
            altup_num_inputs=4,
            sliding_window=16,
        ),
    ),
    ("olmo3", dict(model_type="olmo3", **_S, num_key_value_heads=2, intermediate_size=96, sliding_window=16)),
    (
        "exaone4",
        dict(
            model_type="exaone4",
            **{**_S, "num_hidden_layers": 8},
            num_key_value_heads=2,
            intermediate_size=96,
            sliding_window=16,
            sliding_window_pattern=4,
        ),
    ),
    ("smollm3", dict(model_type="smollm3", **_S, num_key_value_heads=2, intermediate_size=96)),
    (
        "glm4_moe",
        dict(
            model_type="glm4_moe",
            **_S,
            num_key_value_heads=2,
            head_dim=24,
            intermediate_size=96,
            moe_intermediate_size=32,
            n_routed_experts=4,
            num_experts_per_tok=2,
            first_k_dense_replace=1,
        ),
    ),
    (
        "minimax_m2",
        dict(
            model_type="minimax_m2",
            **_S,
            num_key_value_heads=2,
            head_dim=16,
            intermediate_size=32,
            num_local_experts=4,
            num_experts_per_tok=2,
        ),
    ),
    (
        "hunyuan_v1_moe",
        dict(
            model_type="hunyuan_v1_moe",
            **_S,
            num_key_value_heads=2,
            head_dim=16,
            intermediate_size=48,
            num_experts=4,
            moe_topk=2,
        ),
    ),
    (
        "ernie4_5_moe",
        dict(
            model_type="ernie4_5_moe",
            **_S,
            num_key_value_heads=2,
            intermediate_size=96,
            moe_intermediate_size=32,
            moe_num_experts=4,
            moe_k=2,
            moe_layer_start_index=1,
        ),
    ),
]


def _tensors(obj: Any, seen: set[int]) -> list[torch.Tensor]:
    """Every tensor reachable from ``obj`` through attributes, lists, tuples and dicts."""
    if id(obj) in seen:
        return []
    seen.add(id(obj))
    if isinstance(obj, torch.Tensor):
        return [obj]
    if isinstance(obj, dict):
        return [t for v in obj.values() for t in _tensors(v, seen)]
    if isinstance(obj, (list, tuple)):
        return [t for v in obj for t in _tensors(v, seen)]
    if hasattr(obj, "__dict__") and not isinstance(obj, (type, torch.nn.Module)):
        return [t for v in vars(obj).values() for t in _tensors(v, seen)]
    return []


def cache_bytes(cache: Any) -> int:
    """Bytes of every distinct storage the cache holds (bookkeeping integer scalars left out)."""
    storages: dict[int, int] = {}
    for t in _tensors(cache, set()):
        if t.numel() == 0 or (t.dim() == 0 and t.dtype in (torch.long, torch.int32, torch.bool)):
            continue
        storage = t.untyped_storage()
        storages[storage.data_ptr()] = storage.nbytes()
    return sum(storages.values())


def measure(label: str, cfg: dict[str, Any]) -> list[dict[str, Any]]:
    config = AutoConfig.for_model(cfg["model_type"], **{k: v for k, v in cfg.items() if k != "model_type"})
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16).eval()
    rows = []
    for tokens, batch in SHAPES:
        ids = torch.randint(3, cfg["vocab_size"], (batch, tokens))
        with torch.no_grad():
            out = model(input_ids=ids, use_cache=True)
        rows.append(
            dict(
                label=label,
                config=cfg,
                context_tokens=tokens,
                batch_size=batch,
                measured_bytes=cache_bytes(out.past_key_values),
                cache_class=type(out.past_key_values).__name__,
            )
        )
    return rows


def main() -> None:
    rows: list[dict[str, Any]] = []
    only = set(sys.argv[1:])
    for label, cfg in CONFIGS:
        if not only or label in only:
            rows += measure(label, cfg)
            print(label, [r["measured_bytes"] for r in rows if r["label"] == label])
    if not only:
        OUT.write_text(
            json.dumps(
                dict(
                    torch=torch.__version__,
                    transformers=transformers.__version__,
                    dtype="bfloat16",
                    device="cpu",
                    rows=rows,
                ),
                indent=1,
            )
            + "\n"
        )
        print(f"wrote {len(rows)} rows to {OUT}")


if __name__ == "__main__":
    main()
