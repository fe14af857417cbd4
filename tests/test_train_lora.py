"""Trainable parameters: hand-computed tiny models, PEFT's documented figure, and PEFT on every preset."""

from __future__ import annotations

import json
from typing import Any

import pytest

from llmcalc.errors import UsageError
from llmcalc.importers.hf import spec_from_hf_config
from llmcalc.importers.presets import load_preset
from llmcalc.train.lora import peft_target_lists, trainable_params
from llmcalc.train.modules import module_inventory
from tests.conftest import ROOT
from tests.test_params import TINY_GPT2, TINY_LLAMA, TINY_MIXTRAL

PEFT = json.loads((ROOT / "tests" / "data" / "peft_counts.json").read_text())
ROWS = [r for r in PEFT["rows"] if "error" not in r]


def _tiny(config: dict[str, Any]) -> Any:
    return spec_from_hf_config(config, source="tiny")


@pytest.mark.parametrize(
    ("config", "kwargs", "trainable"),
    [
        # q 8x8, v 8x4, two layers: r (8 + 8) + r (8 + 4)
        (TINY_LLAMA, {"rank": 2, "targets": ["q_proj", "v_proj"]}, 2 * (2 * 16 + 2 * 12)),
        # DoRA adds out_features per wrapped module: 8 + 4 per layer
        (TINY_LLAMA, {"rank": 2, "targets": ["q_proj", "v_proj"], "dora": True}, 2 * (2 * 16 + 2 * 12 + 12)),
        # all-linear: q, k, v, o, gate, up, down (not lm_head): r (16 + 12 + 12 + 16 + 24 + 24 + 24)
        (TINY_LLAMA, {"rank": 1, "targets": ["all-linear"]}, 2 * 128),
        # modules_to_save lm_head: the 10 x 8 head trains in full
        (TINY_LLAMA, {"rank": 1, "targets": ["q_proj"], "modules_to_save": ["lm_head"]}, 2 * 16 + 80),
        # GPT-2 Conv1D c_attn (8 -> 24) with its bias under lora_only: r (8 + 24) + 24
        (TINY_GPT2, {"rank": 2, "targets": ["c_attn"], "bias": "lora_only"}, 2 * 32 + 24),
        # Mixtral experts as target_parameters: r E (H + 2I) + r E (I + H) = 1 * 4 * 16 + 4 * 12
        (TINY_MIXTRAL, {"rank": 1, "targets": ["experts"]}, 4 * 16 + 4 * 12),
        # PEFT 0.21's MoE conversion: all-linear also wraps the router weight r (E + H) and the fused experts,
        # gate_up at rank 2r: q, k, v, o 4 x (8 + 8) + (4 + 8) + 2 x 4 x (8 + 8) + 4 x (4 + 8)
        (TINY_MIXTRAL, {"rank": 1, "targets": ["all-linear"]}, 64 + 12 + 128 + 48),
        # w1 and w3 name the fused gate_up_proj: rank 2r on it
        (TINY_MIXTRAL, {"rank": 1, "targets": ["w1", "w3"]}, 128),
    ],
    ids=["qv", "qv-dora", "all-linear", "lm_head-saved", "gpt2-c_attn-lora_only", "mixtral-experts",
         "mixtral-all-linear-converted", "mixtral-w1-w3"],
)
def test_tiny_models_by_hand(config: dict[str, Any], kwargs: dict[str, Any], trainable: int) -> None:
    """Each adapter is r (in + out), DoRA adds out, biases and saved modules add their elements."""
    assert trainable_params(_tiny(config), **kwargs).trainable_params == trainable


def test_peft_documented_llama2_7b() -> None:
    """PEFT's documented example: Llama-2-7B, r=8, q_proj,v_proj -> 4,194,304 trainable of 6,742,609,920."""
    t = trainable_params(load_preset("llama-2-7b").spec, rank=8, targets=["q_proj", "v_proj"])
    assert (t.trainable_params, t.all_params) == (PEFT["documented"]["trainable_params"],
                                                  PEFT["documented"]["all_params"]) == (4194304, 6742609920)


def test_peft_data_covers_every_preset() -> None:
    """benchmarks/peft_counts.py recorded a setting PEFT accepts for every preset it saw; newer presets skip."""
    from llmcalc.importers.presets import load_all_presets

    counted: dict[str, int] = {}
    for r in ROWS:
        counted[r["preset"]] = counted.get(r["preset"], 0) + 1
    assert [n for n, c in counted.items() if c < 1] == []
    missing = sorted(p.name for p in load_all_presets() if p.name not in counted)
    if missing:
        pytest.skip(f"not yet recorded (run {PEFT['command']}): {', '.join(missing)}")


@pytest.mark.parametrize("row", ROWS, ids=[f"{r['preset']}-{r['setting']}" for r in ROWS])
def test_equals_peft(row: dict[str, Any]) -> None:
    """llmcalc's trainable and all-params counts equal PEFT 0.21's get_nb_trainable_parameters."""
    t = trainable_params(load_preset(row["preset"]).spec, **row["settings"])
    assert (t.trainable_params, t.all_params) == (row["trainable_params"], row["all_params"])
    assert t.base_params == row["base_params"]


def test_qlora_counts_like_lora() -> None:
    """QLoRA trains the same adapters; PEFT counts Params4bit as 2 x packed numel, so totals match LoRA."""
    spec = load_preset("llama-3.1-8b").spec
    lora = trainable_params(spec, method="lora", rank=16, targets=["all-linear"])
    qlora = trainable_params(spec, method="qlora", rank=16, targets=["all-linear"])
    assert (qlora.trainable_params, qlora.all_params) == (lora.trainable_params, lora.all_params)


def test_full_training_trains_everything() -> None:
    """Full training: every parameter trains, nothing is added."""
    t = trainable_params(load_preset("gpt2").spec, method="full")
    assert t.trainable_params == t.all_params == t.base_params == 124439808


@pytest.mark.parametrize(
    ("preset", "kwargs", "message"),
    [
        ("gpt2", {"targets": ["q_proj"]}, "--targets q_proj: no module of gpt2 matches"),
        ("mixtral-8x7b", {"targets": ["experts"], "dora": True}, "does not support DoRA"),
        ("gpt2", {"targets": ["c_attn"], "modules_to_save": ["score"]}, "--modules-to-save score"),
        ("gpt2", {"method": "adapter"}, "--method must be one of full, lora, qlora"),
        ("qwen3-30b-a3b", {"targets": ["gate_proj"]}, "PEFT 0.21 needs gate_proj, up_proj together"),
        ("mixtral-8x7b", {"targets": ["default"]}, "PEFT 0.21 refuses its default targets"),
    ],
    ids=["no-match", "dora-experts", "bad-saved", "bad-method", "half-fused", "mixtral-default"],
)
def test_errors(preset: str, kwargs: dict[str, Any], message: str) -> None:
    """Bad settings raise a UsageError naming the flag (PEFT refuses the same)."""
    with pytest.raises(UsageError, match=message):
        trainable_params(load_preset(preset).spec, **kwargs)


def test_inventory_matches_parameter_count() -> None:
    """The module inventory's weights and biases plus norms add up to the preset's total (Llama-2-7B)."""
    spec = load_preset("llama-2-7b").spec
    weights = sum(m.count * (m.weight_params + (m.out_features if m.bias else 0)) for m in module_inventory(spec))
    norms = (2 * 32 + 1) * 4096
    assert weights + norms == 6738415616


def test_peft_target_lists_name_what_the_user_named() -> None:
    """A set becomes in-layer names for PEFT, concrete ones where a suffix would also hit another module."""
    modules, params = peft_target_lists(_tiny(TINY_MIXTRAL), ["attention", "experts"])
    assert modules == ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj"]
    assert params == ["mlp.experts.gate_up_proj", "mlp.experts.down_proj"]
    bert, _ = peft_target_lists(load_preset("bert-base-uncased").spec, ["mlp"])
    assert bert[:2] == ["intermediate.dense", "encoder.layer.0.output.dense"] and len(bert) == 13
