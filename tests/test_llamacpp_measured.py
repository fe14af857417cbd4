"""llmcalc against what llama.cpp itself did on tiny random-weight models (CPU backend, llama.cpp 0c1e57098).

The data are tests/data/gguf_llamacpp_measured.json, made by benchmarks/measure_gguf_llamacpp.py:
each model converted with convert_hf_to_gguf.py, quantized with llama-quantize to 13 file types,
and loaded by llama-perplexity at several n_ctx, n_ubatch and flash-attention settings, whose
logged KV and compute buffer sizes are recorded.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from llmcalc.cli import cli
from llmcalc.engines.llamacpp import ACTIVATION_RANGE
from llmcalc.importers.hf import spec_from_hf_config
from llmcalc.kvcache import kv_cache
from llmcalc.memory import activation_estimate, engine_settings
from llmcalc.quant import gguf_tensor_types
from llmcalc.spec import ModelSpec
from tests.conftest import ROOT

DATA = json.loads((ROOT / "tests" / "data" / "gguf_llamacpp_measured.json").read_text())
#: The saved config.json of each model and the one tokenizer all eight used (benchmarks/measure_gguf_llamacpp.py).
TINY = ROOT / "tests" / "data" / "llamacpp_tiny"
FILES = [(model, ftype, entry) for model, by_type in DATA["files"].items() for ftype, entry in by_type.items()]
BUFFERS = [(model, row) for model, rows in DATA["buffers"].items() for row in rows]


def _spec(model: str) -> ModelSpec:
    config = DATA["configs"][model]
    return spec_from_hf_config(config.get("config", config), source=model)


def _format(ftype: str) -> str:
    return {"F16": "gguf-f16", "BF16": "gguf-bf16"}.get(ftype, ftype.lower())


@pytest.mark.parametrize(("model", "ftype", "entry"), FILES, ids=[f"{m}-{t}" for m, t, _ in FILES])
def test_every_tensor_gets_llama_quantizes_type(model: str, ftype: str, entry: dict[str, Any]) -> None:
    """Each quantized tensor's ggml type equals the one llama-quantize wrote (src/llama-quant.cpp
    llama_tensor_get_type), fused attn_qkv, MLA attn_k_b/attn_v_b, experts and tied heads included."""
    ours: dict[str, set[str]] = {}
    for t, ty in gguf_tensor_types(_spec(model), _format(ftype)):
        if ty != "F32":
            ours.setdefault(ty, set()).add(t.name)
    assert ours == {ty: set(names) for ty, names in entry["types"].items()}


@pytest.mark.parametrize(("model", "row"), BUFFERS, ids=[f"{m}-{r['n_ctx']}-{r['n_ubatch']}-{r['flash_attn_resolved']}"
                                                          for m, r in BUFFERS])
def test_kv_buffer_is_exact(model: str, row: dict[str, Any]) -> None:
    """The KV buffer llama.cpp allocates (llama_kv_cache, f16) equals llmcalc's llama.cpp KV cache."""
    spec = _spec(model)
    settings = engine_settings("llama.cpp", n_ubatch=row["n_ubatch"])
    kv = kv_cache(spec, context_tokens=row["n_ctx"], batch_size=1, engine="llama.cpp", cache=settings.cache)
    assert kv.total_bytes == row["kv_bytes"]


@pytest.mark.parametrize(("model", "row"), BUFFERS, ids=[f"{m}-{r['n_ctx']}-{r['n_ubatch']}-{r['flash_attn_resolved']}"
                                                          for m, r in BUFFERS])
def test_compute_buffer_is_inside_the_stated_range(model: str, row: dict[str, Any]) -> None:
    """The compute buffer llama.cpp reserves lies inside the activation estimate's range (ACTIVATION_RANGE,
    fitted on these rows: an estimate, not exact)."""
    fa = row["flash_attn_resolved"] == "enabled"
    est = activation_estimate(_spec(model), context_tokens=row["n_ctx"], batch_size=1,
                              settings=engine_settings("llama.cpp", n_ubatch=row["n_ubatch"], flash_attention=fa))
    assert est.total_bytes_low <= row["compute_bytes"] <= est.total_bytes_high


def test_range_is_no_wider_than_the_measurements_need() -> None:
    """ACTIVATION_RANGE is the measured spread rounded outwards by at most 0.03 at each end."""
    ratios = []
    for model, row in BUFFERS:
        fa = row["flash_attn_resolved"] == "enabled"
        est = activation_estimate(_spec(model), context_tokens=row["n_ctx"], batch_size=1,
                                  settings=engine_settings("llama.cpp", n_ubatch=row["n_ubatch"], flash_attention=fa))
        ratios.append(row["compute_bytes"] / est.total_bytes)
    low, high = ACTIVATION_RANGE
    assert 0 <= min(ratios) - float(low) <= 0.03 and 0 <= float(high) - max(ratios) <= 0.03


def _model_folder(tmp_path: Path, model: str) -> Path:
    """The model's folder as the converter read it: config.json, tokenizer.json, tokenizer_config.json
    (phi3's names GPT2Tokenizer, as the measurement script writes it)."""
    folder = tmp_path / model
    folder.mkdir()
    config = json.loads((TINY / "configs.json").read_text())["configs"][model]
    (folder / "config.json").write_text(json.dumps(config))
    shutil.copy(TINY / "tokenizer.json", folder / "tokenizer.json")
    tc = json.loads((TINY / "tokenizer_config.json").read_text())
    if model == "phi3":
        tc["tokenizer_class"] = "GPT2Tokenizer"
    (folder / "tokenizer_config.json").write_text(json.dumps(tc))
    return folder


@pytest.mark.parametrize("model", list(DATA["files"]))
def test_file_bytes_is_exact(tmp_path: Path, model: str) -> None:
    """`quant FOLDER --json` (config.json + tokenizer beside it) gives every file type's measured size to the byte:
    the converter's model keys per class, the tokenizer's special ids and flags, size label, exp_probs_b."""
    result = CliRunner().invoke(cli, ["quant", str(_model_folder(tmp_path, model)), "--json"])
    assert result.exit_code == 0, result.output
    ours = {f["format"]: f for f in json.loads(result.output)["formats"]}
    for ftype, entry in DATA["files"][model].items():
        row = ours[_format(ftype)]
        assert (ftype, row["file_bytes"], row["file_bytes_estimated"]) == (ftype, entry["file_bytes"], False)
