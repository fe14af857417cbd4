"""GGUF file size to the byte: header, metadata KV, tensor infos, alignment padding, tensor data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import llmcalc
from llmcalc.cli import cli
from llmcalc.importers.tokenizer_json import tokenizer_facts
from llmcalc.loading import load_model
from llmcalc.quant import weights_for_format
from llmcalc.quant.gguf_layout import estimate_tokenizer, pad, string_bytes, tensor_info_bytes, tokenizer_kind
from llmcalc.tensors import Tensor

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference"


def gguf_files() -> list[dict[str, object]]:
    path = REFERENCE / "gguf-files.json"
    if not path.is_file():
        return []
    return list(json.loads(path.read_text())["files"])


@pytest.mark.parametrize("entry", gguf_files() or [pytest.param(None, marks=pytest.mark.skip(reason="no reference"))],
                         ids=lambda e: str(e["format"]) if e else "absent")
def test_llama3_8b_file_bytes_to_the_byte(entry: dict[str, object]) -> None:
    """Meta-Llama-3-8B-Instruct's published file sizes (shared/reference/gguf-files.json, from the Hugging Face
    repo ddh0/UnquantizedEmbeddingTesting, sizes.txt) equal file_bytes to the byte."""
    spec = load_model(str(REFERENCE / "configs" / "llama-3-8b.json")).spec
    result = weights_for_format(spec, str(entry["format"]))
    assert result.file_bytes == entry["file_bytes"]
    assert result.file_bytes_estimated


def test_gguf_string_and_tensor_info_layout() -> None:
    """gguf_writer: a string is u64 length + bytes; a tensor info is name + u32 n_dims + dims x u64 + u32 + u64."""
    assert string_bytes("token_embd.weight") == 8 + 17
    embd = Tensor("token_embd.weight", None, (4096, 128256), "token_embedding")
    assert tensor_info_bytes(embd) == 25 + 4 + 16 + 4 + 8
    assert (pad(0), pad(1), pad(32), pad(33), pad(33, 64)) == (0, 32, 32, 64, 64)


def test_file_bytes_is_padded_metadata_plus_padded_tensors() -> None:
    """file_bytes - tensor data = header + KV + infos + padding, all multiples of 32 (GGML_PAD per tensor)."""
    spec = llmcalc.load_preset("qwen3-0.6b").spec
    result = weights_for_format(spec, "q8_0")
    assert result.file_bytes is not None and result.file_bytes % 32 == 0
    assert 0 < result.file_bytes - result.total_bytes < 8_000_000


def test_tokenizer_json_is_measured_exactly() -> None:
    """A tiny byte-level BPE tokenizer.json: tokens padded to vocab_size with [PAD<id>], merges as 'a b'."""
    data = {"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b", ["ab", "b"]]},
            "added_tokens": [{"id": 3, "content": "<|end|>"}]}
    facts = tokenizer_facts(data, vocab_size=6, source="t.json")
    assert (facts.kind, facts.n_tokens, facts.n_merges) == ("gpt2", 6, 2)
    assert facts.token_bytes == 1 + 1 + 2 + 7 + len("[PAD4]") + len("[PAD5]")
    assert facts.merge_bytes == 3 + 4 and not facts.estimated and not facts.has_scores


def test_sentencepiece_tokenizer_json_has_scores_and_no_merges() -> None:
    """byte_fallback BPE (a converted SentencePiece model) is tokenizer.ggml.model 'llama', with scores."""
    data = {"model": {"type": "BPE", "byte_fallback": True, "vocab": {"\u2581a": 0}, "merges": ["\u2581 a"]}}
    facts = tokenizer_facts(data, vocab_size=1, source="t.json")
    assert (facts.kind, facts.has_scores, facts.n_merges, facts.token_bytes) == ("llama", True, 0, 4)


@pytest.mark.parametrize(("name", "kind"), [("llama-3-8b", "gpt2"), ("llama-2-7b", "llama"), ("qwen3-0.6b", "gpt2"),
                                            ("gemma-2-2b", "llama"), ("bert-base-uncased", "bert")])
def test_estimated_tokenizer_kind(name: str, kind: str) -> None:
    """Without a tokenizer.json the kind is estimated by family (Llama 3's 128k BPE vs Llama 2's SentencePiece)."""
    tok = estimate_tokenizer(llmcalc.load_preset(name).spec)
    assert (tokenizer_kind(llmcalc.load_preset(name).spec), tok.kind, tok.estimated) == (kind, kind, True)


def test_tokenizer_json_beside_a_config_is_read(tmp_path: Path, runner: CliRunner) -> None:
    """`quant CONFIG --json` reads tokenizer.json beside config.json: file_bytes is no longer an estimate."""
    config = {"model_type": "llama", "hidden_size": 256, "intermediate_size": 512, "num_attention_heads": 4,
              "num_key_value_heads": 4, "num_hidden_layers": 2, "vocab_size": 8, "max_position_embeddings": 64,
              "rms_norm_eps": 1e-5, "tie_word_embeddings": False, "architectures": ["LlamaForCausalLM"]}
    (tmp_path / "config.json").write_text(json.dumps(config))
    tok = {"model": {"type": "BPE", "vocab": {c: i for i, c in enumerate("abcdefgh")}, "merges": []}}
    (tmp_path / "tokenizer.json").write_text(json.dumps(tok))
    result = runner.invoke(cli, ["quant", str(tmp_path / "config.json"), "--json"])
    assert result.exit_code == 0, result.output
    q8 = next(f for f in json.loads(result.output)["formats"] if f["format"] == "q8_0")
    assert q8["file_bytes"] > q8["total_bytes"] and q8["file_bytes_estimated"] is False


def test_tokenizer_config_with_transformers_model_max_length_is_read(tmp_path: Path, runner: CliRunner) -> None:
    """transformers writes model_max_length int(1e30) (31 digits) into tokenizer_config.json: a folder with one
    is read, not refused (found on llama.cpp-converted folders, benchmarks/measure_gguf_llamacpp.py)."""
    config = {"model_type": "llama", "hidden_size": 256, "intermediate_size": 512, "num_attention_heads": 4,
              "num_key_value_heads": 4, "num_hidden_layers": 2, "vocab_size": 8, "max_position_embeddings": 64}
    (tmp_path / "config.json").write_text(json.dumps(config))
    tok = {"model": {"type": "BPE", "vocab": {c: i for i, c in enumerate("abcdefgh")}, "merges": []}}
    (tmp_path / "tokenizer.json").write_text(json.dumps(tok))
    (tmp_path / "tokenizer_config.json").write_text('{"model_max_length": 1000000000000000019884624838656}')
    result = runner.invoke(cli, ["quant", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output


def test_memory_json_carries_file_bytes(runner: CliRunner) -> None:
    """`memory --quant q4_k_m --json` gives each GGUF format's file_bytes."""
    result = runner.invoke(cli, ["memory", "qwen3-0.6b", "--quant", "q4_k_m", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    expected = weights_for_format(llmcalc.load_preset("qwen3-0.6b").spec, "q4_k_m", stored_output_head=True)
    assert data["formats"][0]["file_bytes"] == expected.file_bytes


def test_estimated_tokenizer_is_labelled_in_the_notes() -> None:
    """Without a tokenizer.json the notes say file_bytes rests on an estimated tokenizer, and its source."""
    result = weights_for_format(llmcalc.load_preset("llama-3.1-8b").spec, "q4_k_m")
    note = next(n for n in result.notes if n.startswith("file_bytes"))
    assert "tokenizer estimated" in note and "gguf-files.json" in note
