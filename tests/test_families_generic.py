"""Unknown model types: a standard dense config is counted with a warning, anything else refused."""

from __future__ import annotations

from typing import Any

import pytest

from llmcalc import count_params, spec_from_hf_config
from llmcalc.errors import SpecError

DENSE: dict[str, Any] = {
    "model_type": "brand_new_lm",
    "hidden_size": 64,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "num_hidden_layers": 3,
    "vocab_size": 1000,
    "intermediate_size": 96,
}


def test_dense_unknown_type_counted_with_warning() -> None:
    """A dense config of an unknown type is a Llama-style decoder, and says so."""
    spec = spec_from_hf_config(DENSE, source="new.json")
    h, i, v, layers, kv = 64, 96, 1000, 3, 2 * 16
    per_layer = h * h + 2 * h * kv + h * h + 3 * h * i + 2 * h
    assert count_params(spec).total_params == 2 * v * h + layers * per_layer + h
    assert any("brand_new_lm" in a and "Llama-style" in a for a in spec.assumptions)


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ({"num_local_experts": 8, "num_experts_per_tok": 2}, "experts: num_experts_per_tok, num_local_experts"),
        ({"n_routed_experts": 64, "moe_intermediate_size": 32}, "experts: moe_intermediate_size, n_routed_experts"),
        ({"kv_lora_rank": 32}, "latent attention: kv_lora_rank"),
        ({"ssm_state_size": 16, "conv_kernel": 4}, "state-space layers: conv_kernel, ssm_state_size"),
        ({"mamba_d_state": 16}, "state-space layers: mamba_d_state"),
        (
            {"linear_num_value_heads": 8, "full_attention_interval": 4},
            "linear attention: full_attention_interval, linear_num_value_heads",
        ),
        (
            {"layer_types": ["linear_attention", "full_attention", "full_attention"]},
            "linear attention: layer_types (linear_attention)",
        ),
        ({"hybrid_override_pattern": "M-M*"}, "linear attention: hybrid_override_pattern"),
        (
            {"text_config": {"hidden_size": 64}, "vision_config": {"hidden_size": 32}},
            "encoder towers: text_config, vision_config",
        ),
    ],
    ids=["mixtral-like", "deepseek-like", "mla", "mamba", "mamba-prefix", "linear", "layer-types", "pattern", "towers"],
)
def test_unmodelled_fields_refused(extra: dict[str, Any], named: str) -> None:
    """A config with experts, MLA, state-space, linear attention or towers is refused, naming its fields."""
    with pytest.raises(SpecError) as err:
        spec_from_hf_config({**DENSE, **extra}, source="new.json")
    message = str(err.value)
    assert message.startswith("new.json: model_type 'brand_new_lm' is not one llmcalc knows")
    assert f"({named})" in message
    assert message.endswith("llmcalc will not guess its size")


@pytest.mark.parametrize(
    "extra",
    [
        {"num_experts": 0},
        {"num_local_experts": None},
        {"vision_config": None},
        {"layer_types": ["full_attention", "sliding_attention", "full_attention"], "sliding_window": 16},
    ],
    ids=["zero-experts", "null-experts", "null-tower", "attention-layer-types"],
)
def test_empty_or_attention_fields_still_counted(extra: dict[str, Any]) -> None:
    """Fields set to 0/null, and layer_types of attention kinds, do not stop a dense count."""
    spec = spec_from_hf_config({**DENSE, **extra}, source="new.json")
    assert count_params(spec).total_params > 0
    assert spec.assumptions
