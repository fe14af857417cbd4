"""Hybrid attention / state-space families: Jamba, Bamba, Granite 4.0-H (and plain GraniteMoE),
Nemotron-H and Falcon-H1.

Reference: transformers 5.24 ``models/<model_type>/modeling_<model_type>.py`` and the defaults of
``configuration_<model_type>.py``; the layer patterns are the configs' own rules:

- Jamba: attention where ``i % attn_layer_period == attn_layer_offset``, MoE where
  ``i % expert_layer_period == expert_layer_offset`` (a dense MLP elsewhere, or when
  ``num_experts`` is 1); Mamba-1 with learned dt/B/C RMSNorms; no positional encoding.
- Bamba: attention at ``attn_layer_indices``, Mamba-2 elsewhere, a SwiGLU MLP in every layer.
- Granite 4.0-H (``granitemoehybrid``): ``layer_types`` (``mamba``/``attention`` legacy names
  accepted), every layer an MoE with a gated shared MLP, or only the shared MLP when
  ``num_local_experts`` is 0.
- Nemotron-H: one block per layer from ``layers_block_type`` or ``hybrid_override_pattern``
  (``M`` Mamba-2, ``*`` attention, ``-`` MLP, ``E`` MoE), each behind one RMSNorm; squared-ReLU
  MLPs and experts (no gate matrix); ``head_dim`` defaults to 128, not ``hidden / heads``;
  with ``moe_latent_size`` the routed experts work in a latent between two projections.
- Falcon-H1: every layer runs attention and a Mamba-2 mixer in parallel, then an MLP;
  ``mamba_d_ssm`` (default 1024) sets the Mamba width, ``projectors_bias`` the out_proj bias,
  ``mamba_rms_norm`` the gated norm.
- Zamba2: ``layers_block_type`` (``mamba`` / ``hybrid``); see :func:`zamba2`.
"""

from __future__ import annotations

from dataclasses import replace

from llmcalc.importers.hf.common import decoder_spec, llama_like, rope, simple_moe
from llmcalc.importers.hf.fields import Fields
from llmcalc.importers.hf.ssm import granite_style_mamba2, layer_kinds, mamba1_mixer, never_tied
from llmcalc.mixers.mamba import Mamba2
from llmcalc.spec import MLP, Attention, ExtraWeight, LayerGroup, ModelSpec, MoE, Norm, Positional


def attention(
    f: Fields,
    hidden: int,
    *,
    heads_default: int,
    kv_default: int | None,
    head_dim_default: int | None = None,
    bias_key: str | None = "attention_bias",
    o_bias: bool | None = None,
) -> Attention:
    """A GQA block from ``num_attention_heads`` / ``num_key_value_heads`` / ``head_dim``."""
    heads = f.integer("num_attention_heads", default=heads_default)
    # an explicit null means "as many as query heads" (each config's __post_init__)
    explicit_null = "num_key_value_heads" in f.data and f.data["num_key_value_heads"] is None
    kv = f.integer("num_key_value_heads", default=heads if kv_default is None or explicit_null else kv_default)
    if head_dim_default is not None and not f.has("head_dim"):
        head_dim = head_dim_default
    else:
        head_dim = f.head_dim(hidden, heads, "head_dim")
    bias = f.boolean(bias_key, default=False) if bias_key else False
    if f.errors:
        heads = kv = head_dim = 1
    return Attention(heads, kv, head_dim, head_dim, qkv_bias=bias, o_bias=bias if o_bias is None else o_bias)


def jamba(f: Fields, name: str, mt: str) -> ModelSpec:
    hidden = f.integer("hidden_size", default=4096)
    n = f.integer("num_hidden_layers", default=32)
    attn = attention(f, hidden, heads_default=32, kv_default=8, bias_key=None)
    mixer = mamba1_mixer(f, hidden, prefix="mamba_", bc_norms=True)
    a_period = f.integer("attn_layer_period", default=8)
    a_offset = f.integer("attn_layer_offset", default=4, minimum=0)
    e_period = f.integer("expert_layer_period", default=2)
    e_offset = f.integer("expert_layer_offset", default=1, minimum=0)
    experts = f.integer("num_experts", "num_local_experts", default=16)
    top_k = f.integer("num_experts_per_tok", default=2)
    dense = MLP(f.integer("intermediate_size", default=14336))
    f.check()
    moe = MoE(experts, top_k, dense) if experts > 1 else None

    def layer(i: int) -> LayerGroup:
        sparse = moe is not None and i % e_period == e_offset
        is_attn = i % a_period == a_offset
        return LayerGroup(
            1, attn if is_attn else None, mixer=None if is_attn else mixer,
            mlp=None if sparse else dense, moe=moe if sparse else None,
        )

    return decoder_spec(f, name=name, model_type=mt, hidden=hidden, vocab=f.integer("vocab_size", default=65536),
                        n_layers=n, make_layer=layer, norm=Norm("rmsnorm"),
                        positional=Positional("none", max_position_embeddings=f.integer("max_position_embeddings",
                                                                                        default=262144)),
                        tie_default=False)


def _rope(f: Fields, max_pos_default: int) -> Positional:
    return rope(f, max_pos=f.integer("max_position_embeddings", default=max_pos_default))


def bamba(f: Fields, name: str, mt: str) -> ModelSpec:
    hidden = f.integer("hidden_size", default=4096)
    n = f.integer("num_hidden_layers", default=32)
    attn = attention(f, hidden, heads_default=32, kv_default=8)
    mixer = granite_style_mamba2(f, hidden)
    indices = set(f.int_list("attn_layer_indices"))
    mlp = MLP(f.integer("intermediate_size", default=14336), bias=f.boolean("mlp_bias", default=False))
    f.check()

    def layer(i: int) -> LayerGroup:
        return LayerGroup(1, attn, mlp=mlp) if i in indices else LayerGroup(1, None, mlp=mlp, mixer=mixer)

    return decoder_spec(f, name=name, model_type=mt, hidden=hidden, vocab=f.integer("vocab_size", default=128000),
                        n_layers=n, make_layer=layer, positional=_rope(f, 262144), norm=Norm("rmsnorm"),
                        tie_default=False)


def granitemoehybrid(f: Fields, name: str, mt: str) -> ModelSpec:
    hidden = f.integer("hidden_size", default=4096)
    n = f.integer("num_hidden_layers", default=32)
    attn = attention(f, hidden, heads_default=32, kv_default=None)
    mixer = granite_style_mamba2(f, hidden)
    kinds = layer_kinds(f, "layer_types", n, ["linear_attention"] * n)
    if not f.has("layer_types"):
        kinds = layer_kinds(f, "layers_block_type", n, kinds)
    shared = MLP(f.integer("shared_intermediate_size", default=1024))
    experts = f.integer("num_local_experts", default=8, minimum=0)
    moe = None
    if experts:
        moe = simple_moe(f, "num_local_experts", "intermediate_size", shared_expert=shared)
    f.check()

    def layer(i: int) -> LayerGroup:
        is_mamba = kinds[i] == "linear_attention"
        return LayerGroup(1, None if is_mamba else attn, mixer=mixer if is_mamba else None,
                          mlp=None if moe else shared, moe=moe)

    return decoder_spec(f, name=name, model_type=mt, hidden=hidden, vocab=f.integer("vocab_size", default=32000),
                        n_layers=n, make_layer=layer, positional=_rope(f, 2048), norm=Norm("rmsnorm"),
                        tie_default=False)


def granitemoe(f: Fields, name: str, mt: str) -> ModelSpec:
    """GraniteMoE (``modeling_granitemoe.py``): Llama attention (``attention_bias`` on q/k/v/o), Mixtral experts."""
    moe = simple_moe(f, "num_local_experts", "intermediate_size")
    return llama_like(f, name, mt, moe_at=lambda i: moe, sliding=False)


NEMOTRON_PATTERN = {"M": "linear_attention", "E": "moe", "*": "full_attention", "-": "mlp"}


def nemotron_h(f: Fields, name: str, mt: str) -> ModelSpec:
    hidden = f.integer("hidden_size", default=4096)
    default = ["linear_attention", "moe", "full_attention", "mlp"]
    pattern = f.string("hybrid_override_pattern", default="")
    if pattern:
        bad = sorted(set(pattern) - set(NEMOTRON_PATTERN))
        if bad:
            f.errors.append(f"field 'hybrid_override_pattern' has unknown block letters {''.join(bad)!r}")
        default = [NEMOTRON_PATTERN.get(c, "mlp") for c in pattern]
    kinds = layer_kinds(f, "layers_block_type", None, default)
    unknown = sorted(set(kinds) - set(NEMOTRON_PATTERN.values()))
    if unknown:
        f.errors.append(f"field 'layers_block_type' has unknown block types {', '.join(unknown)}")
    attn = attention(f, hidden, heads_default=32, kv_default=8, head_dim_default=128, bias_key=None)
    mixer = Mamba2(
        n_heads=f.integer("mamba_num_heads", default=128),
        head_dim=f.integer("mamba_head_dim", default=64),
        d_state=f.integer("ssm_state_size", default=128),
        n_groups=f.integer("mamba_n_groups", "n_groups", default=8),
        d_conv=f.integer("mamba_d_conv", "conv_kernel", default=4),
        conv_bias=f.boolean("mamba_conv_bias", "use_conv_bias", default=True),
        in_bias=f.boolean("use_bias", default=False),
        out_bias=f.boolean("use_bias", default=False),
    )
    mlp_bias = f.boolean("mlp_bias", default=False)
    mlp = MLP(f.integer("intermediate_size", default=21504), gated=False, bias=mlp_bias)
    moe = None
    latent = f.opt_int("moe_latent_size")
    if "moe" in kinds:
        moe = MoE(
            num_experts=f.integer("n_routed_experts", "num_local_experts", default=8),
            experts_per_token=f.integer("num_experts_per_tok", default=2),
            expert=MLP(f.integer("moe_intermediate_size", default=7688), gated=False),
            shared_expert=MLP(f.integer("moe_shared_expert_intermediate_size", default=7688), gated=False,
                              bias=mlp_bias),
            latent_size=latent,
        )
    projections: tuple[ExtraWeight, ...] = ()
    if latent is not None:  # NemotronHMoE.fc1_latent_proj / fc2_latent_proj around the routed experts
        projections = (ExtraWeight("ffn_latent_in.weight", "routed_experts", (hidden, latent)),
                       ExtraWeight("ffn_latent_out.weight", "routed_experts", (latent, hidden)))
        if mlp_bias:
            projections += (ExtraWeight("ffn_latent_in.bias", "routed_experts", (latent,)),
                            ExtraWeight("ffn_latent_out.bias", "routed_experts", (hidden,)))
    f.check()
    blocks = {
        "linear_attention": LayerGroup(1, None, mixer=mixer, norm_placement="single"),
        "full_attention": LayerGroup(1, attn, norm_placement="single"),
        "mlp": LayerGroup(1, None, mlp=mlp, norm_placement="single"),
    }
    if moe is not None:
        blocks["moe"] = LayerGroup(1, None, moe=moe, norm_placement="single", extras=projections)
    return decoder_spec(never_tied(f), name=name, model_type=mt, hidden=hidden,
                        vocab=f.integer("vocab_size", default=131072),
                        n_layers=len(kinds), make_layer=lambda i: blocks[kinds[i]],
                        positional=_rope(f, 4096), norm=Norm("rmsnorm"), tie_default=False)


def falcon_h1(f: Fields, name: str, mt: str) -> ModelSpec:
    hidden = f.integer("hidden_size", default=4096)
    n = f.integer("num_hidden_layers", default=32)
    attn = attention(f, hidden, heads_default=32, kv_default=8)
    if "mamba_d_ssm" in f.data and f.data["mamba_d_ssm"] is None:
        d_ssm = f.integer("mamba_expand", default=2) * hidden
    else:
        d_ssm = f.integer("mamba_d_ssm", default=1024)
    base = granite_style_mamba2(f, hidden, d_ssm=d_ssm)
    mixer = Mamba2(
        n_heads=base.n_heads, head_dim=base.head_dim, d_state=base.d_state, n_groups=base.n_groups,
        d_conv=base.d_conv, conv_bias=base.conv_bias, in_bias=base.in_bias,
        out_bias=f.boolean("projectors_bias", default=False), gated_norm=f.boolean("mamba_rms_norm", default=False),
    )
    mlp = MLP(f.integer("intermediate_size", default=14336), bias=f.boolean("mlp_bias", default=False))
    f.check()
    layer = LayerGroup(1, attn, mlp=mlp, mixer=mixer)
    return decoder_spec(f, name=name, model_type=mt, hidden=hidden, vocab=f.integer("vocab_size", default=128000),
                        n_layers=n, make_layer=lambda i: layer, positional=_rope(f, 8192), norm=Norm("rmsnorm"),
                        tie_default=False)


def zamba2(f: Fields, name: str, mt: str) -> ModelSpec:
    """Zamba2 (``modeling_zamba2.py``): a Mamba-2 in every layer; ``hybrid`` layers also run a shared
    transformer block (attention over ``[h, embeddings]`` of width ``attention_hidden_size = 2H``, then
    an MLP) through a per-layer ``H x H`` linear, and cache their own K and V.

    Hybrid layer ``j`` uses block ``j % num_mem_blocks``; a block holds, for every hybrid layer ``i`` with
    ``i % num_mem_blocks`` equal to its id, a LoRA-style MLP adapter (``H x r + r x 2I``) and, with
    ``use_shared_attention_adapter``, q/k/v adapters (``2H x r + r x 2H`` each). transformers ties the
    repeated blocks through ``_tied_weights_keys`` (``Zamba2Model.get_layers``), which it applies only
    when ``tie_word_embeddings`` is true: an untied config stores one block per hybrid layer. The
    stored blocks are ``ModelSpec.extras``. The Mamba conv always has a bias (``use_conv_bias`` is
    not read).
    """
    hidden = f.integer("hidden_size", default=2560)
    default = (["linear_attention"] + (["linear_attention"] * 5 + ["hybrid"]) * 7 + ["linear_attention"] * 4
               + ["hybrid"] + ["linear_attention"] * 3 + ["hybrid"] + ["linear_attention"] * 2)
    kinds = layer_kinds(f, "layers_block_type", None, default)
    heads = f.integer("num_attention_heads", default=32)
    kv = f.integer("num_key_value_heads", default=heads)
    attn_width = f.integer("attention_hidden_size", default=2 * hidden)
    head_dim = f.integer("attention_head_dim", "head_dim", default=2 * hidden // heads)
    inter = f.integer("intermediate_size", default=4 * hidden)
    bias = f.boolean("add_bias_linear", default=False)
    rank = f.integer("adapter_rank", default=128)
    attn_adapters = f.boolean("use_shared_attention_adapter", default=False)
    n_blocks = f.integer("num_mem_blocks", default=1)
    tied = f.boolean("tie_word_embeddings", default=True)
    m_heads = f.integer("n_mamba_heads", default=8)
    m_inner = f.integer("mamba_expand", default=2) * hidden
    mixer = Mamba2(
        n_heads=m_heads, head_dim=f.integer("mamba_headdim", default=m_inner // m_heads),
        d_state=f.integer("mamba_d_state", default=64), n_groups=f.integer("mamba_ngroups", default=1),
        d_conv=f.integer("mamba_d_conv", default=4), conv_bias=True, in_bias=bias, out_bias=bias,
    )
    f.check()
    linear = ExtraWeight("hybrid_linear.weight", "attention", (hidden, hidden))
    hybrid = LayerGroup(1, Attention(heads, kv, head_dim, head_dim), mixer=mixer, norm_placement="single",
                        shared_attention=True, extras=(linear,))
    mamba_only = LayerGroup(1, None, mixer=mixer, norm_placement="single")
    spec = decoder_spec(f, name=name, model_type=mt, hidden=hidden, vocab=f.integer("vocab_size", default=32000),
                        n_layers=len(kinds), make_layer=lambda i: hybrid if kinds[i] == "hybrid" else mamba_only,
                        positional=_rope(f, 4096), norm=Norm("rmsnorm"), tie_default=True)
    n_hybrid = kinds.count("hybrid")
    stored = range(min(n_blocks, n_hybrid) if tied else n_hybrid)
    shared: list[ExtraWeight] = []
    for j in stored:
        p = f"shared.{j}."
        shared += [
            ExtraWeight(p + "attn_norm.weight", "norms", (attn_width,)),
            ExtraWeight(p + "ffn_norm.weight", "norms", (hidden,)),
            ExtraWeight(p + "attn_q.weight", "attention", (attn_width, heads * head_dim)),
            ExtraWeight(p + "attn_k.weight", "attention", (attn_width, kv * head_dim)),
            ExtraWeight(p + "attn_v.weight", "attention", (attn_width, kv * head_dim)),
            ExtraWeight(p + "attn_output.weight", "attention", (heads * head_dim, hidden)),
            ExtraWeight(p + "ffn_gate_up.weight", "dense_mlp", (hidden, 2 * inter)),
            ExtraWeight(p + "ffn_down.weight", "dense_mlp", (inter, hidden)),
        ]
        if bias:
            shared += [ExtraWeight(p + "ffn_gate_up.bias", "dense_mlp", (2 * inter,)),
                       ExtraWeight(p + "ffn_down.bias", "dense_mlp", (hidden,))]
        for i in (i for i in range(n_hybrid) if i % n_blocks == j % n_blocks):
            a = f"{p}adapter.{i}."
            shared += [ExtraWeight(a + "ffn_gate_up_a.weight", "dense_mlp", (hidden, rank)),
                       ExtraWeight(a + "ffn_gate_up_b.weight", "dense_mlp", (rank, 2 * inter))]
            if attn_adapters:
                shared += [ExtraWeight(f"{a}attn_{x}_{ab}.weight", "attention", shape) for x in "qkv"
                           for ab, shape in (("a", (attn_width, rank)), ("b", (rank, attn_width)))]
    return replace(spec, extras=(*spec.extras, *shared))
