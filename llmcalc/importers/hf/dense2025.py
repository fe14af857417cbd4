"""2024-26 dense decoders of the Llama shape: SmolLM3, OLMo 1 and 3, EXAONE 4, Seed-OSS, Apertus,
Cohere2 (Command R7B / A), Arcee (AFM), Helium, Ministral, Nemotron (Minitron) and VaultGemma.

Reference: transformers ``models/<model_type>/modeling_<model_type>.py`` with the defaults of its
``configuration_<model_type>.py`` (5.24). What differs between them, and is read here, is which
projections carry biases (and which config key says so), the norms (kind and placement), q/k
norms, a plain or gated MLP, the default ``head_dim`` and the sliding-window layer pattern (which
sizes the KV cache; it has no parameters). Rotary variants (SmolLM3's NoPE layers, Nemotron's
partial rotary) have no parameters either.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from llmcalc.importers.hf.common import llama_like, with_attention, with_defaults, without
from llmcalc.importers.hf.fields import Fields
from llmcalc.spec import ModelSpec, Norm


def _with_mlp(spec: ModelSpec, **changes: Any) -> ModelSpec:
    """``spec`` with ``changes`` applied to every dense MLP."""
    stacks = tuple(
        replace(
            s,
            groups=tuple(replace(g, mlp=replace(g.mlp, **changes)) if g.mlp is not None else g for g in s.groups),
        )
        for s in spec.stacks
    )
    return replace(spec, stacks=stacks)


def _pattern(n: int, every: int) -> list[str]:
    """Every ``every``-th layer full attention, the others sliding (``every`` 0: all full)."""
    if every <= 0:
        return ["full_attention"] * n
    return ["sliding_attention" if (i + 1) % every else "full_attention" for i in range(n)]


def smollm3(f: Fields, name: str, mt: str) -> ModelSpec:
    """SmolLM3 (``SmolLM3ForCausalLM``): Llama with NoPE layers, q/k/v/o biased by ``attention_bias``,
    MLP by ``mlp_bias``, tied by default. Every ``no_rope_layer_interval``-th layer (default 4) skips
    rotary (no parameters either way). A sliding window applies only with ``use_sliding_window``
    and only to the layers ``layer_types`` marks (by default the NoPE layers, as the config class
    builds it).
    """
    f = with_defaults(f, num_key_value_heads=4)
    n = f.integer("num_hidden_layers")
    if not (f.boolean("use_sliding_window", default=False) and f.has("sliding_window")):
        types: list[str] | None = ["full_attention"] * n
    elif f.has("layer_types"):
        types = None
    else:
        interval = f.integer("no_rope_layer_interval", default=4)
        rope_layers = f.int_list("no_rope_layers") or [int((i + 1) % interval != 0) for i in range(n)]
        types = ["full_attention" if has_rope else "sliding_attention" for has_rope in rope_layers]
    if types is not None:
        f = without(f, "layer_types")
    return llama_like(f, name, mt, tie_default=True, layer_types=types)


def olmo(f: Fields, name: str, mt: str) -> ModelSpec:
    """OLMo 1 (``OlmoForCausalLM``): LayerNorms without any parameters (``OlmoLayerNorm``), q/k/v/o
    biased by ``attention_bias``; ``clip_qkv`` clamps activations and has no parameters."""
    return llama_like(f, name, mt, norm=Norm("none"), sliding=False)


def olmo3(f: Fields, name: str, mt: str) -> ModelSpec:
    """OLMo 3 (``Olmo3ForCausalLM``): OLMo 2's layer (norms after attention and MLP, q/k RMSNorms
    over all heads) with sliding-window attention in three of every four layers by default
    (``sliding_window`` 4096)."""
    n = f.integer("num_hidden_layers")
    if not f.has("sliding_window") and "sliding_window" not in f.data:
        f = with_defaults(f, sliding_window=4096)
    return llama_like(f, name, mt, qk_norm="all-heads", placement="post", layer_types=_pattern(n, 4))


def exaone4(f: Fields, name: str, mt: str) -> ModelSpec:
    """EXAONE 4.0 (``Exaone4ForCausalLM``): norms after attention and MLP, q/k RMSNorms of
    ``head_dim``, no biases. Sliding-window layers per ``layer_types``, else by
    ``sliding_window_pattern``: every ``n``-th layer global (default 4), or a string such as
    ``"LLLG"`` (local, local, local, global) repeated. ``num_key_value_heads`` defaults to 32."""
    f = with_defaults(f, num_key_value_heads=32)
    n = f.integer("num_hidden_layers")
    raw = f.data.get("sliding_window_pattern", 4)
    if "sliding_window" in f.data and f.data["sliding_window"] is None:
        types = ["full_attention"] * n
    elif isinstance(raw, str) and raw and set(raw) <= {"L", "G"}:
        types = ["sliding_attention" if raw[i % len(raw)] == "L" else "full_attention" for i in range(n)]
    elif isinstance(raw, int) and not isinstance(raw, bool):
        types = _pattern(n, raw)
    else:
        f.errors.append(f"field 'sliding_window_pattern' must be an integer or a string of L and G, got {raw!r}")
        types = None
    if "sliding_window" not in f.data:
        f = with_defaults(f, sliding_window=4096)
    return llama_like(f, name, mt, qkv_bias_key=None, qk_norm="head", placement="post", layer_types=types)


def seed_oss(f: Fields, name: str, mt: str) -> ModelSpec:
    """ByteDance Seed-OSS (``SeedOssForCausalLM``): q/k/v biased by ``attention_bias`` (default
    true), o by ``attention_out_bias`` (default false), MLP by ``mlp_bias``; ``head_dim`` 128 by
    default."""
    f = with_defaults(f, num_key_value_heads=8)
    o_bias = f.boolean("attention_out_bias", default=False)
    spec = llama_like(
        f, name, mt, qkv_bias_default=True, o_bias_follows_qkv=False, head_dim_default=128, sliding=False
    )
    return with_attention(spec, o_bias=o_bias)


def apertus(f: Fields, name: str, mt: str) -> ModelSpec:
    """Swiss AI Apertus (``ApertusForCausalLM``): q/k RMSNorms of ``head_dim``, q/k/v/o biased by
    ``attention_bias``, a plain MLP (``up_proj``, ``down_proj``, never biased) whose xIELU activation
    keeps two learned scalars (``alpha_p``, ``alpha_n``) when ``hidden_act`` is ``xielu``
    (the default)."""
    act = f.string("hidden_act", default="xielu")
    spec = llama_like(f, name, mt, qk_norm="head", gated=False, mlp_bias=False, sliding=False)
    return _with_mlp(spec, activation_params=2) if act == "xielu" else spec


def cohere2(f: Fields, name: str, mt: str) -> ModelSpec:
    """Cohere2 / Command R7B and A (``Cohere2ForCausalLM``): Cohere's parallel block (one
    LayerNorm without bias feeds attention and MLP), q/k/v/o biased by ``attention_bias``, tied by
    default, ``head_dim`` from the config or ``hidden / heads``, sliding window in three of every
    four layers by default (``sliding_window_pattern``) unless ``layer_types`` says otherwise."""
    n = f.integer("num_hidden_layers")
    every = f.integer("sliding_window_pattern", default=4)
    if "sliding_window" not in f.data:
        f = with_defaults(f, sliding_window=4096)
    return llama_like(
        f,
        name,
        mt,
        norm=Norm("layernorm", bias=False),
        placement="parallel-shared",
        tie_default=True,
        layer_types=_pattern(n, every),
    )


def arcee(f: Fields, name: str, mt: str) -> ModelSpec:
    """Arcee AFM (``ArceeForCausalLM``): Llama with a plain ReLU^2 MLP (``up_proj``, ``down_proj``,
    biased by ``mlp_bias``), q/k/v/o biased by ``attention_bias``."""
    return llama_like(f, name, mt, gated=False, sliding=False)


def helium(f: Fields, name: str, mt: str) -> ModelSpec:
    """Kyutai Helium (``HeliumForCausalLM``): q/k/v biased by ``attention_bias``, ``o_proj`` of
    ``hidden x hidden`` without bias whatever ``head_dim`` (default 128), MLP by ``mlp_bias``."""
    f = with_defaults(f, num_key_value_heads=20)
    hidden = f.integer("hidden_size")
    spec = llama_like(f, name, mt, o_bias_follows_qkv=False, head_dim_default=128, sliding=False)
    return with_attention(spec, o_input_dim=hidden)


def ministral(f: Fields, name: str, mt: str) -> ModelSpec:
    """Ministral (``MinistralForCausalLM``): Mistral without any attention bias; every layer slides
    over ``sliding_window`` (default 4096) unless ``layer_types`` says otherwise."""
    f = with_defaults(f, num_key_value_heads=8)
    n = f.integer("num_hidden_layers")
    if "sliding_window" not in f.data:
        f = with_defaults(f, sliding_window=4096)
    window = f.data.get("sliding_window")
    types = ["sliding_attention" if window is not None else "full_attention"] * n
    return llama_like(f, name, mt, qkv_bias_key=None, layer_types=types)


def nemotron(f: Fields, name: str, mt: str) -> ModelSpec:
    """NVIDIA Nemotron / Minitron (``NemotronForCausalLM``): LayerNorm1P (weight and bias), a plain
    squared-ReLU MLP biased by ``mlp_bias``, q/k/v/o biased by ``attention_bias``, rotary on
    ``partial_rotary_factor`` (default 0.5) of each head."""
    return llama_like(
        f,
        name,
        mt,
        norm=Norm("layernorm", bias=True),
        gated=False,
        rotary_fraction_key="partial_rotary_factor",
        sliding=False,
    )


def vaultgemma(f: Fields, name: str, mt: str) -> ModelSpec:
    """Google VaultGemma (``VaultGemmaForCausalLM``): Gemma 2's attention without its post-norms
    (``input_layernorm`` and ``pre_feedforward_layernorm`` only), q/k/v/o biased by
    ``attention_bias``, ``head_dim`` 256 by default, tied by default, sliding window in every other
    layer. ``num_key_value_heads`` defaults to 4."""
    f = with_defaults(f, num_key_value_heads=4)
    n = f.integer("num_hidden_layers")
    if "sliding_window" not in f.data:
        f = with_defaults(f, sliding_window=4096)
    return llama_like(f, name, mt, head_dim_default=256, tie_default=True, layer_types=_pattern(n, 2))
