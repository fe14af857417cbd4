"""2025 Mixture-of-Experts decoders of the Llama shape: MiniMax-M2, dots.llm1, Phi-3.5-MoE, FlexOlmo.

Reference: transformers ``models/<model_type>/modeling_<model_type>.py`` with the defaults of its
``configuration_<model_type>.py`` (5.24). Every one stores its routed experts as fused 3-D tensors
(``gate_up_proj`` of ``E x 2I x H`` and ``down_proj`` of ``E x H x I``): the same ``3 H I`` per
expert as separate projections. Routers that keep an ``e_score_correction_bias`` keep it as a
buffer (not a parameter) in all of these.
"""

from __future__ import annotations

from dataclasses import replace

from llmcalc.errors import SpecError
from llmcalc.importers.hf.common import llama_like, simple_moe, with_defaults
from llmcalc.importers.hf.fields import Fields
from llmcalc.spec import MLP, ModelSpec, MoE, Norm


def deepseek_style_moe(f: Fields, *, shared_default: int) -> MoE | None:
    """``n_routed_experts`` experts of ``moe_intermediate_size``, top ``num_experts_per_tok``, and
    one shared-expert MLP of ``n_shared_experts x moe_intermediate_size`` (none when 0), as
    ``Glm4MoeMoE`` and ``Dots1MoE`` build them."""
    n = f.integer("n_routed_experts", "num_local_experts")
    k = f.integer("num_experts_per_tok")
    inter = f.integer("moe_intermediate_size")
    shared = f.integer("n_shared_experts", default=shared_default, minimum=0)
    if f.errors:
        return None
    try:
        return MoE(
            num_experts=n,
            experts_per_token=k,
            expert=MLP(inter),
            shared_expert=MLP(inter * shared) if shared else None,
        )
    except SpecError as exc:
        f.errors.append(str(exc))
        return None


def minimax_m2(f: Fields, name: str, mt: str) -> ModelSpec:
    """MiniMax-M2 / M2.1 / M2.5 (``MiniMaxM2ForCausalLM``): every layer MoE, no shared expert.

    ``num_local_experts`` experts of ``intermediate_size`` (the expert width; there is no dense
    MLP), a sigmoid router of ``E x H``, q/k RMSNorms over all heads (``q_norm`` of
    ``n_h d_h``, ``k_norm`` of ``n_kv d_h``) and no biases. Full attention in every layer.
    """
    f = with_defaults(f, num_key_value_heads=8)
    moe = simple_moe(f, "num_local_experts", "intermediate_size")
    return llama_like(
        f, name, mt, qkv_bias_key=None, qk_norm="all-heads", head_dim_default=128, sliding=False, moe_at=lambda i: moe
    )


def dots1(f: Fields, name: str, mt: str) -> ModelSpec:
    """rednote dots.llm1 (``Dots1ForCausalLM``): DeepSeek-V3-style experts on Qwen3-style attention.

    Layers from ``first_k_dense_replace`` (default 0) on are MoE with a shared expert of
    ``n_shared_experts x moe_intermediate_size``; q/k RMSNorms of ``head_dim``; q/k/v/o biased by
    ``attention_bias``; sliding window per ``layer_types``, by default on layers from
    ``max_window_layers`` (62) on when ``sliding_window`` (4096) is set.
    """
    f = with_defaults(f, num_key_value_heads=32)
    first_dense = f.integer("first_k_dense_replace", default=0, minimum=0)
    moe = deepseek_style_moe(f, shared_default=0)
    n = f.integer("num_hidden_layers")
    if "sliding_window" not in f.data:
        f = with_defaults(f, sliding_window=4096)
    types = None
    if not f.has("layer_types"):
        window = f.opt_int("sliding_window")
        start = f.integer("max_window_layers", default=62, minimum=0)
        types = ["sliding_attention" if window and i >= start else "full_attention" for i in range(n)]
    return llama_like(
        f, name, mt, qk_norm="head", layer_types=types, moe_at=lambda i: moe if i >= first_dense else None
    )


def phimoe(f: Fields, name: str, mt: str) -> ModelSpec:
    """Phi-3.5-MoE (``PhimoeForCausalLM``): Mixtral's layout with LayerNorms (weight and bias).

    ``num_local_experts`` experts of ``intermediate_size``, a bias-free router, q/k/v/o biased by
    ``attention_bias``, an lm_head bias when ``lm_head_bias``; ``sliding_window`` (default none)
    applies to every layer.
    """
    f = with_defaults(f, num_key_value_heads=8)
    lm_bias = f.boolean("lm_head_bias", default=False)
    moe = simple_moe(f, "num_local_experts", "intermediate_size")
    spec = llama_like(f, name, mt, norm=Norm("layernorm", bias=True), moe_at=lambda i: moe)
    return replace(spec, lm_head_bias=lm_bias)


def flex_olmo(f: Fields, name: str, mt: str) -> ModelSpec:
    """FlexOlmo (``FlexOlmoForCausalLM``): OLMoE's experts on OLMo 2's layer.

    Norms after attention and after the MoE block (``post_attention_layernorm``,
    ``post_feedforward_layernorm``), q/k RMSNorms over all heads, ``num_experts`` experts of
    ``intermediate_size`` with a bias-free router, every layer MoE.
    """
    moe = simple_moe(f, "num_experts", "intermediate_size")
    return llama_like(f, name, mt, qk_norm="all-heads", placement="post", sliding=False, moe_at=lambda i: moe)
