"""The model description: a validated, frozen, architecture-neutral spec of a transformer.

A :class:`ModelSpec` is what every formula in llmcalc takes. It is built from a Hugging Face
``config.json`` (or a preset, which holds the same fields) by
:func:`llmcalc.importers.hf.spec_from_hf_config`; that importer is where untrusted input is
checked. The dataclasses here check their own invariants in ``__post_init__`` so that a spec built
by hand in a script cannot be inconsistent either.

Shape: a model is an embedding, one or two *stacks* of layers (decoder, encoder, or both for
T5-style models) and an output head. A stack is a tuple of :class:`LayerGroup`, each a run of
``count`` identical layers; groups let one spec say "3 dense layers then 58 MoE layers"
(DeepSeek-V3) or "half the layers use a 4,096-token sliding window" (Gemma 2) without repeating
itself. Order inside a stack does not matter to any formula in llmcalc.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from llmcalc.errors import SpecError, shown

if TYPE_CHECKING:
    from llmcalc.mixers.base import Mixer

NormKind = Literal["rmsnorm", "layernorm", "none"]
NormPlacement = Literal["pre", "post", "sandwich", "parallel", "parallel-shared", "single", "none"]
QKNorm = Literal["none", "head", "all-heads", "weightless"]
PositionalKind = Literal["learned", "rotary", "alibi", "relative", "none"]
LMHead = Literal["tied", "untied", "none"]
StackRole = Literal["decoder", "encoder"]
TowerRole = Literal["vision", "audio", "projector"]
TilingKind = Literal["llava_next", "idefics3", "internvl", "llama4"]
ExtraModuleKind = Literal["linear", "embedding"]

#: Norm modules per layer for each placement, before any cross-attention norm.
#: pre: one before attention, one before the MLP (Llama, GPT-2). post: one after each (BERT,
#: OLMo 2). sandwich: both (Gemma 2/3). parallel: attention and MLP read the same input through
#: two norms (GPT-NeoX, Falcon-40B). parallel-shared: one norm feeds both (GPT-J, Phi-2, Cohere,
#: Falcon-7B). single: one norm before the layer's only block (Mamba, Nemotron-H). none: no norm
#: of hidden size in the layer (norms a mixer keeps inside itself are its own weights).
NORMS_PER_LAYER: dict[str, int] = {
    "pre": 2,
    "post": 2,
    "sandwich": 4,
    "parallel": 2,
    "parallel-shared": 1,
    "single": 1,
    "none": 0,
}


#: No dimension of a real model comes near this; a spec past it is refused (bounded work everywhere).
MAX_DIMENSION = 1 << 40
#: Layers in one stack: no real model has 10^5 (tensor lists and GGUF mixes walk every layer).
MAX_LAYERS = 100_000


def _positive(value: object, name: str, limit: int = MAX_DIMENSION) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise SpecError(f"{name} must be a positive integer, got {shown(value)}")
    if value > limit:
        raise SpecError(f"{name} is {shown(value)}, more than any model has (at most {limit:,})")


def _non_negative(value: object, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise SpecError(f"{name} must be a non-negative integer, got {shown(value)}")
    if value > MAX_DIMENSION:
        raise SpecError(f"{name} is {shown(value)}, more than any model has (at most {MAX_DIMENSION:,})")


@dataclass(frozen=True, slots=True)
class Norm:
    """The normalisation used throughout a model.

    ``kind`` is ``rmsnorm`` (a weight per channel), ``layernorm`` (weight, and a bias when
    ``bias``) or ``none`` (no learned parameters, e.g. OLMo-1's non-parametric LayerNorm).
    """

    kind: NormKind = "rmsnorm"
    bias: bool = False

    def __post_init__(self) -> None:
        if self.kind not in ("rmsnorm", "layernorm", "none"):
            raise SpecError(f"norm kind must be rmsnorm, layernorm or none, got {self.kind!r}")
        if self.bias and self.kind != "layernorm":
            raise SpecError("only a layernorm can have a bias")

    def params(self, dim: int) -> int:
        """Learned parameters of one norm over ``dim`` channels."""
        if self.kind == "none":
            return 0
        return dim * (2 if self.bias else 1)


@dataclass(frozen=True, slots=True)
class MLA:
    """DeepSeek's Multi-head Latent Attention (DeepSeek-V2 paper, arXiv 2405.04434, section 2.1).

    ``q_lora_rank`` is ``None`` when queries are projected directly (DeepSeek-V2-Lite).
    The KV cache of an engine that caches the latent holds ``kv_lora_rank + qk_rope_head_dim``
    values per token and layer. ``hf_caches_latent``: transformers' implementation caches the latent
    too (Kimi Linear's ``KimiLinearAttention`` updates the cache with ``kv_nope`` and ``k_rot``).
    """

    kv_lora_rank: int
    qk_nope_head_dim: int
    qk_rope_head_dim: int
    v_head_dim: int
    q_lora_rank: int | None = None
    hf_caches_latent: bool = False

    def __post_init__(self) -> None:
        _positive(self.kv_lora_rank, "kv_lora_rank")
        _non_negative(self.qk_nope_head_dim, "qk_nope_head_dim")
        _positive(self.qk_rope_head_dim, "qk_rope_head_dim")
        _positive(self.v_head_dim, "v_head_dim")
        if self.q_lora_rank is not None:
            _positive(self.q_lora_rank, "q_lora_rank")


@dataclass(frozen=True, slots=True)
class Indexer:
    """DeepSeek-V3.2's DSA lightning indexer (DeepSeek-V3.2-Exp report, section 2.1;
    ``DeepseekV32Indexer`` in transformers ``modeling_deepseek_v32.py``).

    It scores past tokens with ``num_heads`` small query heads of ``head_dim`` (projected from the
    MLA query latent of ``q_input_dim``) against one shared key of ``head_dim`` per token, and keeps
    the ``topk`` best for the attention. Its keys are cached beside the KV cache.
    """

    num_heads: int
    head_dim: int
    q_input_dim: int
    topk: int

    def __post_init__(self) -> None:
        _positive(self.num_heads, "index_n_heads")
        _positive(self.head_dim, "index_head_dim")
        _positive(self.q_input_dim, "q_lora_rank")
        _positive(self.topk, "index_topk")


@dataclass(frozen=True, slots=True)
class Attention:
    """One attention block (self- or cross-attention).

    ``head_dim`` is the query/key head width and ``v_head_dim`` the value head width; they differ
    only for MLA. With MLA, ``num_kv_heads`` equals ``num_heads`` (keys and values are expanded
    per head from the latent) and ``head_dim = qk_nope_head_dim + qk_rope_head_dim``.
    ``sliding_window`` caps what this layer attends to (and so what it must cache).
    ``sinks`` adds one learned logit per head (gpt-oss). ``qk_norm`` is ``head`` for one norm of
    ``head_dim`` shared by all heads (Qwen3, Gemma 3), ``all-heads`` for a norm over every head's
    channels (OLMo 2, OLMoE, StableLM, Cohere), ``weightless`` for an L2 norm with no parameters
    (Llama 4). ``qk_norm_type`` overrides the model's norm for the q/k norms (StableLM's per-head
    norms are LayerNorms without bias in a model whose other LayerNorms have one).
    ``k_bias`` overrides ``qkv_bias`` for the key projection (Whisper's ``k_proj`` has no bias).
    ``indexer`` is a sparse-attention indexer (DeepSeek-V3.2). ``o_input_dim`` overrides the width
    the output projection reads (Helium's ``o_proj`` is ``hidden x hidden`` whatever ``head_dim``).
    ``output_gate``: the query projection also yields a sigmoid gate per output channel, doubling
    q's width (Qwen3-Next, ``Qwen3NextAttention`` in ``modeling_qwen3_next.py``).
    ``kv_shared``: the layer reuses an earlier layer's keys and values (Gemma 3n's last
    ``num_kv_shared_layers``): no k/v projections or k norm, and no cache of its own.
    """

    num_heads: int
    num_kv_heads: int
    head_dim: int
    v_head_dim: int
    qkv_bias: bool = False
    o_bias: bool = False
    qk_norm: QKNorm = "none"
    sliding_window: int | None = None
    sinks: bool = False
    mla: MLA | None = None
    qk_norm_type: Norm | None = None
    indexer: Indexer | None = None
    o_input_dim: int | None = None
    k_bias: bool | None = None
    output_gate: bool = False
    kv_shared: bool = False

    def __post_init__(self) -> None:
        _positive(self.num_heads, "num_attention_heads")
        if self.o_input_dim is not None:
            _positive(self.o_input_dim, "o_proj input width")
        _positive(self.num_kv_heads, "num_key_value_heads")
        _positive(self.head_dim, "head_dim")
        _positive(self.v_head_dim, "v_head_dim")
        if self.num_heads % self.num_kv_heads:
            raise SpecError(
                f"num_attention_heads ({self.num_heads}) must be a multiple of "
                f"num_key_value_heads ({self.num_kv_heads})"
            )
        if self.sliding_window is not None:
            _positive(self.sliding_window, "sliding_window")
        if self.qk_norm not in ("none", "head", "all-heads", "weightless"):
            raise SpecError(f"qk_norm must be none, head, all-heads or weightless, got {self.qk_norm!r}")
        if self.mla is not None:
            if self.head_dim != self.mla.qk_nope_head_dim + self.mla.qk_rope_head_dim:
                raise SpecError("with MLA, head_dim must equal qk_nope_head_dim + qk_rope_head_dim")
            if self.v_head_dim != self.mla.v_head_dim:
                raise SpecError("with MLA, v_head_dim must equal the MLA v_head_dim")

    @property
    def gqa_group(self) -> int:
        """Query heads per KV head: 1 for MHA, ``num_heads`` for MQA."""
        return self.num_heads // self.num_kv_heads


@dataclass(frozen=True, slots=True)
class MLP:
    """A feed-forward block: gated (SwiGLU/GeGLU: gate, up, down) or plain (up, down).

    ``activation_params`` counts learned scalars of the activation itself (Apertus's xIELU keeps
    ``alpha_p`` and ``alpha_n``: 2 per MLP, ``XIELUActivation`` in transformers ``activations.py``).
    """

    intermediate_size: int
    gated: bool = True
    bias: bool = False
    activation_params: int = 0

    def __post_init__(self) -> None:
        _positive(self.intermediate_size, "intermediate_size")
        _non_negative(self.activation_params, "activation parameters")

    @property
    def matrices(self) -> int:
        """Weight matrices in the block: 3 when gated, 2 when plain."""
        return 3 if self.gated else 2


@dataclass(frozen=True, slots=True)
class MoE:
    """A Mixture-of-Experts feed-forward block.

    ``expert`` is one routed expert; ``shared_expert`` is the always-on expert FFN (all of a
    model's shared experts as one block, as DeepSeek and Qwen implement them), with an optional
    sigmoid gate of ``hidden x 1`` (Qwen-MoE). ``router_bias`` is a learned router bias
    (gpt-oss; ERNIE 4.5 keeps its ``e_score_correction_bias`` of one value per expert as a
    parameter, counted here); DeepSeek-V3's ``e_score_correction_bias`` is a buffer, not a
    parameter. ``zero_experts`` are LongCat-Flash's zero-computation (identity) experts: the router
    scores ``num_experts + zero_experts`` choices, and a token sent to one computes nothing.
    ``latent_size``: the routed experts read and write a latent of this width instead of the
    hidden size (Nemotron-H ``moe_latent_size``; the ``H x L`` and ``L x H`` projections around
    them are the layer's extras).
    """

    num_experts: int
    experts_per_token: int
    expert: MLP
    shared_expert: MLP | None = None
    shared_expert_gate: bool = False
    router_bias: bool = False
    zero_experts: int = 0
    latent_size: int | None = None

    def __post_init__(self) -> None:
        _positive(self.num_experts, "num_experts")
        _non_negative(self.zero_experts, "zero_expert_num")
        _positive(self.experts_per_token, "num_experts_per_tok")
        if self.experts_per_token > self.num_experts + self.zero_experts:
            raise SpecError(
                f"num_experts_per_tok ({self.experts_per_token}) exceeds the number of experts "
                f"({self.num_experts + self.zero_experts})"
            )
        if self.shared_expert_gate and self.shared_expert is None:
            raise SpecError("a shared-expert gate needs a shared expert")


@dataclass(frozen=True, slots=True)
class ExtraWeight:
    """A stored weight outside the standard blocks, with the component it is counted in.

    For architectures whose extra parts have no block of their own here (Gemma 3n's per-layer
    inputs, AltUp and Laurel). ``name`` is a GGUF-style tensor name (without ``blk.N.`` inside a
    layer), ``shape`` lists ``ne[0]`` first, ``component`` is a :mod:`llmcalc.params` component.
    ``module`` is the PyTorch module holding the weight when LoRA could wrap it, as transformers
    names it: inside the layer for a layer's extra (``laurel.linear_left``), beside the layer list
    for a model's (``altup_projections.0``); ``module_kind`` says what it is (a Linear's ``shape``
    is ``(in, out)``, an Embedding's ``(width, rows)``). ``""``: a bare parameter or a norm.
    """

    name: str
    component: str
    shape: tuple[int, ...]
    module: str = ""
    module_kind: ExtraModuleKind = "linear"

    def __post_init__(self) -> None:
        if not self.shape:
            raise SpecError(f"extra weight {self.name} needs a shape")
        if self.module and len(self.shape) != 2:
            raise SpecError(f"extra weight {self.name}: a {self.module_kind} module's weight is 2-D")
        for dim in self.shape:
            _positive(dim, f"{self.name} dimension")

    @property
    def params(self) -> int:
        out = 1
        for dim in self.shape:
            out *= dim
        return out


@dataclass(frozen=True, slots=True)
class LayerGroup:
    """``count`` identical layers.

    A layer has one token mixer: ``attention`` (as in every transformer) or ``mixer`` (a
    state-space, linear-attention, recurrent or convolution block from :mod:`llmcalc.mixers`),
    and at most one channel mixer: a dense ``mlp`` or an ``moe`` block. Hybrid models (Jamba,
    Nemotron-H, Qwen3-Next) are stacks of groups of different mixers; a Mamba or Nemotron-H
    layer may have no MLP at all, and a Nemotron-H MLP layer no token mixer. A parallel hybrid
    (Falcon-H1: attention and a Mamba-2 mixer side by side in every layer) has both. ``gate_params``
    are learned scalars outside the blocks (Mllama's cross-attention layers gate their attention
    and MLP outputs with one ``tanh`` gate each). ``extras`` are per-layer weights outside the
    blocks (Gemma 3n's AltUp, Laurel and per-layer-input projections).
    """

    count: int
    attention: Attention | None
    mlp: MLP | None = None
    moe: MoE | None = None
    cross_attention: Attention | None = None
    norm_placement: NormPlacement = "pre"
    mixer: Mixer | None = None
    extras: tuple[ExtraWeight, ...] = ()
    gate_params: int = 0
    #: the attention's weights are stored once elsewhere (Zamba2's shared transformer blocks, in
    #: ``ModelSpec.extras``): this layer caches K and V but adds no attention parameters
    shared_attention: bool = False

    def __post_init__(self) -> None:
        _positive(self.count, "layer count", MAX_LAYERS)
        if self.mlp is not None and self.moe is not None:
            raise SpecError("a layer has at most one of a dense MLP or an MoE block")
        if self.attention is None and self.mixer is None and self.mlp is None and self.moe is None:
            raise SpecError("a layer needs a token mixer or a feed-forward block")
        if self.norm_placement not in NORMS_PER_LAYER:
            raise SpecError(f"unknown norm placement {self.norm_placement!r}")

    @property
    def norms(self) -> int:
        """Hidden-size norm modules in one layer (cross-attention adds one)."""
        return NORMS_PER_LAYER[self.norm_placement] + (self.cross_attention is not None)


@dataclass(frozen=True, slots=True)
class Stack:
    """A decoder or encoder: layer groups, an optional final norm, T5's relative-position bias.

    ``relative_attention_buckets`` is the number of buckets of T5's learned relative-position
    bias, stored once per stack (in its first layer) with one value per bucket and head.
    """

    role: StackRole
    groups: tuple[LayerGroup, ...]
    final_norm: bool = True
    relative_attention_buckets: int = 0

    def __post_init__(self) -> None:
        if not self.groups:
            raise SpecError(f"the {self.role} has no layers")
        if sum(g.count for g in self.groups) > MAX_LAYERS:
            raise SpecError(f"the {self.role} has more than {MAX_LAYERS:,} layers; no real model has")
        _non_negative(self.relative_attention_buckets, "relative_attention_num_buckets")

    @property
    def num_layers(self) -> int:
        return sum(g.count for g in self.groups)

    @property
    def first_attention(self) -> Attention | None:
        """The first attention block in the stack (``None`` for an attention-free model)."""
        return next((g.attention for g in self.groups if g.attention is not None), None)


@dataclass(frozen=True, slots=True)
class RopeScaling:
    """Rotary scaling as the config states it (``rope_scaling``); ``factor`` may be 1."""

    rope_type: str
    factor: float
    original_max_position_embeddings: int | None = None


@dataclass(frozen=True, slots=True)
class Positional:
    """How positions are encoded.

    ``learned``: a table of ``table_rows x hidden`` parameters; ``table_rows`` is
    ``max_position_embeddings + offset`` (OPT reserves ``offset = 2`` rows).
    ``rotary``: no parameters; ``rotary_dim`` is how many channels of each head rotate.
    ``alibi`` (BLOOM) and ``relative`` (T5 buckets, counted in :class:`Stack`) have no table.
    """

    kind: PositionalKind
    max_position_embeddings: int | None = None
    offset: int = 0
    rope_theta: float | None = None
    rotary_dim: int | None = None
    rope_scaling: RopeScaling | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("learned", "rotary", "alibi", "relative", "none"):
            raise SpecError(f"unknown positional encoding {self.kind!r}")
        if self.max_position_embeddings is not None:
            _positive(self.max_position_embeddings, "max_position_embeddings")
        _non_negative(self.offset, "position offset")
        if self.kind == "learned" and self.max_position_embeddings is None:
            raise SpecError("a learned position table needs max_position_embeddings")

    @property
    def table_rows(self) -> int:
        """Rows of the learned position table (0 for every other kind)."""
        if self.kind != "learned" or self.max_position_embeddings is None:
            return 0
        return self.max_position_embeddings + self.offset


@dataclass(frozen=True, slots=True)
class ImageTokens:
    """How many context tokens an image adds, from the model's processor settings.

    ``fixed`` tokens per image (Gemma 3's 256, LLaVA-1.5's 576), or dynamic patching
    (Qwen2-VL style): the image is resized to multiples of ``patch_size x merge_size`` within
    ``[min_pixels, max_pixels]`` and yields ``(h / patch) x (w / patch) / merge_size^2`` tokens.
    ``extra`` counts the start/end marker tokens around each image; ``row_break`` adds one token per
    row of merged patches (Pixtral's ``[IMG_BREAK]``), where ``max_pixels`` bounds the longest edge
    squared. ``cross_attention_tokens`` are what each image puts in the cross-attention layers'
    cache instead (Mllama: ``max_num_tiles x ((S / P)^2 + 1)`` vision tokens).
    ``tiling`` names a processor that cuts the image into ``tile_size`` tiles
    (:mod:`llmcalc.image_tiling`); ``fixed`` is then the tokens per tile (LLaVA-NeXT: of the base
    tile, with ``patch_size``), ``min_tiles``/``max_tiles`` bound the grid (InternVL, Llama 4),
    ``longest_edge`` is Idefics3's resize target and ``grid_pinpoints`` LLaVA-NeXT's canvases
    ``(height, width)``.
    """

    fixed: int | None = None
    patch_size: int | None = None
    merge_size: int = 1
    min_pixels: int | None = None
    max_pixels: int | None = None
    extra: int = 0
    row_break: bool = False
    cross_attention_tokens: int = 0
    tiling: TilingKind | None = None
    tile_size: int = 0
    min_tiles: int = 1
    max_tiles: int = 0
    longest_edge: int = 0
    grid_pinpoints: tuple[tuple[int, int], ...] = ()


TowerModuleKind = Literal["linear", "conv", "embedding"]


@dataclass(frozen=True, slots=True)
class TowerModule:
    """One weight-bearing leaf module of a tower, named as transformers names it below the tower's root.

    ``path`` may hold ``{i}`` for a layer index (``encoder.layers.{i}.self_attn.q_proj``), standing
    for ``count`` instances numbered from 0. ``kind`` is ``nn.Linear`` (``linear``), ``nn.Conv{1,2,3}d``
    (``conv``: ``in_features`` is input channels x kernel elements, as LoRA's conv adapter reads it)
    or ``nn.Embedding`` (``embedding``: ``in_features`` rows of ``out_features``). What LoRA can wrap
    and PEFT's ``all-linear`` reaches (:mod:`llmcalc.train.modules`).
    """

    path: str
    kind: TowerModuleKind
    in_features: int
    out_features: int
    bias: bool = False
    count: int = 1


@dataclass(frozen=True, slots=True)
class Tower:
    """An encoder tower or projector of a multimodal checkpoint (vision, audio) or its projector.

    ``components`` are the tower's own named parts, ``(name, params)`` in order, computed by the
    pure per-kind formulas of :mod:`llmcalc.towers`; ``params`` is their sum. ``kind`` names the
    architecture (``siglip``, ``clip``, ``qwen2_vl``, ``whisper_encoder``, ...); ``hidden_size``
    and ``num_layers`` are shown in the breakdown; ``image_tokens`` describes what one image
    costs in context (vision towers).
    """

    role: TowerRole
    kind: str
    components: tuple[tuple[str, int], ...]
    hidden_size: int = 0
    num_layers: int = 0
    image_tokens: ImageTokens | None = None
    #: Where the checkpoint class keeps the tower (``model.vision_tower``), its leaf modules below
    #: that root, and its parameters whose names end in ``.bias`` (norms' and convolutions' too):
    #: what PEFT's target matching, ``all-linear`` and ``bias="all"`` see. Empty when not known.
    root: str = ""
    modules: tuple[TowerModule, ...] = ()
    bias_params: int = 0

    def __post_init__(self) -> None:
        if self.role not in ("vision", "audio", "projector"):
            raise SpecError(f"a tower's role is vision, audio or projector, got {self.role!r}")
        for name, value in self.components:
            _non_negative(value, f"{self.kind} {name} parameters")

    @property
    def params(self) -> int:
        return sum(value for _, value in self.components)


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """A transformer, as llmcalc's formulas see it.

    Fields use Hugging Face config.json names where one exists. ``embedding_dim`` differs from
    ``hidden_size`` only for OPT-350m style models that project embeddings in and out.
    ``token_type_vocab_size``, ``embedding_norm`` and ``pooler`` describe BERT-style encoders
    (BLOOM also normalises its embeddings). ``mtp_layers`` counts DeepSeek-V3 multi-token-
    prediction modules, which are reported outside the total. ``extras`` are model-level weights
    outside the blocks (Gemma 3n's per-layer embedding table and AltUp projections). ``towers`` are a multimodal
    checkpoint's encoder towers and projector (their parameters are part of the total; the rest
    is the language model). ``embedding_extra_rows`` are token-embedding rows beyond
    ``vocab_size`` that the output head does not have (Mllama's ``vocab_size + 8``). ``assumptions`` lists what the
    importer had to assume (a config of an unknown model_type, a missing optional field); the CLI
    prints each as a warning.
    """

    name: str
    model_type: str
    vocab_size: int
    hidden_size: int
    stacks: tuple[Stack, ...]
    positional: Positional
    norm: Norm = field(default_factory=Norm)
    lm_head: LMHead = "untied"
    lm_head_bias: bool = False
    embedding_dim: int | None = None
    embedding_norm: bool = False
    token_type_vocab_size: int = 0
    pooler: bool = False
    mtp_layers: int = 0
    torch_dtype: str | None = None
    assumptions: tuple[str, ...] = ()
    towers: tuple[Tower, ...] = ()
    extras: tuple[ExtraWeight, ...] = ()
    embedding_extra_rows: int = 0

    def __post_init__(self) -> None:
        _positive(self.vocab_size, "vocab_size")
        _positive(self.hidden_size, "hidden_size")
        if self.embedding_dim is not None:
            _positive(self.embedding_dim, "word_embed_proj_dim")
        _non_negative(self.token_type_vocab_size, "type_vocab_size")
        _non_negative(self.mtp_layers, "num_nextn_predict_layers")
        if not self.stacks:
            raise SpecError("a model needs at least one stack of layers")
        roles = [s.role for s in self.stacks]
        if len(set(roles)) != len(roles):
            raise SpecError("a model has at most one encoder and one decoder")
        if self.lm_head not in ("tied", "untied", "none"):
            raise SpecError(f"lm_head must be tied, untied or none, got {self.lm_head!r}")

    # Convenience views used by rendering, memory formulas and users' scripts.

    @property
    def decoder(self) -> Stack | None:
        return next((s for s in self.stacks if s.role == "decoder"), None)

    @property
    def encoder(self) -> Stack | None:
        return next((s for s in self.stacks if s.role == "encoder"), None)

    @property
    def main_stack(self) -> Stack:
        """The decoder when there is one (what generation runs), else the encoder."""
        return self.decoder or self.stacks[0]

    @property
    def num_hidden_layers(self) -> int:
        return self.main_stack.num_layers

    @property
    def first_attention(self) -> Attention | None:
        """The main stack's first attention block (``None`` for an attention-free model)."""
        return self.main_stack.first_attention

    @property
    def num_attention_heads(self) -> int:
        """Query heads of the first attention layer (0 for an attention-free model)."""
        attn = self.first_attention
        return attn.num_heads if attn else 0

    @property
    def num_key_value_heads(self) -> int:
        attn = self.first_attention
        return attn.num_kv_heads if attn else 0

    @property
    def head_dim(self) -> int:
        attn = self.first_attention
        return attn.head_dim if attn else 0

    @property
    def has_state(self) -> bool:
        """True when some layer keeps a per-sequence state (a non-attention mixer)."""
        return any(g.mixer is not None for s in self.stacks for g in s.groups)

    @property
    def is_moe(self) -> bool:
        return any(g.moe is not None for s in self.stacks for g in s.groups)

    @property
    def architecture(self) -> str:
        """``decoder``, ``encoder`` or ``encoder-decoder``."""
        if self.encoder and self.decoder:
            return "encoder-decoder"
        return self.stacks[0].role

    @property
    def max_context(self) -> int | None:
        """The trained maximum context (max_position_embeddings), when known."""
        return self.positional.max_position_embeddings
