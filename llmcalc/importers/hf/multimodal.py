"""Multimodal checkpoints: a language model read from ``text_config`` plus encoder towers and a projector.

One builder per ``model_type``; each reads ``text_config`` through the matching text builder (the
language model's own figures), reads ``vision_config`` into a tower from :mod:`llmcalc.towers`, and
sets the output head as the checkpoint class ties it (the top-level ``tie_word_embeddings``, with
each family's default; LLaVA, Qwen2-VL, Qwen2.5-VL and GLM-4V also honour a ``text_config`` value,
as their ``configuration_*.py`` do). The total is what ``*ForConditionalGeneration`` builds in
Hugging Face transformers 5.24; defaults are those of ``models/<type>/configuration_<type>.py``.
Processor settings that decide how many tokens an image costs (``ImageTokens``) are the defaults of
the family's image processor (``image_processing_<type>.py``) unless the config says otherwise.
"""

from __future__ import annotations

from dataclasses import replace

from llmcalc.importers.hf.fields import Fields
from llmcalc.importers.hf.multimodal_common import (
    Nested,
    assemble,
    feature_layers,
    outer_tie,
    qwen_tokens,
    size2,
    sub,
    text_spec,
    with_image_tokens,
)
from llmcalc.spec import ImageTokens, ModelSpec, Tower
from llmcalc.towers import clip, internvit, pixtral, projectors, qwen_vl, siglip
from llmcalc.towers.base import at, lin, with_modules

# --- families ---------------------------------------------------------------------------------


def gemma3(f: Fields, name: str, mt: str) -> ModelSpec:
    """Gemma 3 (``Gemma3ForConditionalGeneration``): SigLIP tower, RMSNorm + matrix projector.

    ``mm_tokens_per_image`` (default 256) tokens per image, plus the begin/end-of-image markers.
    """
    spec, t = text_spec(f, name, default_type="gemma3_text")
    v = sub(f, "vision_config")
    vh = v.integer("hidden_size", default=768)  # SiglipVisionConfig default
    vision = siglip.siglip_vision(
        hidden_size=vh,
        intermediate_size=v.integer("intermediate_size", default=3072),
        num_layers=v.integer("num_hidden_layers", default=12),
        patch_size=v.integer("patch_size", default=16),
        image_size=size2(v, "image_size", 224),
        num_channels=v.integer("num_channels", default=3),
        use_head=v.boolean("vision_use_head", default=True),
    )
    per_image = f.integer("mm_tokens_per_image", default=256)
    vision = with_image_tokens(vision, ImageTokens(fixed=per_image, extra=2))
    projector = projectors.gemma3_projector(vh, spec.hidden_size)
    v.check()
    tie = outer_tie(f, t, default=True, text_forwards=False)
    return assemble(f, spec, [at(vision, "model.vision_tower"), at(projector, "model.multi_modal_projector")],
                    model_type=mt, tie=tie)


#: CLIP tower defaults: LlavaConfig's for an absent vision_config, CLIPVisionConfig's for gaps in one.
CLIP_LLAVA = {
    "hidden_size": 1024,
    "intermediate_size": 4096,
    "num_hidden_layers": 24,
    "patch_size": 14,
    "image_size": 336,
}
CLIP_BASE = {
    "hidden_size": 768,
    "intermediate_size": 3072,
    "num_hidden_layers": 12,
    "patch_size": 32,
    "image_size": 224,
}


def vision_side(v: Nested) -> int:
    """Patches per side of LLaVA's CLIP tower, with the same defaults as :func:`_llava_tower`."""
    d = CLIP_BASE if v.present else CLIP_LLAVA
    return v.integer("image_size", default=d["image_size"]) // v.integer("patch_size", default=d["patch_size"])


def _llava_tower(v: Nested) -> Tower:
    """LLaVA's ``vision_config``: a CLIP tower (the default) or a SigLIP one (``siglip_vision_model``)."""
    kind = v.string("model_type", default="clip_vision_model")
    if kind == "siglip_vision_model":
        return siglip.siglip_vision(
            hidden_size=v.integer("hidden_size", default=768),
            intermediate_size=v.integer("intermediate_size", default=3072),
            num_layers=v.integer("num_hidden_layers", default=12),
            patch_size=v.integer("patch_size", default=16),
            image_size=size2(v, "image_size", 224),
            num_channels=v.integer("num_channels", default=3),
            use_head=v.boolean("vision_use_head", default=True),
        )
    if kind != "clip_vision_model":
        v.errors.append(
            f"field 'model_type' names vision tower '{kind}'; llmcalc reads clip_vision_model and siglip_vision_model"
        )
    # An absent vision_config gets LLaVA-1.5's CLIP ViT-L/14-336 (LlavaConfig's init_kwargs); a given
    # one fills its gaps from CLIPVisionConfig (ViT-B/32 at 224 px).
    d = CLIP_BASE if v.present else CLIP_LLAVA
    return clip.clip_vision(
        hidden_size=v.integer("hidden_size", default=d["hidden_size"]),
        intermediate_size=v.integer("intermediate_size", default=d["intermediate_size"]),
        num_layers=v.integer("num_hidden_layers", default=d["num_hidden_layers"]),
        patch_size=v.integer("patch_size", default=d["patch_size"]),
        image_size=v.integer("image_size", default=d["image_size"]),
        num_channels=v.integer("num_channels", default=3),
    )


def llava(f: Fields, name: str, mt: str) -> ModelSpec:
    """LLaVA-1.5 (``LlavaForConditionalGeneration``) and LLaVA-NeXT (``LlavaNextForConditionalGeneration``):
    a CLIP tower and a two-layer MLP projector; LLaVA-NeXT adds a learned ``image_newline`` vector
    of the text width (counted with the projector).

    LLaVA-1.5: ``(S / P)^2`` tokens per image (576 at 336 px / 14), one more with
    ``vision_feature_select_strategy: full``. LLaVA-NeXT: that base tile plus the any-resolution
    grid over ``image_grid_pinpoints`` (LlavaNextConfig's default five canvases) of ``S``-pixel
    tiles, unpadded, with a newline token per row (:func:`llmcalc.image_tiling.llava_next_tokens`).
    """
    spec, t = text_spec(f, name, default_type="llama")
    v = sub(f, "vision_config")
    vision = _llava_tower(v)
    side = vision_side(v)
    if side == 0:  # CLIPVisionEmbeddings would have no patch at all
        v.errors.append("field 'image_size' is smaller than 'patch_size': the tower would see no patch")
        side = 1
    full = f.string("vision_feature_select_strategy", default="default") == "full"
    if mt == "llava_next":
        d = CLIP_BASE if v.present else CLIP_LLAVA
        v_size = v.integer("image_size", default=d["image_size"])
        pinpoints = _pinpoints(f)
        if any(h < v_size or w < v_size for h, w in pinpoints):  # a canvas must hold at least one tile
            f.errors.append(f"field 'image_grid_pinpoints' has a canvas smaller than the vision tower's "
                            f"image_size {v_size}")
            pinpoints = LLAVA_NEXT_PINPOINTS
        tokens = ImageTokens(
            fixed=side * side + int(full),
            patch_size=v.integer("patch_size", default=d["patch_size"]),
            tiling="llava_next",
            tile_size=v_size,
            grid_pinpoints=pinpoints,
        )
    else:
        tokens = ImageTokens(fixed=side * side + int(full))
    vision = with_image_tokens(vision, tokens)
    projector = projectors.mlp2_projector(
        vision.hidden_size * feature_layers(f),
        spec.hidden_size,
        bias=f.boolean("multimodal_projector_bias", default=True),
        kind="llava_next" if mt == "llava_next" else "llava",
    )
    if mt == "llava_next":
        projector = replace(projector, components=(*projector.components, ("image_newline", spec.hidden_size)))
    v.check()
    tie = outer_tie(f, t, default=False, text_forwards=mt == "llava")
    towers = [at(vision, "model.vision_tower"), at(projector, "model.multi_modal_projector")]
    return assemble(f, spec, towers, model_type=mt, tie=tie)


#: LlavaNextConfig's default ``image_grid_pinpoints`` (``configuration_llava_next.py``), (height, width).
LLAVA_NEXT_PINPOINTS = ((336, 672), (672, 336), (672, 672), (1008, 336), (336, 1008))


def _pinpoints(f: Fields) -> tuple[tuple[int, int], ...]:
    """``image_grid_pinpoints``: a list of ``[height, width]`` pairs of positive integers."""
    raw = f.data.get("image_grid_pinpoints")
    if raw is None:
        return LLAVA_NEXT_PINPOINTS
    def pair(p: object) -> bool:
        return isinstance(p, list) and len(p) == 2 and all(type(x) is int and x > 0 for x in p)

    if isinstance(raw, list) and raw and all(pair(p) for p in raw):
        return tuple((int(p[0]), int(p[1])) for p in raw)
    f.errors.append(f"field 'image_grid_pinpoints' must be a list of [height, width] pairs, got {raw!r}")
    return LLAVA_NEXT_PINPOINTS


def qwen2_vl(f: Fields, name: str, mt: str) -> ModelSpec:
    """Qwen2-VL and Qwen2.5-VL (``Qwen2VLForConditionalGeneration``, ``Qwen2_5_VLForConditionalGeneration``).

    The text model is Qwen2's (q/k/v biases); configs saved before transformers v5 keep its fields
    at the top level, which is read when ``text_config`` is absent. Images: smart resize to
    multiples of ``patch x merge`` (28) within 56 x 56 and 28 x 28 x 1280 pixels
    (``Qwen2VLImageProcessor`` defaults ``min_pixels`` 3,136, ``max_pixels`` 1,003,520), one token per
    ``28 x 28`` block, plus the vision start/end markers.
    """
    # Qwen2VLTextAttention / Qwen2_5_VLTextAttention: head_dim = hidden_size // num_attention_heads.
    spec, t = text_spec(f, name, default_type=f"{mt}_text", flat=True, ignored=("head_dim",))
    v = sub(f, "vision_config", required=False)
    patch = v.integer("patch_size", default=14)
    merge = v.integer("spatial_merge_size", default=2)
    common = {
        "patch_size": patch,
        "temporal_patch_size": v.integer("temporal_patch_size", default=2),
        "spatial_merge_size": merge,
        "in_channels": v.integer("in_channels", default=3),
    }
    if mt == "qwen2_vl":
        vision, projector = qwen_vl.qwen2_vl_vision(
            embed_dim=v.integer("embed_dim", default=1280),
            depth=v.integer("depth", default=32),
            mlp_ratio=v.number("mlp_ratio", default=4.0) or 4.0,
            out_hidden_size=v.integer("hidden_size", default=3584),
            **common,
        )
    else:
        vision, projector = qwen_vl.qwen2_5_vl_vision(
            hidden_size=v.integer("hidden_size", default=3584),
            depth=v.integer("depth", default=32),
            intermediate_size=v.integer("intermediate_size", default=3420),
            out_hidden_size=v.integer("out_hidden_size", default=3584),
            **common,
        )
    vision = with_image_tokens(vision, qwen_tokens(patch, merge, 56 * 56, 28 * 28 * 1280))
    v.check()
    tie = outer_tie(f, t, default=False, text_forwards=True)
    # the merger is a child of the vision model (model.visual.merger): both rooted at model.visual
    return assemble(f, spec, [at(vision, "model.visual"), at(projector, "model.visual")], model_type=mt, tie=tie)


def qwen3_vl(f: Fields, name: str, mt: str) -> ModelSpec:
    """Qwen3-VL dense and MoE (``Qwen3VLForConditionalGeneration``, ``Qwen3VLMoeForConditionalGeneration``).

    Images: smart resize to multiples of ``patch x merge`` (32) within ``Qwen2VLImageProcessor``'s
    limits as Qwen3-VL's ``preprocessor_config.json`` sets them (``shortest_edge`` 65,536,
    ``longest_edge`` 16,777,216 pixels), one token per ``32 x 32`` block, plus start/end markers.
    """
    spec, t = text_spec(f, name, default_type=f"{mt}_text")
    v = sub(f, "vision_config")
    patch = v.integer("patch_size", default=16)
    merge = v.integer("spatial_merge_size", default=2)
    indexes = v.data.get("deepstack_visual_indexes", [8, 16, 24])
    vision, projector = qwen_vl.qwen3_vl_vision(
        hidden_size=v.integer("hidden_size", default=1152),
        depth=v.integer("depth", default=27),
        intermediate_size=v.integer("intermediate_size", default=4304),
        out_hidden_size=v.integer("out_hidden_size", default=3584),
        patch_size=patch,
        temporal_patch_size=v.integer("temporal_patch_size", default=2),
        spatial_merge_size=merge,
        num_position_embeddings=v.integer("num_position_embeddings", default=2304),
        deepstack_layers=len(indexes) if isinstance(indexes, list) else 0,
        in_channels=v.integer("in_channels", default=3),
    )
    vision = with_image_tokens(vision, qwen_tokens(patch, merge, 65_536, 16_777_216))
    v.check()
    tie = outer_tie(f, t, default=False, text_forwards=False)
    # the mergers are children of the vision model (model.visual.merger, .deepstack_merger_list)
    return assemble(f, spec, [at(vision, "model.visual"), at(projector, "model.visual")], model_type=mt, tie=tie)


def mistral3(f: Fields, name: str, mt: str) -> ModelSpec:
    """Mistral 3 (``Mistral3ForConditionalGeneration``: Mistral Small 3.1/3.2, Devstral Small 2,
    Ministral 3): a Pixtral tower and the Mistral 3 projector with its 2 x 2 patch merger.

    Tokens per image: one per ``(P m) x (P m)`` block (28 x 28 at P = 14, m = 2) plus one
    ``[IMG_BREAK]`` per row and an ``[IMG_END]``, the image resized to fit ``image_size`` (longest edge).
    """
    spec, t = text_spec(f, name, default_type="mistral")
    v = sub(f, "vision_config")
    patch = v.integer("patch_size", default=16)
    merge = f.integer("spatial_merge_size", default=2)
    vision = pixtral.pixtral_vision(
        hidden_size=v.integer("hidden_size", default=1024),
        intermediate_size=v.integer("intermediate_size", default=4096),
        num_layers=v.integer("num_hidden_layers", default=24),
        patch_size=patch,
        num_channels=v.integer("num_channels", default=3),
    )
    longest = v.integer("image_size", default=1024)
    vision = with_image_tokens(
        vision, ImageTokens(patch_size=patch, merge_size=merge, max_pixels=longest * longest, row_break=True)
    )
    projector = projectors.mistral3_projector(
        vision.hidden_size,
        spec.hidden_size,
        merge=merge,
        feature_layers=feature_layers(f),
        bias=f.boolean("multimodal_projector_bias", default=False),
    )
    v.check()
    tie = outer_tie(f, t, default=True, text_forwards=False)
    towers = [at(vision, "model.vision_tower"), at(projector, "model.multi_modal_projector")]
    return assemble(f, spec, towers, model_type=mt, tie=tie)


def internvl(f: Fields, name: str, mt: str) -> ModelSpec:
    """InternVL 2.5 / 3 (``InternVLForConditionalGeneration``): InternViT, pixel shuffle, MLP projector.

    ``image_seq_length`` (default 256) tokens per tile of the tower's ``image_size`` (448) plus
    ``<img>``/``</img>``; dynamic tiling into 1 to 12 tiles and a thumbnail
    (:func:`llmcalc.image_tiling.internvl_tokens`, GotOcr2ImageProcessor's ``min_patches`` /
    ``max_patches`` defaults).
    """
    spec, t = text_spec(f, name, default_type="qwen2")
    v = sub(f, "vision_config")
    vision = internvit.internvit_vision(
        hidden_size=v.integer("hidden_size", default=1024),
        intermediate_size=v.integer("intermediate_size", default=4096),
        num_layers=v.integer("num_hidden_layers", default=24),
        patch_size=size2(v, "patch_size", (14, 14)),
        image_size=size2(v, "image_size", (448, 448)),
        attention_bias=v.boolean("attention_bias", default=False),
        use_qk_norm=v.boolean("use_qk_norm", default=False),
        rms_norm=v.string("norm_type", default="layer_norm") == "rms_norm",
        use_mask_token=v.boolean("use_mask_token", default=False),
        absolute_positions=v.boolean("use_absolute_position_embeddings", default=True),
        mean_pooling=v.boolean("use_mean_pooling", default=True),
        num_channels=v.integer("num_channels", default=3),
    )
    tile = size2(v, "image_size", (448, 448))[0]
    vision = with_image_tokens(
        vision,
        ImageTokens(
            fixed=f.integer("image_seq_length", default=256),
            tiling="internvl",
            tile_size=tile,
            min_tiles=1,
            max_tiles=12,
        ),
    )
    ratio = f.number("downsample_ratio", default=0.5) or 0.5
    projector = projectors.internvl_projector(vision.hidden_size, spec.hidden_size, downsample_ratio=ratio)
    v.check()
    tie = outer_tie(f, t, default=True, text_forwards=False)
    towers = [at(vision, "model.vision_tower"), at(projector, "model.multi_modal_projector")]
    return assemble(f, spec, towers, model_type=mt, tie=tie)


def idefics3(f: Fields, name: str, mt: str) -> ModelSpec:
    """Idefics3 and SmolVLM (``Idefics3ForConditionalGeneration``, ``SmolVLMForConditionalGeneration``):
    a SigLIP tower without head, a pixel-shuffle connector.

    ``(S / P)^2 / s^2`` tokens per image tile (``scale_factor`` s; 64 for SmolVLM's 512 px / 16 / 4,
    169 for Idefics3's 364 px / 14 / 2). Images are split into tiles of the tower's ``image_size``
    after their longest edge is resized to four tiles (the image processors' ``size`` default,
    ``4 * 364`` over a ``max_image_size`` of 364, as every released preprocessor_config.json has
    it), plus the global image (:func:`llmcalc.image_tiling.idefics3_tokens`).
    """
    spec, t = text_spec(f, name, default_type="llama")
    v = sub(f, "vision_config")
    smol = mt == "smolvlm"
    vh = v.integer("hidden_size", default=1152)
    patch = v.integer("patch_size", default=32)
    image = v.integer("image_size", default=224)
    vision = siglip.siglip_vision(
        hidden_size=vh,
        intermediate_size=v.integer("intermediate_size", default=3072),
        num_layers=v.integer("num_hidden_layers", default=12),
        patch_size=patch,
        image_size=(image, image),
        num_channels=v.integer("num_channels", default=3),
        kind="smolvlm_vision" if smol else "idefics3_vision",
    )
    scale = f.integer("scale_factor", default=2)
    vision = with_image_tokens(
        vision,
        ImageTokens(
            fixed=(image // patch) ** 2 // (scale * scale),
            tiling="idefics3",
            tile_size=image,
            longest_edge=4 * image,
        ),
    )
    projector = projectors.linear_projector(vh * scale * scale, spec.hidden_size, bias=False, kind=f"{mt}_connector")
    v.check()
    tie = outer_tie(f, t, default=False, text_forwards=False)
    # the connector's one Linear is model.connector.modality_projection.proj; the text model is
    # model.text_model (llmcalc.train.names, family idefics3)
    towers = [at(vision, "model.vision_model"), at(projector, "model.connector.modality_projection.proj")]
    return assemble(f, spec, towers, model_type=mt, tie=tie)


def phi4_multimodal(f: Fields, name: str, mt: str) -> ModelSpec:
    """Phi-4-multimodal (``Phi4MultimodalForCausalLM``): the Phi-3-style text model from the top level,
    a SigLIP vision tower with its pooling head (built though unused) and two learned separator
    vectors, the Conformer audio encoder, and the projectors (``img_projection_up/down``,
    ``up/down_proj_for_speech`` and ``up/down_proj_for_vision_speech``, all with biases).

    transformers 5.24 builds no LoRA adapters; the released checkpoint stores its vision and speech
    LoRA weights beside the base ones (loaded through PEFT), so its files hold more parameters than
    this count, which follows transformers.
    """
    from llmcalc.towers import conformer

    spec, t = text_spec(f, name, default_type="phi4_multimodal_text", flat=True)
    text = spec.hidden_size
    v = sub(f, "vision_config", required=False)
    vh = v.integer("hidden_size", default=1152)
    image = v.integer("image_size", default=448)
    patch = v.integer("patch_size", default=14)
    vision = siglip.siglip_vision(
        hidden_size=vh,
        intermediate_size=v.integer("intermediate_size", default=4304),
        num_layers=v.integer("num_hidden_layers", default=27),
        patch_size=patch,
        image_size=(image, image),
        num_channels=v.integer("num_channels", default=3),
        use_head=True,
        kind="phi4mm_siglip",
    )
    vision = replace(vision, components=(*vision.components, ("feature_separators", 2 * vh)))
    side = image // patch
    vision = with_image_tokens(vision, ImageTokens(fixed=((side + side % 2) // 2) ** 2))
    a = sub(f, "audio_config", required=False)
    ah = a.integer("hidden_size", default=1024)
    audio = conformer.phi4mm_audio(
        hidden_size=ah,
        intermediate_size=a.integer("intermediate_size", default=1536),
        num_blocks=a.integer("num_blocks", default=24),
        input_size=a.integer("input_size", default=80),
        time_reduction=a.integer("time_reduction", default=8),
        nemo_conv_channels=a.integer("nemo_conv_channels", default=1024),
        ext_pw_out_channel=a.integer("ext_pw_out_channel", default=1024),
        depthwise_separable_out_channel=a.integer("depthwise_separable_out_channel", default=1024),
        depthwise_multiplier=a.integer("depthwise_multiplier", default=1),
        kernel_size=a.integer("kernel_size", default=3),
        bias_max_distance=a.integer("bias_max_distance", default=1000),
        bias_symmetric=a.boolean("bias_symmetric", default=False),
        num_attention_heads=a.integer("num_attention_heads", default=16),
    )
    speech_in = ah * a.integer("downsample_rate", default=1)
    projector = projectors.linear_projector(vh, text, bias=True, kind="phi4mm")
    mlp2 = 2 * (speech_in * text + text + text * text + text)
    projector = replace(
        projector,
        components=(
            ("image_projection", projector.params + text * text + text),
            ("speech_projection", mlp2),
        ),
    )
    # the projectors' Linears sit in model.embed_tokens_extend (Phi4MultimodalImageEmbedding /
    # Phi4MultimodalAudioEmbedding), around the towers; the text model is model.layers (names: phi3's)
    projector = with_modules(projector, [
        lin("image_embed.img_projection_up", vh, text), lin("image_embed.img_projection_down", text, text),
        *(lin(f"audio_embed.{x}_proj_for_{y}", n_in, text) for y in ("speech", "vision_speech")
          for x, n_in in (("up", speech_in), ("down", text))),
    ])
    v.check()
    a.check()
    tie = f.boolean("tie_word_embeddings", default=False)
    towers = [at(vision, "model.embed_tokens_extend.image_embed.img_processor"),
              at(audio, "model.embed_tokens_extend.audio_embed.encoder"), at(projector, "model.embed_tokens_extend")]
    return assemble(f, spec, towers, model_type=mt, tie=tie)
