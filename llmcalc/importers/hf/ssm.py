"""State-space families: Mamba, Mamba-2, Falcon-Mamba, and the readers hybrid families share.

Reference: transformers ``models/{mamba,mamba2,falcon_mamba}/modeling_*.py`` with the defaults of
their ``configuration_*.py`` (5.24). Every layer is one norm and one mixer, no MLP; the final norm
is ``norm_f``. Falcon-Mamba's extra B/C/dt RMSNorms have no weights (``rms_forward``), so it counts
as Mamba-1.
"""

from __future__ import annotations

import math

from llmcalc.importers.hf.common import decoder_spec
from llmcalc.importers.hf.fields import Fields
from llmcalc.mixers.mamba import Mamba1, Mamba2
from llmcalc.spec import LayerGroup, ModelSpec, Norm, Positional

#: transformers' legacy layer-type names (``configuration_utils._LEGACY_LAYER_TYPE_REMAP``).
LEGACY_LAYER_TYPES = {"mamba": "linear_attention", "attention": "full_attention"}


def layer_kinds(f: Fields, key: str, n_layers: int | None, default: list[str]) -> list[str]:
    """A per-layer kind list from ``key`` (legacy names remapped), or ``default``; checks the length."""
    kinds = f.str_list(key)
    if kinds is None:
        return default
    kinds = [LEGACY_LAYER_TYPES.get(k, k) for k in kinds]
    if n_layers is not None and len(kinds) != n_layers:
        f.errors.append(f"field '{key}' has {len(kinds)} entries for {n_layers} layers")
        return default
    return kinds


def never_tied(f: Fields) -> Fields:
    """``f`` with ``tie_word_embeddings`` false: models whose class ties nothing (``_tied_weights_keys = {}``,
    Nemotron-H and Kimi Linear in transformers 5.24) keep an untied head whatever the config says."""
    g = Fields({**f.data, "tie_word_embeddings": False}, f.source)
    g.errors, g.assumptions = f.errors, f.assumptions
    return g


def dt_rank(f: Fields, key: str, hidden: int) -> int:
    """``ceil(hidden / 16)`` when ``key`` is ``"auto"`` or absent (``MambaConfig.__post_init__``)."""
    value = f.data.get(key)
    if value is None or value == "auto":
        return math.ceil(hidden / 16)
    return f.integer(key)


def mamba1_mixer(f: Fields, hidden: int, *, prefix: str = "", bc_norms: bool = False) -> Mamba1:
    """Mamba-1 from ``expand``/``state_size``/``conv_kernel`` (or Jamba's ``mamba_*`` names)."""
    if prefix:  # Jamba
        expand = f.integer("mamba_expand", default=2)
        d_state = f.integer("mamba_d_state", default=16)
        d_conv = f.integer("mamba_d_conv", default=4)
        rank = dt_rank(f, "mamba_dt_rank", hidden)
        conv_bias = f.boolean("mamba_conv_bias", default=True)
        proj_bias = f.boolean("mamba_proj_bias", default=False)
    else:
        expand = f.integer("expand", default=2)
        d_state = f.integer("state_size", default=16)
        d_conv = f.integer("conv_kernel", default=4)
        rank = dt_rank(f, "time_step_rank", hidden)
        conv_bias = f.boolean("use_conv_bias", default=True)
        proj_bias = f.boolean("use_bias", default=False)
    # MambaConfig sets intermediate_size = expand x hidden, but a config.json value wins (it is applied
    # after __post_init__), and MambaMixer reads config.intermediate_size; Jamba uses expand x hidden.
    d_inner = expand * hidden if prefix else f.integer("intermediate_size", default=expand * hidden)
    return Mamba1(
        d_inner=d_inner,
        d_state=d_state,
        d_conv=d_conv,
        dt_rank=rank,
        conv_bias=conv_bias,
        proj_bias=proj_bias,
        bc_norms=bc_norms,
    )


def granite_style_mamba2(f: Fields, hidden: int, *, d_ssm: int | None = None) -> Mamba2:
    """Mamba-2 from the ``mamba_*`` keys of Bamba / Granite 4.0-H / Falcon-H1 (``mamba_d_head: auto``)."""
    heads = f.integer("mamba_n_heads", default=128)
    inner = d_ssm if d_ssm is not None else f.integer("mamba_expand", default=2) * hidden
    raw = f.data.get("mamba_d_head")
    head_dim = inner // heads if raw is None or raw == "auto" else f.integer("mamba_d_head")
    if head_dim * heads != inner:
        f.errors.append(f"mamba_d_head x mamba_n_heads ({head_dim} x {heads}) must equal the Mamba width {inner}")
    return Mamba2(
        n_heads=heads,
        head_dim=max(head_dim, 1),
        d_state=f.integer("mamba_d_state", default=256),
        n_groups=f.integer("mamba_n_groups", default=1),
        d_conv=f.integer("mamba_d_conv", default=4),
        conv_bias=f.boolean("mamba_conv_bias", default=True),
        in_bias=f.boolean("mamba_proj_bias", default=False),
        out_bias=f.boolean("mamba_proj_bias", default=False),
    )


def _ssm_only(
    f: Fields, name: str, mt: str, mixer: Mamba1 | Mamba2, *, hidden: int, tie_default: bool, layers: int, vocab: int
) -> ModelSpec:
    n_layers = f.integer("num_hidden_layers", default=layers)
    vocab = f.integer("vocab_size", default=vocab)
    layer = LayerGroup(1, None, mixer=mixer, norm_placement="single")
    return decoder_spec(
        f,
        name=name,
        model_type=mt,
        hidden=hidden,
        vocab=vocab,
        n_layers=n_layers,
        make_layer=lambda i: layer,
        positional=Positional("none"),
        norm=Norm("rmsnorm"),
        tie_default=tie_default,
    )


def mamba(f: Fields, name: str, mt: str) -> ModelSpec:
    """Mamba-1 and Falcon-Mamba (``MambaForCausalLM``, ``FalconMambaForCausalLM``): tied head by default."""
    hidden = f.integer("hidden_size", default=768)
    return _ssm_only(f, name, mt, mamba1_mixer(f, hidden), hidden=hidden, tie_default=True, layers=32, vocab=50280)


def mamba2(f: Fields, name: str, mt: str) -> ModelSpec:
    """Mamba-2 (``Mamba2ForCausalLM``): ``d_inner = expand x hidden`` must equal ``num_heads x head_dim``."""
    hidden = f.integer("hidden_size", default=4096)
    heads = f.integer("num_heads", default=128)
    head_dim = f.integer("head_dim", default=64)
    expand = f.integer("expand", default=2)
    if expand * hidden != heads * head_dim:
        f.errors.append(
            f"hidden_size x expand ({hidden} x {expand}) must equal num_heads x head_dim ({heads} x {head_dim})"
        )
    mixer = Mamba2(
        n_heads=heads,
        head_dim=head_dim,
        d_state=f.integer("state_size", default=128),
        n_groups=f.integer("n_groups", default=8),
        d_conv=f.integer("conv_kernel", default=4),
        conv_bias=f.boolean("use_conv_bias", default=True),
        in_bias=f.boolean("use_bias", default=False),
        out_bias=f.boolean("use_bias", default=False),
    )
    return _ssm_only(f, name, mt, mixer, hidden=hidden, tie_default=False, layers=64, vocab=32768)
