"""The Llama family and its dense relatives: Llama, Mistral, Qwen2/3, OLMo 2, Gemma 1-3, Phi-3, Granite,
Cohere, StarCoder2, StableLM, and the generic Llama-style fallback.

Reference: transformers ``models/<model_type>/modeling_<model_type>.py`` and ``configuration_*.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from llmcalc.errors import SpecError
from llmcalc.importers.hf.common import llama_like, qwen_windows
from llmcalc.importers.hf.fields import Fields
from llmcalc.spec import (
    ModelSpec,
    Norm,
    QKNorm,
)


def llama(f: Fields, name: str, mt: str) -> ModelSpec:
    return llama_like(f, name, mt)


def mistral(f: Fields, name: str, mt: str) -> ModelSpec:
    return llama_like(f, name, mt, qkv_bias_key=None)


def qwen2(f: Fields, name: str, mt: str) -> ModelSpec:
    # Qwen2Attention: q/k/v have biases, o_proj has none.
    return llama_like(
        f, name, mt, qkv_bias_key=None, qkv_bias_default=True, o_bias_follows_qkv=False, layer_types=qwen_windows(f)
    )


def qwen3(f: Fields, name: str, mt: str) -> ModelSpec:
    return llama_like(f, name, mt, qk_norm="head", layer_types=qwen_windows(f))


def olmo2(f: Fields, name: str, mt: str) -> ModelSpec:
    return llama_like(f, name, mt, qk_norm="all-heads", placement="post")


def gemma(f: Fields, name: str, mt: str) -> ModelSpec:
    return llama_like(f, name, mt, tie_default=True)


def gemma2(f: Fields, name: str, mt: str) -> ModelSpec:
    n = f.integer("num_hidden_layers")
    default = ["sliding_attention" if (i + 1) % 2 else "full_attention" for i in range(n)]
    return llama_like(f, name, mt, placement="sandwich", tie_default=True, layer_types=default)


def gemma3(f: Fields, name: str, mt: str) -> ModelSpec:
    n = f.integer("num_hidden_layers")
    pattern = f.integer("sliding_window_pattern", default=6)
    default = ["sliding_attention" if (i + 1) % pattern else "full_attention" for i in range(n)]
    return llama_like(f, name, mt, placement="sandwich", qk_norm="head", tie_default=True, layer_types=default)


def phi3(f: Fields, name: str, mt: str) -> ModelSpec:
    return llama_like(f, name, mt, rotary_fraction_key="partial_rotary_factor")


def granite(f: Fields, name: str, mt: str) -> ModelSpec:
    return llama_like(f, name, mt)


def cohere(f: Fields, name: str, mt: str) -> ModelSpec:
    # CohereLayerNorm has no bias; q/k norms are per head ((heads, head_dim) weights).
    qk: QKNorm = "all-heads" if f.boolean("use_qk_norm", default=False) else "none"
    return llama_like(
        f, name, mt, qk_norm=qk, norm=Norm("layernorm", bias=False), placement="parallel-shared", tie_default=True
    )


def starcoder2(f: Fields, name: str, mt: str) -> ModelSpec:
    bias = f.boolean("use_bias", default=True)
    return llama_like(
        f,
        name,
        mt,
        qkv_bias_key=None,
        qkv_bias_default=bias,
        norm=Norm("layernorm", bias=True),
        tie_default=True,
        gated=False,
        mlp_bias=bias,
    )


def stablelm(f: Fields, name: str, mt: str) -> ModelSpec:
    parallel = f.boolean("use_parallel_residual", default=False)
    qk: QKNorm = "all-heads" if f.boolean("qk_layernorm", default=False) else "none"
    return llama_like(
        f,
        name,
        mt,
        qkv_bias_key="use_qkv_bias",
        o_bias_follows_qkv=False,
        qk_norm=qk,
        qk_norm_type=Norm("layernorm", bias=False),
        norm=Norm("layernorm", bias=True),
        placement="parallel-shared" if parallel else "pre",
        rotary_fraction_key="partial_rotary_factor",
    )


#: Config fields the generic Llama-style reader does not model, by what they describe. A config of
#: an unknown model_type that sets any of them (to something other than null, 0, false or empty)
#: is refused rather than counted as a dense decoder. Names ending in ``*`` are prefixes.
UNMODELLED_FIELDS: dict[str, tuple[str, ...]] = {
    "experts": (
        "num_experts",
        "num_local_experts",
        "n_routed_experts",
        "n_shared_experts",
        "moe_intermediate_size",
        "num_experts_per_tok",
        "moe_num_experts",
        "moe_k",
        "moe_topk",
        "shared_expert_intermediate_size",
        "expert_ffn_hidden_size",
        "moe_*",
    ),
    "latent attention": ("kv_lora_rank", "q_lora_rank"),
    "state-space layers": (
        "ssm_state_size",
        "state_size",
        "d_state",
        "d_conv",
        "conv_kernel",
        "conv_L_cache",
        "time_step_rank",
        "ssm_cfg",
        "mamba_*",
        "ssm_*",
    ),
    "linear attention": (
        "linear_*",
        "full_attention_interval",
        "attn_layer_indices",
        "attn_layer_period",
        "layers_block_type",
        "hybrid_override_pattern",
        "block_types",
    ),
    "encoder towers": ("text_config", "vision_config", "audio_config", "speech_config", "encoder_config"),
}

#: ``layer_types`` entries the generic reader understands (anything else is a non-attention mixer).
_GENERIC_LAYER_TYPES = {"full_attention", "sliding_attention", "chunked_attention"}


def unmodelled_fields(data: Mapping[str, Any]) -> dict[str, list[str]]:
    """The fields of ``data`` the generic reader does not model, grouped as in UNMODELLED_FIELDS."""
    found: dict[str, list[str]] = {}
    for what, names in UNMODELLED_FIELDS.items():
        for key in sorted(data):
            value = data[key]
            if value is None or value is False or value == 0 or value in ([], {}, ""):
                continue
            if any(key.startswith(n[:-1]) if n.endswith("*") else key == n for n in names):
                found.setdefault(what, []).append(key)
    types = data.get("layer_types")
    if isinstance(types, list):
        odd = sorted({t for t in types if isinstance(t, str)} - _GENERIC_LAYER_TYPES)
        if odd:
            found.setdefault("linear attention", []).append(f"layer_types ({', '.join(odd)})")
    return found


def generic(f: Fields, name: str, mt: str) -> ModelSpec:
    """Any other model_type with the standard fields: counted as a Llama-style decoder.

    Refused (never guessed) when the config sets fields this reader does not model: experts,
    latent attention, state-space or linear-attention layers, encoder towers.
    """
    found = unmodelled_fields(f.data)
    if found:
        listed = "; ".join(f"{what}: {', '.join(keys)}" for what, keys in found.items())
        raise SpecError(
            f"{f.source}: model_type '{mt}' is not one llmcalc knows, and its config has fields the generic "
            f"Llama-style reader does not model ({listed}); llmcalc will not guess its size"
        )
    f.assumptions.append(
        f"model_type '{mt}' is not one llmcalc knows; counted as a Llama-style decoder: rotary positions, "
        "RMSNorm before attention and MLP, a gated (SwiGLU) MLP of intermediate_size, no biases "
        "unless attention_bias/mlp_bias say so, "
        + ("a tied lm_head" if f.boolean("tie_word_embeddings", default=False) else "an untied lm_head")
    )
    return llama_like(f, name, mt)
