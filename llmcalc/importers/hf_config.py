"""Hugging Face ``config.json`` -> :class:`~llmcalc.spec.ModelSpec`.

This is the boundary where untrusted architecture values are checked: every problem in a config is
collected and reported at once, with the source and the key. The function here never reads files
(see :mod:`llmcalc.importers.files`); it takes the parsed mapping.

Each supported ``model_type`` has a builder that mirrors the module layout of the reference
implementation, Hugging Face transformers ``models/<model_type>/modeling_<model_type>.py``, and the
defaults of its ``configuration_<model_type>.py`` (for instance ``tie_word_embeddings`` defaults to
``True`` for GPT-2, Gemma, OPT, BLOOM, Falcon, Cohere, Starcoder2 and T5 and to ``False`` for Llama,
Mistral, Qwen and the MoE families). A config of another model_type that carries the standard
Llama-style fields is counted as a Llama-style decoder, and the assumptions are recorded on the spec.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from llmcalc.errors import SpecError
from llmcalc.spec import (
    MLA,
    MLP,
    Attention,
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

_MISSING = object()


class Fields:
    """Typed access to a config mapping that collects every problem instead of stopping at one."""

    def __init__(self, data: Mapping[str, Any], source: str) -> None:
        self.data = data
        self.source = source
        self.errors: list[str] = []
        self.assumptions: list[str] = []

    def _raw(self, names: tuple[str, ...]) -> tuple[str, Any]:
        for name in names:
            if name in self.data and self.data[name] is not None:
                return name, self.data[name]
        return names[0], _MISSING

    def has(self, *names: str) -> bool:
        return self._raw(names)[1] is not _MISSING

    def integer(self, *names: str, default: Any = _MISSING, minimum: int = 1) -> int:
        """The first present key among ``names`` as an int >= ``minimum``; records an error if bad."""
        name, value = self._raw(names)
        if value is _MISSING:
            if default is _MISSING:
                self.errors.append(f"missing required field '{name}'")
                return 1
            return int(default)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            self.errors.append(f"field '{name}' must be an integer, got {value!r}")
            return 1
        if value < minimum:
            bound = "positive" if minimum == 1 else f">= {minimum}"
            self.errors.append(f"field '{name}' must be {bound}, got {value}")
            return 1
        return value

    def opt_int(self, *names: str, minimum: int = 1) -> int | None:
        return self.integer(*names, minimum=minimum) if self.has(*names) else None

    def boolean(self, *names: str, default: bool) -> bool:
        name, value = self._raw(names)
        if value is _MISSING:
            return default
        if not isinstance(value, bool):
            self.errors.append(f"field '{name}' must be true or false, got {value!r}")
            return default
        return value

    def number(self, *names: str, default: float | None = None) -> float | None:
        name, value = self._raw(names)
        if value is _MISSING:
            return default
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.errors.append(f"field '{name}' must be a number, got {value!r}")
            return default
        return float(value)

    def string(self, *names: str, default: str) -> str:
        name, value = self._raw(names)
        if value is _MISSING:
            return default
        if not isinstance(value, str):
            self.errors.append(f"field '{name}' must be a string, got {value!r}")
            return default
        return value

    def int_list(self, name: str) -> list[int]:
        value = self.data.get(name)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            self.errors.append(f"field '{name}' must be a list of integers, got {value!r}")
            return []
        return value

    def str_list(self, name: str) -> list[str] | None:
        value = self.data.get(name)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.errors.append(f"field '{name}' must be a list of strings, got {value!r}")
            return None
        return value

    def head_dim(self, hidden: int, heads: int, *names: str) -> int:
        """Explicit ``head_dim`` when the config has one, else ``hidden / heads`` (must divide)."""
        if names and self.has(*names):
            return self.integer(*names)
        if hidden % heads:
            self.errors.append(
                f"hidden size {hidden} is not divisible by {heads} attention heads and no head_dim is given"
            )
            return 1
        return hidden // heads

    def check(self) -> None:
        """Raise one :class:`SpecError` listing every problem once (builders may read a field twice)."""
        if self.errors:
            raise SpecError(f"{self.source}: " + "; ".join(dict.fromkeys(self.errors)))


# --- shared pieces ---------------------------------------------------------------------------


def _rope(f: Fields, *, rotary_dim: int | None = None, max_pos: int | None = None) -> Positional:
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


def _layer_windows(f: Fields, n_layers: int, default_types: list[str] | None) -> list[int | None]:
    """Per-layer sliding window (``None`` for full attention) from ``layer_types`` or a default."""
    window = f.opt_int("sliding_window")
    types = f.str_list("layer_types") or default_types
    if types is None:
        return [window] * n_layers
    if len(types) != n_layers:
        f.errors.append(f"field 'layer_types' has {len(types)} entries for {n_layers} layers")
        return [None] * n_layers
    return [window if t in ("sliding_attention", "chunked_attention") else None for t in types]


def _groups(n_layers: int, make: Callable[[int], LayerGroup]) -> tuple[LayerGroup, ...]:
    """The layers ``make(0) ... make(n - 1)`` as counted groups of identical layers.

    Identical layers need not be consecutive (Gemma 2 alternates sliding and full attention), so
    they are merged by value, in order of first appearance.
    """
    counts: dict[LayerGroup, int] = {}
    for i in range(n_layers):
        layer = make(i)
        counts[layer] = counts.get(layer, 0) + 1
    return tuple(replace(layer, count=n) for layer, n in counts.items())


def _decoder_spec(
    f: Fields,
    *,
    name: str,
    model_type: str,
    hidden: int,
    vocab: int,
    n_layers: int,
    make_layer: Callable[[int], LayerGroup],
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
        stacks=(Stack(role="decoder", groups=_groups(n_layers, make_layer), final_norm=final_norm),),
        positional=positional,
        norm=norm,
        lm_head="tied" if tied else "untied",
        lm_head_bias=lm_head_bias,
        embedding_norm=embedding_norm,
        mtp_layers=mtp_layers,
        embedding_dim=embedding_dim,
        torch_dtype=_dtype(f),
        assumptions=tuple(f.assumptions),
    )


def _dtype(f: Fields) -> str | None:
    value = f.data.get("torch_dtype") or f.data.get("dtype")
    return value if isinstance(value, str) else None


# --- the Llama family and its relatives ---------------------------------------------------------


def _llama_like(
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
    windows = _layer_windows(f, n_layers, layer_types) if sliding else [None] * n_layers
    positional = _rope(f, rotary_dim=rotary_dim, max_pos=f.opt_int("max_position_embeddings"))
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

    return _decoder_spec(
        f,
        name=name,
        model_type=model_type,
        hidden=hidden,
        vocab=vocab,
        n_layers=n_layers,
        make_layer=layer,
        positional=positional,
        norm=norm,
        tie_default=tie_default,
    )


def _llama(f: Fields, name: str, mt: str) -> ModelSpec:
    return _llama_like(f, name, mt)


def _mistral(f: Fields, name: str, mt: str) -> ModelSpec:
    return _llama_like(f, name, mt, qkv_bias_key=None)


def _qwen_windows(f: Fields) -> list[str] | None:
    """Qwen2/Qwen3: sliding window only with ``use_sliding_window``, from ``max_window_layers`` on."""
    n = f.integer("num_hidden_layers")
    if not f.boolean("use_sliding_window", default=False):
        return ["full_attention"] * n
    start = f.integer("max_window_layers", default=n, minimum=0)
    return ["sliding_attention" if i >= start else "full_attention" for i in range(n)]


def _qwen2(f: Fields, name: str, mt: str) -> ModelSpec:
    # Qwen2Attention: q/k/v have biases, o_proj has none.
    return _llama_like(
        f, name, mt, qkv_bias_key=None, qkv_bias_default=True, o_bias_follows_qkv=False, layer_types=_qwen_windows(f)
    )


def _qwen3(f: Fields, name: str, mt: str) -> ModelSpec:
    return _llama_like(f, name, mt, qk_norm="head", layer_types=_qwen_windows(f))


def _qwen_sparse(f: Fields) -> Callable[[int], bool]:
    """Qwen-MoE: layer i is sparse unless listed in ``mlp_only_layers`` or off ``decoder_sparse_step``."""
    step = f.integer("decoder_sparse_step", default=1)
    dense_only = set(f.int_list("mlp_only_layers"))
    return lambda i: i not in dense_only and (i + 1) % step == 0


def _qwen2_moe(f: Fields, name: str, mt: str) -> ModelSpec:
    shared_i = f.integer("shared_expert_intermediate_size", default=0, minimum=0)
    moe = _simple_moe(
        f,
        "num_experts",
        "moe_intermediate_size",
        shared_expert=MLP(shared_i) if shared_i else None,
        shared_expert_gate=bool(shared_i),
    )
    sparse = _qwen_sparse(f)
    return _llama_like(
        f,
        name,
        mt,
        qkv_bias_key=None,
        qkv_bias_default=True,
        o_bias_follows_qkv=False,
        layer_types=_qwen_windows(f),
        moe_at=lambda i: moe if sparse(i) else None,
    )


def _qwen3_moe(f: Fields, name: str, mt: str) -> ModelSpec:
    moe = _simple_moe(f, "num_experts", "moe_intermediate_size")
    sparse = _qwen_sparse(f)
    return _llama_like(
        f, name, mt, qk_norm="head", layer_types=_qwen_windows(f), moe_at=lambda i: moe if sparse(i) else None
    )


def _simple_moe(f: Fields, experts_key: str, inter_key: str, **kw: Any) -> MoE | None:
    n = f.integer(experts_key)
    k = f.integer("num_experts_per_tok", "experts_per_token")
    inter = f.integer(inter_key)
    if f.errors:
        return None
    try:
        return MoE(num_experts=n, experts_per_token=k, expert=MLP(inter, bias=kw.pop("expert_bias", False)), **kw)
    except SpecError as exc:
        f.errors.append(str(exc))
        return None


def _mixtral(f: Fields, name: str, mt: str) -> ModelSpec:
    moe = _simple_moe(f, "num_local_experts", "intermediate_size")
    return _llama_like(f, name, mt, qkv_bias_key=None, moe_at=lambda i: moe)


def _olmoe(f: Fields, name: str, mt: str) -> ModelSpec:
    moe = _simple_moe(f, "num_experts", "intermediate_size")
    return _llama_like(f, name, mt, qk_norm="all-heads", moe_at=lambda i: moe)


def _olmo2(f: Fields, name: str, mt: str) -> ModelSpec:
    return _llama_like(f, name, mt, qk_norm="all-heads", placement="post")


def _gemma(f: Fields, name: str, mt: str) -> ModelSpec:
    return _llama_like(f, name, mt, tie_default=True)


def _gemma2(f: Fields, name: str, mt: str) -> ModelSpec:
    n = f.integer("num_hidden_layers")
    default = ["sliding_attention" if (i + 1) % 2 else "full_attention" for i in range(n)]
    return _llama_like(f, name, mt, placement="sandwich", tie_default=True, layer_types=default)


def _gemma3(f: Fields, name: str, mt: str) -> ModelSpec:
    n = f.integer("num_hidden_layers")
    pattern = f.integer("sliding_window_pattern", default=6)
    default = ["sliding_attention" if (i + 1) % pattern else "full_attention" for i in range(n)]
    return _llama_like(f, name, mt, placement="sandwich", qk_norm="head", tie_default=True, layer_types=default)


def _phi3(f: Fields, name: str, mt: str) -> ModelSpec:
    return _llama_like(f, name, mt, rotary_fraction_key="partial_rotary_factor")


def _granite(f: Fields, name: str, mt: str) -> ModelSpec:
    return _llama_like(f, name, mt)


def _cohere(f: Fields, name: str, mt: str) -> ModelSpec:
    # CohereLayerNorm has no bias; q/k norms are per head ((heads, head_dim) weights).
    qk: QKNorm = "all-heads" if f.boolean("use_qk_norm", default=False) else "none"
    return _llama_like(
        f, name, mt, qk_norm=qk, norm=Norm("layernorm", bias=False), placement="parallel-shared", tie_default=True
    )


def _starcoder2(f: Fields, name: str, mt: str) -> ModelSpec:
    bias = f.boolean("use_bias", default=True)
    return _llama_like(
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


def _stablelm(f: Fields, name: str, mt: str) -> ModelSpec:
    parallel = f.boolean("use_parallel_residual", default=False)
    qk: QKNorm = "all-heads" if f.boolean("qk_layernorm", default=False) else "none"
    return _llama_like(
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


def _gpt_oss(f: Fields, name: str, mt: str) -> ModelSpec:
    moe = _simple_moe(f, "num_local_experts", "intermediate_size", expert_bias=True, router_bias=True)
    spec = _llama_like(f, name, mt, moe_at=lambda i: moe)
    # Attention sinks: one learned logit per head in every layer (modeling_gpt_oss.py).
    return _with_attention(spec, sinks=True)


def _with_attention(spec: ModelSpec, **changes: Any) -> ModelSpec:
    stacks = tuple(
        replace(s, groups=tuple(replace(g, attention=replace(g.attention, **changes)) for g in s.groups))
        for s in spec.stacks
    )
    return replace(spec, stacks=stacks)


def _llama4(f: Fields, name: str, mt: str) -> ModelSpec:
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
    moe = _simple_moe(f, "num_local_experts", "intermediate_size", shared_expert=MLP(inter))
    # Chunked local attention on RoPE layers; every ``no_rope_layer_interval``-th layer is global.
    interval = f.integer("no_rope_layer_interval", default=4)
    chunk = f.opt_int("attention_chunk_size")
    types = [
        "chunked_attention" if chunk and (i + 1) % interval else "full_attention" for i in range(n)
    ]
    data = dict(f.data)
    data["intermediate_size"] = dense
    if chunk:
        data["sliding_window"] = chunk
    g = Fields(data, f.source)
    g.errors, g.assumptions = f.errors, f.assumptions  # problems found above must not be lost
    qk: QKNorm = "weightless" if g.boolean("use_qk_norm", default=True) else "none"
    return _llama_like(
        g, name, "llama4_text", qk_norm=qk, layer_types=types, moe_at=lambda i: moe if i in moe_layers else None
    )


def _deepseek(f: Fields, name: str, mt: str) -> ModelSpec:
    """DeepSeek-V2/V3 and Kimi K2: MLA attention, dense first-k layers, shared + routed experts."""
    hidden = f.integer("hidden_size")
    heads = f.integer("num_attention_heads")
    n_layers = f.integer("num_hidden_layers")
    vocab = f.integer("vocab_size")
    nope = f.integer("qk_nope_head_dim", minimum=0)
    rope = f.integer("qk_rope_head_dim")
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
    positional = _rope(f, rotary_dim=rope, max_pos=f.opt_int("max_position_embeddings"))
    mtp = f.integer("num_nextn_predict_layers", default=0, minimum=0)
    f.check()
    attention = Attention(
        num_heads=heads,
        num_kv_heads=heads,
        head_dim=nope + rope,
        v_head_dim=v_dim,
        qkv_bias=bias,
        o_bias=bias,
        mla=MLA(
            kv_lora_rank=kv_rank,
            qk_nope_head_dim=nope,
            qk_rope_head_dim=rope,
            v_head_dim=v_dim,
            q_lora_rank=q_rank,
        ),
    )

    def layer(i: int) -> LayerGroup:
        sparse = moe is not None and i >= first_dense and i % freq == 0
        return LayerGroup(1, attention, mlp=None if sparse else dense, moe=moe if sparse else None)

    return _decoder_spec(
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


def _dbrx(f: Fields, name: str, mt: str) -> ModelSpec:
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
    return _decoder_spec(
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


# --- GPT-2 and the older families -----------------------------------------------------------------


def _gpt_family(
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
    qkv_bias: bool,
    o_bias: bool,
    mlp_bias: bool,
    tie_default: bool,
    lm_head_bias: bool = False,
    embedding_norm: bool = False,
    head_dim: int | None = None,
    qk_norm: QKNorm = "none",
    embedding_dim: int | None = None,
    final_norm: bool = True,
) -> ModelSpec:
    """A plain-MLP, LayerNorm decoder (GPT-2, GPT-J, GPT-NeoX, OPT, BLOOM, Falcon, Phi-2)."""
    hd = head_dim or f.head_dim(hidden, heads)
    f.check()
    attention = Attention(
        num_heads=heads,
        num_kv_heads=kv_heads,
        head_dim=hd,
        v_head_dim=hd,
        qkv_bias=qkv_bias,
        o_bias=o_bias,
        qk_norm=qk_norm,
    )
    mlp = MLP(inter, gated=False, bias=mlp_bias)
    return _decoder_spec(
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


def _gpt2(f: Fields, name: str, mt: str) -> ModelSpec:
    hidden = f.integer("n_embd", "hidden_size")
    heads = f.integer("n_head", "num_attention_heads")
    kv = 1 if (mt == "gpt_bigcode" and f.boolean("multi_query", default=True)) else heads
    return _gpt_family(
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
        qkv_bias=True,
        o_bias=True,
        mlp_bias=True,
        tie_default=True,
    )


def _gptj(f: Fields, name: str, mt: str) -> ModelSpec:
    hidden = f.integer("n_embd", "hidden_size")
    heads = f.integer("n_head", "num_attention_heads")
    return _gpt_family(
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
        qkv_bias=False,
        o_bias=False,
        mlp_bias=True,
        tie_default=False,
        lm_head_bias=True,
    )


def _gpt_neox(f: Fields, name: str, mt: str) -> ModelSpec:
    hidden = f.integer("hidden_size")
    heads = f.integer("num_attention_heads")
    head_dim = f.head_dim(hidden, heads)
    bias = f.boolean("attention_bias", default=True)
    pct = f.number("rotary_pct", "partial_rotary_factor", default=1.0) or 1.0
    return _gpt_family(
        f,
        name,
        mt,
        hidden=hidden,
        heads=heads,
        kv_heads=heads,
        n_layers=f.integer("num_hidden_layers"),
        vocab=f.integer("vocab_size"),
        inter=f.integer("intermediate_size"),
        positional=_rope(f, rotary_dim=int(head_dim * pct), max_pos=f.opt_int("max_position_embeddings")),
        placement="parallel" if f.boolean("use_parallel_residual", default=True) else "pre",
        head_dim=head_dim,
        qkv_bias=bias,
        o_bias=bias,
        mlp_bias=True,
        tie_default=False,
    )


def _opt(f: Fields, name: str, mt: str) -> ModelSpec:
    hidden = f.integer("hidden_size")
    heads = f.integer("num_attention_heads")
    proj = f.integer("word_embed_proj_dim", default=hidden)
    before = f.boolean("do_layer_norm_before", default=True)
    bias = f.boolean("enable_bias", default=True)
    final = before and not f.boolean("_remove_final_layer_norm", default=False)
    return _gpt_family(
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
        qkv_bias=bias,
        o_bias=bias,
        mlp_bias=bias,
        tie_default=True,
        embedding_dim=proj if proj != hidden else None,
        final_norm=final,
    )


def _bloom(f: Fields, name: str, mt: str) -> ModelSpec:
    hidden = f.integer("hidden_size", "n_embed")
    heads = f.integer("n_head", "num_attention_heads")
    return _gpt_family(
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
        qkv_bias=True,
        o_bias=True,
        mlp_bias=True,
        tie_default=True,
        embedding_norm=True,
    )


def _falcon(f: Fields, name: str, mt: str) -> ModelSpec:
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
        else _rope(f, max_pos=max_pos)
    )
    return _gpt_family(
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
        qkv_bias=bias,
        o_bias=bias,
        mlp_bias=bias,
        tie_default=True,
    )


def _phi(f: Fields, name: str, mt: str) -> ModelSpec:
    hidden = f.integer("hidden_size")
    heads = f.integer("num_attention_heads")
    head_dim = f.head_dim(hidden, heads)
    pct = f.number("partial_rotary_factor", default=0.5) or 0.5
    return _gpt_family(
        f,
        name,
        mt,
        hidden=hidden,
        heads=heads,
        kv_heads=f.integer("num_key_value_heads", default=heads),
        n_layers=f.integer("num_hidden_layers"),
        vocab=f.integer("vocab_size"),
        inter=f.integer("intermediate_size"),
        positional=_rope(f, rotary_dim=int(head_dim * pct), max_pos=f.opt_int("max_position_embeddings")),
        placement="parallel-shared",
        head_dim=head_dim,
        qkv_bias=True,
        o_bias=True,
        mlp_bias=True,
        tie_default=False,
        lm_head_bias=True,
        qk_norm="head" if f.boolean("qk_layernorm", default=False) else "none",
    )


# --- encoders ------------------------------------------------------------------------------------


def _bert(f: Fields, name: str, mt: str) -> ModelSpec:
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
        torch_dtype=_dtype(f),
    )


def _t5(f: Fields, name: str, mt: str) -> ModelSpec:
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
        torch_dtype=_dtype(f),
    )


def _generic(f: Fields, name: str, mt: str) -> ModelSpec:
    """Any other model_type with the standard fields: counted as a Llama-style decoder."""
    f.assumptions.append(
        f"model_type '{mt}' is not one llmcalc knows; counted as a Llama-style decoder: rotary positions, "
        "RMSNorm before attention and MLP, a gated (SwiGLU) MLP of intermediate_size, no biases "
        "unless attention_bias/mlp_bias say so, "
        + ("a tied lm_head" if f.boolean("tie_word_embeddings", default=False) else "an untied lm_head")
    )
    return _llama_like(f, name, mt)


BUILDERS: dict[str, Callable[[Fields, str, str], ModelSpec]] = {
    "llama": _llama,
    "mistral": _mistral,
    "mixtral": _mixtral,
    "qwen2": _qwen2,
    "qwen2_moe": _qwen2_moe,
    "qwen3": _qwen3,
    "qwen3_moe": _qwen3_moe,
    "gemma": _gemma,
    "gemma2": _gemma2,
    "gemma3_text": _gemma3,
    "phi": _phi,
    "phi3": _phi3,
    "gpt2": _gpt2,
    "gpt_bigcode": _gpt2,
    "gpt_neox": _gpt_neox,
    "gptj": _gptj,
    "opt": _opt,
    "bloom": _bloom,
    "falcon": _falcon,
    "bert": _bert,
    "t5": _t5,
    "deepseek_v2": _deepseek,
    "deepseek_v3": _deepseek,
    "kimi_k2": _deepseek,
    "olmo2": _olmo2,
    "olmoe": _olmoe,
    "dbrx": _dbrx,
    "granite": _granite,
    "cohere": _cohere,
    "stablelm": _stablelm,
    "starcoder2": _starcoder2,
    "gpt_oss": _gpt_oss,
    "llama4": _llama4,
    "llama4_text": _llama4,
}

#: model_type values counted exactly (the rest go through the generic builder, with a warning).
SUPPORTED_MODEL_TYPES = tuple(sorted(BUILDERS))


def spec_from_hf_config(data: Mapping[str, Any], *, source: str, name: str | None = None) -> ModelSpec:
    """Build a :class:`ModelSpec` from a parsed Hugging Face config.json mapping.

    ``source`` names where the mapping came from (a path, or ``preset NAME``) and starts every
    error message. Raises :class:`~llmcalc.errors.SpecError` listing every problem found.
    """
    if not isinstance(data, Mapping):
        raise SpecError(f"{source}: a config must be a mapping of fields, got {type(data).__name__}")
    f = Fields(data, source)
    model_type = f.string("model_type", default="")
    if not model_type:
        f.errors.append("missing required field 'model_type'")
        f.check()
    builder = BUILDERS.get(model_type, _generic)
    label = name or _default_name(data) or model_type
    try:
        return builder(f, label, model_type)
    except SpecError as exc:
        message = str(exc)
        if message.startswith(source):
            raise
        raise SpecError(f"{source}: {message}") from None


def _default_name(data: Mapping[str, Any]) -> str | None:
    value = data.get("_name_or_path")
    return value if isinstance(value, str) and value else None
