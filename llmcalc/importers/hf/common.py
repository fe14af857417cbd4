"""Field readers and layer builders shared by every family module: rotary positions, sliding-window patterns,
merging identical layers into groups, the decoder-spec constructor and the Llama-shaped decoder.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import replace
from typing import Any

from llmcalc.errors import SpecError
from llmcalc.importers.hf.fields import Fields
from llmcalc.spec import (
    MLA,
    MLP,
    Attention,
    Indexer,
    LayerGroup,
    ModelSpec,
    MoE,
    Norm,
    NormPlacement,
    Positional,
    QKNorm,
    RopeScaling,
    Stack,
)


def rope(f: Fields, *, rotary_dim: int | None = None, max_pos: int | None = None) -> Positional:
    scaling = None
    raw = f.data.get("rope_scaling")
    if isinstance(raw, Mapping):
        rope_type = str(raw.get("rope_type") or raw.get("type") or "default")
        original = raw.get("original_max_position_embeddings") or f.data.get("original_max_position_embeddings")
        factor = raw.get("factor")
        if not isinstance(factor, (int, float)) or isinstance(factor, bool):
            factor = (max_pos / original) if (max_pos and isinstance(original, int) and original) else 1.0
        scaling = RopeScaling(
            rope_type=rope_type,
            factor=float(factor),
            original_max_position_embeddings=original if isinstance(original, int) else None,
        )
    elif raw is not None:
        f.errors.append(f"field 'rope_scaling' must be a mapping or null, got {raw!r}")
    return Positional(
        kind="rotary",
        max_position_embeddings=max_pos,
        rope_theta=f.number("rope_theta", default=10000.0),
        rotary_dim=rotary_dim,
        rope_scaling=scaling,
    )


def layer_windows(f: Fields, n_layers: int, default_types: list[str] | None) -> list[int | None]:
    """Per-layer sliding window (``None`` for full attention) from ``layer_types`` or a default."""
    window = f.opt_int("sliding_window")
    types = f.str_list("layer_types") or default_types
    if types is None:
        return [window] * n_layers
    if len(types) != n_layers:
        f.errors.append(f"field 'layer_types' has {len(types)} entries for {n_layers} layers")
        return [None] * n_layers
    return [window if t in ("sliding_attention", "chunked_attention") else None for t in types]


def merge_groups(
    n_layers: int, make: Callable[[int], LayerGroup], key: Callable[[int], Hashable] | None = None
) -> tuple[LayerGroup, ...]:
    """The layers ``make(0) ... make(n - 1)`` as counted groups of identical layers.

    Identical layers need not be consecutive (Gemma 2 alternates sliding and full attention), so
    they are merged by value, in order of first appearance. ``key(i)``, when given, is all that layer
    ``i`` depends on: ``make`` is then called once per distinct key, not once per layer (building and
    comparing every layer of 112 presets was a third of ``llmcalc params``' start-up).
    """
    if key is not None:
        firsts: dict[Hashable, int] = {}  # key -> its first layer
        counts: dict[Hashable, int] = {}
        for i in range(n_layers):
            k = key(i)
            firsts.setdefault(k, i)
            counts[k] = counts.get(k, 0) + 1
        merged: dict[LayerGroup, int] = {}  # two keys may still give the same layer
        for k, first in firsts.items():
            layer = make(first)
            merged[layer] = merged.get(layer, 0) + counts[k]
        return tuple(replace(layer, count=n) for layer, n in merged.items())
    by_value: dict[LayerGroup, int] = {}
    for i in range(n_layers):
        layer = make(i)
        by_value[layer] = by_value.get(layer, 0) + 1
    return tuple(replace(layer, count=n) for layer, n in by_value.items())


def decoder_spec(
    f: Fields,
    *,
    name: str,
    model_type: str,
    hidden: int,
    vocab: int,
    n_layers: int,
    make_layer: Callable[[int], LayerGroup],
    layer_key: Callable[[int], Hashable] | None = None,
    positional: Positional,
    norm: Norm,
    tie_default: bool,
    lm_head_bias: bool = False,
    embedding_norm: bool = False,
    mtp_layers: int = 0,
    embedding_dim: int | None = None,
    final_norm: bool = True,
) -> ModelSpec:
    tied = f.boolean("tie_word_embeddings", default=tie_default)
    f.check()
    return ModelSpec(
        name=name,
        model_type=model_type,
        vocab_size=vocab,
        hidden_size=hidden,
        stacks=(Stack(role="decoder", groups=merge_groups(n_layers, make_layer, layer_key), final_norm=final_norm),),
        positional=positional,
        norm=norm,
        lm_head="tied" if tied else "untied",
        lm_head_bias=lm_head_bias,
        embedding_norm=embedding_norm,
        mtp_layers=mtp_layers,
        embedding_dim=embedding_dim,
        torch_dtype=config_dtype(f),
        assumptions=tuple(f.assumptions),
    )


def config_dtype(f: Fields) -> str | None:
    value = f.data.get("torch_dtype") or f.data.get("dtype")
    return value if isinstance(value, str) else None


def llama_like(
    f: Fields,
    name: str,
    model_type: str,
    *,
    qkv_bias_key: str | None = "attention_bias",
    qkv_bias_default: bool = False,
    o_bias_follows_qkv: bool = True,
    qk_norm: QKNorm = "none",
    qk_norm_type: Norm | None = None,
    norm: Norm | None = None,
    placement: NormPlacement = "pre",
    tie_default: bool = False,
    head_dim_default: int | None = None,
    layer_types: list[str] | None = None,
    gated: bool = True,
    mlp_bias: bool | None = None,
    moe_at: Callable[[int], MoE | None] | None = None,
    rotary_fraction_key: str | None = None,
    sliding: bool = True,
) -> ModelSpec:
    """A decoder of the Llama shape: rotary, GQA, gated MLP, optional MoE in some layers."""
    hidden = f.integer("hidden_size")
    heads = f.integer("num_attention_heads")
    n_layers = f.integer("num_hidden_layers")
    vocab = f.integer("vocab_size")
    kv_heads = f.integer("num_key_value_heads", default=heads)
    if head_dim_default is not None and not f.has("head_dim"):
        head_dim = head_dim_default
    else:
        head_dim = f.head_dim(hidden, heads, "head_dim")
    inter = f.integer("intermediate_size")
    qkv_bias = f.boolean(qkv_bias_key, default=qkv_bias_default) if qkv_bias_key else qkv_bias_default
    o_bias = qkv_bias if o_bias_follows_qkv else False
    if mlp_bias is None:
        mlp_bias = f.boolean("mlp_bias", default=False)
    rotary_dim = None
    if rotary_fraction_key and f.has(rotary_fraction_key):
        fraction = f.number(rotary_fraction_key) or 1.0
        rotary_dim = int(head_dim * fraction)
    windows = layer_windows(f, n_layers, layer_types) if sliding else [None] * n_layers
    positional = rope(f, rotary_dim=rotary_dim, max_pos=f.opt_int("max_position_embeddings"))
    norm = norm or Norm("rmsnorm")
    dense = MLP(inter, gated=gated, bias=mlp_bias)
    f.check()

    def layer(i: int) -> LayerGroup:
        moe = moe_at(i) if moe_at else None
        return LayerGroup(
            count=1,
            attention=Attention(
                num_heads=heads,
                num_kv_heads=kv_heads,
                head_dim=head_dim,
                v_head_dim=head_dim,
                qkv_bias=qkv_bias,
                o_bias=o_bias,
                qk_norm=qk_norm,
                qk_norm_type=qk_norm_type,
                sliding_window=windows[i],
            ),
            mlp=None if moe else dense,
            moe=moe,
            norm_placement=placement,
        )

    return decoder_spec(
        f,
        name=name,
        model_type=model_type,
        hidden=hidden,
        vocab=vocab,
        n_layers=n_layers,
        make_layer=layer,
        layer_key=lambda i: (windows[i], moe_at(i) if moe_at else None),  # what layer(i) reads of i
        positional=positional,
        norm=norm,
        tie_default=tie_default,
    )


#: transformers' ``attribute_map`` makes these two names one field in most MoE configs, and
#: ``save_pretrained`` may write either (Qwen3-MoE's maps ``num_experts`` to ``num_local_experts``).
_EXPERT_COUNT_ALIAS = {"num_experts": "num_local_experts", "num_local_experts": "num_experts"}


def simple_moe(f: Fields, experts_key: str, inter_key: str, **kw: Any) -> MoE | None:
    """A MoE block of ``experts_key`` experts (or its alias) of ``inter_key`` width, top-k routing."""
    alias = _EXPERT_COUNT_ALIAS.get(experts_key)
    n = f.integer(experts_key, alias) if alias else f.integer(experts_key)
    k = f.integer("num_experts_per_tok", "experts_per_token")
    inter = f.integer(inter_key)
    if f.errors:
        return None
    try:
        return MoE(num_experts=n, experts_per_token=k, expert=MLP(inter, bias=kw.pop("expert_bias", False)), **kw)
    except SpecError as exc:
        f.errors.append(str(exc))
        return None


def mla_dims(f: Fields) -> tuple[int, int, int, int]:
    """DeepSeek MLA's head sizes and KV latent rank from a config: ``(qk_nope_head_dim,
    qk_rope_head_dim, v_head_dim, kv_lora_rank)``, read in that order (DeepSeek-V3, LongCat-Flash)."""
    return (
        f.integer("qk_nope_head_dim", minimum=0),
        f.integer("qk_rope_head_dim"),
        f.integer("v_head_dim"),
        f.integer("kv_lora_rank"),
    )


def mla_attention(
    dims: tuple[int, int, int, int],
    *,
    heads: int,
    q_rank: int | None,
    bias: bool,
    hf_caches_latent: bool,
    indexer: Indexer | None = None,
) -> Attention:
    """An MLA attention block (DeepSeek-V2 paper, arXiv 2405.04434, section 2.1; transformers
    ``DeepseekV3Attention``): ``heads`` query heads (K/V expanded from the latent to every head) of
    ``nope + rope`` for q and k and ``v_head_dim`` for v, q/kv-a and o biased by ``bias``.
    ``dims`` is :func:`mla_dims`'s tuple; ``q_rank`` ``None`` projects queries directly."""
    nope, rope_dim, v_dim, kv_rank = dims
    return Attention(
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
            hf_caches_latent=hf_caches_latent,
        ),
        indexer=indexer,
    )


def with_attention(spec: ModelSpec, **changes: Any) -> ModelSpec:
    """``spec`` with ``changes`` applied to every attention block."""
    stacks = tuple(
        replace(
            s,
            groups=tuple(
                replace(g, attention=replace(g.attention, **changes)) if g.attention is not None else g
                for g in s.groups
            ),
        )
        for s in spec.stacks
    )
    return replace(spec, stacks=stacks)


def qwen_windows(f: Fields) -> list[str] | None:
    """Qwen2/Qwen3: sliding window only with ``use_sliding_window``, from ``max_window_layers`` on."""
    n = f.integer("num_hidden_layers")
    if not f.boolean("use_sliding_window", default=False):
        return ["full_attention"] * n
    start = f.integer("max_window_layers", default=n, minimum=0)
    return ["sliding_attention" if i >= start else "full_attention" for i in range(n)]


def with_defaults(f: Fields, **defaults: Any) -> Fields:
    """``f`` reading ``defaults`` where the config leaves a key out (a family's
    ``configuration_*.py`` defaults; an explicit null stays null); problems found are carried over."""
    g = Fields({**defaults, **f.data}, f.source)
    g.errors, g.assumptions = f.errors, f.assumptions
    return g


def without(f: Fields, *keys: str) -> Fields:
    """``f`` without ``keys`` (a family whose class ignores them); problems found are carried over."""
    g = Fields({k: v for k, v in f.data.items() if k not in keys}, f.source)
    g.errors, g.assumptions = f.errors, f.assumptions
    return g
