"""A multimodal checkpoint's towers in memory: 16-bit beside a quantized language model, or the mmproj file."""

from __future__ import annotations

import pytest

from llmcalc import count_params, load_model
from llmcalc.quant import weights_for_format
from llmcalc.towers.weights import tower_bytes, towers_label


@pytest.mark.parametrize(
    ("fmt", "bytes_per_param"),
    [("fp32", 4), ("bf16", 2), ("fp16", 2), ("awq", 2), ("fp8", 2), ("q4_k_m", 2), ("int4", 2)],
)
def test_towers_stay_16_bit_unless_the_format_is_a_wider_float(fmt: str, bytes_per_param: int) -> None:
    """Towers take the format's bits only for floats of 16 bits or more; else 16 bits (llama.cpp: mmproj F16)."""
    spec = load_model("gemma-3-4b").spec
    counts = count_params(spec)
    towers = counts.vision_params + counts.projector_params
    result = weights_for_format(spec, fmt)
    assert tower_bytes(result) == bytes_per_param * towers
    assert result.params == counts.total_params
    assert any(n.startswith("vision tower and projector:") for n in result.notes)


def test_text_models_have_no_tower_bytes() -> None:
    """A text-only model's weights have no towers' entry."""
    result = weights_for_format(load_model("llama-3-8b").spec, "q4_k_m")
    assert tower_bytes(result) == 0


@pytest.mark.parametrize(
    ("model", "label"),
    [("gemma-3-4b", "vision tower and projector"), ("whisper-large-v3", "audio tower")],
)
def test_towers_label(model: str, label: str) -> None:
    """The note names the towers the model has."""
    assert towers_label(load_model(model).spec) == label
