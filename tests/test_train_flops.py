"""Training compute: forward FLOPs against torch's FlopCounterMode, training FLOPs, tokens and time."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from llmcalc.errors import UsageError
from llmcalc.importers.hf import spec_from_hf_config
from llmcalc.importers.presets import load_preset
from llmcalc.train.flops import forward_flops, training_flops
from tests.conftest import ROOT

MEASURED = json.loads((ROOT / "tests" / "data" / "train_flops_measured.json").read_text())["rows"]


def measured_spec(row: dict[str, Any]) -> Any:
    """The spec of a measured model: the preset's config with the recorded overrides."""
    config = yaml.safe_load((ROOT / "presets" / f"{row['preset']}.yaml").read_text())["config"]
    config.update(row["overrides"])
    return spec_from_hf_config(config, source=row["model"])


@pytest.mark.parametrize("row", MEASURED, ids=[r["model"] for r in MEASURED])
def test_forward_flops_match_flop_counter(row: dict[str, Any]) -> None:
    """Forward FLOPs per token at the measured length are within 1% of FlopCounterMode (eager attention)."""
    fwd = forward_flops(measured_spec(row), seq_tokens=row["seq"], attention=row["attention"])
    assert fwd.total_flops == pytest.approx(row["forward_flops_per_token"], rel=0.01)


def test_llama2_7b_by_hand() -> None:
    """Llama-2-7B: 2 x (32 layers x (4 h^2 + 3 h I) + h V) + 32 x 4 h s, at s = 4096 (full square)."""
    h, i, v, s = 4096, 11008, 32000, 4096
    fwd = forward_flops(load_preset("llama-2-7b").spec, seq_tokens=s, attention="eager")
    assert fwd.total_flops == 2 * (32 * (4 * h * h + 3 * h * i) + h * v) + 32 * 4 * h * s


def test_flash_counts_the_causal_half() -> None:
    """FlashAttention computes (s + 1) / 2 keys per query on average."""
    spec = load_preset("llama-2-7b").spec
    eager = forward_flops(spec, seq_tokens=4096, attention="eager").attention_flops
    flash = forward_flops(spec, seq_tokens=4096, attention="flash").attention_flops
    assert flash == eager * 4097 // 8192


def test_moe_counts_active_experts() -> None:
    """Mixtral routes each token to 2 of 8 experts: matmul FLOPs are 2 x (active - embedding - norms)."""
    spec = load_preset("mixtral-8x7b").spec
    fwd = forward_flops(spec, seq_tokens=1, attention="eager")
    assert fwd.linear_flops + fwd.lm_head_flops == 2 * (12879925248 - 32000 * 4096 - (2 * 32 + 1) * 4096)


def test_training_flops_and_time() -> None:
    """Full training is 3 x forward (+1 with full recompute); the time is FLOPs / (GPUs x peak x MFU)."""
    spec = load_preset("llama-2-7b").spec
    fwd = forward_flops(spec, seq_tokens=4096).total_flops
    t = training_flops(spec, seq_tokens=4096, recompute="full", tokens=10**12, peak_flops_per_gpu=10**15, gpus=8)
    assert t.training_flops_per_token == 4 * fwd
    assert t.wall_seconds == int(4 * fwd * 10**12 / (8 * 10**15 * 0.4))
    assert t.six_n_flops_per_token == 6 * (6738415616 - 2 * 32000 * 4096)
    assert t.six_n_attention_flops_per_token == t.six_n_flops_per_token + 12 * 32 * 4096 * 4096


def test_chinchilla_tokens() -> None:
    """Without a budget, tokens are Chinchilla's 20 per parameter."""
    t = training_flops(load_preset("gpt2").spec, seq_tokens=1024)
    assert t.tokens == t.chinchilla_tokens == 20 * 124439808


def test_bad_mfu() -> None:
    """An MFU outside (0, 1] names the flag."""
    with pytest.raises(UsageError, match="--mfu must be in"):
        training_flops(load_preset("gpt2").spec, seq_tokens=8, mfu=1.5)
