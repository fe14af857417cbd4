"""Multimodal checkpoints of Meta and Zhipu: Llama 4 with vision, Llama 3.2 Vision (Mllama), GLM-4V and
GLM-4.5V. Conventions as in :mod:`llmcalc.importers.hf.multimodal`; reference: transformers 5.24
``models/<type>/modeling_<type>.py`` with the defaults of ``configuration_<type>.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from llmcalc.errors import SpecError
from llmcalc.importers.hf.common import llama_like, simple_moe
from llmcalc.importers.hf.fields import Fields
from llmcalc.importers.hf.multimodal_common import (
    assemble,
    outer_tie,
    qwen_tokens,
    sub,
    with_image_tokens,
    with_text_defaults,
)
from llmcalc.spec import MLP, Attention, ImageTokens, LayerGroup, ModelSpec
from llmcalc.towers import glm4v as glm4v_tower
from llmcalc.towers import llama4_vision, mllama_vision, projectors
from llmcalc.towers.base import at


def llama4(f: Fields, name: str, mt: str) -> ModelSpec:
    """Llama 4 with its vision tower (``Llama4ForConditionalGeneration``); ``llama4_text`` is the text
    model alone. The head ties as ``text_config`` says (the text model is its own ``Llama4ForCausalLM``).

    Tokens per tile of the tower's ``image_size`` (336 in the releases): ``(S / P)^2 x
    pixel_shuffle_ratio^2`` (144); up to 16 tiles (Llama4ImageProcessor's ``max_patches``), a global
    tile and separators (:func:`llmcalc.image_tiling.llama4_tokens`).
    """
    from llmcalc.importers.hf.moe import llama4 as llama4_text

    raw = f.data.get("text_config")
    if isinstance(raw, Mapping):  # Llama4TextConfig's defaults for what text_config leaves out
        g = Fields({**f.data, "text_config": with_text_defaults(raw, "llama4_text")}, f.source)
        g.errors, g.assumptions = f.errors, f.assumptions
        f = g
    spec = llama4_text(f, name, "llama4")
    if f.data.get("vision_config") is None:
        # A text-only copy of a Llama 4 config (the llama-4-scout-text preset): the text model alone.
        f.assumptions.append("no vision_config: the Llama 4 vision tower and projector are not counted")
        return replace(spec, assumptions=tuple(dict.fromkeys(f.assumptions)))
    v = sub(f, "vision_config")
    patch = v.integer("patch_size", default=14)
    image = v.integer("image_size", default=448)
    vision = llama4_vision.llama4_vision(
        hidden_size=v.integer("hidden_size", default=768),
        intermediate_size=v.integer("intermediate_size", default=5632),
        num_layers=v.integer("num_hidden_layers", default=34),
        patch_size=patch,
        image_size=image,
        projector_input_dim=v.integer("projector_input_dim", default=4096),
        projector_output_dim=v.integer("projector_output_dim", default=4096),
        num_channels=v.integer("num_channels", default=3),
    )
    ratio = v.number("pixel_shuffle_ratio", default=0.5) or 0.5
    if not 0 < ratio <= 1:  # a shuffle ratio merges patches: above 1 there is nothing to merge
        v.errors.append(f"field 'pixel_shuffle_ratio' must be in (0, 1], got {ratio!r}")
        ratio = 0.5
    per_tile = (image // patch) ** 2 // round(1 / (ratio * ratio))  # Llama4Processor's downsample_ratio
    vision = with_image_tokens(
        vision, ImageTokens(fixed=per_tile, tiling="llama4", tile_size=image, max_tiles=16)
    )
    projector = projectors.linear_projector(
        v.integer("vision_output_dim", default=7680), spec.hidden_size, bias=False, kind="llama4"
    )
    v.check()
    # Llama4ForConditionalGeneration keeps vision_model, multi_modal_projector (its one Linear is
    # linear_1) and language_model (a Llama4ForCausalLM) at the top level
    towers = [at(vision, "vision_model"), at(projector, "multi_modal_projector.linear_1")]
    return assemble(f, spec, towers, model_type=mt, tie=spec.lm_head == "tied")


def glm4v_text(f: Fields, name: str, mt: str) -> ModelSpec:
    """GLM-4V's text model (``Glm4vTextModel``): q/k/v biases, no o bias, four RMSNorms per layer."""
    return llama_like(
        f,
        name,
        mt,
        qkv_bias_key=None,
        qkv_bias_default=True,
        o_bias_follows_qkv=False,
        placement="sandwich",
        sliding=False,
    )


def glm4v_moe_text(f: Fields, name: str, mt: str) -> ModelSpec:
    """GLM-4.5V's text model (``Glm4vMoeTextModel``): GLM-4.5's MoE decoder, ``first_k_dense_replace``
    dense layers first, ``n_shared_experts`` x ``moe_intermediate_size`` shared expert, q/k/v bias
    (``attention_bias``), optional per-head q/k norms (``use_qk_norm``)."""
    shared = f.integer("n_shared_experts", default=1, minimum=0)
    inter = f.integer("moe_intermediate_size", default=1408)
    moe = simple_moe(
        f, "n_routed_experts", "moe_intermediate_size", shared_expert=MLP(shared * inter) if shared else None
    )
    dense = f.integer("first_k_dense_replace", default=1, minimum=0)
    return llama_like(
        f,
        name,
        mt,
        qkv_bias_key="attention_bias",
        o_bias_follows_qkv=False,
        qk_norm="head" if f.boolean("use_qk_norm", default=False) else "none",
        sliding=False,
        moe_at=lambda i: moe if i >= dense else None,
    )


def glm4v(f: Fields, name: str, mt: str) -> ModelSpec:
    """GLM-4.1V / GLM-4.5V (``Glm4vForConditionalGeneration``, ``Glm4vMoeForConditionalGeneration``).

    Images: Qwen2-VL-style smart resize to multiples of ``patch x merge`` (28) within 112 x 112 and
    28 x 28 x 15,000 pixels (``Glm4vImageProcessor`` defaults), one token per ``28 x 28`` block. GLM's
    ``smart_resize`` counts an image as ``temporal_patch_size`` (2) frames against those limits, so
    the per-image limits recorded are half of them.
    """
    raw = f.data.get("text_config")
    if not isinstance(raw, Mapping):
        if raw is not None:
            raise SpecError(f"{f.source}: field 'text_config' must be a mapping for a {mt} config")
        f.assumptions.append(f"no 'text_config': the language model takes {mt}_text's defaults, as transformers does")
        raw = {}
    data = with_text_defaults(raw, f"{mt}_text")
    if mt == "glm4v":  # Glm4vTextAttention: head_dim = hidden_size // num_attention_heads
        data.pop("head_dim", None)
    t = Fields(data, f"{f.source} (text_config)")
    t.assumptions = f.assumptions
    spec = (glm4v_moe_text if mt == "glm4v_moe" else glm4v_text)(t, name, f"{mt}_text")
    v = sub(f, "vision_config")
    patch = v.integer("patch_size", default=14)
    merge = v.integer("spatial_merge_size", default=2)
    vision, projector = glm4v_tower.glm4v_vision(
        hidden_size=v.integer("hidden_size", default=1536),
        depth=v.integer("depth", default=24),
        intermediate_size=v.integer("intermediate_size", default=13696),
        out_hidden_size=v.integer("out_hidden_size", default=4096),
        patch_size=patch,
        temporal_patch_size=v.integer("temporal_patch_size", default=2),
        image_size=v.integer("image_size", default=336),
        spatial_merge_size=merge,
        attention_bias=v.boolean("attention_bias", default=False),
        in_channels=v.integer("in_channels", default=3),
    )
    vision = with_image_tokens(vision, qwen_tokens(patch, merge, 112 * 112 // 2, 28 * 28 * 15_000 // 2))
    v.check()
    tie = outer_tie(f, t, default=False, text_forwards=True)
    # both live in the vision model (downsample and merger are its children): rooted at model.visual
    return assemble(f, spec, [at(vision, "model.visual"), at(projector, "model.visual")], model_type=mt, tie=tie)


def mllama(f: Fields, name: str, mt: str) -> ModelSpec:
    """Llama 3.2 Vision (``MllamaForConditionalGeneration``).

    The text model (``MllamaTextModel``) has ``vocab_size + 8`` embedding rows, and the layers listed
    in ``cross_attention_layers`` are gated cross-attention layers instead of self-attention ones
    (q/k/v/o, per-head q/k RMSNorms, two scalar gates, the MLP and two norms): language-model
    parameters, as transformers places them. Tokens per image: the text holds one ``<|image|>``
    token; the cross-attention layers cache ``max_num_tiles x ((S / P)^2 + 1)`` vision tokens.
    """
    t = sub(f, "text_config")
    hidden = t.integer("hidden_size", default=4096)
    heads = t.integer("num_attention_heads", default=32)
    kv = t.integer("num_key_value_heads", default=8)
    cross = set(t.int_list("cross_attention_layers") or [3, 8, 13, 18, 23, 28, 33, 38])
    data = dict(t.data)
    data.setdefault("vocab_size", 128256)
    data.setdefault("num_hidden_layers", 40)
    data.setdefault("intermediate_size", 14336)
    data.pop("head_dim", None)  # MllamaTextSelfAttention uses hidden_size // num_attention_heads
    g = Fields(
        {**data, "hidden_size": hidden, "num_attention_heads": heads, "num_key_value_heads": kv},
        f"{f.source} (text_config)",
    )
    g.assumptions = f.assumptions
    inter = g.integer("intermediate_size")
    t.check()
    head_dim = hidden // heads
    cross_layer = LayerGroup(
        count=1,
        attention=None,
        cross_attention=Attention(
            num_heads=heads, num_kv_heads=kv, head_dim=head_dim, v_head_dim=head_dim, qk_norm="head"
        ),
        mlp=MLP(inter),
        norm_placement="single",
        gate_params=2,
    )
    base = llama_like(g, name, mt, qkv_bias_key=None, sliding=False, tie_default=False)
    n = g.integer("num_hidden_layers")
    self_group = base.main_stack.groups[0]
    n_cross = len([i for i in range(n) if i in cross])
    groups = tuple(
        x
        for x in (
            replace(self_group, count=n - n_cross) if n - n_cross else None,
            replace(cross_layer, count=n_cross) if n_cross else None,
        )
        if x is not None
    )
    spec = replace(base, stacks=(replace(base.main_stack, groups=groups),), embedding_extra_rows=8)
    v = sub(f, "vision_config")
    ratios = v.data.get("supported_aspect_ratios") or [[1, 1], [1, 2], [1, 3], [1, 4], [2, 1], [2, 2], [3, 1], [4, 1]]
    vision = mllama_vision.mllama_vision(
        hidden_size=v.integer("hidden_size", default=1280),
        intermediate_size=v.integer("intermediate_size", default=5120),
        num_layers=v.integer("num_hidden_layers", default=32),
        num_global_layers=v.integer("num_global_layers", default=8),
        patch_size=v.integer("patch_size", default=14),
        image_size=v.integer("image_size", default=448),
        max_num_tiles=v.integer("max_num_tiles", default=4),
        max_aspect_ratio_id=len(ratios) if isinstance(ratios, list) else 8,
        num_channels=v.integer("num_channels", default=3),
    )
    patches = (v.integer("image_size", default=448) // v.integer("patch_size", default=14)) ** 2 + 1
    cross_tokens = v.integer("max_num_tiles", default=4) * patches  # every tile slot, used or not (measured)
    vision = with_image_tokens(vision, ImageTokens(fixed=1, cross_attention_tokens=cross_tokens))
    projector = projectors.linear_projector(
        v.integer("vision_output_dim", default=7680), hidden, bias=True, kind="mllama"
    )
    v.check()
    # Never tied, whatever tie_word_embeddings says: the embedding has vocab_size + 8 rows and the head
    # vocab_size, so transformers cannot tie them (measured).
    f.boolean("tie_word_embeddings", default=False)
    # the projector is itself a Linear (model.multi_modal_projector)
    towers = [at(vision, "model.vision_model"), at(projector, "model.multi_modal_projector")]
    return assemble(f, spec, towers, model_type=mt, tie=False)
