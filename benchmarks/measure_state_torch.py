"""Measure the bytes a transformers cache holds after a prefill, for hybrid / state-space models.

Builds small random-weight models from synthetic configs (CPU, bf16) with the measurement venv
(``/work/mvenv/bin/python benchmarks/measure_state_torch.py``), runs one forward pass of ``T``
tokens at batch ``B`` with ``use_cache=True``, and sums the bytes of every distinct tensor storage
reachable from the returned ``past_key_values`` object (attention K/V, conv and recurrent states).
Writes ``tests/data/state_measured.json``; ``tests/test_state.py`` checks that llmcalc's hf-engine
``kv_cache_bytes + state_bytes`` equals each row exactly. Not imported by the package.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import torch
import transformers
from transformers import AutoConfig, AutoModelForCausalLM, DynamicCache

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "state_measured.json"

#: (label, config) pairs: small synthetic configs, one or more per family.
CONFIGS: list[tuple[str, dict[str, Any]]] = [
    ("mamba", dict(model_type="mamba", vocab_size=256, hidden_size=64, state_size=8, num_hidden_layers=2,
                   expand=2, conv_kernel=4)),
    ("falcon_mamba", dict(model_type="falcon_mamba", vocab_size=256, hidden_size=48, state_size=16,
                          num_hidden_layers=2, conv_kernel=3)),
    ("mamba2", dict(model_type="mamba2", vocab_size=256, hidden_size=64, num_heads=8, head_dim=16, state_size=16,
                    n_groups=2, num_hidden_layers=2, conv_kernel=4, chunk_size=16)),
    ("jamba", dict(model_type="jamba", vocab_size=256, hidden_size=64, intermediate_size=96, num_hidden_layers=4,
                   num_attention_heads=4, num_key_value_heads=2, num_experts=4, num_experts_per_tok=2,
                   attn_layer_period=2, attn_layer_offset=1, expert_layer_period=2, expert_layer_offset=1,
                   mamba_d_state=8, mamba_d_conv=4, mamba_expand=2, use_mamba_kernels=False)),
    ("bamba", dict(model_type="bamba", vocab_size=256, hidden_size=64, intermediate_size=96, num_hidden_layers=3,
                   num_attention_heads=4, num_key_value_heads=2, attn_layer_indices=[1], mamba_n_heads=8,
                   mamba_n_groups=2, mamba_d_state=16, mamba_d_conv=4, mamba_expand=2, mamba_chunk_size=16)),
    ("granitemoehybrid", dict(model_type="granitemoehybrid", vocab_size=256, hidden_size=64, intermediate_size=32,
                              num_hidden_layers=3, num_attention_heads=4, num_key_value_heads=2,
                              layer_types=["mamba", "attention", "mamba"], num_local_experts=4,
                              num_experts_per_tok=2, shared_intermediate_size=48, mamba_n_heads=8,
                              mamba_n_groups=1, mamba_d_state=16, mamba_d_conv=4, mamba_expand=2,
                              mamba_chunk_size=16, position_embedding_type="rope")),
    ("nemotron_h", dict(model_type="nemotron_h", vocab_size=256, hidden_size=64, intermediate_size=96,
                        hybrid_override_pattern="M*-M", num_attention_heads=4, num_key_value_heads=2,
                        head_dim=16, mamba_num_heads=8, mamba_head_dim=16, n_groups=2, ssm_state_size=16,
                        conv_kernel=4, chunk_size=16, use_mamba_kernels=False)),
    ("falcon_h1", dict(model_type="falcon_h1", vocab_size=256, hidden_size=64, intermediate_size=96,
                       num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, mamba_d_ssm=64,
                       mamba_n_heads=8, mamba_n_groups=1, mamba_d_state=16, mamba_d_conv=4, mamba_chunk_size=16)),
    ("qwen3_next", dict(model_type="qwen3_next", vocab_size=256, hidden_size=64, intermediate_size=96,
                        num_hidden_layers=4, num_attention_heads=4, num_key_value_heads=2, head_dim=16,
                        linear_conv_kernel_dim=4, linear_key_head_dim=16, linear_value_head_dim=16,
                        linear_num_key_heads=2, linear_num_value_heads=4, moe_intermediate_size=32,
                        shared_expert_intermediate_size=32, num_experts=4, num_experts_per_tok=2)),
    ("lfm2", dict(model_type="lfm2", vocab_size=256, hidden_size=64, intermediate_size=128, num_hidden_layers=3,
                  num_attention_heads=4, num_key_value_heads=2, layer_types=["conv", "full_attention", "conv"],
                  conv_L_cache=3)),
    ("recurrent_gemma", dict(model_type="recurrent_gemma", vocab_size=256, hidden_size=64, intermediate_size=96,
                             num_hidden_layers=3, num_attention_heads=4, num_key_value_heads=1, lru_width=64,
                             attention_window_size=64, conv1d_width=4)),
    ("zamba2", dict(model_type="zamba2", vocab_size=256, hidden_size=64, num_hidden_layers=4,
                    layers_block_type=["mamba", "hybrid", "mamba", "hybrid"], num_attention_heads=4,
                    num_key_value_heads=4, mamba_d_state=16, mamba_headdim=16, mamba_ngroups=1, n_mamba_heads=8,
                    mamba_d_conv=4, num_mem_blocks=1, adapter_rank=8, chunk_size=16, use_mem_rope=True)),
    ("kimi_linear", dict(model_type="kimi_linear", vocab_size=256, hidden_size=64, intermediate_size=96,
                         moe_intermediate_size=32, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=4,
                         pad_token_id=0, bos_token_id=1, eos_token_id=2,
                         kv_lora_rank=16, qk_rope_head_dim=8, qk_nope_head_dim=16, v_head_dim=16, num_experts=4,
                         num_experts_per_token=2, linear_attn_config=dict(head_dim=16, num_heads=4,
                         short_conv_kernel_size=4, full_attn_layers=[2], kda_layers=[1]))),
    ("minimax", dict(model_type="minimax", vocab_size=256, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
                     num_attention_heads=4, num_key_value_heads=2, head_dim=16, num_local_experts=4,
                     num_experts_per_tok=2, block_size=8)),
]

SHAPES = [(5, 1), (17, 2), (40, 3)]


def _tensors(obj: Any, seen: set[int], depth: int = 0) -> list[torch.Tensor]:
    """Every tensor reachable from ``obj`` (attributes, dicts, lists), each object once."""
    if id(obj) in seen or depth > 6:
        return []
    seen.add(id(obj))
    if isinstance(obj, torch.Tensor):
        return [obj]
    out: list[torch.Tensor] = []
    if isinstance(obj, dict):
        for v in obj.values():
            out += _tensors(v, seen, depth + 1)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            out += _tensors(v, seen, depth + 1)
    elif hasattr(obj, "__dict__") and not isinstance(obj, (type, torch.nn.Module)):
        for v in vars(obj).values():
            out += _tensors(v, seen, depth + 1)
    return out


def cache_bytes(cache: Any) -> tuple[int, list[str]]:
    """Bytes of every distinct storage the cache holds, and a description of each tensor."""
    storages: dict[int, int] = {}
    described = []
    for t in _tensors(cache, set()):
        if t.device.type == "meta" or t.numel() == 0:
            continue
        s = t.untyped_storage()
        if t.dim() == 0 and t.dtype in (torch.long, torch.int32, torch.bool):
            continue  # bookkeeping scalars (cumulative lengths), not cached values
        storages[s.data_ptr()] = s.nbytes()
        described.append(f"{tuple(t.shape)} {str(t.dtype).removeprefix('torch.')}")
    return sum(storages.values()), described


def measure(label: str, cfg: dict[str, Any]) -> list[dict[str, Any]]:
    kw = {k: v for k, v in cfg.items() if k != "model_type"}
    config = AutoConfig.for_model(cfg["model_type"], **kw)
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16).eval()
    rows = []
    for tokens, batch in SHAPES:
        ids = torch.randint(3, cfg["vocab_size"], (batch, tokens))
        given = DynamicCache(config=config) if cfg["model_type"] == "recurrent_gemma" else None
        with torch.no_grad():
            out = model(input_ids=ids, use_cache=True, **({"cache": given} if given is not None else {}))
        cache: Any = getattr(out, "past_key_values", None)
        if cache is None:
            # RecurrentGemma returns no cache: its attention K/V go to the cache passed in, its conv and
            # RG-LRU states stay in the modules themselves (``_setup_cache``).
            cache = [given] + [v for m in model.modules() for k, v in vars(m).items()
                               if isinstance(v, torch.Tensor) and k not in ("_parameters", "_buffers")]
        total, described = cache_bytes(cache)
        rows.append(dict(label=label, config=cfg, context_tokens=tokens, batch_size=batch, measured_bytes=total,
                         cache_class=type(cache).__name__, tensors=described))
    return rows


def main() -> None:
    rows: list[dict[str, Any]] = []
    failures: dict[str, str] = {}
    only = set(sys.argv[1:])
    for label, cfg in CONFIGS:
        if only and label not in only:
            continue
        try:
            rows += measure(label, cfg)
            print(label, [r["measured_bytes"] for r in rows if r["label"] == label])
        except Exception as exc:  # noqa: BLE001 - record why a family could not run on CPU
            failures[label] = f"{type(exc).__name__}: {exc}"[:300]
            print(label, "FAILED", failures[label])
    if only and OUT.is_file():  # a partial run replaces only the families it measured
        old = json.loads(OUT.read_text())
        rows = [r for r in old["rows"] if r["label"] not in only] + rows
        failures = {**{k: v for k, v in old["failed"].items() if k not in only}, **failures}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(dict(torch=torch.__version__, transformers=transformers.__version__, dtype="bfloat16",
                                   device="cpu", rows=rows, failed=failures), indent=1) + "\n")


if __name__ == "__main__":
    main()
