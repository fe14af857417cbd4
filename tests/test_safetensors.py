"""safetensors: exact counts and bytes from headers, sharded checkpoints, packed formats, bad files."""

from __future__ import annotations

import json
import struct
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from llmcalc import ConfigError, FileFormatError, count_params, load_model, spec_from_hf_config
from llmcalc.cli import cli
from llmcalc.importers.safetensors import count_tensors, read_header, read_headers
from tests.helpers_files import (
    LINEARS,
    TINY_LLAMA,
    TINY_LLAMA_PARAMS,
    gptq_tensors,
    llama_tensors,
    write_config,
    write_safetensors,
    write_sharded,
)


@pytest.fixture
def llama_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "tiny-llama"
    write_config(folder, TINY_LLAMA)
    write_safetensors(folder / "model.safetensors", llama_tensors())
    return folder


def test_hand_count_matches_analytical() -> None:
    """The hand count of TINY_LLAMA is what the formulas give for its config."""
    assert TINY_LLAMA_PARAMS == 86_848
    assert count_params(spec_from_hf_config(TINY_LLAMA, source="tiny")).total_params == TINY_LLAMA_PARAMS


@pytest.mark.parametrize("target", ["folder", "file"], ids=["folder", "safetensors-file"])
def test_folder_counts_exactly(llama_folder: Path, target: str) -> None:
    """A folder or its model.safetensors: counted params == analytical == hand count; BF16 bytes exact."""
    loaded = load_model(llama_folder if target == "folder" else llama_folder / "model.safetensors")
    assert loaded.kind == "safetensors"
    assert loaded.counted_params == TINY_LLAMA_PARAMS
    assert count_params(loaded.spec).total_params == TINY_LLAMA_PARAMS
    assert loaded.weights is not None
    assert loaded.weights.params == TINY_LLAMA_PARAMS
    assert loaded.weights.total_bytes == 2 * TINY_LLAMA_PARAMS == 173_696
    assert loaded.weights.bytes_by_dtype == (("BF16", 173_696),)
    assert loaded.weights.bits_per_weight == 16.0
    assert loaded.spec.num_key_value_heads == 2


def test_mixed_dtypes_bytes_per_dtype(tmp_path: Path) -> None:
    """Bytes are grouped by stored dtype: F32 norms beside BF16 matrices."""
    tensors = llama_tensors()
    for name in tensors:
        if "norm" in name:
            tensors[name] = ("F32", tensors[name][1])
    write_config(tmp_path, TINY_LLAMA)
    write_safetensors(tmp_path / "model.safetensors", tensors)
    w = load_model(tmp_path).weights
    assert w is not None
    norms = 2 * 2 * 64 + 64  # 320 parameters
    assert dict(w.bytes_by_dtype) == {"BF16": 2 * (TINY_LLAMA_PARAMS - norms), "F32": 4 * norms}
    assert w.total_bytes == 2 * TINY_LLAMA_PARAMS + 2 * norms


def test_sharded_index(tmp_path: Path) -> None:
    """An index and its three shards: every tensor counted once, from the index or the folder."""
    write_config(tmp_path, TINY_LLAMA)
    write_sharded(tmp_path, llama_tensors(), shards=3)
    for ref in (tmp_path, tmp_path / "model.safetensors.index.json"):
        loaded = load_model(ref)
        assert loaded.counted_params == TINY_LLAMA_PARAMS
        assert loaded.weights is not None and loaded.weights.total_bytes == 173_696
    one = load_model(tmp_path / "model-00002-of-00003.safetensors")
    assert one.counted_params == TINY_LLAMA_PARAMS
    assert "one of 3 shards" in one.notes[0]


def test_index_ignores_consolidated_copy(tmp_path: Path) -> None:
    """With an index, a Mistral-style consolidated.safetensors beside the shards is not counted again."""
    write_config(tmp_path, TINY_LLAMA)
    write_sharded(tmp_path, llama_tensors(), shards=2)
    write_safetensors(tmp_path / "consolidated.safetensors", llama_tensors())
    assert load_model(tmp_path).counted_params == TINY_LLAMA_PARAMS


def test_header_read_time_many_shards(tmp_path: Path) -> None:
    """Reading the headers of a 16-shard checkpoint takes well under a second (headers only)."""
    tensors = llama_tensors(layers=32)
    config = {**TINY_LLAMA, "num_hidden_layers": 32}
    write_config(tmp_path, config)
    write_sharded(tmp_path, tensors, shards=16)
    start = time.perf_counter()
    loaded = load_model(tmp_path)
    elapsed = time.perf_counter() - start
    assert loaded.counted_params == count_params(loaded.spec).total_params == 6_400 + 32 * 36_992 + 64 + 6_400
    assert elapsed < 1.0


@pytest.mark.parametrize("awq", [False, True], ids=["gptq", "awq"])
def test_gptq_awq_packed_count(tmp_path: Path, awq: bool) -> None:
    """GPTQ/AWQ qweight int32 counts 8 four-bit values each; qzeros, scales, g_idx are metadata."""
    config = {**TINY_LLAMA, "quantization_config": {"quant_method": "awq" if awq else "gptq", "bits": 4,
                                                    "group_size": 32}}
    write_config(tmp_path, config)
    tensors = gptq_tensors(awq=awq)
    write_safetensors(tmp_path / "model.safetensors", tensors)
    loaded = load_model(tmp_path)
    assert loaded.counted_params == TINY_LLAMA_PARAMS
    linear = 2 * sum(o * i for o, i in LINEARS.values())  # 73,728 packed values
    plain = TINY_LLAMA_PARAMS - linear  # 13,120 F16 values
    group_rows = 2 * sum(i // 32 * o for o, i in LINEARS.values())  # scales: one per 32 inputs
    zeros = 2 * sum(i // 32 * o // 8 for o, i in LINEARS.values())
    g_idx = 0 if awq else 2 * sum(i for _, i in LINEARS.values())
    w = loaded.weights
    assert w is not None
    assert dict(w.bytes_by_dtype) == {"I32": linear // 2 + 4 * zeros + 4 * g_idx, "F16": 2 * plain + 2 * group_rows}
    assert any("pack 8 4-bit values" in n for n in w.notes)
    assert any("quantization metadata" in n for n in w.notes)


def test_gptq_3bit(tmp_path: Path) -> None:
    """3-bit GPTQ: 32 int32 hold 3 x ... values; count = int32 elements x 32 / 3."""
    path = tmp_path / "m.safetensors"
    write_safetensors(path, {"l.qweight": ("I32", [12, 64]), "l.scales": ("F16", [1, 64])})
    count = count_tensors([read_header(path)], quantization_config={"bits": 3})
    assert count.params == 12 * 64 * 32 // 3 == 8_192


def test_bitsandbytes_4bit(tmp_path: Path) -> None:
    """bitsandbytes 4-bit: uint8 weight holds 2 values a byte; absmax, quant_map, quant_state are metadata."""
    path = tmp_path / "m.safetensors"
    write_safetensors(path, {
        "l.weight": ("U8", [64 * 128 // 2, 1]),
        "l.weight.absmax": ("F32", [64 * 128 // 64]),
        "l.weight.quant_map": ("F32", [16]),
        "l.weight.quant_state.bitsandbytes__nf4": ("U8", [120]),
        "l.bias": ("F16", [64]),
    })
    count = count_tensors([read_header(path)])
    assert count.params == 64 * 128 + 64
    assert count.metadata_bytes == 4 * 128 + 4 * 16 + 120
    assert count.total_bytes == 4096 + 128 + 512 + 64 + 120
    assert any("bitsandbytes 4-bit" in n for n in count.notes)


def test_mxfp4_blocks(tmp_path: Path) -> None:
    """MXFP4 (gpt-oss): *_blocks uint8 hold 2 values a byte; *_scales are metadata."""
    path = tmp_path / "m.safetensors"
    write_safetensors(path, {
        "mlp.experts.down_proj_blocks": ("U8", [4, 64, 4, 16]),  # 4 experts, 64 out, 128 in
        "mlp.experts.down_proj_scales": ("U8", [4, 64, 4]),
        "mlp.experts.down_proj_bias": ("BF16", [4, 64]),
    })
    count = count_tensors([read_header(path)])
    assert count.params == 4 * 64 * 128 + 4 * 64
    assert count.metadata_bytes == 4 * 64 * 4


@pytest.mark.parametrize("with_shape", [True, False], ids=["weight_shape", "packing-factor"])
def test_compressed_tensors(tmp_path: Path, with_shape: bool) -> None:
    """compressed-tensors pack-quantized: weight_packed counted from weight_shape, else 32/num_bits."""
    path = tmp_path / "m.safetensors"
    tensors = {
        "l.weight_packed": ("I32", [64, 128 // 8]),
        "l.weight_scale": ("BF16", [64, 128 // 32]),
        "l.weight_zero_point": ("I32", [64 // 8, 4]),
    }
    data = {}
    if with_shape:
        tensors["l.weight_shape"] = ("I64", [2])
        data["l.weight_shape"] = struct.pack("<2q", 64, 128)
    write_safetensors(path, tensors, data=data)
    qc = {"quant_method": "compressed-tensors", "config_groups": {"group_0": {"weights": {"num_bits": 4}}}}
    count = count_tensors([read_header(path)], quantization_config=qc)
    assert count.params == 64 * 128


def test_buffers_not_parameters(tmp_path: Path) -> None:
    """Stored rotary inv_freq is a buffer: bytes counted, not parameters."""
    tensors = llama_tensors()
    tensors["model.layers.0.self_attn.rotary_emb.inv_freq"] = ("F32", [8])
    write_config(tmp_path, TINY_LLAMA)
    write_safetensors(tmp_path / "model.safetensors", tensors)
    loaded = load_model(tmp_path)
    assert loaded.counted_params == TINY_LLAMA_PARAMS
    assert loaded.weights is not None and loaded.weights.total_bytes == 173_696 + 32


def test_cross_check_flags_a_wrong_config(tmp_path: Path) -> None:
    """A config that disagrees with the weights gives an analytical count different from the counted one."""
    write_config(tmp_path, {**TINY_LLAMA, "intermediate_size": 96})
    write_safetensors(tmp_path / "model.safetensors", llama_tensors())
    loaded = load_model(tmp_path)
    assert loaded.counted_params == TINY_LLAMA_PARAMS
    assert count_params(loaded.spec).total_params == TINY_LLAMA_PARAMS - 2 * 3 * 64 * 32


def test_extra_layers_reported_apart(tmp_path: Path) -> None:
    """Layers past num_hidden_layers (DeepSeek-V3's MTP module) are noted and left out of the comparison."""
    write_config(tmp_path, {**TINY_LLAMA, "num_hidden_layers": 1})
    write_safetensors(tmp_path / "model.safetensors", llama_tensors())
    loaded = load_model(tmp_path)
    assert loaded.counted_params == count_params(loaded.spec).total_params == TINY_LLAMA_PARAMS - 36_992
    assert loaded.weights is not None and loaded.weights.params == TINY_LLAMA_PARAMS
    assert any("past num_hidden_layers" in n for n in loaded.weights.notes)


# --- bad files -----------------------------------------------------------------------------------


def _header_file(path: Path, header: bytes, data: bytes = b"", length: int | None = None) -> Path:
    path.write_bytes(struct.pack("<Q", len(header) if length is None else length) + header + data)
    return path


def _valid(path: Path) -> Path:
    write_safetensors(path, {"w": ("F16", [4, 4])})
    return path


BAD_FILES = {
    "empty": (lambda p: p.write_bytes(b""), "too short for a safetensors header"),
    "short-prefix": (lambda p: p.write_bytes(b"\x01\x02\x03"), "too short for a safetensors header"),
    "length-beyond-file": (lambda p: _header_file(p, b"{}", length=10**12), "header length 1,000,000,000,000 is "
                           "larger than the file"),
    "not-utf8": (lambda p: _header_file(p, b'{"\xff\xfe": 1}'), "header is not UTF-8"),
    "not-json": (lambda p: _header_file(p, b"{not json"), "header is not valid JSON"),
    "not-object": (lambda p: _header_file(p, b"[1, 2]"), "header must be a JSON object, got list"),
    "unknown-dtype": (lambda p: _header_file(p, json.dumps({"w": {"dtype": "Q4", "shape": [2], "data_offsets": [0, 1]}})
                                             .encode(), b"\0"), "tensor 'w': unknown dtype 'Q4'"),
    "offsets-vs-shape": (lambda p: _header_file(p, json.dumps({"w": {"dtype": "F16", "shape": [4],
                                                                     "data_offsets": [0, 4]}}).encode(), b"\0" * 8),
                         "hold 4 bytes but shape [4] of F16 needs 8"),
    "bad-shape": (lambda p: _header_file(p, json.dumps({"w": {"dtype": "F16", "shape": [-1],
                                                              "data_offsets": [0, 0]}}).encode()),
                  "'shape' must be a list of non-negative integers"),
    "truncated-data": (lambda p: p.write_bytes(_valid(p).read_bytes()[:-5]), "tensor 'w': data ends at byte"),
    "bad-metadata": (lambda p: _header_file(p, b'{"__metadata__": {"a": 1}}'), "'__metadata__' must map strings"),
}


@pytest.mark.parametrize("case", list(BAD_FILES), ids=list(BAD_FILES))
def test_bad_file(tmp_path: Path, case: str) -> None:
    """Each malformed file raises FileFormatError naming the file and the problem."""
    make, message = BAD_FILES[case]
    path = tmp_path / "bad.safetensors"
    make(path)
    with pytest.raises(FileFormatError) as err:
        read_header(path)
    assert str(err.value).startswith(f"{path}: ")
    assert message in str(err.value)


def test_huge_header_length_is_refused_before_reading(tmp_path: Path) -> None:
    """A header length over 16 MB is refused even when the file is that large (sparse file)."""
    path = tmp_path / "big.safetensors"
    with path.open("wb") as fh:
        fh.write(struct.pack("<Q", 200_000_000))
        fh.truncate(200_000_100)
    with pytest.raises(FileFormatError, match="exceeds the 16,000,000-byte limit"):
        read_header(path)


def test_missing_shard(tmp_path: Path) -> None:
    """An index naming a shard that is not there is an error naming the index and the shard."""
    write_config(tmp_path, TINY_LLAMA)
    paths = write_sharded(tmp_path, llama_tensors(), shards=3)
    paths[1].unlink()
    index = tmp_path / "model.safetensors.index.json"
    with pytest.raises(FileFormatError) as err:
        load_model(index)
    assert str(err.value) == (f"{index}: missing shard 'model-00002-of-00003.safetensors' "
                              f"(listed in weight_map, not in {tmp_path})")
    with pytest.raises(FileFormatError, match="missing shard"):
        load_model(tmp_path)


def test_duplicate_tensor_across_shards(tmp_path: Path) -> None:
    """A tensor stored in two shards is an error."""
    a, b = tmp_path / "a.safetensors", tmp_path / "b.safetensors"
    write_safetensors(a, {"w": ("F16", [2])})
    write_safetensors(b, {"w": ("F16", [2])})
    with pytest.raises(FileFormatError, match="tensor 'w' is also in a.safetensors"):
        read_headers([a, b])


def test_weights_without_config(tmp_path: Path) -> None:
    """Weights need the config.json beside them for the architecture."""
    path = _valid(tmp_path / "model.safetensors")
    with pytest.raises(ConfigError, match="no config.json beside the weights"):
        load_model(path)


def test_missing_file_path() -> None:
    """A .safetensors path that does not exist is 'no such file', not a preset lookup."""
    with pytest.raises(ConfigError, match="no such file"):
        load_model("some/dir/model.safetensors")


# --- CLI -------------------------------------------------------------------------------------------


def test_cli_params_folder(llama_folder: Path, runner: CliRunner) -> None:
    """`llmcalc params FOLDER` shows the stored bytes per dtype, the cross-check and the file bpw."""
    result = runner.invoke(cli, ["params", str(llama_folder), "--width", "100"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "│ BF16  │ 173,696 │ 169.62 KiB │ 100.0% │" in lines
    assert "Counted from tensor shapes: 86,848; analytical from the architecture: 86,848 (match)" in lines
    assert "Effective bits per weight: 16.00 (8 x 173,696 bytes / 86,848 parameters)" in lines
    assert result.stderr == ""


def test_cli_flags_a_difference(tmp_path: Path, runner: CliRunner) -> None:
    """A config that disagrees with the weights: a warning on stderr and DIFFER in the table."""
    write_config(tmp_path, {**TINY_LLAMA, "intermediate_size": 96})
    write_safetensors(tmp_path / "model.safetensors", llama_tensors())
    result = runner.invoke(cli, ["params", str(tmp_path), "--width", "200"])
    assert result.exit_code == 0
    assert result.stderr == ("Warning: 86,848 parameters counted from the files, 74,560 from the architecture "
                             "(+12,288); the config and the weights disagree\n")
    assert "DIFFER by +12,288 (+16.48%)" in result.stdout


def test_cli_json_files_section(llama_folder: Path, runner: CliRunner) -> None:
    """--json adds a 'files' object with the cross-check and the bytes per dtype."""
    result = runner.invoke(cli, ["params", str(llama_folder), "--json"])
    files = json.loads(result.stdout)["files"]
    assert files["counted_params"] == files["analytical_params"] == 86_848
    assert files["difference_params"] == 0
    assert files["bytes_by_dtype"] == {"BF16": 173_696}
    assert files["bits_per_weight"] == 16.0


def test_cli_bad_file(tmp_path: Path, runner: CliRunner) -> None:
    """A bad file: one 'Error:' line naming it, exit 1, no traceback."""
    path = _header_file(tmp_path / "model.safetensors", b"{}", length=10**9)
    write_config(tmp_path, TINY_LLAMA)
    result = runner.invoke(cli, ["params", str(path)])
    assert result.exit_code == 1
    assert result.stderr == (f"Error: {path}: header length 1,000,000,000 is larger than the file (10 bytes); "
                             "truncated or not a safetensors file\n")
    assert "Traceback" not in result.output
