"""Bad architecture values are rejected with one message naming the source and field."""

from __future__ import annotations

import re

import pytest

from llmcalc import SpecError, spec_from_hf_config
from tests.test_params import TINY_LLAMA


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"hidden_size": 0}, "cfg: field 'hidden_size' must be positive, got 0"),
        ({"hidden_size": -8}, "cfg: field 'hidden_size' must be positive, got -8"),
        ({"num_hidden_layers": "two"}, "cfg: field 'num_hidden_layers' must be an integer, got 'two'"),
        ({"num_key_value_heads": 3}, "num_attention_heads (2) must be a multiple of num_key_value_heads (3)"),
        ({"tie_word_embeddings": "yes"}, "cfg: field 'tie_word_embeddings' must be true or false, got 'yes'"),
        ({"vocab_size": None}, "cfg: missing required field 'vocab_size'"),
    ],
    ids=["zero", "negative", "wrong-type", "heads-not-divisible", "bool-type", "missing"],
)
def test_bad_field(change: dict[str, object], message: str) -> None:
    """Each problem names the field."""
    with pytest.raises(SpecError) as info:
        spec_from_hf_config({**TINY_LLAMA, **change}, source="cfg")
    assert message in str(info.value)


def test_every_problem_reported_at_once() -> None:
    """Two bad fields give one error listing both."""
    with pytest.raises(SpecError, match="'hidden_size' must be positive.*'vocab_size' must be an integer"):
        spec_from_hf_config({**TINY_LLAMA, "hidden_size": 0, "vocab_size": 1.5}, source="cfg")


def test_missing_model_type() -> None:
    """A mapping without model_type says so."""
    with pytest.raises(SpecError, match="cfg: missing required field 'model_type'"):
        spec_from_hf_config({"hidden_size": 8}, source="cfg")


def test_unknown_model_type_counts_with_assumptions() -> None:
    """Another model_type with the standard fields is counted as Llama-style and says what it assumed."""
    spec = spec_from_hf_config({**TINY_LLAMA, "model_type": "mystery"}, source="cfg")
    assert spec.assumptions and "model_type 'mystery' is not one llmcalc knows" in spec.assumptions[0]


def test_spec_is_frozen() -> None:
    """Specs cannot be changed after validation."""
    spec = spec_from_hf_config(TINY_LLAMA, source="cfg")
    with pytest.raises(AttributeError):
        spec.hidden_size = 4  # type: ignore[misc]


def test_llama4_missing_expert_fields_fail() -> None:
    """A Llama 4 config without its expert fields is an error, not a dense model."""
    cfg = {"model_type": "llama4_text", "hidden_size": 64, "num_attention_heads": 4, "num_hidden_layers": 2,
           "vocab_size": 100}
    with pytest.raises(SpecError, match="missing required field 'intermediate_size'"):
        spec_from_hf_config(cfg, source="cfg")


def test_each_problem_reported_once() -> None:
    """A field read by two builders is reported once."""
    with pytest.raises(SpecError) as info:
        spec_from_hf_config({"model_type": "qwen2"}, source="cfg")
    assert str(info.value).count("missing required field 'num_hidden_layers'") == 1


def _variation(name: str) -> dict[str, object]:
    import json

    from tests.conftest import ROOT

    data = ROOT / "tests" / "data"
    rows = {c["name"]: c["config"] for c in json.loads((data / "multimodal_counts.json").read_text())["configs"]}
    rows |= {v["id"]: v["config"] for v in json.loads((data / "text_counts.json").read_text())["variations"]}
    return dict(rows[name])


@pytest.mark.parametrize(
    ("name", "change", "message"),
    [
        ("llama4-defaults", {"vision_config": {"pixel_shuffle_ratio": 7}}, "pixel_shuffle_ratio' must be in (0, 1]"),
        ("llava_next-defaults", {"vision_config": {"image_size": 7}}, "smaller than 'patch_size'"),
        ("llava_next-defaults", {"vision_config": {"image_size": 1000}}, "'image_grid_pinpoints' has a canvas smaller"),
        ("gemma3n-defaults", {"vision_config": {"model_args": {"group_size": 1000}}}, "1000 does not divide"),
        ("hunyuan_v1_moe-base", {"moe_topk": [[1]]}, "'moe_topk' must be an integer"),
    ],
    ids=["llama4-shuffle-ratio", "llava-next-tiny-image", "llava-next-small-canvas", "gemma3n-group-size",
         "hunyuan-nested-topk"],
)
def test_found_by_fuzzing(name: str, change: dict[str, object], message: str) -> None:
    """Values a fuzzer of the recorded variations found crashing (division by zero, unhashable lists): one error."""
    config = _variation(name)
    for key, value in change.items():
        if isinstance(value, dict) and isinstance(config.get(key), dict):
            inner = dict(config[key])  # type: ignore[arg-type]
            for k, v in value.items():
                inner[k] = {**inner.get(k, {}), **v} if isinstance(v, dict) else v
            config[key] = inner
        else:
            config[key] = value
    with pytest.raises(SpecError, match=re.escape(message)):
        spec_from_hf_config(config, source="cfg")
