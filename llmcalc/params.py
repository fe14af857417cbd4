"""Exact parameter counts, component by component.

Conventions (also in README, and the same as ``shared/reference/README.md``):

- **total**: unique stored, learned parameters. Tied weights count once; non-learned buffers
  (rotary ``inv_freq``, causal masks, DeepSeek-V3's ``e_score_correction_bias``) do not count.
- **active** (per token): total minus, in every MoE layer, the routed experts a token does not use,
  ``(num_experts - experts_per_token) x params_per_expert``. Router, shared experts, the shared-
  expert gate, embeddings and lm_head count as active. This gives Mixtral 8x7B's 12.9B.
- **active excluding input embedding**: active minus the input token embedding (the convention
  DeepSeek and OpenAI publish: DeepSeek-V3 "37B", gpt-oss-120b "5.1B").
- **non-embedding**: total minus the input token embedding, the learned position table and an
  untied lm_head (Kaplan et al. 2020, arXiv 2001.08361, section 2.1, and the "non-embedding"
  figures of the Qwen model cards).
- DeepSeek-V3's multi-token-prediction module is counted on its own line, outside the total.

Every function is pure: a spec in, integers out. The reference implementation each formula follows
is Hugging Face transformers (``src/transformers/models/<model_type>/modeling_<model_type>.py``);
counts are tested against it for 50 real configs (``tests/test_reference_configs.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

from llmcalc.spec import MLP, Attention, Indexer, LayerGroup, ModelSpec, MoE, Norm

#: Component names in the order a breakdown lists them.
COMPONENT_ORDER = (
    "token_embedding",
    "token_type_embedding",
    "positional_embedding",
    "embedding_projection",
    "attention",
    "indexer",
    "state_space",
    "linear_attention",
    "recurrent",
    "short_conv",
    "relative_position_bias",
    "per_layer_embedding",
    "per_layer_inputs",
    "altup",
    "laurel",
    "dense_mlp",
    "routed_experts",
    "shared_experts",
    "router",
    "norms",
    "pooler",
    "lm_head",
    "vision_tower",
    "audio_tower",
    "projector",
)

#: Components that belong to a multimodal checkpoint's towers, not to its language model.
TOWER_COMPONENTS = {"vision": "vision_tower", "audio": "audio_tower", "projector": "projector"}
#: A tower component holding a learned sequence-position table (Whisper's encoder
#: ``embed_positions``): part of the tower, and counted in ``positional_params`` too.
TOWER_POSITIONAL_TABLE = "positional_table"

COMPONENT_LABELS = {
    "token_embedding": "Token embedding",
    "token_type_embedding": "Token-type embedding",
    "positional_embedding": "Positional table",
    "embedding_projection": "Embedding projections",
    "attention": "Attention",
    "indexer": "Sparse-attention indexer",
    "state_space": "State-space (Mamba)",
    "linear_attention": "Linear attention",
    "recurrent": "Recurrent (RG-LRU)",
    "short_conv": "Short convolution",
    "relative_position_bias": "Relative position bias",
    "per_layer_embedding": "Per-layer embeddings",
    "per_layer_inputs": "Per-layer input projections",
    "altup": "AltUp",
    "laurel": "Laurel",
    "dense_mlp": "Dense MLP",
    "routed_experts": "Routed experts",
    "shared_experts": "Shared experts",
    "router": "Router",
    "norms": "Norms",
    "pooler": "Pooler",
    "lm_head": "LM head",
    "vision_tower": "Vision tower",
    "audio_tower": "Audio tower",
    "projector": "Projector",
}


@dataclass(frozen=True, slots=True)
class Component:
    """One named part of a model: its parameters, and how many of them a token uses."""

    name: str
    params: int
    active_params: int

    @property
    def label(self) -> str:
        return COMPONENT_LABELS.get(self.name, self.name)


@dataclass(frozen=True, slots=True)
class MoEStats:
    """What the routed experts contribute, for MoE models."""

    moe_layers: int
    num_experts: int
    experts_per_token: int
    params_per_expert: int
    routed_expert_params: int
    inactive_params: int


@dataclass(frozen=True, slots=True)
class ParamCounts:
    """A model's parameters, component by component, with the totals built from the parts."""

    model: str
    components: tuple[Component, ...]
    total_params: int
    active_params: int
    active_params_excluding_embedding: int
    embedding_params: int
    positional_params: int
    lm_head_params: int
    non_embedding_params: int
    mtp_params: int
    moe: MoEStats | None
    vision_params: int = 0
    audio_params: int = 0
    projector_params: int = 0

    @property
    def language_params(self) -> int:
        """The language model's own parameters: the total less the towers and projector."""
        return self.total_params - self.vision_params - self.audio_params - self.projector_params

    def component(self, name: str) -> int:
        """Parameters of the named component (0 when the model has none)."""
        return next((c.params for c in self.components if c.name == name), 0)


# --- building blocks -------------------------------------------------------------------------


def linear_params(in_features: int, out_features: int, *, bias: bool) -> int:
    """``in x out`` weights plus ``out`` biases when ``bias`` (``torch.nn.Linear``)."""
    return in_features * out_features + (out_features if bias else 0)


def attention_params(attn: Attention, hidden: int, norm: Norm) -> int:
    """Parameters of one attention block.

    Standard (Vaswani et al. 2017, section 3.2.2; GQA: Ainslie et al. 2023, arXiv 2305.13245)::

        q: H x (n_h d_h)     k: H x (n_kv d_h)     v: H x (n_kv d_v)     o: (n_h d_v) x H

    plus biases on q/k/v when ``qkv_bias`` and on o when ``o_bias`` (o reads ``o_input_dim``
    channels where set: Helium's ``hidden x hidden``), q/k norms (``head``: two
    norms of ``d_h``; ``all-heads``: norms of ``n_h d_h`` and ``n_kv d_h``), and one sink logit per
    head (gpt-oss, ``modeling_gpt_oss.py``). Fused projections (GPT-2 ``c_attn``, Falcon
    ``query_key_value``, Phi-3 ``qkv_proj``) hold the same numbers.

    MLA (DeepSeek-V2, arXiv 2405.04434, section 2.1; ``modeling_deepseek_v3.py``)::

        q: H x r_q, norm(r_q), r_q x n_h (d_nope + d_rope)    (or H x n_h (d_nope + d_rope))
        kv_a: H x (r_kv + d_rope), norm(r_kv)   kv_b: r_kv x n_h (d_nope + d_v)   o: n_h d_v x H

    with ``qkv_bias`` on q_a and kv_a and ``o_bias`` on o (``attention_bias``).
    """
    mla = attn.mla
    if mla is not None:
        q_out = attn.num_heads * attn.head_dim
        if mla.q_lora_rank is None:
            q = linear_params(hidden, q_out, bias=False)
        else:
            q = (
                linear_params(hidden, mla.q_lora_rank, bias=attn.qkv_bias)
                + norm.params(mla.q_lora_rank)
                + linear_params(mla.q_lora_rank, q_out, bias=False)
            )
        kv = (
            linear_params(hidden, mla.kv_lora_rank + mla.qk_rope_head_dim, bias=attn.qkv_bias)
            + norm.params(mla.kv_lora_rank)
            + linear_params(
                mla.kv_lora_rank,
                attn.num_heads * (mla.qk_nope_head_dim + mla.v_head_dim),
                bias=False,
            )
        )
        o = linear_params(attn.num_heads * attn.v_head_dim, hidden, bias=attn.o_bias)
        return q + kv + o

    q_dim = attn.num_heads * attn.head_dim
    k_dim = attn.num_kv_heads * attn.head_dim
    v_dim = attn.num_kv_heads * attn.v_head_dim
    kv_own = not attn.kv_shared  # Gemma 3n's KV-sharing layers have no k/v projections or k norm
    projections = (
        linear_params(hidden, q_dim * (2 if attn.output_gate else 1), bias=attn.qkv_bias)
        + kv_own * linear_params(hidden, k_dim, bias=attn.qkv_bias if attn.k_bias is None else attn.k_bias)
        + kv_own * linear_params(hidden, v_dim, bias=attn.qkv_bias)
        + linear_params(attn.o_input_dim or attn.num_heads * attn.v_head_dim, hidden, bias=attn.o_bias)
    )
    qk = attn.qk_norm_type or norm
    if attn.qk_norm == "head":
        qk_norm = (1 + kv_own) * qk.params(attn.head_dim)
    elif attn.qk_norm == "all-heads":
        qk_norm = qk.params(q_dim) + kv_own * qk.params(k_dim)
    else:
        qk_norm = 0
    sinks = attn.num_heads if attn.sinks else 0
    return projections + qk_norm + sinks


def mlp_params(mlp: MLP, hidden: int) -> int:
    """Parameters of one feed-forward block.

    Gated (SwiGLU/GeGLU, Shazeer 2020, arXiv 2002.05202): ``3 H I`` (gate, up, down); plain
    (Vaswani et al. 2017, section 3.3): ``2 H I``. With ``bias``: ``+ I`` per up/gate projection
    and ``+ H`` for down. Plus the activation's own learned scalars (``activation_params``:
    Apertus's xIELU ``alpha_p``, ``alpha_n``).
    """
    up = (2 if mlp.gated else 1) * linear_params(hidden, mlp.intermediate_size, bias=mlp.bias)
    down = linear_params(mlp.intermediate_size, hidden, bias=mlp.bias)
    return up + down + mlp.activation_params


def indexer_params(indexer: Indexer, hidden: int) -> int:
    """DeepSeek-V3.2's lightning indexer (``DeepseekV32Indexer``, ``modeling_deepseek_v32.py``)::

        wq_b: r_q x (n_i d_i)    wk: H x d_i    k_norm: LayerNorm(d_i) with bias    weights_proj: H x n_i

    with ``r_q`` the MLA query latent it reads, ``n_i`` index heads of ``d_i`` channels.
    """
    d, n = indexer.head_dim, indexer.num_heads
    return (
        linear_params(indexer.q_input_dim, n * d, bias=False)
        + linear_params(hidden, d, bias=False)
        + 2 * d
        + linear_params(hidden, n, bias=False)
    )


def zero_expert_params(moe: MoE, hidden: int) -> int:
    """Weights transformers allocates for LongCat-Flash's zero-computation experts.

    ``LongcatFlashExperts`` (``modeling_longcat_flash.py``) sizes its fused ``gate_up_proj`` for
    ``num_experts + zero_experts`` experts but ``down_proj`` for ``num_experts``, so each zero
    expert holds an unused ``2 H I`` gate/up slice (``I H`` for a plain expert). The released
    checkpoint does not store them; llmcalc follows transformers, whose model is what loads.
    """
    if not moe.zero_experts:
        return 0
    expert = moe.expert
    up = (2 if expert.gated else 1) * linear_params(hidden, expert.intermediate_size, bias=expert.bias)
    return moe.zero_experts * up


def router_params(moe: MoE, hidden: int) -> int:
    """Router (gate) of an MoE block: ``H x E`` (+ ``E`` with a router bias, as in gpt-oss).

    ``E`` includes LongCat-Flash's zero-computation experts, which the router also scores.
    """
    return linear_params(hidden, moe.num_experts + moe.zero_experts, bias=moe.router_bias)


def shared_expert_params(moe: MoE, hidden: int) -> int:
    """Shared expert FFN plus Qwen-MoE's ``H x 1`` sigmoid gate (``modeling_qwen2_moe.py``)."""
    if moe.shared_expert is None:
        return 0
    gate = linear_params(hidden, 1, bias=False) if moe.shared_expert_gate else 0
    return mlp_params(moe.shared_expert, hidden) + gate


def _layer_parts(group: LayerGroup, hidden: int, norm: Norm) -> dict[str, int]:
    """Per-layer parameters of one group, by component."""
    own = group.attention is not None and not group.shared_attention
    attention = attention_params(group.attention, hidden, norm) if own and group.attention is not None else 0
    if group.cross_attention is not None:
        attention += attention_params(group.cross_attention, hidden, norm)
    parts = {"attention": attention + group.gate_params, "norms": group.norms * norm.params(hidden)}
    if group.attention is not None and group.attention.indexer is not None:
        parts["indexer"] = indexer_params(group.attention.indexer, hidden)
    if group.mixer is not None:
        # what llmcalc.mixers.base.mixer_params sums, without importing the mixers on every model's path
        parts[group.mixer.component] = sum(w.n_elements for w in group.mixer.weights(hidden))
    for extra in group.extras:
        parts[extra.component] = parts.get(extra.component, 0) + extra.params
    if group.mlp is not None:
        parts["dense_mlp"] = mlp_params(group.mlp, hidden)
    if group.moe is not None:
        moe = group.moe
        # added to what extras already put there (Nemotron-H's latent projections)
        parts["routed_experts"] = (parts.get("routed_experts", 0)
                                   + moe.num_experts * mlp_params(moe.expert, moe.latent_size or hidden)
                                   + zero_expert_params(moe, hidden))
        parts["shared_experts"] = shared_expert_params(moe, hidden)
        parts["router"] = router_params(moe, hidden)
    return parts


def layer_params(group: LayerGroup, hidden: int, norm: Norm) -> int:
    """All parameters of one layer of ``group``."""
    return sum(_layer_parts(group, hidden, norm).values())


def positional_params(spec: ModelSpec) -> int:
    """The learned absolute position table: ``rows x d_model`` (0 for rotary, ALiBi, relative).

    ``rows = max_position_embeddings + offset``; OPT's table has ``offset = 2`` extra rows
    (``OPTLearnedPositionalEmbedding`` in ``modeling_opt.py``), GPT-2's ``n_positions`` rows
    (Radford et al. 2019; ``wpe`` in ``modeling_gpt2.py``).
    """
    return spec.positional.table_rows * spec.hidden_size


def token_embedding_params(spec: ModelSpec) -> int:
    """Input token embedding: ``vocab x d_embed`` (``d_embed`` is ``word_embed_proj_dim`` for OPT).

    Mllama's table has ``embedding_extra_rows`` (8) rows more than ``vocab_size``.
    """
    return (spec.vocab_size + spec.embedding_extra_rows) * (spec.embedding_dim or spec.hidden_size)


def lm_head_params(spec: ModelSpec) -> int:
    """Output projection when untied: ``d_embed x vocab`` (+ ``vocab`` bias for Phi-2, GPT-J).

    A tied head shares the token embedding's weight, but a head with a bias keeps that bias as
    its own parameter (``nn.Linear(..., bias=True)`` whose ``weight`` alone is tied, as in
    ``PhiForCausalLM`` and ``GPTJForCausalLM`` with ``tie_word_embeddings: true``): ``vocab``.
    """
    if spec.lm_head == "none":
        return 0
    if spec.lm_head == "tied":
        return spec.vocab_size if spec.lm_head_bias else 0
    return linear_params(spec.embedding_dim or spec.hidden_size, spec.vocab_size, bias=spec.lm_head_bias)


def mtp_module_params(spec: ModelSpec) -> int:
    """DeepSeek-V3 multi-token-prediction modules (arXiv 2412.19437, section 2.2).

    Each module is two RMSNorms (``enorm``, ``hnorm``), a ``2H x H`` projection, one transformer
    layer like the model's last one, and a final norm; its embedding and output head are shared with
    the main model. The released checkpoint also stores copies of those shared matrices, which is
    why the Hub lists 685B for DeepSeek-V3; this count leaves the copies out.
    """
    if not spec.mtp_layers:
        return 0
    last = spec.main_stack.groups[-1]
    h = spec.hidden_size
    per_module = 3 * spec.norm.params(h) + linear_params(2 * h, h, bias=False) + layer_params(last, h, spec.norm)
    return spec.mtp_layers * per_module


def moe_stats(spec: ModelSpec) -> MoEStats | None:
    """Routed-expert totals across the model, or ``None`` for a dense model.

    The per-layer figures (experts, experts per token, params per expert) are the first MoE layer's;
    every released MoE model llmcalc knows has the same experts in all its MoE layers. The totals
    sum over the layers whatever they hold.
    """
    layers = [(g.count, g.moe) for s in spec.stacks for g in s.groups if g.moe is not None]
    if not layers:
        return None
    h = spec.hidden_size
    routed = inactive = 0
    for count, moe in layers:
        per_expert = mlp_params(moe.expert, moe.latent_size or h)
        # Zero-computation experts (LongCat-Flash): at most experts_per_token real experts run,
        # and the gate/up slices transformers allocates for the zero experts never do.
        unused = zero_expert_params(moe, h)
        routed += count * (moe.num_experts * per_expert + unused)
        inactive += count * ((moe.num_experts - min(moe.experts_per_token, moe.num_experts)) * per_expert + unused)
    first = layers[0][1]
    return MoEStats(
        moe_layers=sum(count for count, _ in layers),
        num_experts=first.num_experts,
        experts_per_token=first.experts_per_token,
        params_per_expert=mlp_params(first.expert, first.latent_size or h),
        routed_expert_params=routed,
        inactive_params=inactive,
    )


def count_params(spec: ModelSpec) -> ParamCounts:
    """Count a model's parameters exactly, by component; totals are sums of the parts."""
    from llmcalc.validate import require_spec

    require_spec(spec)
    h = spec.hidden_size
    d_embed = spec.embedding_dim or h
    sums = dict.fromkeys(COMPONENT_ORDER, 0)
    sums["token_embedding"] = token_embedding_params(spec)
    sums["token_type_embedding"] = spec.token_type_vocab_size * h
    sums["positional_embedding"] = positional_params(spec)
    if d_embed != h:  # OPT-350m: project_in and project_out, no bias
        sums["embedding_projection"] = 2 * linear_params(d_embed, h, bias=False)
    for stack in spec.stacks:
        first = stack.first_attention
        heads = first.num_heads if first is not None else 0
        sums["relative_position_bias"] += stack.relative_attention_buckets * heads
        if stack.final_norm:
            sums["norms"] += spec.norm.params(h)
        for group in stack.groups:
            for name, value in _layer_parts(group, h, spec.norm).items():
                sums[name] += group.count * value
    if spec.embedding_norm:
        sums["norms"] += spec.norm.params(h)
    if spec.pooler:
        sums["pooler"] = linear_params(h, h, bias=True)
    sums["lm_head"] = lm_head_params(spec)
    for extra in spec.extras:
        sums[extra.component] += extra.params
    tower_positions = 0
    for tower in spec.towers:
        sums[TOWER_COMPONENTS[tower.role]] += tower.params
        tower_positions += sum(v for name, v in tower.components if name == TOWER_POSITIONAL_TABLE)

    stats = moe_stats(spec)
    inactive = stats.inactive_params if stats else 0
    components = tuple(
        Component(
            name=name,
            params=value,
            active_params=value - (inactive if name == "routed_experts" else 0),
        )
        for name, value in sums.items()
        if value
    )
    total = sum(c.params for c in components)
    active = sum(c.active_params for c in components)
    embedding = sums["token_embedding"]
    return ParamCounts(
        model=spec.name,
        components=components,
        total_params=total,
        active_params=active,
        active_params_excluding_embedding=active - embedding,
        embedding_params=embedding,
        positional_params=sums["positional_embedding"] + tower_positions,
        lm_head_params=sums["lm_head"],
        non_embedding_params=total - embedding - sums["positional_embedding"] - tower_positions - sums["lm_head"],
        mtp_params=mtp_module_params(spec),
        moe=stats,
        vision_params=sums["vision_tower"],
        audio_params=sums["audio_tower"],
        projector_params=sums["projector"],
    )
