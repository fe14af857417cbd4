"""The 2025-26 text families count exactly as transformers does, on synthetic variations.

tests/data/text_counts.json holds small variations of every family (MoE layer steps, first-k-dense,
shared experts, biases, tied embeddings, head_dim, layer types) with the counts transformers 5.24
gives on the meta device; benchmarks/verify_text_counts.py made it (and re-checks it with torch).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from llmcalc import count_params, spec_from_hf_config
from llmcalc.importers.hf.registry import BUILDERS
from llmcalc.kvcache import indexer_cache_bytes
from llmcalc.params import indexer_params
from llmcalc.tensors import weight_tensors

TABLE = json.loads((Path(__file__).parent / "data" / "text_counts.json").read_text())
ROWS: list[dict[str, Any]] = TABLE["variations"]
FAMILIES = sorted({row["model_type"] for row in ROWS})


def _counts(config: dict[str, Any]) -> dict[str, int]:
    counts = count_params(spec_from_hf_config(config, source=config["model_type"]))
    return {
        "total": counts.total_params,
        "active": counts.active_params,
        "embed": counts.embedding_params,
        "lm_head": counts.lm_head_params,
        "pos_embed": counts.positional_params,
    }


@pytest.mark.parametrize("row", ROWS, ids=[row["id"] for row in ROWS])
def test_variation_counts_from_keys(row: dict[str, Any]) -> None:
    """The few keys given, read with the family's defaults, count as transformers counts them."""
    assert _counts(row["config"]) == row["expected"]


@pytest.mark.parametrize("row", ROWS, ids=[row["id"] for row in ROWS])
def test_variation_counts_from_full_config(row: dict[str, Any]) -> None:
    """The full config transformers writes (every default spelled out) gives the same counts."""
    assert _counts(row["full_config"]) == row["expected"]


@pytest.mark.parametrize("row", ROWS, ids=[row["id"] for row in ROWS])
def test_variation_tensors_add_up(row: dict[str, Any]) -> None:
    """The tensor inventory of each variation adds up to its total."""
    spec = spec_from_hf_config(row["config"], source=row["id"])
    assert sum(t.n_elements for t in weight_tensors(spec)) == row["expected"]["total"]


@pytest.mark.parametrize("model_type", FAMILIES)
def test_family_registered_and_varied(model_type: str) -> None:
    """Every family in the table has its own builder and at least two variations."""
    assert model_type in BUILDERS
    assert sum(row["model_type"] == model_type for row in ROWS) >= 2


def test_table_records_transformers_version() -> None:
    """The table says which transformers counted it."""
    assert TABLE["transformers_version"] == "5.24.0"


def _v32(**changes: Any) -> dict[str, Any]:
    row = next(r for r in ROWS if r["id"] == "deepseek_v32-base")
    return {**row["config"], **changes}


def test_deepseek_v32_indexer_component() -> None:
    """DeepSeek-V3.2's indexer is its own component: r_q n d + H d + 2 d + H n per layer."""
    config = _v32()
    spec = spec_from_hf_config(config, source="v32")
    counts = count_params(spec)
    h, r_q, n, d = config["hidden_size"], config["q_lora_rank"], config["index_n_heads"], config["index_head_dim"]
    per_layer = r_q * n * d + h * d + 2 * d + h * n
    assert counts.component("indexer") == config["num_hidden_layers"] * per_layer
    attn = spec.first_attention
    assert attn is not None and attn.indexer is not None
    assert indexer_params(attn.indexer, h) == per_layer


@pytest.mark.parametrize(
    ("engine", "kv_dtype", "per_token_layer"),
    [("hf", "bf16", 16 * 2), ("vllm", "bf16", 16 + 0), ("llama.cpp", "f16", 16 * 2)],
    ids=["hf-bf16", "vllm-fp8-keys", "llama.cpp-f16"],
)
def test_indexer_cache_bytes(engine: str, kv_dtype: str, per_token_layer: int) -> None:
    """The indexer key cache is index_head_dim values per token and layer, in each engine's dtype."""
    spec = spec_from_hf_config(_v32(), source="v32")
    layers = spec.num_hidden_layers
    got = indexer_cache_bytes(spec, context_tokens=512, batch_size=3, kv_dtype=kv_dtype, engine=engine)
    assert got == layers * per_token_layer * 512 * 3


def test_indexer_cache_vllm_scale_bytes() -> None:
    """vLLM adds a 4-byte fp32 scale per 128 fp8 indexer values (132 bytes for DeepSeek-V3.2)."""
    spec = spec_from_hf_config(_v32(index_head_dim=128), source="v32")
    got = indexer_cache_bytes(spec, context_tokens=1024, engine="vllm")
    assert got == spec.num_hidden_layers * 132 * 1024


def test_indexer_cache_zero_without_indexer() -> None:
    """A model without an indexer has no indexer cache."""
    row = next(r for r in ROWS if r["id"] == "glm4_moe-base")
    spec = spec_from_hf_config(row["config"], source="glm")
    assert indexer_cache_bytes(spec, context_tokens=100) == 0


def test_longcat_layers_and_zero_experts() -> None:
    """LongCat-Flash: two attention sublayers per logical layer, a router over real + zero experts."""
    row = next(r for r in ROWS if r["id"] == "longcat_flash-base")
    config = row["config"]
    spec = spec_from_hf_config(config, source="longcat")
    stack = spec.main_stack
    attending = sum(g.count for g in stack.groups if g.attention is not None)
    assert attending == 2 * config["num_layers"]
    counts = count_params(spec)
    h, e, z = config["hidden_size"], config["n_routed_experts"], config["zero_expert_num"]
    assert counts.component("router") == config["num_layers"] * h * (e + z)


def test_hunyuan_moe_warns_on_ignored_expert_width() -> None:
    """A Hunyuan-A13B config's moe_intermediate_size, which transformers ignores, gets a warning."""
    row = next(r for r in ROWS if r["id"] == "hunyuan_v1_moe-base")
    config = {**row["config"], "moe_intermediate_size": 24}
    spec = spec_from_hf_config(config, source="hunyuan")
    assert count_params(spec).total_params == row["expected"]["total"]
    assert any("moe_intermediate_size" in a for a in spec.assumptions)


@pytest.mark.parametrize("row_id", ["gptj-tied-head-bias", "phi-tied-head-bias", "phi-tied-qk-layernorm"])
def test_tied_head_keeps_its_bias(row_id: str) -> None:
    """A tied output head with a bias (GPT-J, Phi-2) adds its vocab-sized bias, as transformers has it."""
    row = next(r for r in ROWS if r["id"] == row_id)
    spec = spec_from_hf_config(row["config"], source=row_id)
    counts = count_params(spec)
    assert spec.lm_head == "tied"
    assert counts.lm_head_params == row["config"]["vocab_size"] == row["expected"]["lm_head"]
    head = [t for t in weight_tensors(spec) if t.role == "lm_head"]
    assert [(t.name, t.shape) for t in head] == [("output.bias", (row["config"]["vocab_size"],))]


def test_gemma3n_kv_shared_layers_hold_no_cache() -> None:
    """Gemma 3n's last num_kv_shared_layers reuse earlier K/V: no k/v weights and no cache of their own."""
    from llmcalc.kvcache import kv_cache

    row = next(r for r in ROWS if r["id"] == "gemma3n_text-base")
    config = row["config"]
    spec = spec_from_hf_config(config, source="gemma3n")
    own = config["num_hidden_layers"] - config["num_kv_shared_layers"]
    per_token = 2 * config["num_key_value_heads"] * config["head_dim"] * 2
    window = config["sliding_window"]
    # Unshared layers 0-4: layer 4 is full attention, 0-3 slide over the window.
    cache = kv_cache(spec, context_tokens=100, kv_dtype="bf16", engine="hf")
    assert own == 5
    assert cache.total_bytes == per_token * 5 * 100  # right after the prefill: the whole prompt
    assert cache.steady_bytes == per_token * (100 + 4 * window)
    names = {t.name for t in weight_tensors(spec)}
    assert "blk.9.attn_k.weight" not in names and "blk.9.attn_q.weight" in names


def test_gemma3n_components() -> None:
    """Gemma 3n shows its per-layer embedding table, AltUp and Laurel as their own components."""
    row = next(r for r in ROWS if r["id"] == "gemma3n_text-base")
    config = row["config"]
    counts = count_params(spec_from_hf_config(config, source="gemma3n"))
    layers, p = config["num_hidden_layers"], config["hidden_size_per_layer_input"]
    assert counts.component("per_layer_embedding") == config["vocab_size_per_layer_input"] * layers * p
    h, r = config["hidden_size"], config["laurel_rank"]
    assert counts.component("laurel") == layers * (2 * h * r + h)
    assert counts.component("altup") > 0


@pytest.mark.parametrize("model_type", ["qwen3_moe", "qwen2_moe", "olmoe", "mixtral"])
def test_expert_count_under_either_name(model_type: str) -> None:
    """transformers' attribute_map makes num_experts and num_local_experts one field, and save_pretrained may
    write either (transformers 5 writes Qwen3-MoE's as num_local_experts): both names give the same count."""
    from llmcalc import count_params, spec_from_hf_config

    base = {"model_type": model_type, "vocab_size": 1000, "hidden_size": 64, "intermediate_size": 128,
            "moe_intermediate_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
            "num_experts_per_tok": 2}
    counts = {count_params(spec_from_hf_config({**base, key: 4}, source=key)).total_params
              for key in ("num_experts", "num_local_experts")}
    assert len(counts) == 1
