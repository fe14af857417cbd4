"""Zhipu's GLM family: GLM-4 (``glm``), GLM-4-0414 (``glm4``) and GLM-4.5/4.6 (``glm4_moe``).

Reference: transformers ``models/glm/modeling_glm.py``, ``models/glm4/modeling_glm4.py``,
``models/glm4_moe/modeling_glm4_moe.py`` with the defaults of their ``configuration_*.py``.
All three bias q/k/v (``attention_bias``) but never ``o_proj``; GLM and GLM-4 fuse gate and up into
one ``gate_up_proj`` (the same ``2 H I`` weights as a gated MLP).
"""

from __future__ import annotations

from dataclasses import replace

from llmcalc.importers.hf.common import llama_like, with_defaults
from llmcalc.importers.hf.fields import Fields
from llmcalc.importers.hf.moe2025 import deepseek_style_moe
from llmcalc.spec import ModelSpec, NormPlacement, QKNorm


def glm(f: Fields, name: str, mt: str) -> ModelSpec:
    """GLM-4 (``GlmForCausalLM``): Llama-shaped, q/k/v biased by default, ``head_dim`` 128 and
    ``num_key_value_heads`` 2 by default."""
    return _glm(f, name, mt, placement="pre")


def glm4(f: Fields, name: str, mt: str) -> ModelSpec:
    """GLM-4-0414 (``Glm4ForCausalLM``): as GLM plus norms after attention and after the MLP
    (``post_self_attn_layernorm``, ``post_mlp_layernorm``: four per layer)."""
    return _glm(f, name, mt, placement="sandwich")


def _glm(f: Fields, name: str, mt: str, *, placement: NormPlacement) -> ModelSpec:
    """GLM-4 and GLM-4-0414: :func:`llama_like` with their defaults, differing in norm placement only."""
    return llama_like(
        with_defaults(f, num_key_value_heads=2),
        name,
        mt,
        qkv_bias_default=True,
        o_bias_follows_qkv=False,
        head_dim_default=128,
        placement=placement,
        sliding=False,
    )


def glm4_moe(f: Fields, name: str, mt: str) -> ModelSpec:
    """GLM-4.5 / 4.6 (``Glm4MoeForCausalLM``).

    Layers from ``first_k_dense_replace`` (default 1) on are MoE: ``n_routed_experts`` experts of
    ``moe_intermediate_size``, one shared expert of ``n_shared_experts x moe_intermediate_size``
    (none when 0), a router of ``E x H`` (its ``e_score_correction_bias`` is a buffer). q/k norms of
    ``head_dim`` when ``use_qk_norm`` (GLM-4.5 sets it, the config class defaults to false).
    ``num_nextn_predict_layers`` MTP layers (default 1) are not built by transformers and are
    reported outside the total, as DeepSeek-V3's. ``num_key_value_heads`` defaults to 8.
    """
    f = with_defaults(f, num_key_value_heads=8)
    mtp = f.integer("num_nextn_predict_layers", default=1, minimum=0)
    first_dense = f.integer("first_k_dense_replace", default=1, minimum=0)
    moe = deepseek_style_moe(f, shared_default=1)
    qk: QKNorm = "head" if f.boolean("use_qk_norm", default=False) else "none"
    spec = llama_like(
        f,
        name,
        mt,
        qkv_bias_default=False,
        o_bias_follows_qkv=False,
        qk_norm=qk,
        sliding=False,
        moe_at=lambda i: moe if i >= first_dense else None,
    )
    return replace(spec, mtp_layers=mtp)
