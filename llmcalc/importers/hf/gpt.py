"""Plain-MLP, LayerNorm decoders: GPT-2, GPT-J, GPT-NeoX, OPT, BLOOM, Falcon, Phi-1/2.

Reference: transformers ``models/<model_type>/modeling_<model_type>.py``.
"""

from __future__ import annotations

from llmcalc.importers.hf.common import decoder_spec, rope
from llmcalc.importers.hf.fields import Fields
from llmcalc.spec import (
    MLP,
    Attention,
    LayerGroup,
    ModelSpec,
    Norm,
    NormPlacement,
    Positional,
    QKNorm,
)


def gpt_family(
    f: Fields,
    name: str,
    mt: str,
    *,
    hidden: int,
    heads: int,
    kv_heads: int,
    n_layers: int,
    vocab: int,
    inter: int,
    positional: Positional,
    placement: NormPlacement,
    attention_bias: bool,
    mlp_bias: bool,
    tie_default: bool,
    lm_head_bias: bool = False,
    embedding_norm: bool = False,
    head_dim: int | None = None,
    qk_norm: QKNorm = "none",
    embedding_dim: int | None = None,
    final_norm: bool = True,
) -> ModelSpec:
    """A plain-MLP, LayerNorm decoder (GPT-2, GPT-J, GPT-NeoX, OPT, BLOOM, Falcon, Phi-2).

    ``attention_bias`` biases q/k/v and the output projection alike, as every one of these does.
    """
    hd = head_dim or f.head_dim(hidden, heads)
    f.check()
    attention = Attention(
        num_heads=heads,
        num_kv_heads=kv_heads,
        head_dim=hd,
        v_head_dim=hd,
        qkv_bias=attention_bias,
        o_bias=attention_bias,
        qk_norm=qk_norm,
    )
    mlp = MLP(inter, gated=False, bias=mlp_bias)
    return decoder_spec(
        f,
        name=name,
        model_type=mt,
        hidden=hidden,
        vocab=vocab,
        n_layers=n_layers,
        make_layer=lambda i: LayerGroup(1, attention, mlp=mlp, norm_placement=placement),
        positional=positional,
        norm=Norm("layernorm", bias=True),
        tie_default=tie_default,
        lm_head_bias=lm_head_bias,
        embedding_norm=embedding_norm,
        embedding_dim=embedding_dim,
        final_norm=final_norm,
    )


def gpt2(f: Fields, name: str, mt: str) -> ModelSpec:
    hidden = f.integer("n_embd", "hidden_size")
    heads = f.integer("n_head", "num_attention_heads")
    kv = 1 if (mt == "gpt_bigcode" and f.boolean("multi_query", default=True)) else heads
    return gpt_family(
        f,
        name,
        mt,
        hidden=hidden,
        heads=heads,
        kv_heads=kv,
        n_layers=f.integer("n_layer", "num_hidden_layers"),
        vocab=f.integer("vocab_size"),
        inter=f.integer("n_inner", default=4 * hidden),
        positional=Positional("learned", max_position_embeddings=f.integer("n_positions", "max_position_embeddings")),
        placement="pre",
        attention_bias=True,
        mlp_bias=True,
        tie_default=True,
    )


def gptj(f: Fields, name: str, mt: str) -> ModelSpec:
    hidden = f.integer("n_embd", "hidden_size")
    heads = f.integer("n_head", "num_attention_heads")
    return gpt_family(
        f,
        name,
        mt,
        hidden=hidden,
        heads=heads,
        kv_heads=heads,
        n_layers=f.integer("n_layer", "num_hidden_layers"),
        vocab=f.integer("vocab_size"),
        inter=f.integer("n_inner", default=4 * hidden),
        positional=Positional(
            "rotary",
            max_position_embeddings=f.opt_int("n_positions", "max_position_embeddings"),
            rotary_dim=f.opt_int("rotary_dim"),
        ),
        placement="parallel-shared",
        attention_bias=False,
        mlp_bias=True,
        tie_default=False,
        lm_head_bias=True,
    )


def gpt_neox(f: Fields, name: str, mt: str) -> ModelSpec:
    hidden = f.integer("hidden_size")
    heads = f.integer("num_attention_heads")
    head_dim = f.head_dim(hidden, heads)
    bias = f.boolean("attention_bias", default=True)
    pct = f.number("rotary_pct", "partial_rotary_factor", default=1.0) or 1.0
    return gpt_family(
        f,
        name,
        mt,
        hidden=hidden,
        heads=heads,
        kv_heads=heads,
        n_layers=f.integer("num_hidden_layers"),
        vocab=f.integer("vocab_size"),
        inter=f.integer("intermediate_size"),
        positional=rope(f, rotary_dim=int(head_dim * pct), max_pos=f.opt_int("max_position_embeddings")),
        placement="parallel" if f.boolean("use_parallel_residual", default=True) else "pre",
        head_dim=head_dim,
        attention_bias=bias,
        mlp_bias=True,
        tie_default=False,
    )


def opt(f: Fields, name: str, mt: str) -> ModelSpec:
    hidden = f.integer("hidden_size")
    heads = f.integer("num_attention_heads")
    proj = f.integer("word_embed_proj_dim", default=hidden)
    before = f.boolean("do_layer_norm_before", default=True)
    bias = f.boolean("enable_bias", default=True)
    final = before and not f.boolean("_remove_final_layer_norm", default=False)
    return gpt_family(
        f,
        name,
        mt,
        hidden=hidden,
        heads=heads,
        kv_heads=heads,
        n_layers=f.integer("num_hidden_layers"),
        vocab=f.integer("vocab_size"),
        inter=f.integer("ffn_dim"),
        # OPTLearnedPositionalEmbedding keeps 2 extra rows (padding offset).
        positional=Positional("learned", max_position_embeddings=f.integer("max_position_embeddings"), offset=2),
        placement="pre" if before else "post",
        attention_bias=bias,
        mlp_bias=bias,
        tie_default=True,
        embedding_dim=proj if proj != hidden else None,
        final_norm=final,
    )


def bloom(f: Fields, name: str, mt: str) -> ModelSpec:
    hidden = f.integer("hidden_size", "n_embed")
    heads = f.integer("n_head", "num_attention_heads")
    return gpt_family(
        f,
        name,
        mt,
        hidden=hidden,
        heads=heads,
        kv_heads=heads,
        n_layers=f.integer("n_layer", "num_hidden_layers"),
        vocab=f.integer("vocab_size"),
        inter=4 * hidden,
        positional=Positional("alibi", max_position_embeddings=f.opt_int("seq_length", "max_position_embeddings")),
        placement="pre",
        attention_bias=True,
        mlp_bias=True,
        tie_default=True,
        embedding_norm=True,
    )


def falcon(f: Fields, name: str, mt: str) -> ModelSpec:
    hidden = f.integer("hidden_size")
    heads = f.integer("num_attention_heads", "n_head")
    new_arch = f.boolean("new_decoder_architecture", default=False)
    if new_arch:
        kv = f.integer("num_kv_heads", default=heads)
        n_ln = f.integer("num_ln_in_parallel_attn", default=2)
        placement: NormPlacement = "parallel" if n_ln == 2 else "parallel-shared"
    else:
        kv = 1 if f.boolean("multi_query", default=True) else heads
        placement = "parallel-shared" if f.boolean("parallel_attn", default=True) else "pre"
    bias = f.boolean("bias", default=False)
    max_pos = f.opt_int("max_position_embeddings")
    positional = (
        Positional("alibi", max_position_embeddings=max_pos)
        if f.boolean("alibi", default=False)
        else rope(f, max_pos=max_pos)
    )
    return gpt_family(
        f,
        name,
        mt,
        hidden=hidden,
        heads=heads,
        kv_heads=kv,
        n_layers=f.integer("num_hidden_layers", "n_layer"),
        vocab=f.integer("vocab_size"),
        inter=f.integer("ffn_hidden_size", default=4 * hidden),
        positional=positional,
        placement=placement,
        attention_bias=bias,
        mlp_bias=bias,
        tie_default=True,
    )


def phi(f: Fields, name: str, mt: str) -> ModelSpec:
    hidden = f.integer("hidden_size")
    heads = f.integer("num_attention_heads")
    head_dim = f.head_dim(hidden, heads)
    pct = f.number("partial_rotary_factor", default=0.5) or 0.5
    return gpt_family(
        f,
        name,
        mt,
        hidden=hidden,
        heads=heads,
        kv_heads=f.integer("num_key_value_heads", default=heads),
        n_layers=f.integer("num_hidden_layers"),
        vocab=f.integer("vocab_size"),
        inter=f.integer("intermediate_size"),
        positional=rope(f, rotary_dim=int(head_dim * pct), max_pos=f.opt_int("max_position_embeddings")),
        placement="parallel-shared",
        head_dim=head_dim,
        attention_bias=True,
        mlp_bias=True,
        tie_default=False,
        lm_head_bias=True,
        qk_norm="head" if f.boolean("qk_layernorm", default=False) else "none",
    )
