"""Tokens an image or audio clip adds to the context, against transformers' own resize arithmetic."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from llmcalc import spec_from_hf_config
from llmcalc.media import MediaError, image_tokens, media_tokens, parse_image_size
from llmcalc.spec import ImageTokens, ModelSpec

TABLE = json.loads((Path(__file__).parent / "data" / "multimodal_counts.json").read_text())
IMAGE_ROWS: list[dict[str, Any]] = TABLE["image_tokens"]
TEXT = {"vocab_size": 500, "hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 1,
        "num_attention_heads": 2, "num_key_value_heads": 1}  # fmt: skip

#: Minimal configs whose vision tower takes the family's processor defaults.
CONFIGS: dict[str, dict[str, Any]] = {
    "qwen2_vl": {"model_type": "qwen2_5_vl", "text_config": TEXT, "vision_config": {}},
    "qwen3_vl": {"model_type": "qwen3_vl", "text_config": TEXT, "vision_config": {}},
    "glm4v": {"model_type": "glm4v", "text_config": TEXT, "vision_config": {}},
    "mistral3": {"model_type": "mistral3", "text_config": TEXT,
                 "vision_config": {"patch_size": 14, "image_size": 1540}},
}  # fmt: skip


def _spec(name: str) -> ModelSpec:
    return spec_from_hf_config(CONFIGS[name], source=name)


@pytest.mark.parametrize("row", IMAGE_ROWS, ids=[f"{r['rule']}-{r['width']}x{r['height']}" for r in IMAGE_ROWS])
def test_dynamic_image_tokens_match_transformers(row: dict[str, Any]) -> None:
    """Qwen2-VL / Qwen3-VL / GLM-4V smart resize and Pixtral's longest-edge rule give transformers' token counts."""
    counted = media_tokens(_spec(row["rule"]), image_sizes=[(row["width"], row["height"])])
    assert counted.image_tokens == row["tokens"]


@pytest.mark.parametrize(
    ("config", "tokens"),
    [
        ({"model_type": "gemma3", "text_config": TEXT, "vision_config": {}}, 256 + 2),
        ({"model_type": "gemma3", "mm_tokens_per_image": 64, "text_config": TEXT, "vision_config": {}}, 64 + 2),
        ({"model_type": "llava", "text_config": TEXT}, 576),
        ({"model_type": "llava", "vision_feature_select_strategy": "full", "text_config": TEXT}, 577),
        ({"model_type": "llava", "text_config": TEXT, "vision_config": {}}, 49),
    ],
    ids=["gemma3", "gemma3-64", "llava-576", "llava-full", "llava-clip-defaults"],
)  # fmt: skip
def test_fixed_image_tokens(config: dict[str, Any], tokens: int) -> None:
    """Fixed-cost processors: the same count whatever the image size, times the number of images."""
    spec = spec_from_hf_config(config, source="cfg")
    assert media_tokens(spec, image_sizes=[(1024, 768)]).image_tokens == tokens
    assert media_tokens(spec, images=3).image_tokens == 3 * tokens


def test_images_without_size_use_the_default_size_and_say_so() -> None:
    """--images N on a dynamic model prices N images of 1024x1024 and notes the assumption."""
    spec = _spec("qwen2_vl")
    counted = media_tokens(spec, images=2)
    one = media_tokens(spec, image_sizes=[(1024, 1024)]).image_tokens
    assert counted.image_tokens == 2 * one
    assert any("1024x1024" in n for n in counted.notes)


def test_qwen2_audio_adds_25_tokens_per_second_whisper_none() -> None:
    """Qwen2-Audio puts 25 tokens per second into the context; Whisper's audio goes to its encoder."""
    qwen = spec_from_hf_config({"model_type": "qwen2_audio", "text_config": TEXT, "audio_config": {}}, source="q")
    assert media_tokens(qwen, audio_seconds=30).audio_tokens == 750
    whisper = spec_from_hf_config({"model_type": "whisper"}, source="w")
    counted = media_tokens(whisper, audio_seconds=30)
    assert counted.audio_tokens == 0
    assert counted.notes


def test_fixed_rule_ignores_size_but_checks_it() -> None:
    """A fixed rule still refuses a zero-sized image."""
    with pytest.raises(MediaError, match="positive size"):
        image_tokens(ImageTokens(fixed=256), width=0, height=10)


@pytest.mark.parametrize(("text", "size"), [("1024x768", (1024, 768)), ("64X32", (64, 32))])
def test_parse_image_size(text: str, size: tuple[int, int]) -> None:
    """--image takes WIDTHxHEIGHT."""
    assert parse_image_size(text) == size


@pytest.mark.parametrize("text", ["1024", "0x5", "ax3", "1x2x3", "-1x5"])
def test_parse_image_size_refuses_bad_text(text: str) -> None:
    """A malformed --image value is a clear error naming the flag."""
    with pytest.raises(MediaError, match="--image takes WIDTHxHEIGHT"):
        parse_image_size(text)


def test_images_on_a_text_model_are_refused() -> None:
    """A text-only model has no vision tower: the error says so."""
    spec = spec_from_hf_config({"model_type": "llama", **TEXT}, source="l")
    with pytest.raises(MediaError, match="no vision tower"):
        media_tokens(spec, images=1)


def test_phi4_multimodal_audio_is_12_5_tokens_per_second() -> None:
    """Phi-4-multimodal's Conformer compresses 100 frames per second eightfold (rounded up)."""
    spec = spec_from_hf_config({"model_type": "phi4_multimodal", **TEXT}, source="p")
    assert media_tokens(spec, audio_seconds=10).audio_tokens == 125
    assert media_tokens(spec, audio_seconds=0.1).audio_tokens == 2
