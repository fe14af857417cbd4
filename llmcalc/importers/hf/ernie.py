"""Baidu's ERNIE 4.5: dense (``ernie4_5``) and MoE (``ernie4_5_moe``) text models.

Reference: transformers ``models/ernie4_5/modeling_ernie4_5.py`` and
``models/ernie4_5_moe/modeling_ernie4_5_moe.py`` with their ``configuration_*.py`` defaults (5.24).
One switch, ``use_bias``, biases q/k/v/o and every dense MLP projection (the MoE model's
``lm_head`` too); the routed experts never have biases.
"""

from __future__ import annotations

from dataclasses import replace

from llmcalc.errors import SpecError
from llmcalc.importers.hf.common import llama_like, with_defaults
from llmcalc.importers.hf.fields import Fields
from llmcalc.spec import MLP, ModelSpec, MoE


def ernie4_5(f: Fields, name: str, mt: str) -> ModelSpec:
    """ERNIE-4.5-0.3B style dense model: Llama-shaped, tied by default, ``head_dim`` 128 by default."""
    f = with_defaults(f, num_key_value_heads=2)
    bias = f.boolean("use_bias", default=False)
    return llama_like(
        f,
        name,
        mt,
        qkv_bias_key=None,
        qkv_bias_default=bias,
        mlp_bias=bias,
        head_dim_default=128,
        tie_default=True,
        sliding=False,
    )


def ernie4_5_moe(f: Fields, name: str, mt: str) -> ModelSpec:
    """ERNIE-4.5-21B-A3B / 300B-A47B (``Ernie4_5_MoeForCausalLM``).

    Layer ``i`` is MoE when ``(i + 1) % moe_layer_interval == 0`` and
    ``moe_layer_start_index <= i <= moe_layer_end_index`` (defaults 1, 1 and the last layer;
    ``-1`` means the last). An MoE block holds ``moe_num_experts`` experts of
    ``moe_intermediate_size`` (top ``moe_k``), ``moe_num_shared_experts`` shared experts as one MLP
    of ``moe_num_shared_experts x moe_intermediate_size`` (default 2), a router of ``E x H`` and an
    ``e_score_correction_bias`` of ``E`` values that transformers keeps as a parameter
    (``Ernie4_5_MoeStatics``), counted here as the router's bias.
    """
    f = with_defaults(f, num_key_value_heads=4)
    bias = f.boolean("use_bias", default=False)
    n = f.integer("num_hidden_layers")
    start = f.integer("moe_layer_start_index", default=1, minimum=0)
    end = f.integer("moe_layer_end_index", default=-1, minimum=-1)
    end = n - 1 if end == -1 else end
    interval = f.integer("moe_layer_interval", default=1)
    experts = f.integer("moe_num_experts", "num_experts", default=64)
    k = f.integer("moe_k", "num_experts_per_tok", default=6)
    inter = f.integer("moe_intermediate_size", default=1536)
    shared = f.integer("moe_num_shared_experts", default=2, minimum=0)
    moe = None
    if not f.errors:
        try:
            moe = MoE(
                num_experts=experts,
                experts_per_token=k,
                expert=MLP(inter),
                shared_expert=MLP(inter * shared, bias=bias) if shared else None,
                router_bias=True,
            )
        except SpecError as exc:
            f.errors.append(str(exc))
    spec = llama_like(
        f,
        name,
        mt,
        qkv_bias_key=None,
        qkv_bias_default=bias,
        mlp_bias=bias,
        tie_default=True,
        sliding=False,
        moe_at=lambda i: moe if (i + 1) % interval == 0 and start <= i <= end else None,
    )
    return replace(spec, lm_head_bias=bias)
