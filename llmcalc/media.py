"""Images and audio in the context: how many tokens each adds, from the model's processor settings.

Pure functions: a spec (its vision tower's :class:`~llmcalc.spec.ImageTokens`, its audio tower's
kind) and image sizes or audio seconds in, token counts out. The processor settings are recorded by
the importer (:mod:`llmcalc.importers.hf.multimodal`) from each family's image processor defaults
(Hugging Face transformers 5.24 ``image_processing_<type>.py`` / ``processing_<type>.py``) and the
released ``preprocessor_config.json`` values where they differ (Qwen3-VL's pixel limits).

Rules:

- **fixed**: a fixed number per image whatever its size (Gemma 3: ``mm_tokens_per_image`` = 256
  plus the begin/end-of-image markers; LLaVA-1.5: 576), plus ``extra`` marker tokens.
- **tiled** (LLaVA-NeXT's any-resolution grid, Idefics3/SmolVLM's image splitting, InternVL's
  dynamic tiles, Llama 4's tiles): the image is cut into tiles of the tower's size as the family's
  processor does, each with its tokens and separators, plus a global or thumbnail tile
  (:mod:`llmcalc.image_tiling`, one function per rule).
- **dynamic** (Qwen2-VL, Qwen2.5-VL, Qwen3-VL, GLM-4V): ``smart_resize`` (``qwen2_vl/
  image_processing_qwen2_vl.py``) rounds height and width to multiples of ``f = patch x merge``,
  scales them into ``[min_pixels, max_pixels]`` keeping the aspect ratio, and the image costs
  ``(h / f) x (w / f)`` tokens plus the vision start/end markers.
- **Pixtral** (Mistral 3): the image is shrunk so that its longest edge fits ``image_size``, then
  covered by ``ceil(h / f) x ceil(w / f)`` blocks of ``f = patch x merge``; each row ends with an
  ``[IMG_BREAK]`` (the last with ``[IMG_END]``): ``rows x (cols + 1)`` tokens
  (``pixtral/image_processing_pixtral.py``, ``pixtral/processing_pixtral.py``).
- **audio**: Whisper's encoder turns 30 s windows of 100 mel frames per second into 1,500 frames (50
  per second, conv stride 2); Whisper's decoder reads them through cross-attention, so they are not
  decoder context. Qwen2-Audio pools them once more (25 tokens per second, ``Qwen2AudioEncoder``'s
  ``avg_pooler``) and puts them into the language model's context. Phi-4-multimodal's Conformer
  compresses 100 mel frames per second eightfold (``audio_compression_rate`` 8 of
  ``Phi4MultimodalFeatureExtractor``, ``time_reduction`` 8): 12.5 tokens per second. Gemma 3n's
  audio tower gives a fixed ``audio_soft_tokens_per_image`` (188) tokens per clip plus the
  begin/end-of-audio markers, its feature extractor cutting a clip at 30 s (``max_length`` 480,000
  samples of ``Gemma3nAudioFeatureExtractor``; ``processing_gemma3n.py``): one clip per request.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from llmcalc import image_tiling
from llmcalc.errors import LLMCalcError
from llmcalc.spec import ImageTokens, ModelSpec

#: The image size ``--images N`` assumes for models whose cost depends on the size.
DEFAULT_IMAGE_SIZE = (1024, 1024)

#: Context tokens per second of audio, by audio tower kind (module docstring).
AUDIO_TOKENS_PER_SECOND = {"qwen2_audio_encoder": 25, "phi4mm_conformer": 12.5}
#: Encoder frames per second of audio (Whisper-style encoders: 1,500 per 30 s window).
AUDIO_FRAMES_PER_SECOND = {"whisper_encoder": 50, "qwen2_audio_encoder": 50}


class MediaError(ValueError, LLMCalcError):
    """An image or audio request the model cannot take (no vision tower, a bad size)."""


@dataclass(frozen=True, slots=True)
class MediaTokens:
    """What the images and audio of one request add to a sequence's context."""

    image_tokens: int
    audio_tokens: int
    images: tuple[tuple[int, int, int], ...]  # (width, height, tokens) per image
    audio_seconds: float
    notes: tuple[str, ...] = ()
    #: what the images put in the cross-attention layers' cache instead (Mllama), per sequence
    cross_attention_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.image_tokens + self.audio_tokens


def smart_resize(height: int, width: int, *, factor: int, min_pixels: int, max_pixels: int) -> tuple[int, int]:
    """Qwen2-VL's ``smart_resize``: ``(h, w)`` multiples of ``factor`` within the pixel limits.

    ``round`` to the nearest multiple; if the area passes ``max_pixels``, scale by
    ``beta = sqrt(h w / max_pixels)`` and floor; if under ``min_pixels``, scale up and ceil
    (``qwen2_vl/image_processing_qwen2_vl.py``). Python's ``round`` (half to even) as there.
    """
    if min(height, width) <= 0:
        raise MediaError(f"an image must have a positive size, got {width}x{height}")
    if max(height, width) / min(height, width) > 200:
        raise MediaError(
            f"image {width}x{height}: the aspect ratio must be under 200 (Qwen2-VL's processor refuses it)"
        )
    h_bar = round(height / factor) * factor
    w_bar = round(width / factor) * factor
    if h_bar * w_bar > max_pixels:
        beta = math.sqrt(height * width / max_pixels)
        h_bar = max(factor, math.floor(height / beta / factor) * factor)
        w_bar = max(factor, math.floor(width / beta / factor) * factor)
    elif h_bar * w_bar < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h_bar = math.ceil(height * beta / factor) * factor
        w_bar = math.ceil(width * beta / factor) * factor
    return h_bar, w_bar


def image_tokens(rule: ImageTokens, *, width: int, height: int) -> int:
    """Context tokens one ``width x height`` image costs under ``rule`` (module docstring)."""
    if width <= 0 or height <= 0:
        raise MediaError(f"an image must have a positive size, got {width}x{height}")
    if rule.tiling is not None:
        return tiled_image_tokens(rule, width=width, height=height)
    if rule.fixed is not None:
        return rule.fixed + rule.extra
    if rule.patch_size is None:
        raise MediaError("this vision tower records no image-token rule")
    factor = rule.patch_size * rule.merge_size
    if rule.row_break:
        longest = math.isqrt(rule.max_pixels) if rule.max_pixels else max(width, height)
        ratio = max(height / longest, width / longest)
        h, w = (math.floor(height / ratio), math.floor(width / ratio)) if ratio > 1 else (height, width)
        rows, cols = (h - 1) // factor + 1, (w - 1) // factor + 1
        return rows * (cols + 1) + rule.extra
    h_bar, w_bar = smart_resize(
        height,
        width,
        factor=factor,
        min_pixels=rule.min_pixels or factor * factor,
        max_pixels=rule.max_pixels or 1 << 62,
    )
    return (h_bar // factor) * (w_bar // factor) + rule.extra


def tiled_image_tokens(rule: ImageTokens, *, width: int, height: int) -> int:
    """Context tokens of one image under a tiling ``rule``, markers included (:mod:`llmcalc.image_tiling`)."""
    size = {"width": width, "height": height, "tile_size": rule.tile_size}
    per_tile = rule.fixed or 0
    if rule.tiling == "llava_next":
        patch = rule.patch_size or 1
        return image_tiling.llava_next_tokens(
            **size, patch_size=patch, grid_pinpoints=rule.grid_pinpoints, base_tokens=per_tile
        )
    if rule.tiling == "idefics3":
        return image_tiling.idefics3_tokens(**size, longest_edge=rule.longest_edge, tile_tokens=per_tile)
    if rule.tiling == "internvl":
        return image_tiling.internvl_tokens(
            **size, min_tiles=rule.min_tiles, max_tiles=rule.max_tiles, tile_tokens=per_tile
        )
    return image_tiling.llama4_tokens(**size, max_tiles=rule.max_tiles, tile_tokens=per_tile)


def media_tokens(
    spec: ModelSpec,
    *,
    image_sizes: Sequence[tuple[int, int]] = (),
    images: int = 0,
    audio_seconds: float = 0.0,
) -> MediaTokens:
    """Tokens that ``image_sizes`` (``(width, height)`` each), ``images`` more images of the default
    size and ``audio_seconds`` of audio add to one sequence of ``spec``."""
    notes: list[str] = []
    per_image: list[tuple[int, int, int]] = []
    if image_sizes or images:
        vision = next((t for t in spec.towers if t.role == "vision"), None)
        if vision is None or vision.image_tokens is None:
            raise MediaError(f"{spec.name} has no vision tower: --image/--images need a multimodal model")
        rule = vision.image_tokens
        sizes = [*image_sizes, *([DEFAULT_IMAGE_SIZE] * images)]
        per_image = [(w, h, image_tokens(rule, width=w, height=h)) for w, h in sizes]
        if images and (rule.fixed is None or rule.tiling is not None):
            notes.append(
                f"--images assumes {DEFAULT_IMAGE_SIZE[0]}x{DEFAULT_IMAGE_SIZE[1]} images; --image WxH sets a size"
            )
        if rule.tiling is None and vision.kind == "phi4mm_siglip":
            notes.append("one tile per image: the processor's splitting of large images into tiles is not modelled")
    audio = 0
    if audio_seconds:
        tower = next((t for t in spec.towers if t.role == "audio"), None)
        if tower is None:
            raise MediaError(f"{spec.name} has no audio tower: --audio needs a speech model")
        rate = AUDIO_TOKENS_PER_SECOND.get(tower.kind)
        clip = tower.image_tokens  # a fixed cost per clip (Gemma 3n)
        if clip is not None and clip.fixed is not None:
            audio = clip.fixed + clip.extra
            notes.append(f"one audio clip: {clip.fixed} tokens plus {clip.extra} markers, cut at 30 s")
        elif rate is None:
            notes.append(
                f"{spec.name}'s encoder turns audio into {AUDIO_FRAMES_PER_SECOND.get(tower.kind, 50)} frames per "
                "second that the decoder reads by cross-attention; they add no decoder context"
            )
        else:
            audio = math.ceil(audio_seconds * rate)
    tower = next((t for t in spec.towers if t.role == "vision"), None)
    cross_rule = tower.image_tokens if tower is not None else None
    cross = len(per_image) * cross_rule.cross_attention_tokens if cross_rule is not None else 0
    return MediaTokens(
        cross_attention_tokens=cross,
        image_tokens=sum(t for _, _, t in per_image),
        audio_tokens=audio,
        images=tuple(per_image),
        audio_seconds=audio_seconds,
        notes=tuple(notes),
    )


def encoder_frames(spec: ModelSpec) -> int | None:
    """Frames a Whisper-style audio encoder hands the decoder's cross-attention (``None`` otherwise).

    Whisper pads or cuts every input to 30 s (3,000 mel frames) and its encoder's stride-2 convolution
    halves that to ``max_source_positions`` (1,500) frames, whatever the clip's length
    (``WhisperEncoder.forward`` checks the input length against it); the decoder caches their keys
    and values in every layer. The count is the rows of the encoder's position table.
    """
    for tower in spec.towers:
        if tower.role == "audio" and tower.kind == "whisper_encoder" and tower.hidden_size:
            rows = sum(v for name, v in tower.components if name == "positional_table") // tower.hidden_size
            return rows or None
    return None


def parse_image_size(text: str) -> tuple[int, int]:
    """``"1024x768"`` -> ``(1024, 768)`` (width x height)."""
    parts = text.lower().replace(" ", "").split("x")
    if len(parts) != 2 or not all(p.isdigit() and int(p) > 0 for p in parts):
        raise MediaError(f"--image takes WIDTHxHEIGHT in pixels (1024x768), got {text!r}")
    return int(parts[0]), int(parts[1])
