"""Hybrid, state-space and linear-attention configs count exactly as transformers does.

The table (``tests/data/hybrid_counts.json``) holds synthetic configs of every family with the
counts transformers gives on the meta device (``benchmarks/verify_hybrid_counts.py``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from llmcalc import count_params, spec_from_hf_config
from llmcalc.mixers.base import mixer_params
from llmcalc.tensors import weight_tensors

TABLE = json.loads((Path(__file__).parent / "data" / "hybrid_counts.json").read_text())
ROWS: list[dict[str, Any]] = TABLE["rows"]


@pytest.mark.parametrize("row", ROWS, ids=[r["id"] for r in ROWS])
def test_counts_match_transformers(row: dict[str, Any]) -> None:
    """total, active, embedding and lm_head equal the transformers counts of the same config."""
    counts = count_params(spec_from_hf_config(row["config"], source=row["id"]))
    got = (counts.total_params, counts.active_params, counts.embedding_params, counts.lm_head_params)
    assert got == (row["total"], row["active"], row["embed"], row["lm_head"])


@pytest.mark.parametrize("row", ROWS, ids=[r["id"] for r in ROWS])
def test_tensors_add_up_to_total(row: dict[str, Any]) -> None:
    """The tensor inventory of every hybrid config adds up to its parameter count."""
    spec = spec_from_hf_config(row["config"], source=row["id"])
    assert sum(t.n_elements for t in weight_tensors(spec)) == count_params(spec).language_params


def test_table_covers_every_family() -> None:
    """The recorded table has at least three variations of each family, from transformers 5.x."""
    families: dict[str, int] = {}
    for row in ROWS:
        families[row["config"]["model_type"]] = families.get(row["config"]["model_type"], 0) + 1
    assert TABLE["transformers"].startswith("5.")
    assert len(families) >= 15
    assert min(families.values()) >= 3


@pytest.mark.parametrize(
    ("model_type", "config", "component"),
    [
        ("mamba", dict(vocab_size=10, hidden_size=4, state_size=2, num_hidden_layers=1, expand=2), "state_space"),
        ("lfm2", dict(vocab_size=10, hidden_size=4, intermediate_size=12, num_hidden_layers=1,
                      num_attention_heads=1, num_key_value_heads=1, layer_types=["conv"]), "short_conv"),
    ],
)
def test_tiny_mixers_by_hand(model_type: str, config: dict[str, Any], component: str) -> None:
    """Hand-computed mixers: Mamba-1 H=4, d=8, N=2, k=4, R=1; LFM2 short conv H=4, L=3."""
    spec = spec_from_hf_config({"model_type": model_type, **config}, source="tiny")
    mixer = spec.main_stack.groups[0].mixer
    assert mixer is not None and mixer.component == component
    if model_type == "mamba":
        # in 4x16, conv 8x4+8, x_proj 8x(1+4), dt 1x8+8, A 8x2, D 8, out 8x4
        assert mixer_params(mixer, 4) == 64 + 40 + 40 + 16 + 16 + 8 + 32
    else:
        # in_proj 4x12, conv 4x3, out_proj 4x4
        assert mixer_params(mixer, 4) == 48 + 12 + 16


def test_nemotron_h_pattern_errors() -> None:
    """An unknown Nemotron-H block letter is refused with the field named."""
    from llmcalc.errors import SpecError

    with pytest.raises(SpecError, match="hybrid_override_pattern"):
        spec_from_hf_config({"model_type": "nemotron_h", "hybrid_override_pattern": "M*X"}, source="cfg")
