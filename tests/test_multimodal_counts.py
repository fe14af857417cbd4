"""Multimodal and speech checkpoints count exactly as transformers does, tower by tower.

tests/data/multimodal_counts.json holds small synthetic variations of every multimodal family
(towers with and without heads, biases, q/k norms, merge sizes, DeepStack mergers, tied and untied
heads, flat pre-v5 Qwen-VL configs) with the counts transformers 5.24 gives for the full
``*ForConditionalGeneration`` class on the meta device; benchmarks/verify_multimodal_counts.py made it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from llmcalc import count_params, spec_from_hf_config
from llmcalc.errors import SpecError
from llmcalc.tensors import weight_tensors

TABLE = json.loads((Path(__file__).parent / "data" / "multimodal_counts.json").read_text())
ROWS: list[dict[str, Any]] = TABLE["configs"]
FIELDS = (
    "total",
    "embed",
    "lm_head",
    "pos_embed",
    "vision_params",
    "audio_params",
    "projector_params",
    "language_params",
)


def _ours(config: dict[str, Any], name: str) -> dict[str, int]:
    c = count_params(spec_from_hf_config(config, source=name))
    return {
        "total": c.total_params,
        "embed": c.embedding_params,
        "lm_head": c.lm_head_params,
        "pos_embed": c.positional_params,
        "vision_params": c.vision_params,
        "audio_params": c.audio_params,
        "projector_params": c.projector_params,
        "language_params": c.language_params,
    }


def test_table_covers_every_multimodal_family() -> None:
    """The measured table has at least one variation of each multimodal and speech model_type."""
    families = {row["config"]["model_type"] for row in ROWS}
    assert families >= {
        "gemma3", "llava", "llava_next", "qwen2_vl", "qwen2_5_vl", "qwen3_vl", "qwen3_vl_moe", "mllama",
        "mistral3", "llama4", "internvl", "smolvlm", "idefics3", "glm4v", "glm4v_moe", "qwen2_audio", "whisper",
        "phi4_multimodal", "gemma3n",
    }  # fmt: skip
    assert TABLE["transformers_version"].startswith("5.")


@pytest.mark.parametrize("row", ROWS, ids=[row["name"] for row in ROWS])
def test_variation_counts(row: dict[str, Any]) -> None:
    """Total, embedding, head, position tables and each tower equal transformers' counts."""
    assert _ours(row["config"], row["name"]) == {k: row["transformers"][k] for k in FIELDS}


@pytest.mark.parametrize("row", ROWS, ids=[row["name"] for row in ROWS])
def test_towers_sum_to_their_components(row: dict[str, Any]) -> None:
    """Each tower's parameters are the sum of its named components, and the breakdown shows them."""
    spec = spec_from_hf_config(row["config"], source=row["name"])
    counts = count_params(spec)
    assert spec.towers
    for tower in spec.towers:
        assert tower.params == sum(v for _, v in tower.components) > 0
    by_role = {"vision": counts.vision_params, "audio": counts.audio_params, "projector": counts.projector_params}
    for role, value in by_role.items():
        assert value == sum(t.params for t in spec.towers if t.role == role)
        assert counts.component({"vision": "vision_tower", "audio": "audio_tower"}.get(role, role)) == value


@pytest.mark.parametrize("row", ROWS, ids=[row["name"] for row in ROWS])
def test_tensor_list_is_the_language_model(row: dict[str, Any]) -> None:
    """weight_tensors lists the language model only (llama.cpp keeps towers in an mmproj file)."""
    spec = spec_from_hf_config(row["config"], source=row["name"])
    counts = count_params(spec)
    assert sum(t.n_elements for t in weight_tensors(spec)) == counts.language_params


def test_gemma3_shows_fixed_image_tokens() -> None:
    """Gemma 3's vision tower carries mm_tokens_per_image as its fixed cost per image."""
    row = next(r for r in ROWS if r["config"]["model_type"] == "gemma3")
    vision = next(t for t in spec_from_hf_config(row["config"], source="g").towers if t.role == "vision")
    assert vision.image_tokens is not None
    assert vision.image_tokens.fixed == row["config"]["mm_tokens_per_image"]


def test_gemma3n_shows_fixed_image_tokens() -> None:
    """Gemma 3n's vision tower carries vision_soft_tokens_per_image plus the two image markers."""
    row = next(r for r in ROWS if r["name"] == "gemma3n-a")
    vision = next(t for t in spec_from_hf_config(row["config"], source="g").towers if t.role == "vision")
    assert vision.image_tokens is not None
    assert (vision.image_tokens.fixed, vision.image_tokens.extra) == (row["config"]["vision_soft_tokens_per_image"], 2)


@pytest.mark.parametrize("seconds", [1.5, 12.0, 45.0])
def test_gemma3n_audio_costs_a_fixed_clip(seconds: float) -> None:
    """A Gemma 3n audio clip adds audio_soft_tokens_per_image plus two markers, whatever its length."""
    from llmcalc.media import media_tokens

    config = {**next(r for r in ROWS if r["name"] == "gemma3n-a")["config"], "audio_soft_tokens_per_image": 50}
    media = media_tokens(spec_from_hf_config(config, source="g"), images=2, audio_seconds=seconds)
    assert (media.image_tokens, media.audio_tokens) == (2 * (config["vision_soft_tokens_per_image"] + 2), 52)


def test_absent_sub_configs_take_the_defaults_and_say_so() -> None:
    """A config without text_config/vision_config counts transformers' default model, with a warning each."""
    spec = spec_from_hf_config({"model_type": "gemma3"}, source="cfg.json")
    assert any("text_config" in a for a in spec.assumptions)
    assert any("vision_config" in a for a in spec.assumptions)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"model_type": "gemma3", "text_config": {"hidden_size": "wide"}}, "hidden_size"),
        ({"model_type": "qwen3_vl", "text_config": {}, "vision_config": {"depth": "x"}}, "vision_config.depth"),
        ({"model_type": "llava", "text_config": {}, "vision_config": {"model_type": "dinov2"}}, "dinov2"),
        ({"model_type": "gemma3", "text_config": [], "vision_config": {}}, "text_config"),
        ({"model_type": "gemma3n", "vision_config": {"architecture": "resnet50"}}, "vision_config.architecture"),
        ({"model_type": "gemma3n", "vision_config": {"model_args": {"se_layer": "x"}}}, "se_layer"),
        ({"model_type": "gemma3n", "vision_config": {"model_args": {"msfa_indices": [7]}}}, "msfa_indices"),
        ({"model_type": "gemma3n", "audio_config": {"sscp_conv_kernel_size": [3, 3]}}, "sscp_conv_kernel_size"),
    ],
    ids=["bad-text-field", "bad-vision-field", "unknown-tower", "text-config-not-mapping", "gemma3n-timm-model",
         "gemma3n-model-args", "gemma3n-msfa-indices", "gemma3n-sscp-kernels"],  # fmt: skip
)
def test_bad_multimodal_configs_name_the_key(config: dict[str, Any], message: str) -> None:
    """A broken nested config is refused with a message naming the key."""
    with pytest.raises(SpecError, match=message.replace(".", r"\.")):
        spec_from_hf_config(config, source="cfg.json")


CACHE_ROWS: list[dict[str, Any]] = TABLE["whisper_cache"]


@pytest.mark.parametrize("row", CACHE_ROWS, ids=[f"B{r['batch']}-T{r['tokens']}" for r in CACHE_ROWS])
def test_whisper_cache_equals_the_measured_transformers_cache(row: dict[str, Any]) -> None:
    """Whisper's hf cache after prefill: T self-attention tokens plus the encoder's fixed frames, as measured."""
    from llmcalc.kvcache import kv_cache

    config = next(r["config"] for r in ROWS if r["name"] == row["config"])
    spec = spec_from_hf_config(config, source=row["config"])
    est = kv_cache(spec, context_tokens=row["tokens"], batch_size=row["batch"], kv_dtype=row["dtype"], engine="hf")
    assert est.self_attention_bytes == row["self_attention_bytes"]
    assert est.cross_attention_bytes == row["cross_attention_bytes"]


MLLAMA_ROWS: list[dict[str, Any]] = TABLE["mllama_cache"]


@pytest.mark.parametrize("row", MLLAMA_ROWS, ids=[f"B{r['batch']}-T{r['tokens']}-I{r['images']}" for r in MLLAMA_ROWS])
def test_mllama_cache_equals_the_measured_transformers_cache(row: dict[str, Any]) -> None:
    """Mllama's hf cache: T tokens in the self-attention layers, each image's tile tokens in the cross ones."""
    from llmcalc.kvcache import kv_cache
    from llmcalc.media import media_tokens

    config = next(r["config"] for r in ROWS if r["name"] == row["config"])
    spec = spec_from_hf_config(config, source=row["config"])
    media = media_tokens(spec, images=row["images"])
    est = kv_cache(spec, context_tokens=row["tokens"], batch_size=row["batch"], kv_dtype=row["dtype"], engine="hf",
                   encoder_tokens=media.cross_attention_tokens)  # fmt: skip
    assert est.self_attention_bytes == row["self_attention_bytes"]
    assert est.cross_attention_bytes == row["cross_attention_bytes"]
