"""Model-state memory per GPU: by hand, against DeepSpeed's estimators and Megatron-LM's formula."""

from __future__ import annotations

import json
from typing import Any

import pytest

from llmcalc.errors import UsageError
from llmcalc.importers.presets import load_preset
from llmcalc.params import count_params
from llmcalc.train.lora import trainable_params
from llmcalc.train.memory import Parallelism, model_state_memory, nf4_bytes
from tests.conftest import ROOT

REFERENCE = json.loads((ROOT / "tests" / "data" / "train_zero_reference.json").read_text())


def _full(preset: str) -> tuple[Any, Any]:
    spec = load_preset(preset).spec
    return spec, trainable_params(spec, method="full")


@pytest.mark.parametrize(
    ("precision", "zero", "bytes_per_param"),
    [("bf16-mixed", 0, 20), ("bf16", 0, 8), ("fp32", 0, 16)],
    ids=["bf16-mixed", "bf16", "fp32"],
)
def test_bytes_per_parameter_on_one_gpu(precision: str, zero: int, bytes_per_param: int) -> None:
    """AdamW on one GPU: 2+2+4+4+8 (DeepSpeed bf16-mixed), 2+2+4 (pure bf16), 4+4+8 (fp32) bytes per parameter."""
    spec, t = _full("gpt2")
    m = model_state_memory(spec, t, precision=precision, zero=zero)
    assert m.total_bytes == bytes_per_param * 124439808


@pytest.mark.parametrize("row", REFERENCE["deepspeed"],
                         ids=[f"{r['model']}-{r['gpus']}-z{r['stage']}-off{int(r['cpu_offload'])}"
                              f"{int(r.get('cpu_offload_params', False))}" for r in REFERENCE["deepspeed"]])
def test_gpu_bytes_equal_deepspeed_estimators(row: dict[str, Any]) -> None:
    """ZeRO-2/3 GPU model-state bytes equal DeepSpeed's estimate_zero{2,3}_model_states_mem_needs exactly."""
    spec, t = _full(row["model"])
    m = model_state_memory(spec, t, zero=row["stage"], parallel=Parallelism(gpus=row["gpus"]),
                           offload_optimizer=row["cpu_offload"], offload_params=row.get("cpu_offload_params", False))
    assert m.total_bytes == row["gpu_bytes"]
    assert count_params(spec).total_params == row["total_params"]


@pytest.mark.parametrize("row", [r for r in REFERENCE["deepspeed"] if r["cpu_offload"]],
                         ids=lambda r: f"{r['model']}-{r['gpus']}-z{r['stage']}")
def test_cpu_bytes_versus_deepspeed(row: dict[str, Any]) -> None:
    """Offloaded states are 16 (18 with parameters) bytes per parameter; DeepSpeed adds its 1.5 buffer factor
    and, for ZeRO-2, an fp32 copy per process (max(4 x GPUs per node, 16)), per node."""
    spec, t = _full(row["model"])
    m = model_state_memory(spec, t, zero=row["stage"], parallel=Parallelism(gpus=row["gpus"]), offload_optimizer=True,
                           offload_params=row.get("cpu_offload_params", False))
    n = row["total_params"]
    assert m.cpu_offload_bytes == (18 if row.get("cpu_offload_params") else 16) * n
    nodes = max(1, row["gpus"] // 8)
    per_param = max(4 * row["gpus"], 16) if row["stage"] == 2 else m.cpu_offload_bytes // n / nodes
    assert row["cpu_bytes"] == int(n * per_param * 1.5)


@pytest.mark.parametrize("row", REFERENCE["megatron"],
                         ids=[f"{r['model']}-{r['gpus']}-tp{r['tp']}pp{r['pp']}ep{r['ep']}-"
                              f"dist{int(r['distributed_optimizer'])}" for r in REFERENCE["megatron"]])
def test_states_versus_megatron(row: dict[str, Any]) -> None:
    """Megatron convention: equal to theoretical_memory_usage.py without TP; within 0.05% with TP (Megatron
    keeps norms whole on every TP rank, llmcalc splits them)."""
    spec, t = _full(row["model"])
    m = model_state_memory(spec, t, zero=1 if row["distributed_optimizer"] else 0, framework="megatron",
                           parallel=Parallelism(gpus=row["gpus"], tp=row["tp"], pp=row["pp"], ep=row["ep"]))
    if row["tp"] == 1 and row["pp"] == 1:
        assert abs(m.total_bytes - row["weight_and_optimizer_bytes"]) <= 8
    else:
        assert m.total_bytes == pytest.approx(row["weight_and_optimizer_bytes"], rel=5e-4)


def test_zero_stages_shrink_states() -> None:
    """Each ZeRO stage holds fewer bytes on 8 GPUs than the one before."""
    spec, t = _full("llama-2-7b")
    totals = [model_state_memory(spec, t, zero=z, parallel=Parallelism(gpus=8)).total_bytes for z in range(4)]
    assert totals == sorted(totals, reverse=True) and len(set(totals)) == 4


def test_lora_states_are_adapters_only() -> None:
    """LoRA: 16-bit frozen base plus fp32 adapters with fp32 gradients and AdamW moments (4 + 4 + 8 bytes)."""
    spec = load_preset("llama-2-7b").spec
    t = trainable_params(spec, rank=8, targets=["q_proj", "v_proj"])
    m = model_state_memory(spec, t)
    assert m.weight_bytes == 2 * 6738415616 + 4 * 4194304
    assert (m.gradient_bytes, m.master_weight_bytes, m.optimizer_bytes) == (4 * 4194304, 0, 8 * 4194304)


def test_qlora_base_in_nf4() -> None:
    """QLoRA: linear weights in NF4 (4 bits + 8-bit absmax per 64 + fp32 per 256 blocks), the rest 16-bit."""
    assert nf4_bytes(64 * 256) == 64 * 256 // 2 + 256 + 4
    spec = load_preset("llama-2-7b").spec
    t = trainable_params(spec, method="qlora", rank=8, targets=["q_proj", "v_proj"])
    m = model_state_memory(spec, t)
    linear = 32 * (4 * 4096 * 4096 + 3 * 4096 * 11008)
    assert m.weight_bytes == 2 * (6738415616 - linear) + nf4_bytes(linear) + 4 * 4194304


@pytest.mark.parametrize(
    ("optimizer", "per_param"), [("adamw", 8), ("sgd", 4), ("adamw-8bit", 2)], ids=["adamw", "sgd", "adamw-8bit"],
)
def test_optimizer_states(optimizer: str, per_param: int) -> None:
    """Optimizer states per fp32 trained parameter: AdamW 8, SGD momentum 4, 8-bit AdamW 2 (+ absmax)."""
    spec, t = _full("gpt2")
    m = model_state_memory(spec, t, optimizer=optimizer)
    assert per_param * t.trainable_params <= m.optimizer_bytes <= (per_param + 0.04) * t.trainable_params


def test_adafactor_and_muon_below_adamw() -> None:
    """Adafactor's factored moments and Muon's single momentum for matrices use less than AdamW."""
    spec, t = _full("llama-2-7b")
    adam = model_state_memory(spec, t).optimizer_bytes
    assert model_state_memory(spec, t, optimizer="adafactor").optimizer_bytes < adam // 100
    assert adam // 2 < model_state_memory(spec, t, optimizer="muon").optimizer_bytes < adam


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"zero": 2, "offload_params": True}, "--offload-params needs --zero 3"),
     ({"precision": "fp16"}, "--precision must be one of")],
    ids=["offload", "precision"],
)
def test_errors(kwargs: dict[str, Any], message: str) -> None:
    """Settings that cannot work raise a UsageError naming the flag."""
    with pytest.raises(UsageError, match=message):
        spec, t = _full("gpt2")
        model_state_memory(spec, t, **kwargs)


def test_parallelism_must_divide() -> None:
    """GPUs that do not divide into tp x pp x cp are refused."""
    with pytest.raises(UsageError, match="6 GPUs do not divide into tp x pp x cp = 4"):
        Parallelism(gpus=6, tp=4)
