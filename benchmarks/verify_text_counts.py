"""Check llmcalc's counts for the 2025-26 text families against Hugging Face transformers.

For each synthetic variation below (small sizes, every layout switch a family has: MoE layer
steps, first-k-dense, shared experts, biases, tied embeddings, head_dim, layer types) this builds
the model with transformers on the meta device (no weights are allocated) and counts:

- ``total``: unique parameters (``model.parameters()`` lists a tied weight once);
- ``embed``: the input token embedding; ``lm_head``: the output head's parameters that are not the
  input embedding's (its bias when the weight is tied); ``pos_embed``: 0 for every family here;
- ``active``: total minus, in every MoE layer, ``(experts - experts_per_token)`` routed experts,
  one expert being the 3-D expert tensors of the layer divided by their leading (expert) axis.

Each variation is checked twice: with the few keys given (llmcalc must apply the family's
defaults as ``configuration_<type>.py`` does) and with the full ``config.to_dict()`` transformers
writes (as a saved config.json holds). ``--write`` records the table in
``tests/data/text_counts.json`` (both forms of each config, the counts and the transformers
version), which ``tests/test_families_text.py`` reads without torch.

Run with the measurement venv::

    /work/mvenv/bin/python benchmarks/verify_text_counts.py            # compare, print mismatches
    /work/mvenv/bin/python benchmarks/verify_text_counts.py --write    # and record the table
    /work/mvenv/bin/python benchmarks/verify_text_counts.py glm4_moe   # one family (prefix match)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "data" / "text_counts.json"
sys.path.insert(0, str(ROOT))

_SMALL = {
    "vocab_size": 1000,
    "hidden_size": 64,
    "num_attention_heads": 4,
    "num_hidden_layers": 4,
    "pad_token_id": 0,
    "bos_token_id": 1,
    "eos_token_id": 2,
}

#: (id, model_type, config keys). Ids are unique; keys are what a config.json would carry.
VARIATIONS: list[tuple[str, str, dict[str, Any]]] = [
    # --- MoE families ---------------------------------------------------------------------
    (
        "glm4_moe-base",
        "glm4_moe",
        {
            **_SMALL,
            "num_key_value_heads": 2,
            "intermediate_size": 96,
            "moe_intermediate_size": 32,
            "n_routed_experts": 8,
            "num_experts_per_tok": 2,
            "first_k_dense_replace": 1,
        },
    ),
    (
        "glm4_moe-bias-qknorm-shared2",
        "glm4_moe",
        {
            **_SMALL,
            "num_key_value_heads": 1,
            "head_dim": 24,
            "intermediate_size": 80,
            "moe_intermediate_size": 16,
            "n_routed_experts": 6,
            "num_experts_per_tok": 3,
            "n_shared_experts": 2,
            "first_k_dense_replace": 2,
            "attention_bias": True,
            "use_qk_norm": True,
            "tie_word_embeddings": True,
        },
    ),
    (
        "glm4_moe-noshared",
        "glm4_moe",
        {
            **_SMALL,
            "num_key_value_heads": 4,
            "intermediate_size": 80,
            "moe_intermediate_size": 16,
            "n_routed_experts": 4,
            "num_experts_per_tok": 1,
            "n_shared_experts": 0,
            "first_k_dense_replace": 0,
        },
    ),
    (
        "ernie4_5_moe-base",
        "ernie4_5_moe",
        {
            **_SMALL,
            "num_key_value_heads": 2,
            "intermediate_size": 96,
            "moe_intermediate_size": 32,
            "moe_num_experts": 8,
            "moe_k": 2,
            "moe_num_shared_experts": 2,
            "moe_layer_start_index": 1,
            "moe_layer_end_index": 3,
            "moe_layer_interval": 1,
        },
    ),
    (
        "ernie4_5_moe-interval-bias-untied",
        "ernie4_5_moe",
        {
            **_SMALL,
            "num_hidden_layers": 6,
            "intermediate_size": 96,
            "moe_intermediate_size": 32,
            "moe_num_experts": 4,
            "moe_k": 2,
            "moe_num_shared_experts": 0,
            "moe_layer_start_index": 0,
            "moe_layer_end_index": 4,
            "moe_layer_interval": 2,
            "use_bias": True,
            "tie_word_embeddings": False,
            "head_dim": 8,
        },
    ),
    (
        "hunyuan_v1_moe-base",
        "hunyuan_v1_moe",
        {**_SMALL, "num_key_value_heads": 2, "intermediate_size": 48, "head_dim": 16, "num_experts": 4, "moe_topk": 2},
    ),
    (
        "hunyuan_v1_moe-bias-headdim-tied",
        "hunyuan_v1_moe",
        {
            **_SMALL,
            "intermediate_size": 40,
            "num_experts": 6,
            "moe_topk": 1,
            "attention_bias": True,
            "head_dim": 32,
            "tie_word_embeddings": True,
        },
    ),
    (
        "minimax_m2-base",
        "minimax_m2",
        {
            **_SMALL,
            "num_key_value_heads": 2,
            "head_dim": 16,
            "intermediate_size": 32,
            "num_local_experts": 8,
            "num_experts_per_tok": 2,
        },
    ),
    (
        "minimax_m2-tied-headdim",
        "minimax_m2",
        {
            **_SMALL,
            "num_key_value_heads": 1,
            "head_dim": 40,
            "intermediate_size": 24,
            "num_local_experts": 5,
            "num_experts_per_tok": 3,
            "tie_word_embeddings": True,
        },
    ),
    (
        "deepseek_v32-base",
        "deepseek_v32",
        {
            **_SMALL,
            "intermediate_size": 96,
            "moe_intermediate_size": 32,
            "n_routed_experts": 8,
            "num_experts_per_tok": 2,
            "n_shared_experts": 1,
            "first_k_dense_replace": 1,
            "kv_lora_rank": 32,
            "q_lora_rank": 48,
            "qk_rope_head_dim": 8,
            "qk_nope_head_dim": 16,
            "v_head_dim": 16,
            "index_n_heads": 4,
            "index_head_dim": 16,
            "index_topk": 8,
            "n_group": 1,
            "topk_group": 1,
        },
    ),
    (
        "deepseek_v32-shared2-bias",
        "deepseek_v32",
        {
            **_SMALL,
            "num_hidden_layers": 5,
            "intermediate_size": 80,
            "moe_intermediate_size": 16,
            "n_routed_experts": 6,
            "num_experts_per_tok": 3,
            "n_shared_experts": 2,
            "first_k_dense_replace": 2,
            "kv_lora_rank": 24,
            "q_lora_rank": 20,
            "qk_rope_head_dim": 8,
            "qk_nope_head_dim": 8,
            "v_head_dim": 12,
            "index_n_heads": 2,
            "index_head_dim": 24,
            "index_topk": 4,
            "n_group": 1,
            "topk_group": 1,
            "attention_bias": True,
        },
    ),
    (
        "dots1-base",
        "dots1",
        {
            **_SMALL,
            "num_key_value_heads": 2,
            "intermediate_size": 96,
            "moe_intermediate_size": 32,
            "n_routed_experts": 8,
            "num_experts_per_tok": 2,
            "n_shared_experts": 1,
            "first_k_dense_replace": 1,
        },
    ),
    (
        "dots1-bias-shared2-tied",
        "dots1",
        {
            **_SMALL,
            "num_key_value_heads": 1,
            "intermediate_size": 80,
            "moe_intermediate_size": 16,
            "n_routed_experts": 6,
            "num_experts_per_tok": 3,
            "n_shared_experts": 2,
            "first_k_dense_replace": 2,
            "attention_bias": True,
            "head_dim": 24,
            "tie_word_embeddings": True,
        },
    ),
    (
        "phimoe-base",
        "phimoe",
        {**_SMALL, "num_key_value_heads": 2, "intermediate_size": 48, "num_local_experts": 4, "num_experts_per_tok": 2},
    ),
    (
        "phimoe-bias-lmbias",
        "phimoe",
        {
            **_SMALL,
            "num_key_value_heads": 4,
            "intermediate_size": 40,
            "num_local_experts": 6,
            "num_experts_per_tok": 2,
            "attention_bias": True,
            "lm_head_bias": True,
        },
    ),
    (
        "longcat_flash-base",
        "longcat_flash",
        {
            "vocab_size": 1000,
            "hidden_size": 64,
            "num_attention_heads": 4,
            "num_layers": 2,
            "ffn_hidden_size": 96,
            "expert_ffn_hidden_size": 32,
            "n_routed_experts": 8,
            "zero_expert_num": 4,
            "moe_topk": 3,
            "kv_lora_rank": 32,
            "q_lora_rank": 48,
            "qk_rope_head_dim": 8,
            "qk_nope_head_dim": 16,
            "v_head_dim": 16,
        },
    ),
    (
        "longcat_flash-nozero-tied",
        "longcat_flash",
        {
            "vocab_size": 1000,
            "hidden_size": 64,
            "num_attention_heads": 2,
            "num_layers": 3,
            "ffn_hidden_size": 80,
            "expert_ffn_hidden_size": 24,
            "n_routed_experts": 6,
            "zero_expert_num": 0,
            "moe_topk": 2,
            "kv_lora_rank": 16,
            "q_lora_rank": 12,
            "qk_rope_head_dim": 8,
            "qk_nope_head_dim": 8,
            "v_head_dim": 8,
            "attention_bias": True,
            "tie_word_embeddings": True,
        },
    ),
    (
        "flex_olmo-base",
        "flex_olmo",
        {**_SMALL, "num_key_value_heads": 2, "intermediate_size": 48, "num_experts": 4, "num_experts_per_tok": 2},
    ),
    (
        "flex_olmo-bias-tied",
        "flex_olmo",
        {
            **_SMALL,
            "intermediate_size": 40,
            "num_experts": 3,
            "num_experts_per_tok": 1,
            "attention_bias": True,
            "tie_word_embeddings": True,
        },
    ),
    # --- dense families ---------------------------------------------------------------------
    ("smollm3-base", "smollm3", {**_SMALL, "num_key_value_heads": 2, "intermediate_size": 96}),
    (
        "smollm3-nope-bias-untied",
        "smollm3",
        {
            **_SMALL,
            "num_hidden_layers": 6,
            "intermediate_size": 80,
            "no_rope_layer_interval": 3,
            "attention_bias": True,
            "mlp_bias": True,
            "tie_word_embeddings": False,
            "use_sliding_window": True,
            "sliding_window": 32,
            "max_window_layers": 2,
        },
    ),
    ("olmo3-base", "olmo3", {**_SMALL, "num_key_value_heads": 2, "intermediate_size": 96}),
    (
        "olmo3-bias-tied-window",
        "olmo3",
        {**_SMALL, "intermediate_size": 80, "attention_bias": True, "tie_word_embeddings": True, "sliding_window": 16},
    ),
    ("olmo-base", "olmo", {**_SMALL, "intermediate_size": 96}),
    (
        "olmo-gqa-bias-tied",
        "olmo",
        {
            **_SMALL,
            "num_key_value_heads": 2,
            "intermediate_size": 80,
            "attention_bias": True,
            "tie_word_embeddings": True,
            "clip_qkv": 8.0,
        },
    ),
    ("exaone4-base", "exaone4", {**_SMALL, "num_key_value_heads": 2, "intermediate_size": 96}),
    (
        "exaone4-sliding-tied",
        "exaone4",
        {
            **_SMALL,
            "num_key_value_heads": 1,
            "num_hidden_layers": 8,
            "intermediate_size": 80,
            "sliding_window": 16,
            "sliding_window_pattern": 4,
            "tie_word_embeddings": True,
            "head_dim": 8,
        },
    ),
    ("seed_oss-base", "seed_oss", {**_SMALL, "num_key_value_heads": 2, "intermediate_size": 96}),
    (
        "seed_oss-biases",
        "seed_oss",
        {
            **_SMALL,
            "num_key_value_heads": 4,
            "intermediate_size": 80,
            "attention_bias": False,
            "attention_out_bias": True,
            "mlp_bias": True,
            "tie_word_embeddings": True,
            "head_dim": 24,
        },
    ),
    ("apertus-base", "apertus", {**_SMALL, "num_key_value_heads": 2, "intermediate_size": 96}),
    (
        "apertus-bias-tied",
        "apertus",
        {**_SMALL, "intermediate_size": 80, "attention_bias": True, "mlp_bias": True, "tie_word_embeddings": True},
    ),
    ("cohere2-base", "cohere2", {**_SMALL, "num_key_value_heads": 2, "intermediate_size": 96, "sliding_window": 16}),
    (
        "cohere2-bias-untied",
        "cohere2",
        {
            **_SMALL,
            "num_hidden_layers": 8,
            "intermediate_size": 80,
            "attention_bias": True,
            "tie_word_embeddings": False,
            "sliding_window_pattern": 2,
            "sliding_window": 8,
        },
    ),
    ("glm4-base", "glm4", {**_SMALL, "num_key_value_heads": 2, "intermediate_size": 96}),
    (
        "glm4-bias-tied-headdim",
        "glm4",
        {**_SMALL, "intermediate_size": 80, "attention_bias": False, "tie_word_embeddings": True, "head_dim": 24},
    ),
    ("glm-base", "glm", {**_SMALL, "num_key_value_heads": 2, "intermediate_size": 96}),
    (
        "glm-nobias-tied",
        "glm",
        {**_SMALL, "intermediate_size": 80, "attention_bias": False, "tie_word_embeddings": True, "head_dim": 24},
    ),
    ("ernie4_5-base", "ernie4_5", {**_SMALL, "num_key_value_heads": 2, "intermediate_size": 96}),
    (
        "ernie4_5-bias-untied",
        "ernie4_5",
        {**_SMALL, "intermediate_size": 80, "use_bias": True, "tie_word_embeddings": False, "head_dim": 8},
    ),
    (
        "hunyuan_v1_dense-base",
        "hunyuan_v1_dense",
        {**_SMALL, "num_key_value_heads": 2, "intermediate_size": 96, "head_dim": 16},
    ),
    (
        "hunyuan_v1_dense-bias-tied",
        "hunyuan_v1_dense",
        {**_SMALL, "intermediate_size": 80, "attention_bias": True, "tie_word_embeddings": True, "head_dim": 24},
    ),
    ("arcee-base", "arcee", {**_SMALL, "num_key_value_heads": 2, "intermediate_size": 96}),
    (
        "arcee-bias-tied",
        "arcee",
        {
            **_SMALL,
            "intermediate_size": 80,
            "attention_bias": True,
            "mlp_bias": True,
            "tie_word_embeddings": True,
            "head_dim": 24,
        },
    ),
    ("helium-base", "helium", {**_SMALL, "num_key_value_heads": 2, "intermediate_size": 96}),
    (
        "helium-bias-untied",
        "helium",
        {
            **_SMALL,
            "num_key_value_heads": 2,
            "intermediate_size": 80,
            "attention_bias": True,
            "mlp_bias": True,
            "tie_word_embeddings": True,
            "head_dim": 24,
        },
    ),
    ("ministral-base", "ministral", {**_SMALL, "num_key_value_heads": 2, "intermediate_size": 96, "head_dim": 16}),
    (
        "ministral-sliding-tied",
        "ministral",
        {
            **_SMALL,
            "num_key_value_heads": 4,
            "intermediate_size": 80,
            "sliding_window": 16,
            "layer_types": ["sliding_attention", "full_attention"] * 2,
            "tie_word_embeddings": True,
            "head_dim": 24,
        },
    ),
    ("nemotron-base", "nemotron", {**_SMALL, "num_key_value_heads": 2, "intermediate_size": 96}),
    (
        "nemotron-bias-tied",
        "nemotron",
        {
            **_SMALL,
            "num_key_value_heads": 4,
            "intermediate_size": 80,
            "attention_bias": True,
            "mlp_bias": True,
            "tie_word_embeddings": True,
            "head_dim": 24,
        },
    ),
    ("vaultgemma-base", "vaultgemma", {**_SMALL, "num_key_value_heads": 2, "intermediate_size": 96, "head_dim": 16}),
    (
        "vaultgemma-bias-untied",
        "vaultgemma",
        {
            **_SMALL,
            "intermediate_size": 80,
            "attention_bias": True,
            "tie_word_embeddings": False,
            "head_dim": 24,
            "sliding_window": 16,
        },
    ),
    # --- Gemma 3n text model: per-layer embeddings, AltUp, Laurel, KV sharing ---------------
    (
        "gemma3n_text-base",
        "gemma3n_text",
        {
            **_SMALL,
            "num_hidden_layers": 10,
            "num_key_value_heads": 2,
            "head_dim": 16,
            "intermediate_size": 96,
            "vocab_size_per_layer_input": 500,
            "hidden_size_per_layer_input": 8,
            "num_kv_shared_layers": 5,
            "laurel_rank": 4,
            "altup_num_inputs": 4,
            "sliding_window": 16,
        },
    ),
    (
        "gemma3n_text-widths-bias-untied",
        "gemma3n_text",
        {
            **_SMALL,
            "num_hidden_layers": 5,
            "num_key_value_heads": 1,
            "head_dim": 24,
            "intermediate_size": [64, 96, 64, 128, 80],
            "vocab_size_per_layer_input": 300,
            "hidden_size_per_layer_input": 4,
            "num_kv_shared_layers": 0,
            "laurel_rank": 8,
            "altup_num_inputs": 2,
            "attention_bias": True,
            "tie_word_embeddings": False,
        },
    ),
    (
        "gemma3n_text-altup3",
        "gemma3n_text",
        {
            **_SMALL,
            "num_hidden_layers": 15,
            "num_key_value_heads": 4,
            "head_dim": 16,
            "intermediate_size": 48,
            "vocab_size_per_layer_input": 200,
            "hidden_size_per_layer_input": 6,
            "num_kv_shared_layers": 10,
            "laurel_rank": 2,
            "altup_num_inputs": 3,
        },
    ),
    # --- more switches: tied heads with biases, ignored keys, explicit layer patterns ------------
    ("apertus-relu2", "apertus", {**_SMALL, "num_key_value_heads": 2, "intermediate_size": 80, "hidden_act": "relu2"}),
    (
        "cohere2-headdim-ignored",
        "cohere2",
        {**_SMALL, "num_key_value_heads": 1, "intermediate_size": 80, "head_dim": 32},
    ),
    (
        "phimoe-tied-lm-bias",
        "phimoe",
        {
            **_SMALL,
            "num_key_value_heads": 2,
            "intermediate_size": 40,
            "num_local_experts": 3,
            "num_experts_per_tok": 1,
            "lm_head_bias": True,
            "tie_word_embeddings": True,
        },
    ),
    (
        "ernie4_5_moe-tied-bias",
        "ernie4_5_moe",
        {
            **_SMALL,
            "num_key_value_heads": 2,
            "intermediate_size": 64,
            "moe_intermediate_size": 16,
            "moe_num_experts": 4,
            "moe_k": 2,
            "moe_num_shared_experts": 1,
            "moe_layer_start_index": 2,
            "moe_layer_end_index": -1,
            "use_bias": True,
            "tie_word_embeddings": True,
        },
    ),
    (
        "deepseek_v32-mlp-layer-types",
        "deepseek_v32",
        {
            **_SMALL,
            "num_hidden_layers": 5,
            "intermediate_size": 80,
            "moe_intermediate_size": 16,
            "n_routed_experts": 4,
            "num_experts_per_tok": 2,
            "n_shared_experts": 0,
            "mlp_layer_types": ["dense", "sparse", "dense", "sparse", "sparse"],
            "kv_lora_rank": 16,
            "q_lora_rank": 24,
            "qk_rope_head_dim": 4,
            "qk_nope_head_dim": 12,
            "v_head_dim": 8,
            "index_n_heads": 3,
            "index_head_dim": 8,
            "index_topk": 4,
            "n_group": 1,
            "topk_group": 1,
            "tie_word_embeddings": True,
        },
    ),
    (
        "longcat_flash-router-bias",
        "longcat_flash",
        {
            "vocab_size": 800,
            "hidden_size": 48,
            "num_attention_heads": 3,
            "num_layers": 2,
            "ffn_hidden_size": 64,
            "expert_ffn_hidden_size": 16,
            "n_routed_experts": 4,
            "zero_expert_num": 2,
            "moe_topk": 2,
            "kv_lora_rank": 12,
            "q_lora_rank": 20,
            "qk_rope_head_dim": 4,
            "qk_nope_head_dim": 8,
            "v_head_dim": 8,
            "router_bias": True,
        },
    ),
    (
        "glm4_moe-all-moe-nohead",
        "glm4_moe",
        {
            **_SMALL,
            "num_key_value_heads": 2,
            "intermediate_size": 64,
            "moe_intermediate_size": 24,
            "n_routed_experts": 5,
            "num_experts_per_tok": 2,
            "first_k_dense_replace": 0,
            "use_qk_norm": True,
        },
    ),
    (
        "dots1-noshared-firstk3",
        "dots1",
        {
            **_SMALL,
            "num_key_value_heads": 2,
            "intermediate_size": 64,
            "moe_intermediate_size": 16,
            "n_routed_experts": 4,
            "num_experts_per_tok": 2,
            "n_shared_experts": 0,
            "first_k_dense_replace": 3,
        },
    ),
    (
        "gemma3n_text-layer-types",
        "gemma3n_text",
        {
            **_SMALL,
            "num_hidden_layers": 6,
            "num_key_value_heads": 2,
            "head_dim": 16,
            "intermediate_size": 64,
            "vocab_size_per_layer_input": 100,
            "hidden_size_per_layer_input": 4,
            "num_kv_shared_layers": 2,
            "laurel_rank": 4,
            "altup_num_inputs": 2,
            "sliding_window": 8,
            "layer_types": ["sliding_attention", "full_attention"] * 3,
        },
    ),
    (
        "hunyuan_v1_moe-topk-list",
        "hunyuan_v1_moe",
        {
            **_SMALL,
            "num_key_value_heads": 2,
            "intermediate_size": 40,
            "head_dim": 16,
            "num_experts": 4,
            "moe_topk": [2, 2, 2, 2],
        },
    ),
    # --- tied output heads that keep their own bias (GPT-J, Phi-2 with tie_word_embeddings) ------
    (
        "gptj-tied-head-bias",
        "gptj",
        {
            "vocab_size": 1000,
            "n_embd": 64,
            "n_head": 4,
            "n_layer": 2,
            "rotary_dim": 8,
            "n_positions": 128,
            "tie_word_embeddings": True,
            "bos_token_id": 1,
            "eos_token_id": 2,
        },
    ),
    (
        "gptj-untied",
        "gptj",
        {
            "vocab_size": 1200,
            "n_embd": 32,
            "n_head": 2,
            "n_layer": 3,
            "rotary_dim": 4,
            "n_inner": 48,
            "n_positions": 64,
            "tie_word_embeddings": False,
            "bos_token_id": 1,
            "eos_token_id": 2,
        },
    ),
    (
        "phi-tied-head-bias",
        "phi",
        {
            "vocab_size": 1000,
            "hidden_size": 64,
            "num_attention_heads": 4,
            "num_hidden_layers": 2,
            "intermediate_size": 96,
            "tie_word_embeddings": True,
            "bos_token_id": 1,
            "eos_token_id": 2,
        },
    ),
    (
        "phi-tied-qk-layernorm",
        "phi",
        {
            "vocab_size": 900,
            "hidden_size": 48,
            "num_attention_heads": 4,
            "num_key_value_heads": 2,
            "num_hidden_layers": 3,
            "intermediate_size": 64,
            "qk_layernorm": True,
            "tie_word_embeddings": True,
            "bos_token_id": 1,
            "eos_token_id": 2,
        },
    ),
]


def _transformers_counts(model_type: str, keys: dict[str, Any]) -> tuple[dict[str, int], dict[str, Any]]:
    """Counts of the transformers model built from ``keys`` on the meta device, and its full config."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    config = AutoConfig.for_model(model_type, **keys)
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config)
    params = dict(model.named_parameters())
    total = sum(p.numel() for p in params.values())
    embed_w = model.get_input_embeddings().weight
    head = model.get_output_embeddings()
    lm_head = 0
    if head is not None:
        lm_head = sum(p.numel() for p in head.parameters() if p is not embed_w)
    k = _experts_per_token(config)
    inactive = 0
    for module in model.modules():
        experts = [p for name, p in module.named_parameters(recurse=False) if p.dim() == 3]
        if experts:
            # The expert axis leads. LongCat-Flash sizes gate_up for its zero-computation experts
            # too (down_proj has the real ones): slices past the real experts never run.
            n = min(p.shape[0] for p in experts)
            per_expert = sum(p.numel() // p.shape[0] for p in experts)
            phantom = sum((p.shape[0] - n) * (p.numel() // p.shape[0]) for p in experts)
            inactive += (n - min(k, n)) * per_expert + phantom
    counts = {
        "total": total,
        "active": total - inactive,
        "embed": embed_w.numel(),
        "lm_head": lm_head,
        "pos_embed": 0,
    }
    full = json.loads(config.to_json_string(use_diff=False))
    return counts, full


def _experts_per_token(config: Any) -> int:
    for name in ("num_experts_per_tok", "moe_topk", "moe_k"):
        value = getattr(config, name, None)
        if isinstance(value, list) and value and len(set(value)) == 1:  # one top-k per layer, all equal
            value = value[0]
        if isinstance(value, int):
            return value
    return 0


def _llmcalc_counts(config: dict[str, Any]) -> dict[str, int]:
    from llmcalc import count_params, spec_from_hf_config

    counts = count_params(spec_from_hf_config(config, source=config["model_type"]))
    return {
        "total": counts.total_params,
        "active": counts.active_params,
        "embed": counts.embedding_params,
        "lm_head": counts.lm_head_params,
        "pos_embed": counts.positional_params,
    }


def main(argv: list[str]) -> int:
    import transformers

    write = "--write" in argv
    only = [a for a in argv if not a.startswith("--")]
    rows = []
    bad = 0
    for vid, model_type, keys in VARIATIONS:
        if only and not any(vid.startswith(o) for o in only):
            continue
        try:
            expected, full = _transformers_counts(model_type, keys)
        except Exception as exc:  # a variation transformers cannot build is a bad variation
            bad += 1
            print(f"ERR {vid:40s} transformers: {type(exc).__name__}: {exc}")
            continue
        for form, config in (("keys", {"model_type": model_type, **keys}), ("full", full)):
            try:
                got: dict[str, int] | str = _llmcalc_counts(config)
            except Exception as exc:  # report every family, do not stop at the first
                got = f"{type(exc).__name__}: {exc}"
            ok = got == expected
            bad += not ok
            mark = "ok " if ok else "BAD"
            detail = "" if ok else f"\n    transformers {expected}\n    llmcalc      {got}"
            print(f"{mark} {vid:40s} {form:4s} total={expected['total']:,}{detail}")
        rows.append(
            {
                "id": vid,
                "model_type": model_type,
                "config": {"model_type": model_type, **keys},
                "full_config": full,
                "expected": expected,
            }
        )
    if write:
        OUT.parent.mkdir(parents=True, exist_ok=True)
        table = {"transformers_version": transformers.__version__, "variations": rows}
        OUT.write_text(json.dumps(table, indent=1, sort_keys=False) + "\n")
        print(f"wrote {len(rows)} variations to {OUT.relative_to(ROOT)}")
    print(f"{bad} mismatches")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
