"""DeepSeek-V2/V3 and Kimi K2: MLA attention, dense first-k layers, shared and routed experts.

Reference: transformers ``models/deepseek_v3/modeling_deepseek_v3.py``.
"""

from __future__ import annotations

from llmcalc.errors import SpecError
from llmcalc.importers.hf.common import decoder_spec, rope
from llmcalc.importers.hf.fields import Fields
from llmcalc.spec import (
    MLA,
    MLP,
    Attention,
    LayerGroup,
    ModelSpec,
    MoE,
    Norm,
)


def deepseek(f: Fields, name: str, mt: str) -> ModelSpec:
    """DeepSeek-V2/V3 and Kimi K2: MLA attention, dense first-k layers, shared + routed experts."""
    hidden = f.integer("hidden_size")
    heads = f.integer("num_attention_heads")
    n_layers = f.integer("num_hidden_layers")
    vocab = f.integer("vocab_size")
    nope = f.integer("qk_nope_head_dim", minimum=0)
    rope_dim = f.integer("qk_rope_head_dim")
    v_dim = f.integer("v_head_dim")
    kv_rank = f.integer("kv_lora_rank")
    q_rank = f.opt_int("q_lora_rank")
    bias = f.boolean("attention_bias", default=False)
    dense = MLP(f.integer("intermediate_size"))
    n_routed = f.opt_int("n_routed_experts")
    first_dense = f.integer("first_k_dense_replace", default=0, minimum=0)
    freq = f.integer("moe_layer_freq", default=1)
    moe = None
    if n_routed:
        moe_inter = f.integer("moe_intermediate_size")
        n_shared = f.integer("n_shared_experts", default=0, minimum=0)
        k = f.integer("num_experts_per_tok")
        if not f.errors:
            try:
                moe = MoE(
                    num_experts=n_routed,
                    experts_per_token=k,
                    expert=MLP(moe_inter),
                    shared_expert=MLP(moe_inter * n_shared) if n_shared else None,
                )
            except SpecError as exc:
                f.errors.append(str(exc))
    positional = rope(f, rotary_dim=rope_dim, max_pos=f.opt_int("max_position_embeddings"))
    mtp = f.integer("num_nextn_predict_layers", default=0, minimum=0)
    f.check()
    attention = Attention(
        num_heads=heads,
        num_kv_heads=heads,
        head_dim=nope + rope_dim,
        v_head_dim=v_dim,
        qkv_bias=bias,
        o_bias=bias,
        mla=MLA(
            kv_lora_rank=kv_rank,
            qk_nope_head_dim=nope,
            qk_rope_head_dim=rope_dim,
            v_head_dim=v_dim,
            q_lora_rank=q_rank,
        ),
    )

    def layer(i: int) -> LayerGroup:
        sparse = moe is not None and i >= first_dense and i % freq == 0
        return LayerGroup(1, attention, mlp=None if sparse else dense, moe=moe if sparse else None)

    return decoder_spec(
        f,
        name=name,
        model_type=mt,
        hidden=hidden,
        vocab=vocab,
        n_layers=n_layers,
        make_layer=layer,
        positional=positional,
        norm=Norm("rmsnorm"),
        tie_default=False,
        mtp_layers=mtp,
    )
