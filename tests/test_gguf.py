"""GGUF: spec from metadata, exact bytes per ggml type, file bpw, KV cache, split files, bad files."""

from __future__ import annotations

import struct
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from llmcalc import FileFormatError, count_params, load_model, spec_from_hf_config
from llmcalc.cli import cli
from llmcalc.importers.gguf import GGUFFile, GGUFTensor, config_from_gguf, count_gguf, read_gguf, read_gguf_model
from llmcalc.kvcache import kv_bytes_per_token
from tests.helpers_files import (
    ARRAY,
    STRING,
    TINY_GGUF_PARAMS,
    U16,
    U32,
    gguf_bytes,
    tiny_llama_gguf_metadata,
    tiny_llama_gguf_tensors,
    write_gguf,
)

# Bytes by hand. Q8_0: 34 bytes per 32 values; Q4_K: 144 per 256; F16: 2; F32: 4.
Q8_0 = (32_768 + 2 * 131_072) // 32 * 34  # token_embd + two ffn_down: 313,344
Q4_K = 4 * 131_072 // 256 * 144  # two ffn_gate, two ffn_up: 294,912
F16 = 2 * (2 * (65_536 + 32_768 + 32_768 + 65_536) + 32_768)  # attention + output: 851,968
F32 = 4 * (4 * 256 + 256)  # norms: 5,120
TOTAL = Q8_0 + Q4_K + F16 + F32  # 1,465,344


@pytest.fixture
def tiny_gguf(tmp_path: Path) -> Path:
    return write_gguf(tmp_path / "tiny-llama-Q4_K_M.gguf")


def test_hand_figures() -> None:
    """The hand-computed bytes used below."""
    assert (Q8_0, Q4_K, F16, F32, TOTAL) == (313_344, 294_912, 851_968, 5_120, 1_465_344)
    assert TINY_GGUF_PARAMS == 1_246_464


def test_read_header(tiny_gguf: Path) -> None:
    """Metadata and tensor infos are read as written; long arrays are kept when small."""
    g = read_gguf(tiny_gguf)
    assert g.version == 3
    assert g.architecture == "llama"
    assert g.metadata["llama.block_count"] == 2
    assert len(g.metadata["tokenizer.ggml.tokens"]) == 128
    assert len(g.tensors) == 21
    assert g.tensors[0].shape == (256, 128) and g.tensors[0].ggml_type == "Q8_0"
    assert g.data_start % 32 == 0


def test_exact_bytes_and_bpw(tiny_gguf: Path) -> None:
    """Exact bytes per ggml type, parameters from dims, and the file's effective bits per weight."""
    count = count_gguf(read_gguf_model(tiny_gguf))
    assert count.params == TINY_GGUF_PARAMS
    assert dict(count.bytes_by_type) == {"Q8_0": Q8_0, "Q4_K": Q4_K, "F16": F16, "F32": F32}
    assert count.total_bytes == TOTAL
    assert count.bits_per_weight == pytest.approx(8 * 1_465_344 / 1_246_464)  # 9.4048
    assert count.file_type == "MOSTLY_Q4_K_M"


def test_load_model_spec_from_metadata(tiny_gguf: Path) -> None:
    """load_model on a .gguf: spec fields from metadata, analytical count == counted, stored weights exact."""
    loaded = load_model(tiny_gguf)
    spec = loaded.spec
    assert loaded.kind == "gguf"
    assert spec.name == "Tiny Llama"
    assert (spec.num_hidden_layers, spec.hidden_size, spec.num_attention_heads, spec.num_key_value_heads,
            spec.head_dim, spec.vocab_size, spec.max_context) == (2, 256, 4, 2, 64, 128, 2048)
    assert spec.lm_head == "untied"
    assert loaded.counted_params == count_params(spec).total_params == TINY_GGUF_PARAMS
    assert loaded.weights is not None
    assert loaded.weights.total_bytes == TOTAL
    assert loaded.weights.params == TINY_GGUF_PARAMS


def test_kv_cache_from_metadata(tiny_gguf: Path) -> None:
    """KV bytes per token from GGUF metadata: 2 (K, V) x 2 layers x 2 KV heads x 64 x 2 bytes = 1,024."""
    spec = load_model(tiny_gguf).spec
    assert kv_bytes_per_token(spec, kv_dtype="f16", engine="llama.cpp") == 2 * 2 * 2 * 64 * 2 == 1_024


def test_tied_output_and_sliding_window(tmp_path: Path) -> None:
    """No output.weight means a tied head; sliding_window and expert metadata reach the spec (gemma2, mixtral)."""
    meta = tiny_llama_gguf_metadata("gemma2") + [("gemma2.attention.sliding_window", U32, 512)]
    tensors = [t for t in tiny_llama_gguf_tensors() if t[0] != "output.weight"]
    for i in range(2):
        tensors += [(f"blk.{i}.post_attention_norm.weight", [256], "F32"),
                    (f"blk.{i}.post_ffw_norm.weight", [256], "F32")]
    path = write_gguf(tmp_path / "g.gguf", meta, tensors)
    loaded = load_model(path)
    spec = loaded.spec
    assert spec.lm_head == "tied"
    assert spec.model_type == "gemma2"
    windows = sorted((g.attention.sliding_window or 0, g.count) for g in spec.main_stack.groups)
    assert windows == [(0, 1), (512, 1)]
    assert loaded.counted_params == count_params(spec).total_params == TINY_GGUF_PARAMS - 32_768 + 4 * 256


def test_moe_metadata(tmp_path: Path) -> None:
    """A llama-architecture GGUF with expert_count is Mixtral-style; 3-D expert tensors count exactly."""
    meta = tiny_llama_gguf_metadata() + [("llama.expert_count", U32, 4), ("llama.expert_used_count", U32, 2)]
    tensors = [t for t in tiny_llama_gguf_tensors() if ".ffn_" not in t[0] or "norm" in t[0]]
    for i in range(2):
        tensors += [(f"blk.{i}.ffn_gate_inp.weight", [256, 4], "F32"),
                    (f"blk.{i}.ffn_gate_exps.weight", [256, 512, 4], "Q4_K"),
                    (f"blk.{i}.ffn_up_exps.weight", [256, 512, 4], "Q4_K"),
                    (f"blk.{i}.ffn_down_exps.weight", [512, 256, 4], "Q8_0")]
    loaded = load_model(write_gguf(tmp_path / "moe.gguf", meta, tensors))
    counts = count_params(loaded.spec)
    assert loaded.spec.model_type == "mixtral"
    assert counts.moe is not None and counts.moe.num_experts == 4
    assert loaded.counted_params == counts.total_params == TINY_GGUF_PARAMS + 2 * (3 * 3 * 131_072 + 1_024)


def test_rope_freqs_is_a_buffer(tmp_path: Path) -> None:
    """llama.cpp's generated rope_freqs.weight is stored but is not a parameter."""
    tensors = tiny_llama_gguf_tensors() + [("rope_freqs.weight", [32], "F32")]
    loaded = load_model(write_gguf(tmp_path / "r.gguf", tensors=tensors))
    assert loaded.counted_params == TINY_GGUF_PARAMS
    assert loaded.weights is not None and loaded.weights.total_bytes == TOTAL + 128


def test_long_arrays_skipped(tmp_path: Path) -> None:
    """A 50,000-token vocabulary is skipped (length kept), not held in memory; vocab falls back to it."""
    meta = [m for m in tiny_llama_gguf_metadata() if m[0] != "tokenizer.ggml.tokens"]
    meta.append(("tokenizer.ggml.tokens", ARRAY, (STRING, ["tok"] * 50_000)))
    path = write_gguf(tmp_path / "v.gguf", meta)
    start = time.perf_counter()
    g = read_gguf(path)
    assert time.perf_counter() - start < 2.0
    tokens = g.metadata["tokenizer.ggml.tokens"]
    assert tokens.length == 50_000


def test_nested_arrays_skipped(tmp_path: Path) -> None:
    """Nested arrays are stepped over (kept as their length); the keys after them still read."""
    meta = tiny_llama_gguf_metadata() + [("x.nested", ARRAY, (ARRAY, [(U32, [1, 2]), (U32, [3])])),
                                         ("x.after", U32, 7)]
    g = read_gguf(write_gguf(tmp_path / "n.gguf", meta))
    assert g.metadata["x.nested"].length == 2
    assert g.metadata["x.after"] == 7


def test_split_gguf(tmp_path: Path) -> None:
    """A split model (NAME-0000k-of-0000n.gguf) is read as a whole from any part; a missing part is an error."""
    tensors = tiny_llama_gguf_tensors()
    half = len(tensors) // 2
    split_meta = tiny_llama_gguf_metadata() + [("split.count", U16, 2), ("split.no", U16, 0)]
    write_gguf(tmp_path / "m-00001-of-00002.gguf", split_meta, tensors[:half])
    write_gguf(tmp_path / "m-00002-of-00002.gguf",
               [("general.architecture", STRING, "llama"), ("split.count", U16, 2), ("split.no", U16, 1)],
               tensors[half:])
    for part in ("m-00001-of-00002.gguf", "m-00002-of-00002.gguf"):
        loaded = load_model(tmp_path / part)
        assert loaded.counted_params == TINY_GGUF_PARAMS
        assert loaded.weights is not None and loaded.weights.total_bytes == TOTAL
    (tmp_path / "m-00002-of-00002.gguf").unlink()
    with pytest.raises(FileFormatError, match="missing split part m-00002-of-00002.gguf"):
        load_model(tmp_path / "m-00001-of-00002.gguf")


def test_folder_with_one_gguf(tiny_gguf: Path) -> None:
    """A folder holding one .gguf and no config.json loads the GGUF."""
    assert load_model(tiny_gguf.parent).kind == "gguf"


# --- bad files -----------------------------------------------------------------------------------


def _good() -> bytes:
    return gguf_bytes(tiny_llama_gguf_metadata(), tiny_llama_gguf_tensors())


def _patch_counts(n_tensors: int, n_kv: int) -> bytes:
    return b"GGUF" + struct.pack("<IQQ", 3, n_tensors, n_kv) + _good()[24:]


def _huge_string() -> bytes:
    # First key's length field (right after the 24-byte header) claims 2^62 bytes.
    good = _good()
    return good[:24] + struct.pack("<Q", 2**62) + good[32:]


def _huge_array() -> bytes:
    meta = [("tokenizer.ggml.tokens", ARRAY, (STRING, []))]
    raw = gguf_bytes(meta, [])
    i = raw.index(b"tokenizer.ggml.tokens") + len("tokenizer.ggml.tokens") + 4 + 4
    return raw[:i] + struct.pack("<Q", 2**60) + raw[i + 8:]


def _truncated_vocabulary() -> bytes:
    meta = [("general.architecture", STRING, "llama"), ("tokenizer.ggml.tokens", ARRAY, (STRING, ["tok"] * 5000))]
    return gguf_bytes(meta, [])[:50_000]


BAD = {
    "truncated-long-array": (_truncated_vocabulary, "metadata 'tokenizer.ggml.tokens' runs past the end of the file"),
    "wrong-magic": (lambda: b"GGML" + _good()[4:], "not a GGUF file"),
    "empty": (lambda: b"", "not a GGUF file"),
    "bad-version": (lambda: b"GGUF" + struct.pack("<I", 7) + _good()[8:], "unsupported GGUF version 7"),
    "truncated-metadata": (lambda: _good()[:200], "truncated"),
    "truncated-data": (lambda: _good()[:-5000], "data ends at byte"),
    "huge-kv-count": (lambda: _patch_counts(21, 2**60), "metadata count 1,152,921,504,606,846,976 is more than"),
    "huge-tensor-count": (lambda: _patch_counts(2**60, 16), "tensor count 1,152,921,504,606,846,976 is more than"),
    "huge-string": (lambda: _huge_string(), "truncated: metadata key 0 needs 4,611,686,018,427,387,904 bytes"),
    "huge-array": (lambda: _huge_array(), "claims 1,152,921,504,606,846,976 elements"),
    "unknown-ggml-type": (lambda: gguf_bytes(tiny_llama_gguf_metadata(), tiny_llama_gguf_tensors(),
                                             type_ids={"blk.0.attn_q.weight": 99}),
                          "tensor 'blk.0.attn_q.weight': unknown ggml type 99"),
    "removed-ggml-type": (lambda: gguf_bytes(tiny_llama_gguf_metadata(), tiny_llama_gguf_tensors(),
                                             type_ids={"output.weight": 4}),
                          "unknown ggml type 4 (Q4_2, removed from ggml)"),
    "unknown-value-type": (lambda: b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + struct.pack("<Q", 1) + b"x"
                           + struct.pack("<I", 13) + bytes(8), "unknown value type 13"),
    "non-utf8-key": (lambda: b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + struct.pack("<Q", 2) + b"\xff\xfe"
                     + struct.pack("<IB", 0, 1), "metadata key 0 is not UTF-8"),
    "row-not-block-multiple": (lambda: gguf_bytes(tiny_llama_gguf_metadata(), [("w", [100, 2], "Q4_K")]),
                               "row length 100 is not a multiple of the Q4_K block of 256"),
}


@pytest.mark.parametrize("case", list(BAD), ids=list(BAD))
def test_bad_file(tmp_path: Path, case: str) -> None:
    """Each malformed GGUF raises FileFormatError naming the file, quickly and without big allocations."""
    make, message = BAD[case]
    path = tmp_path / "bad.gguf"
    path.write_bytes(make())
    start = time.perf_counter()
    with pytest.raises(FileFormatError) as err:
        read_gguf(path)
    assert time.perf_counter() - start < 1.0
    assert str(err.value).startswith(f"{path}: ")
    assert message in str(err.value)


# --- CLI -------------------------------------------------------------------------------------------


def test_cli_params_gguf(tiny_gguf: Path, runner: CliRunner) -> None:
    """`llmcalc params FILE.gguf`: bytes per ggml type, the cross-check, the file bpw."""
    result = runner.invoke(cli, ["params", str(tiny_gguf), "--width", "120"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "│ Q4_K      │   294,912 │ 288.00 KiB │  20.1% │" in lines
    assert "│ Total     │ 1,465,344 │   1.40 MiB │ 100.0% │" in lines
    assert "Counted from tensor shapes: 1,246,464; analytical from the architecture: 1,246,464 (match)" in lines
    assert "Effective bits per weight: 9.40 (8 x 1,465,344 bytes / 1,246,464 parameters)" in lines


def test_cli_bad_gguf(tmp_path: Path, runner: CliRunner) -> None:
    """A GGUF with a wrong magic: one 'Error:' line, exit 1, no traceback."""
    path = tmp_path / "bad.gguf"
    path.write_bytes(b"GGML" + bytes(60))
    result = runner.invoke(cli, ["params", str(path)])
    assert result.exit_code == 1
    assert result.stderr == f"Error: {path}: not a GGUF file (the first 4 bytes are not 'GGUF')\n"
    assert "Traceback" not in result.output


# --- metadata of real models, as llama.cpp's convert_hf_to_gguf.py writes it -------------------------

REAL_METADATA = {
    "deepseek-v2-lite": ("deepseek2", {
        "block_count": 27, "context_length": 163840, "embedding_length": 2048, "feed_forward_length": 10944,
        "attention.head_count": 16, "attention.head_count_kv": 1, "attention.key_length": 576,
        "attention.value_length": 512, "attention.key_length_mla": 192, "attention.value_length_mla": 128,
        "attention.kv_lora_rank": 512, "rope.dimension_count": 64, "expert_count": 64, "expert_used_count": 6,
        "expert_shared_count": 2, "expert_feed_forward_length": 1408, "leading_dense_block_count": 1,
        "vocab_size": 102400}, ["output.weight"]),
    "qwen3-30b-a3b": ("qwen3moe", {
        "block_count": 48, "context_length": 40960, "embedding_length": 2048, "feed_forward_length": 6144,
        "attention.head_count": 32, "attention.head_count_kv": 4, "attention.key_length": 128,
        "attention.value_length": 128, "expert_count": 128, "expert_used_count": 8,
        "expert_feed_forward_length": 768, "rope.freq_base": 1e6}, ["output.weight"]),
    "gpt-oss-20b": ("gpt-oss", {
        "block_count": 24, "context_length": 131072, "embedding_length": 2880, "feed_forward_length": 2880,
        "attention.head_count": 64, "attention.head_count_kv": 8, "attention.key_length": 64,
        "attention.value_length": 64, "attention.sliding_window": 128, "expert_count": 32, "expert_used_count": 4,
        "expert_feed_forward_length": 2880}, ["output.weight", "blk.0.attn_q.bias"]),
    "gemma-3-1b": ("gemma3", {
        "block_count": 26, "context_length": 32768, "embedding_length": 1152, "feed_forward_length": 6912,
        "attention.head_count": 4, "attention.head_count_kv": 1, "attention.key_length": 256,
        "attention.value_length": 256, "attention.sliding_window": 512}, []),
}


@pytest.mark.parametrize("preset", list(REAL_METADATA), ids=list(REAL_METADATA))
def test_metadata_maps_to_the_preset(preset: str) -> None:
    """Real models' GGUF metadata give the same parameter count and KV cache as their config.json presets."""
    arch, meta, extra_tensors = REAL_METADATA[preset]
    reference = load_model(preset).spec
    metadata = {"general.architecture": arch, **{f"{arch}.{k}": v for k, v in meta.items()}}
    tensors = [GGUFTensor("token_embd.weight", (reference.hidden_size, reference.vocab_size), "F16", 0, 0)]
    tensors += [GGUFTensor(name, (1,), "F32", 0, 0) for name in extra_tensors]
    fake = GGUFFile(path=Path(f"{preset}.gguf"), version=3, metadata=metadata, tensors=tuple(tensors),
                    alignment=32, data_start=0, file_bytes=0)
    config, _ = config_from_gguf([fake])
    spec = spec_from_hf_config(config, source=preset)
    assert count_params(spec).total_params == count_params(reference).total_params
    for engine in ("hf", "llama.cpp"):
        assert kv_bytes_per_token(spec, engine=engine) == kv_bytes_per_token(reference, engine=engine)
    assert sorted((g.attention.sliding_window or 0, g.count) for g in spec.main_stack.groups) == sorted(
        (g.attention.sliding_window or 0, g.count) for g in reference.main_stack.groups)
    assert spec.max_context == reference.max_context
