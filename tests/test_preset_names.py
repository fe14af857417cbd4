"""Model names as people type them resolve to a preset, and say which one they got."""

from __future__ import annotations

import pytest

from llmcalc.errors import PresetError
from llmcalc.importers.presets import load_preset, loose_names, resolve_preset
from llmcalc.loading import load_model


@pytest.mark.parametrize(
    ("typed", "preset"),
    [
        ("glm-4.6", "glm-4.6"),
        ("GLM-4.5-Air", "glm-4.5-air"),
        ("mixtral", "mixtral-8x7b"),
        ("smollm3", "smollm3-3b"),
        ("exaone4", "exaone-4.0-32b"),
    ],
)
def test_exact_names_and_aliases_have_no_note(typed: str, preset: str) -> None:
    """A preset's own name or alias (any case) resolves without a note."""
    loaded = load_preset(typed)
    assert loaded.name == preset
    assert loaded.match_note is None


@pytest.mark.parametrize(
    ("typed", "preset"),
    [
        ("llama-3.3-70b-instruct", "llama-3.3-70b"),
        ("meta-llama/Llama-3.3-70B-Instruct", "llama-3.3-70b"),
        ("Qwen/Qwen2.5-14B-Instruct", "qwen2.5-14b"),
        ("Qwen3-14B-Instruct", "qwen3-14b"),
        ("deepseek-ai/DeepSeek-V3.2", "deepseek-v3.2"),
        ("zai-org/GLM-4.5-Air", "glm-4.5-air"),
        ("baidu/ERNIE-4.5-21B-A3B-PT", "ernie-4.5-21b-a3b"),
        ("microsoft/phi-4", "phi-4"),
        ("mistral-nemo-12b-base", "mistral-nemo-12b"),
        ("llama3.370b", "llama-3.3-70b"),
    ],
)
def test_loose_names_resolve_with_a_note(typed: str, preset: str) -> None:
    """org/ prefixes, flavour suffixes and missing separators still find the preset, and say so."""
    loaded = load_preset(typed)
    assert loaded.name == preset
    assert loaded.match_note == f"'{typed}' is not a preset name; using preset '{preset}'"


def test_loose_names_order() -> None:
    """Loose spellings drop the org first, then one flavour suffix at a time."""
    assert loose_names("google/Gemma-3-27B-IT") == ["gemma-3-27b-it", "gemma-3-27b"]
    assert loose_names("Foo-Base-Instruct") == ["foo-base", "foo"]
    assert loose_names("instruct") == []


def test_loaded_model_warns_which_preset() -> None:
    """load_model carries the note as a warning, which the CLI prints."""
    loaded = load_model("llama-3.3-70b-instruct")
    assert loaded.preset is not None and loaded.preset.name == "llama-3.3-70b"
    assert "using preset 'llama-3.3-70b'" in loaded.warnings[0]


def test_unknown_name_still_refused() -> None:
    """A name no spelling matches is still an unknown model, with suggestions."""
    with pytest.raises(PresetError, match="unknown model 'glm-9000-ultra'"):
        resolve_preset("glm-9000-ultra")
