"""Gemma 3n, the multimodal checkpoint (``gemma3n``: ``Gemma3nForConditionalGeneration``).

Conventions as in :mod:`llmcalc.importers.hf.multimodal`; reference: transformers 5.24
``models/gemma3n/modeling_gemma3n.py`` (``Gemma3nModel``: ``vision_tower``, ``language_model``,
``audio_tower``, ``embed_vision``, ``embed_audio``) with the defaults of ``configuration_gemma3n.py``.
The language model is :func:`llmcalc.importers.hf.gemma3n.gemma3n_text` over ``text_config``; the
vision tower is timm's MobileNetV5 (:mod:`llmcalc.towers.mobilenetv5`, built by ``TimmWrapperModel``
from ``vision_config.architecture`` and ``model_args``); the audio tower the USM Conformer
(:mod:`llmcalc.towers.usm_conformer`); ``embed_vision`` and ``embed_audio`` (each a small embedding
table of the modality's hard tokens, norms and a projection into the text width) are the projectors.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from llmcalc.importers.hf.fields import Fields
from llmcalc.importers.hf.multimodal_common import Nested, assemble, outer_tie, sub, text_spec, with_image_tokens
from llmcalc.spec import ImageTokens, ModelSpec, Tower
from llmcalc.towers import mobilenetv5, projectors, usm_conformer
from llmcalc.towers.base import at

#: Gemma3nAudioConfig's sub-sampling defaults (channels, kernels, strides).
SSCP_DEFAULTS: dict[str, Any] = {
    "sscp_conv_channel_size": [128, 32],
    "sscp_conv_kernel_size": [[3, 3], [3, 3]],
    "sscp_conv_stride_size": [[2, 2], [2, 2]],
}


def _ints(f: Fields, key: str, shape: tuple[int, ...]) -> Any:
    """``f[key]`` as nested positive ints of ``shape`` (``(2,)``: two ints; ``(2, 2)``: two pairs)."""
    value = f.data.get(key, SSCP_DEFAULTS[key])

    def ok(v: Any, dims: tuple[int, ...]) -> bool:
        if not dims:
            return isinstance(v, int) and not isinstance(v, bool) and v > 0
        return isinstance(v, (list, tuple)) and len(v) == dims[0] and all(ok(x, dims[1:]) for x in v)

    if not ok(value, shape):
        f.errors.append(f"field '{key}' must be {' x '.join(map(str, shape))} positive integers, got {value!r}")
        value = SSCP_DEFAULTS[key]
    return tuple(tuple(x) if isinstance(x, (list, tuple)) else x for x in value)


def _vision(v: Nested) -> Tower:
    """The MobileNetV5 tower from ``architecture`` and ``model_args``."""
    arch = v.string("architecture", default="mobilenetv5_300m_enc")
    if arch not in mobilenetv5.ARCHITECTURES:
        v.errors.append(
            f"field 'architecture' names timm model '{arch}'; llmcalc reads {', '.join(mobilenetv5.ARCHITECTURES)}"
        )
        arch = "mobilenetv5_300m_enc"
    raw = v.data.get("model_args") or {}
    if not isinstance(raw, Mapping):
        v.errors.append(f"field 'model_args' must be a mapping, got {type(raw).__name__}")
        raw = {}
    unknown = sorted(set(raw) - mobilenetv5.MODEL_ARGS - mobilenetv5.PARAMETER_FREE_ARGS)
    if unknown:
        v.errors.append(f"field 'model_args' sets {', '.join(unknown)}, which llmcalc does not model for MobileNetV5")
    args = Fields({k: val for k, val in raw.items() if val is not None}, v.source)  # timm drops None values
    args.errors = v.errors
    fix = args.data.get("fix_stem")
    indices = args.data.get("msfa_indices", (-2, -1))
    if not (isinstance(indices, (list, tuple)) and indices and all(isinstance(i, int) for i in indices)):
        v.errors.append(f"field 'model_args.msfa_indices' must be a list of integers, got {indices!r}")
        indices = (-2, -1)
    stages = len(mobilenetv5.ARCHITECTURES[arch]) + 1
    if any(not -stages <= i < stages for i in indices):
        v.errors.append(f"field 'model_args.msfa_indices' must index the {stages} feature levels, got {indices!r}")
        indices = (-2, -1)
    return mobilenetv5.mobilenetv5(
        architecture=arch,
        channel_multiplier=args.number("channel_multiplier", default=1.0) or 0.0,
        group_size=args.integer("group_size", minimum=0) if "group_size" in args.data else None,
        in_chans=args.integer("in_chans", default=3),
        stem_size=args.integer("stem_size", default=64),
        stem_bias=args.boolean("stem_bias", default=True),
        fix_stem=bool(fix) if isinstance(fix, bool) else None,
        msfa_indices=tuple(indices),
    )


def _audio(a: Nested) -> Tower:
    """The USM Conformer from ``audio_config``."""
    channels = _ints(a, "sscp_conv_channel_size", (2,))
    kernels = _ints(a, "sscp_conv_kernel_size", (2, 2))
    strides = _ints(a, "sscp_conv_stride_size", (2, 2))
    return usm_conformer.usm_conformer(
        hidden_size=a.integer("hidden_size", default=1536),
        num_layers=a.integer("conf_num_hidden_layers", default=12),
        num_heads=a.integer("conf_num_attention_heads", default=8),
        input_feat_size=a.integer("input_feat_size", default=128),
        conv_kernel_size=a.integer("conf_conv_kernel_size", default=5),
        channels=channels,
        kernels=kernels,
        strides=strides,
    )


def gemma3n(f: Fields, name: str, mt: str) -> ModelSpec:
    """Gemma 3n (``Gemma3nForConditionalGeneration``): the Gemma 3n text model, the MobileNetV5
    vision tower, the USM audio tower and the two multimodal embedders.

    Images: ``vision_soft_tokens_per_image`` (default 256) tokens plus the begin/end-of-image
    markers, whatever the size (the processor resizes to 768 x 768); audio: ``audio_soft_tokens_per_image``
    (default 188) plus two markers per clip of up to 30 s. The head ties by the top-level
    ``tie_word_embeddings`` (default true).
    """
    spec, t = text_spec(f, name, default_type="gemma3n_text")
    text_width = spec.hidden_size
    v = sub(f, "vision_config")
    vision = _vision(v)
    per_image = f.integer("vision_soft_tokens_per_image", default=256)
    vision = with_image_tokens(vision, ImageTokens(fixed=per_image, extra=2))
    a = sub(f, "audio_config")
    audio = _audio(a)
    # a fixed cost per clip: audio_soft_tokens_per_image plus the begin/end-of-audio markers (llmcalc.media)
    per_clip = f.integer("audio_soft_tokens_per_image", default=188)
    audio = with_image_tokens(audio, ImageTokens(fixed=per_clip, extra=2))
    embed_vision = projectors.gemma3n_embedder(
        v.integer("hidden_size", default=2048),
        text_width,
        vocab=v.integer("vocab_size", default=128),
        kind="gemma3n_embed_vision",
    )
    embed_audio = projectors.gemma3n_embedder(
        a.integer("hidden_size", default=1536),
        text_width,
        vocab=a.integer("vocab_size", default=128),
        kind="gemma3n_embed_audio",
    )
    v.check()
    a.check()
    tie = outer_tie(f, t, default=True, text_forwards=False)
    towers = [
        at(vision, "model.vision_tower"),
        at(audio, "model.audio_tower"),
        at(embed_vision, "model.embed_vision"),
        at(embed_audio, "model.embed_audio"),
    ]
    return assemble(f, spec, towers, model_type=mt, tie=tie)
