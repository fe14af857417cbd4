"""The Llama family and its dense relatives: Llama, Mistral, Qwen2/3, OLMo 2, Gemma 1-3, Phi-3, Granite,
Cohere, StarCoder2, StableLM, and the generic Llama-style fallback.

Reference: transformers ``models/<model_type>/modeling_<model_type>.py`` and ``configuration_*.py``.
"""

from __future__ import annotations

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


def generic(f: Fields, name: str, mt: str) -> ModelSpec:
    """Any other model_type with the standard fields: counted as a Llama-style decoder."""
    f.assumptions.append(
        f"model_type '{mt}' is not one llmcalc knows; counted as a Llama-style decoder: rotary positions, "
        "RMSNorm before attention and MLP, a gated (SwiGLU) MLP of intermediate_size, no biases "
        "unless attention_bias/mlp_bias say so, "
        + ("a tied lm_head" if f.boolean("tie_word_embeddings", default=False) else "an untied lm_head")
    )
    return llama_like(f, name, mt)
