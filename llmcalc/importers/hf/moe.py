"""Mixture-of-Experts families: Qwen2/3-MoE, Mixtral, OLMoE, gpt-oss, Llama 4, DBRX.

Reference: transformers ``models/<model_type>/modeling_<model_type>.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from llmcalc.errors import SpecError
from llmcalc.importers.hf.common import decoder_spec, llama_like, qwen_windows, simple_moe, with_attention
from llmcalc.importers.hf.fields import Fields
from llmcalc.spec import (
    MLP,
    Attention,
    LayerGroup,
    ModelSpec,
    MoE,
    Norm,
    Positional,
    QKNorm,
)


def qwen_sparse(f: Fields) -> Callable[[int], bool]:
    """Qwen-MoE: layer i is sparse unless listed in ``mlp_only_layers`` or off ``decoder_sparse_step``."""
    step = f.integer("decoder_sparse_step", default=1)
    dense_only = set(f.int_list("mlp_only_layers"))
    return lambda i: i not in dense_only and (i + 1) % step == 0


def qwen2_moe(f: Fields, name: str, mt: str) -> ModelSpec:
    shared_i = f.integer("shared_expert_intermediate_size", default=0, minimum=0)
    moe = simple_moe(
        f,
        "num_experts",
        "moe_intermediate_size",
        shared_expert=MLP(shared_i) if shared_i else None,
        shared_expert_gate=bool(shared_i),
    )
    sparse = qwen_sparse(f)
    return llama_like(
        f,
        name,
        mt,
        qkv_bias_key=None,
        qkv_bias_default=True,
        o_bias_follows_qkv=False,
        layer_types=qwen_windows(f),
        moe_at=lambda i: moe if sparse(i) else None,
    )


def qwen3_moe(f: Fields, name: str, mt: str) -> ModelSpec:
    moe = simple_moe(f, "num_experts", "moe_intermediate_size")
    sparse = qwen_sparse(f)
    return llama_like(
        f, name, mt, qk_norm="head", layer_types=qwen_windows(f), moe_at=lambda i: moe if sparse(i) else None
    )


def mixtral(f: Fields, name: str, mt: str) -> ModelSpec:
    moe = simple_moe(f, "num_local_experts", "intermediate_size")
    return llama_like(f, name, mt, qkv_bias_key=None, moe_at=lambda i: moe)


def olmoe(f: Fields, name: str, mt: str) -> ModelSpec:
    moe = simple_moe(f, "num_experts", "intermediate_size")
    return llama_like(f, name, mt, qk_norm="all-heads", moe_at=lambda i: moe)


def gpt_oss(f: Fields, name: str, mt: str) -> ModelSpec:
    moe = simple_moe(f, "num_local_experts", "intermediate_size", expert_bias=True, router_bias=True)
    spec = llama_like(f, name, mt, moe_at=lambda i: moe)
    # Attention sinks: one learned logit per head in every layer (modeling_gpt_oss.py).
    return with_attention(spec, sinks=True)


def llama4(f: Fields, name: str, mt: str) -> ModelSpec:
    text = f.data.get("text_config")
    if mt == "llama4":
        if not isinstance(text, Mapping):
            raise SpecError(f"{f.source}: missing required field 'text_config' for a llama4 config")
        f = Fields(text, f"{f.source} (text_config)")
    n = f.integer("num_hidden_layers")
    step = f.integer("interleave_moe_layer_step", default=1)
    moe_layers = set(f.int_list("moe_layers") or range(step - 1, n, step))
    inter = f.integer("intermediate_size")
    dense = f.integer("intermediate_size_mlp", default=inter)
    moe = simple_moe(f, "num_local_experts", "intermediate_size", shared_expert=MLP(inter))
    # Chunked local attention on RoPE layers; every ``no_rope_layer_interval``-th layer is global.
    interval = f.integer("no_rope_layer_interval", default=4)
    chunk = f.opt_int("attention_chunk_size")
    types = ["chunked_attention" if chunk and (i + 1) % interval else "full_attention" for i in range(n)]
    data = dict(f.data)
    data["intermediate_size"] = dense
    if chunk:
        data["sliding_window"] = chunk
    g = Fields(data, f.source)
    g.errors, g.assumptions = f.errors, f.assumptions  # problems found above must not be lost
    qk: QKNorm = "weightless" if g.boolean("use_qk_norm", default=True) else "none"
    return llama_like(
        g, name, "llama4_text", qk_norm=qk, layer_types=types, moe_at=lambda i: moe if i in moe_layers else None
    )


def dbrx(f: Fields, name: str, mt: str) -> ModelSpec:
    attn_cfg = f.data.get("attn_config") or {}
    ffn_cfg = f.data.get("ffn_config") or {}
    if not isinstance(attn_cfg, Mapping) or not isinstance(ffn_cfg, Mapping):
        raise SpecError(f"{f.source}: fields 'attn_config' and 'ffn_config' must be mappings")
    a = Fields(attn_cfg, f"{f.source} attn_config")
    m = Fields(ffn_cfg, f"{f.source} ffn_config")
    hidden = f.integer("d_model")
    heads = f.integer("n_heads")
    n_layers = f.integer("n_layers")
    vocab = f.integer("vocab_size")
    kv = a.integer("kv_n_heads", default=heads)
    head_dim = f.head_dim(hidden, heads)
    experts = m.integer("moe_num_experts")
    top_k = m.integer("moe_top_k")
    inter = m.integer("ffn_hidden_size")
    theta = a.number("rope_theta", default=10000.0)
    f.errors += a.errors + m.errors
    f.check()
    moe = MoE(num_experts=experts, experts_per_token=top_k, expert=MLP(inter))
    attention = Attention(num_heads=heads, num_kv_heads=kv, head_dim=head_dim, v_head_dim=head_dim)
    return decoder_spec(
        f,
        name=name,
        model_type=mt,
        hidden=hidden,
        vocab=vocab,
        n_layers=n_layers,
        make_layer=lambda i: LayerGroup(1, attention, moe=moe),
        positional=Positional("rotary", max_position_embeddings=f.opt_int("max_seq_len"), rope_theta=theta),
        norm=Norm("layernorm", bias=False),
        tie_default=False,
    )
