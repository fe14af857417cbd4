"""Every config in ../shared/reference/configs-2 counts exactly as transformers 5.24 does.

Model types llmcalc does not build yet are skipped (so each family gains coverage as it lands).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llmcalc import count_params, spec_from_hf_config
from llmcalc.importers.hf.registry import BUILDERS
from llmcalc.mixers.patterns import layer_pattern_counts
from tests.conftest import REFERENCE

FOLDER = REFERENCE / "configs-2"
NAMES = sorted(p.stem for p in FOLDER.glob("*.json")) if FOLDER.is_dir() else []


def _load(reference_dir: Path, name: str) -> tuple[dict, dict]:
    expected = json.loads((reference_dir / "configs-2-params.json").read_text())[name]
    config = json.loads((reference_dir / "configs-2" / f"{name}.json").read_text())
    if config.get("model_type") not in BUILDERS:
        pytest.skip(f"model_type {config.get('model_type')!r} not supported yet")
    return expected, config


@pytest.mark.parametrize("name", NAMES or ["(reference folder absent)"])
def test_reference_config2_counts(name: str, reference_dir: Path) -> None:
    """total, active, embedding, lm_head and positional table equal configs-2-params.json."""
    expected, config = _load(reference_dir, name)
    counts = count_params(spec_from_hf_config(config, source=name))
    assert counts.total_params == expected["total"]
    assert counts.active_params == expected["active"]
    assert counts.embedding_params == expected["embed"]
    assert counts.lm_head_params == expected["lm_head"]
    assert counts.positional_params == expected["pos_embed"]
    if "active_excluding_input_embedding" in expected:
        assert counts.active_params_excluding_embedding == expected["active_excluding_input_embedding"]


@pytest.mark.parametrize("name", NAMES or ["(reference folder absent)"])
def test_reference_config2_towers(name: str, reference_dir: Path) -> None:
    """Vision, audio, projector and language-model parameters equal the recorded split."""
    expected, config = _load(reference_dir, name)
    if "language_params" not in expected:
        pytest.skip("no tower split recorded (a text-only model)")
    counts = count_params(spec_from_hf_config(config, source=name))
    assert counts.vision_params == expected["vision_params"]
    assert counts.audio_params == expected["audio_params"]
    assert counts.projector_params == expected["projector_params"]
    assert counts.language_params == expected["language_params"]


@pytest.mark.parametrize("name", NAMES or ["(reference folder absent)"])
def test_reference_config2_layer_patterns(name: str, reference_dir: Path) -> None:
    """Layers by kind (attention, mamba, conv, mlp, moe) equal the recorded layer_pattern_counts."""
    expected, config = _load(reference_dir, name)
    if "layer_pattern_counts" not in expected:
        pytest.skip("no layer pattern recorded")
    assert layer_pattern_counts(spec_from_hf_config(config, source=name)) == expected["layer_pattern_counts"]
