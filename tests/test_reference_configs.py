"""Every config in ../shared/reference/configs counts exactly as Hugging Face transformers does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llmcalc import count_params, spec_from_hf_config
from tests.conftest import REFERENCE

NAMES = sorted(p.stem for p in (REFERENCE / "configs").glob("*.json")) if (REFERENCE / "configs").is_dir() else []


@pytest.mark.parametrize("name", NAMES or ["(reference folder absent)"])
def test_reference_config_counts(name: str, reference_dir: Path) -> None:
    """total and active equal configs-params.json (transformers 5.24 on the meta device)."""
    expected = json.loads((reference_dir / "configs-params.json").read_text())[name]
    config = json.loads((reference_dir / "configs" / f"{name}.json").read_text())
    counts = count_params(spec_from_hf_config(config, source=name))
    assert counts.total_params == expected["total"]
    assert counts.active_params == expected["active"]
    assert counts.embedding_params == expected["embed"]
    assert counts.lm_head_params == expected["lm_head"]
    assert counts.positional_params == expected["pos_embed"]
    if "moe" in expected:
        assert counts.moe is not None
        assert counts.moe.routed_expert_params == expected["moe"]["routed_expert_params"]
        assert counts.active_params_excluding_embedding == expected["moe"]["active_excluding_input_embedding"]


def test_reference_folder_has_fifty_configs(reference_dir: Path) -> None:
    """The reference set is the 50 configs the foundation issue names."""
    assert len(NAMES) == 50


def test_deepseek_v3_mtp_outside_total(reference_dir: Path) -> None:
    """DeepSeek-V3's multi-token-prediction module is reported apart from the 671B total."""
    config = json.loads((reference_dir / "configs" / "deepseek-v3.json").read_text())
    counts = count_params(spec_from_hf_config(config, source="deepseek-v3"))
    assert counts.total_params == 671_026_404_352
    assert 11_000_000_000 < counts.mtp_params < 15_000_000_000
