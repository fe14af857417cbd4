"""Count synthetic hybrid / state-space configs with transformers, for llmcalc's exactness test.

Run with the measurement venv: ``/work/mvenv/bin/python benchmarks/verify_hybrid_counts.py``.
Each config is built on the meta device (``AutoModelForCausalLM.from_config``) and counted the
way ``shared/reference`` counts: ``total`` unique parameters (tied ones once), ``embed`` the input
embedding, ``lm_head`` an untied output head (0 when tied), ``active`` total minus, in every MoE
layer, the ``experts - top_k`` routed experts a token skips. The table goes to
``tests/data/hybrid_counts.json`` (config, counts, versions); ``tests/test_hybrid_counts.py``
checks llmcalc against every row. With ``--compare`` it also prints llmcalc's differences.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import torch
import transformers
from transformers import AutoConfig, AutoModelForCausalLM

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "hybrid_counts.json"

BASE: dict[str, dict[str, Any]] = {
    "mamba": dict(vocab_size=320, hidden_size=64, state_size=8, num_hidden_layers=2, expand=2, conv_kernel=4),
    "falcon_mamba": dict(vocab_size=320, hidden_size=48, state_size=16, num_hidden_layers=3, conv_kernel=3),
    "mamba2": dict(vocab_size=320, hidden_size=64, num_heads=8, head_dim=16, state_size=16, n_groups=2,
                   num_hidden_layers=2, conv_kernel=4),
    "jamba": dict(vocab_size=320, hidden_size=64, intermediate_size=96, num_hidden_layers=8, num_attention_heads=4,
                  num_key_value_heads=2, num_experts=4, num_experts_per_tok=2, attn_layer_period=4,
                  attn_layer_offset=1, expert_layer_period=2, expert_layer_offset=1, mamba_d_state=8),
    "bamba": dict(vocab_size=320, hidden_size=64, intermediate_size=96, num_hidden_layers=4, num_attention_heads=4,
                  num_key_value_heads=2, attn_layer_indices=[1, 3], mamba_n_heads=8, mamba_n_groups=2,
                  mamba_d_state=16),
    "granitemoehybrid": dict(vocab_size=320, hidden_size=64, intermediate_size=32, num_hidden_layers=4,
                             num_attention_heads=4, num_key_value_heads=2,
                             layer_types=["mamba", "mamba", "attention", "mamba"], num_local_experts=4,
                             num_experts_per_tok=2, shared_intermediate_size=48, mamba_n_heads=8,
                             mamba_d_state=16),
    "granitemoe": dict(vocab_size=320, hidden_size=64, intermediate_size=32, num_hidden_layers=3,
                       num_attention_heads=4, num_key_value_heads=2, num_local_experts=4, num_experts_per_tok=2),
    "nemotron_h": dict(vocab_size=320, hidden_size=64, intermediate_size=96, hybrid_override_pattern="M*-ME",
                       num_attention_heads=4, num_key_value_heads=2, head_dim=16, mamba_num_heads=8,
                       mamba_head_dim=16, n_groups=2, ssm_state_size=16, n_routed_experts=4, num_experts_per_tok=2,
                       moe_intermediate_size=24, moe_shared_expert_intermediate_size=40),
    "falcon_h1": dict(vocab_size=320, hidden_size=64, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4,
                      num_key_value_heads=2, mamba_d_ssm=64, mamba_n_heads=8, mamba_d_state=16),
    "qwen3_next": dict(vocab_size=320, hidden_size=64, intermediate_size=96, num_hidden_layers=4, num_attention_heads=4,
                       num_key_value_heads=2, head_dim=16, linear_key_head_dim=16, linear_value_head_dim=8,
                       linear_num_key_heads=2, linear_num_value_heads=4, moe_intermediate_size=32,
                       shared_expert_intermediate_size=24, num_experts=4, num_experts_per_tok=2),
    "kimi_linear": dict(vocab_size=320, hidden_size=64, intermediate_size=96, moe_intermediate_size=32,
                        num_hidden_layers=3, num_attention_heads=4, num_key_value_heads=4, kv_lora_rank=16,
                        qk_rope_head_dim=8, qk_nope_head_dim=16, v_head_dim=16, num_experts=4,
                        num_experts_per_token=2, pad_token_id=0, bos_token_id=1, eos_token_id=2,
                        linear_attn_config=dict(head_dim=16, num_heads=4, short_conv_kernel_size=4,
                                                full_attn_layers=[2], kda_layers=[1, 3])),
    "minimax": dict(vocab_size=320, hidden_size=64, intermediate_size=96, num_hidden_layers=3, num_attention_heads=4,
                    num_key_value_heads=2, num_local_experts=4, num_experts_per_tok=2),
    "lfm2": dict(vocab_size=320, hidden_size=64, intermediate_size=256, num_hidden_layers=3, num_attention_heads=4,
                 num_key_value_heads=2, layer_types=["conv", "full_attention", "conv"]),
    "lfm2_moe": dict(vocab_size=320, hidden_size=64, intermediate_size=96, moe_intermediate_size=32,
                     num_hidden_layers=4, num_attention_heads=4, num_key_value_heads=2, num_dense_layers=1,
                     num_experts=4, num_experts_per_tok=2, layer_types=["conv", "full_attention", "conv", "conv"]),
    "zamba2": dict(vocab_size=320, hidden_size=64, num_hidden_layers=5,
                   layers_block_type=["mamba", "hybrid", "mamba", "hybrid", "hybrid"], num_attention_heads=4,
                   num_key_value_heads=4, mamba_d_state=16, n_mamba_heads=8, mamba_ngroups=1, num_mem_blocks=1,
                   adapter_rank=8),
    "recurrent_gemma": dict(vocab_size=320, hidden_size=64, intermediate_size=96, num_hidden_layers=3,
                            num_attention_heads=4, num_key_value_heads=1, attention_window_size=8),
}

#: Per family, changes applied to the base config, one variation each.
VARIATIONS: dict[str, list[dict[str, Any]]] = {
    "mamba": [{}, dict(tie_word_embeddings=False), dict(use_bias=True, use_conv_bias=False, time_step_rank=7),
              dict(intermediate_size=96, expand=4)],
    "falcon_mamba": [{}, dict(tie_word_embeddings=False, use_bias=True), dict(intermediate_size=80, state_size=4)],
    "mamba2": [{}, dict(tie_word_embeddings=True), dict(use_bias=True, use_conv_bias=False, n_groups=1),
               dict(hidden_size=32, num_heads=4)],
    "jamba": [{}, dict(tie_word_embeddings=True), dict(num_experts=1), dict(mamba_dt_rank=5, mamba_conv_bias=False,
              mamba_proj_bias=True, mamba_expand=3, attn_layer_period=2, attn_layer_offset=0),
              dict(expert_layer_period=3, expert_layer_offset=2, num_key_value_heads=4),
              dict(head_dim=8)],
    "bamba": [{}, dict(tie_word_embeddings=True, attention_bias=True, mlp_bias=True),
              dict(mamba_proj_bias=True, mamba_conv_bias=False, mamba_d_head=16, mamba_n_heads=8),
              dict(attn_layer_indices=None, mamba_expand=1, mamba_n_heads=4), dict(num_key_value_heads=None)],
    "granitemoehybrid": [{}, dict(num_local_experts=0), dict(tie_word_embeddings=True, attention_bias=True),
                         dict(layer_types=["attention"] * 4, mamba_proj_bias=True),
                         dict(mamba_n_groups=2, mamba_d_conv=3, head_dim=8)],
    "granitemoe": [{}, dict(tie_word_embeddings=True, attention_bias=True), dict(num_key_value_heads=4)],
    "nemotron_h": [{}, dict(hybrid_override_pattern="M-M*", tie_word_embeddings=True),
                   dict(use_bias=True, mlp_bias=True, use_conv_bias=False),
                   dict(layers_block_type=["mamba", "attention", "moe", "mlp", "moe"], mamba_n_groups=4),
                   dict(hybrid_override_pattern="MEM*E", head_dim=None, attention_head_dim=8),
                   dict(moe_latent_size=24), dict(moe_latent_size=16, mlp_bias=True, n_routed_experts=6)],
    "falcon_h1": [{}, dict(mamba_rms_norm=True, projectors_bias=True), dict(mamba_proj_bias=True, attention_bias=True,
                  mlp_bias=True, tie_word_embeddings=True), dict(mamba_d_ssm=None, mamba_n_heads=8, head_dim=32)],
    "qwen3_next": [{}, dict(tie_word_embeddings=True, attention_bias=True),
                   dict(layer_types=["full_attention", "linear_attention", "linear_attention", "full_attention"],
                        mlp_only_layers=[0]), dict(decoder_sparse_step=2, full_attention_interval=2),
                   dict(num_experts=0)],
    "kimi_linear": [{}, dict(q_lora_rank=24, attention_bias=True), dict(tie_word_embeddings=True, num_shared_experts=2,
                    first_k_dense_replace=2), dict(linear_attn_config=dict(head_dim=8, num_heads=8,
                    short_conv_kernel_size=3, full_attn_layers=[1, 3], kda_layers=[2]))],
    "minimax": [{}, dict(tie_word_embeddings=True, head_dim=32),
                dict(layer_types=["linear_attention", "linear_attention", "full_attention"])],
    "lfm2": [{}, dict(tie_word_embeddings=False), dict(block_auto_adjust_ff_dim=False, conv_bias=True),
             dict(block_ffn_dim_multiplier=1.5, block_multiple_of=64, conv_L_cache=4),
             dict(layer_types=None, full_attn_idxs=[0, 2])],
    "lfm2_moe": [{}, dict(tie_word_embeddings=False, num_dense_layers=2), dict(conv_bias=True, num_dense_layers=0)],
    "zamba2": [{}, dict(num_mem_blocks=2, tie_word_embeddings=False), dict(use_shared_attention_adapter=True,
               add_bias_linear=True, num_key_value_heads=2), dict(num_mem_blocks=4, intermediate_size=80,
               use_conv_bias=False, mamba_ngroups=2)],
    "recurrent_gemma": [{}, dict(lru_width=96, conv1d_width=3), dict(attention_bias=True, tie_word_embeddings=False,
                        block_types=["recurrent", "attention"]), dict(head_dim=8, num_key_value_heads=None)],
}


def _top_k(config: Any) -> int:
    for name in ("num_experts_per_tok", "num_experts_per_token"):
        value = getattr(config, name, None)
        if isinstance(value, int):
            return value
    return 0


def counts(model_type: str, cfg: dict[str, Any]) -> dict[str, int]:
    """total / active / embed / lm_head of the transformers model for ``cfg`` (meta device)."""
    config = AutoConfig.for_model(model_type, **cfg)
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config)
    params = {id(p): (n, p) for n, p in model.named_parameters(remove_duplicate=True)}
    total = sum(p.numel() for _, p in params.values())
    embed = model.get_input_embeddings().weight
    head = model.get_output_embeddings()
    lm_head = 0 if head is None or head.weight is embed else head.weight.numel()
    k = _top_k(config)
    inactive = 0
    for name, p in params.values():
        if re.search(r"\.experts\.(gate_up_proj|up_proj|down_proj|gate_proj)$", name) and p.dim() == 3:
            experts = p.shape[0]
            inactive += p.numel() // experts * (experts - k)
    return dict(total=total, active=total - inactive, embed=embed.numel(), lm_head=lm_head)


def main() -> None:
    rows = []
    for model_type, variations in VARIATIONS.items():
        for i, change in enumerate(variations):
            cfg = {**BASE[model_type], **change}
            cfg = {k: v for k, v in cfg.items()
                   if v is not None or k in ("mamba_d_ssm", "block_ffn_dim_multiplier", "num_key_value_heads")}
            if change.get("layer_types", 1) is None:
                cfg.pop("layer_types", None)
            if change.get("attn_layer_indices", 1) is None:
                cfg.pop("attn_layer_indices", None)
            if model_type == "nemotron_h" and "layers_block_type" in change:
                cfg.pop("hybrid_override_pattern", None)
            if model_type == "nemotron_h" and change.get("head_dim", 1) is None:
                cfg.pop("head_dim", None)
            try:
                result = counts(model_type, cfg)
            except Exception as exc:  # noqa: BLE001 - report and go on
                print(model_type, i, "FAILED", type(exc).__name__, str(exc)[:200])
                continue
            rows.append(dict(id=f"{model_type}-{i}", config={"model_type": model_type, **cfg}, **result))
            print(rows[-1]["id"], result)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(dict(transformers=transformers.__version__, torch=torch.__version__, rows=rows),
                              indent=1) + "\n")
    if "--compare" in sys.argv:
        compare(rows)


def compare(rows: list[dict[str, Any]]) -> None:
    sys.path.insert(0, str(OUT.parent.parent.parent))
    from llmcalc import count_params, spec_from_hf_config

    for row in rows:
        try:
            c = count_params(spec_from_hf_config(row["config"], source=row["id"]))
        except Exception as exc:  # noqa: BLE001
            print("LLMCALC FAIL", row["id"], exc)
            continue
        got = dict(total=c.total_params, active=c.active_params, embed=c.embedding_params, lm_head=c.lm_head_params)
        diff = {k: got[k] - row[k] for k in got if got[k] != row[k]}
        print("OK " if not diff else "BAD", row["id"], diff)


if __name__ == "__main__":
    main()
