"""Parameter formulas pinned on tiny models whose counts are worked out by hand."""

from __future__ import annotations

import pytest

from llmcalc import count_params, spec_from_hf_config

TINY_LLAMA = {
    "model_type": "llama", "vocab_size": 10, "hidden_size": 8, "num_hidden_layers": 2,
    "num_attention_heads": 2, "num_key_value_heads": 1, "head_dim": 4, "intermediate_size": 16,
    "tie_word_embeddings": False,
}
TINY_GPT2 = {"model_type": "gpt2", "vocab_size": 10, "n_embd": 8, "n_layer": 1, "n_head": 2, "n_positions": 6}
TINY_MIXTRAL = {
    "model_type": "mixtral", "vocab_size": 10, "hidden_size": 8, "num_hidden_layers": 1,
    "num_attention_heads": 2, "num_key_value_heads": 2, "intermediate_size": 4,
    "num_local_experts": 4, "num_experts_per_tok": 2,
}


def test_tiny_llama_by_hand() -> None:
    """GQA Llama: embed 80; per layer q 64 + k 32 + v 32 + o 64 + MLP 384 + norms 16; final norm 8; head 80."""
    counts = count_params(spec_from_hf_config(TINY_LLAMA, source="tiny"))
    assert counts.component("token_embedding") == 80
    assert counts.component("attention") == 2 * (64 + 32 + 32 + 64)
    assert counts.component("dense_mlp") == 2 * 3 * 8 * 16
    assert counts.component("norms") == 2 * 16 + 8
    assert counts.component("lm_head") == 80
    assert counts.total_params == 1352
    assert counts.active_params == counts.total_params
    assert counts.non_embedding_params == 1352 - 80 - 80


def test_tied_head_counts_once() -> None:
    """Tying the head removes the 80 lm_head parameters and nothing else."""
    tied = count_params(spec_from_hf_config({**TINY_LLAMA, "tie_word_embeddings": True}, source="tiny"))
    assert tied.total_params == 1352 - 80
    assert tied.lm_head_params == 0


def test_tiny_gpt2_learned_positions_and_biases() -> None:
    """GPT-2: wte 80 + wpe 6x8 + (c_attn 216 + c_proj 72 + ln 32 + fc 288 + proj 264) + ln_f 16, tied."""
    counts = count_params(spec_from_hf_config(TINY_GPT2, source="tiny"))
    assert counts.positional_params == 48
    assert counts.total_params == 80 + 48 + 216 + 72 + 32 + 288 + 264 + 16


def test_opt_position_offset() -> None:
    """OPT's learned table has max_position_embeddings + 2 rows."""
    cfg = {"model_type": "opt", "vocab_size": 10, "hidden_size": 8, "num_hidden_layers": 1,
           "num_attention_heads": 2, "ffn_dim": 16, "max_position_embeddings": 6}
    assert count_params(spec_from_hf_config(cfg, source="tiny")).positional_params == (6 + 2) * 8


def test_tiny_moe_active() -> None:
    """4 experts of 96, 2 per token: active = total - 2 x 96; router 8 x 4."""
    counts = count_params(spec_from_hf_config(TINY_MIXTRAL, source="tiny"))
    assert counts.component("routed_experts") == 4 * 96
    assert counts.component("router") == 32
    assert counts.total_params == 80 + 256 + 384 + 32 + 24 + 80
    assert counts.active_params == counts.total_params - 2 * 96
    assert counts.active_params_excluding_embedding == counts.active_params - 80
    assert counts.moe is not None and counts.moe.inactive_params == 192


def test_mla_without_q_lora() -> None:
    """DeepSeek-V2-Lite style MLA: q_proj direct, kv_a with rope, kv_b, o_proj, two norms of kv rank."""
    cfg = {"model_type": "deepseek_v2", "vocab_size": 10, "hidden_size": 8, "num_hidden_layers": 1,
           "num_attention_heads": 2, "intermediate_size": 16, "kv_lora_rank": 4, "q_lora_rank": None,
           "qk_nope_head_dim": 2, "qk_rope_head_dim": 2, "v_head_dim": 3}
    counts = count_params(spec_from_hf_config(cfg, source="tiny"))
    q = 8 * 2 * 4
    kv = 8 * (4 + 2) + 4 + 4 * 2 * (2 + 3)
    o = 2 * 3 * 8
    assert counts.component("attention") == q + kv + o


@pytest.mark.parametrize(
    ("placement", "norms_per_layer"),
    [("gpt2", 2), ("gptj", 1), ("gpt_neox", 2)],
    ids=["pre-norm", "parallel-shared", "parallel-two-norms"],
)
def test_norm_placement(placement: str, norms_per_layer: int) -> None:
    """Layer norms per layer follow the family's block layout."""
    configs = {
        "gpt2": TINY_GPT2,
        "gptj": {"model_type": "gptj", "vocab_size": 10, "n_embd": 8, "n_layer": 1, "n_head": 2, "rotary_dim": 2},
        "gpt_neox": {"model_type": "gpt_neox", "vocab_size": 10, "hidden_size": 8, "num_hidden_layers": 1,
                     "num_attention_heads": 2, "intermediate_size": 16},
    }
    counts = count_params(spec_from_hf_config(configs[placement], source="tiny"))
    assert counts.component("norms") == (norms_per_layer + 1) * 16  # + final LayerNorm, weight and bias
