"""Encoder-only and encoder-decoder models: BERT and T5.

Reference: transformers ``modeling_bert.py`` and ``modeling_t5.py``.
"""

from __future__ import annotations

from llmcalc.importers.hf.common import config_dtype
from llmcalc.importers.hf.fields import Fields
from llmcalc.spec import (
    MLP,
    Attention,
    LayerGroup,
    ModelSpec,
    Norm,
    Positional,
    Stack,
)


def bert(f: Fields, name: str, mt: str) -> ModelSpec:
    """BertModel: embeddings (word, position, token type, LayerNorm), post-LN layers, pooler."""
    hidden = f.integer("hidden_size")
    heads = f.integer("num_attention_heads")
    n_layers = f.integer("num_hidden_layers")
    vocab = f.integer("vocab_size")
    inter = f.integer("intermediate_size")
    max_pos = f.integer("max_position_embeddings")
    types = f.integer("type_vocab_size", default=2, minimum=0)
    head_dim = f.head_dim(hidden, heads)
    f.check()
    attention = Attention(heads, heads, head_dim, head_dim, qkv_bias=True, o_bias=True)
    layer = LayerGroup(n_layers, attention, mlp=MLP(inter, gated=False, bias=True), norm_placement="post")
    return ModelSpec(
        name=name,
        model_type=mt,
        vocab_size=vocab,
        hidden_size=hidden,
        stacks=(Stack("encoder", (layer,), final_norm=False),),
        positional=Positional("learned", max_position_embeddings=max_pos),
        norm=Norm("layernorm", bias=True),
        lm_head="none",
        embedding_norm=True,
        token_type_vocab_size=types,
        pooler=True,
        torch_dtype=config_dtype(f),
    )


def t5(f: Fields, name: str, mt: str) -> ModelSpec:
    """T5ForConditionalGeneration: shared embedding, encoder and decoder stacks, relative buckets."""
    d_model = f.integer("d_model")
    d_kv = f.integer("d_kv")
    heads = f.integer("num_heads")
    n_enc = f.integer("num_layers")
    n_dec = f.integer("num_decoder_layers", default=n_enc)
    vocab = f.integer("vocab_size")
    d_ff = f.integer("d_ff")
    buckets = f.integer("relative_attention_num_buckets", default=32)
    proj = f.string("feed_forward_proj", default="relu")
    tied = f.boolean("tie_word_embeddings", default=True)
    f.check()
    attention = Attention(heads, heads, d_kv, d_kv)
    mlp = MLP(d_ff, gated=proj.startswith("gated"), bias=False)
    encoder = Stack("encoder", (LayerGroup(n_enc, attention, mlp=mlp),), relative_attention_buckets=buckets)
    decoder = Stack(
        "decoder",
        (LayerGroup(n_dec, attention, mlp=mlp, cross_attention=attention),),
        relative_attention_buckets=buckets,
    )
    return ModelSpec(
        name=name,
        model_type=mt,
        vocab_size=vocab,
        hidden_size=d_model,
        stacks=(encoder, decoder),
        positional=Positional("relative", max_position_embeddings=f.opt_int("n_positions")),
        norm=Norm("rmsnorm"),
        lm_head="tied" if tied else "untied",
        torch_dtype=config_dtype(f),
    )
