"""Recurrent state of state-space / linear-attention layers: exact per engine, constant in context.

The hf figures are checked against ``tests/data/state_measured.json``: the bytes a transformers
cache held after a prefill of T tokens at batch B (``benchmarks/measure_state_torch.py``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from llmcalc import spec_from_hf_config
from llmcalc.cli import cli
from llmcalc.importers.hf.registry import BUILDERS
from llmcalc.kvcache import kv_cache
from llmcalc.mixers.mamba import Mamba1
from llmcalc.state import layer_state_bytes, state_bytes

MEASURED = json.loads((Path(__file__).parent / "data" / "state_measured.json").read_text())
ROWS: list[dict[str, Any]] = MEASURED["rows"]
IDS = [f"{r['label']}-T{r['context_tokens']}-B{r['batch_size']}" for r in ROWS]

JAMBA = {"model_type": "jamba", "vocab_size": 256, "hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 4,
         "num_attention_heads": 4, "num_key_value_heads": 2, "num_experts": 4, "num_experts_per_tok": 2,
         "attn_layer_period": 2, "attn_layer_offset": 1, "mamba_d_state": 8, "mamba_d_conv": 4, "mamba_expand": 2}


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_hf_cache_equals_measured(row: dict[str, Any]) -> None:
    """hf KV cache + recurrent state equal the bytes transformers' cache held after the prefill."""
    if row["config"]["model_type"] not in BUILDERS:
        pytest.skip(f"model_type {row['config']['model_type']} not supported yet")
    spec = spec_from_hf_config(row["config"], source=row["label"])
    t, b = row["context_tokens"], row["batch_size"]
    kv = kv_cache(spec, context_tokens=t, batch_size=b, kv_dtype="bf16", engine="hf").total_bytes
    assert kv + state_bytes(spec, batch_size=b, engine="hf", kv_dtype="bf16").total_bytes == row["measured_bytes"]


def test_measured_table_covers_the_families() -> None:
    """The measured table has three (T, B) points for at least ten families, from transformers 5.x on CPU."""
    labels = {r["label"] for r in ROWS}
    assert MEASURED["transformers"].startswith("5.") and MEASURED["device"] == "cpu"
    assert len(labels) >= 10
    assert all(sum(r["label"] == label for r in ROWS) >= 3 for label in labels)


@pytest.mark.parametrize("engine", ["hf", "vllm", "llama.cpp"])
def test_state_is_constant_in_context_and_linear_in_batch(engine: str) -> None:
    """The state does not depend on the context and grows linearly with the batch."""
    spec = spec_from_hf_config(JAMBA, source="jamba")
    one = state_bytes(spec, batch_size=1, engine=engine)
    assert one.total_bytes > 0
    assert state_bytes(spec, batch_size=3, engine=engine).total_bytes == 3 * one.total_bytes


@pytest.mark.parametrize(
    ("engine", "kv_dtype", "conv", "ssm"),
    [
        # hf: conv d_inner x k in the model dtype, SSM d_inner x N in fp32 (measured)
        ("hf", "bf16", 128 * 4 * 2, 128 * 8 * 4),
        # vLLM: conv keeps k - 1 columns, both in the cache dtype
        ("vllm", "bf16", 128 * 3 * 2, 128 * 8 * 2),
        # llama.cpp: r_l (k - 1) x channels and s_l, both f32
        ("llama.cpp", "f16", 128 * 3 * 4, 128 * 8 * 4),
    ],
)
def test_mamba1_layer_by_hand(engine: str, kv_dtype: str, conv: int, ssm: int) -> None:
    """One Mamba-1 layer (d_inner 128, N 8, k 4): conv and SSM bytes per engine."""
    mixer = Mamba1(d_inner=128, d_state=8, d_conv=4, dt_rank=4)
    assert layer_state_bytes(mixer, engine=engine, kv_dtype=kv_dtype) == (conv, ssm)


def test_vllm_pads_state_pages_to_the_attention_page() -> None:
    """vLLM raises the attention block to 16 x ceil(mamba page / (16 x per-token page)) and pads each state page."""
    spec = spec_from_hf_config(JAMBA, source="jamba")
    est = state_bytes(spec, batch_size=1, engine="vllm", kv_dtype="bf16")
    mamba_page = 128 * 3 * 2 + 128 * 8 * 2  # 2,816 bytes
    per_token = 2 * 2 * 16 * 2  # K and V of 2 heads x 16, bf16: 128 bytes
    block = 16 * -(-mamba_page // (16 * per_token))  # 32 tokens
    assert est.attention_block_tokens == block
    assert est.bytes_per_sequence == 2 * block * per_token
    assert est.padding_bytes == 2 * (block * per_token - mamba_page)


def test_attention_only_model_has_no_state() -> None:
    """A transformer without state layers reports zero state on every engine."""
    spec = spec_from_hf_config({"model_type": "llama", "vocab_size": 32, "hidden_size": 16, "num_hidden_layers": 2,
                                "num_attention_heads": 2, "intermediate_size": 32}, source="llama")
    assert state_bytes(spec, batch_size=4, engine="vllm").total_bytes == 0


def test_memory_json_carries_state_bytes(tmp_path: Path) -> None:
    """memory --json has state_bytes beside kv_cache_bytes, top level and per format, in the total."""
    row = next(r for r in ROWS if r["label"] == "jamba" and r["batch_size"] == 2)
    path = tmp_path / "config.json"
    path.write_text(json.dumps(row["config"]))
    args = ["memory", str(path), "--engine", "hf", "--context", str(row["context_tokens"]), "--batch", "2",
            "--kv-dtype", "bf16", "--json"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["kv_cache_bytes"] + data["state_bytes"] == row["measured_bytes"]
    estimate = data["formats"][0]["estimate"]
    assert estimate["state_bytes"] == data["state_bytes"] > 0
    assert estimate["exact_bytes"] == estimate["weights_bytes"] + estimate["kv_cache_bytes"] + estimate["state_bytes"]


def test_memory_table_shows_state_line(tmp_path: Path) -> None:
    """The memory table shows the recurrent state on its own line for a hybrid model."""
    path = tmp_path / "config.json"
    path.write_text(json.dumps(JAMBA))
    result = CliRunner().invoke(cli, ["memory", str(path), "--context", "64"], env={"COLUMNS": "100"})
    assert result.exit_code == 0, result.output
    assert "Recurrent state (exact)" in result.stdout


def test_context_shows_constant_state(tmp_path: Path) -> None:
    """context lists the state per sequence, a Recurrent state column equal at every context, and the chart legend."""
    from llmcalc.context import memory_curve
    from llmcalc.quant import weights_for_format

    spec = spec_from_hf_config(JAMBA, source="jamba")
    series = memory_curve(spec, weights=weights_for_format(spec, "bf16"), contexts=(128, 4096), batch_size=2,
                          kv_dtype="bf16")
    assert series[0].state_bytes == series[1].state_bytes == state_bytes(spec, batch_size=2).total_bytes > 0
    assert series[1].kv_cache_bytes > series[0].kv_cache_bytes
    path = tmp_path / "config.json"
    path.write_text(json.dumps(JAMBA))
    result = CliRunner().invoke(cli, ["context", str(path), "--batch", "2"], env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    assert "Recurrent state" in result.stdout and "recurrent state (constant)" in result.stdout


def test_vllm_hybrid_kv_uses_the_raised_block() -> None:
    """On vLLM a hybrid model's attention KV is rounded to the raised block size (32 tokens here), not 16."""
    from llmcalc.memory import estimate_memory
    from llmcalc.quant import weights_for_format

    spec = spec_from_hf_config(JAMBA, source="jamba")
    est = estimate_memory(spec, weights=weights_for_format(spec, "bf16"), context_tokens=40, batch_size=1,
                          kv_dtype="bf16", engine="vllm")
    assert est.state is not None and est.state.attention_block_tokens == 32
    assert est.kv_cache_bytes == 2 * 64 * 128  # 2 attention layers x 64 tokens (40 rounded to 32s) x 128 B
