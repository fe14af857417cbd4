"""Weight formats: exact bits per weight, bits-to-bytes rounding, llama.cpp's GGUF mixes, the CLI."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest
from click.testing import CliRunner

import llmcalc
from llmcalc.cli import cli
from llmcalc.errors import PresetError, QuantError
from llmcalc.params import count_params
from llmcalc.quant import (
    GGML_TYPES,
    LLAMA_FTYPES,
    QUALITY_ORDER,
    all_formats,
    bits_to_bytes,
    get_format,
    gguf_extra_tensors,
    gguf_tensor_types,
    is_block_linear,
    use_more_bits,
    weights_for_bpw,
    weights_for_format,
)
from llmcalc.spec import ModelSpec
from llmcalc.tensors import weight_tensors

CONFIGS = Path("/work/shared/reference/configs")


def reference_spec(name: str) -> ModelSpec:
    """A preset when there is one, else the reference config.json; skip when neither exists."""
    try:
        return llmcalc.load_preset(name).spec
    except PresetError:
        pass
    path = CONFIGS / f"{name}.json"
    if not path.is_file():
        pytest.skip(f"no preset or reference config for {name}")
    return llmcalc.spec_from_hf_config(json.loads(path.read_text()), source=str(path), name=name)


@pytest.fixture(scope="module")
def llama8b() -> ModelSpec:
    return reference_spec("llama-3.1-8b")


# --- bits_to_bytes -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "bits", "expected"),
    [
        (3, 4.5, 2),  # 13.5 bits -> 1.6875 bytes -> 2
        (8, 4, 4),
        (0, 4.5, 0),
        (480, 4.15, 249),  # exactly 249; binary floats give 249.00000000000003 and a ceil of 250
        (2000, 4.156, 1039),  # 4.156 = 1039/250 exactly
        (250, "4.156", 130),  # 129.875 -> 130
        (3, Fraction(1, 3), 1),
        (10**12, 16, 2 * 10**12),
    ],
    ids=["3x4.5", "8x4", "zero", "float-trap", "4.156", "string", "fraction", "trillion"],
)
def test_bits_to_bytes(n: int, bits: float | int | str | Fraction, expected: int) -> None:
    """ceil(n x b / 8) with b read as the exact decimal the user typed."""
    assert bits_to_bytes(n, bits) == expected


@pytest.mark.parametrize(
    ("bits", "message"),
    [
        (-4, "bits per weight must be a positive number up to 64, got '-4'"),
        (0, "bits per weight must be a positive number up to 64, got '0'"),
        ("abc", "bits per weight must be a positive number up to 64, got 'abc'"),
        (float("nan"), "bits per weight must be a positive number up to 64, got 'nan'"),
        (True, "bits per weight must be a positive number up to 64, got 'True'"),
    ],
    ids=["negative", "zero", "text", "nan", "bool"],
)
def test_bits_to_bytes_rejects(bits: object, message: str) -> None:
    """A non-positive or non-numeric bits-per-weight is a QuantError naming the value."""
    with pytest.raises(QuantError) as exc:
        bits_to_bytes(10, bits)  # type: ignore[arg-type]
    assert str(exc.value) == message


# --- the catalogue -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "bits"),
    [
        ("ggml-q4_0", Fraction(9, 2)),
        ("ggml-q4_1", 5),
        ("ggml-q5_0", Fraction(11, 2)),
        ("ggml-q8_0", Fraction(17, 2)),
        ("ggml-q2_k", Fraction(21, 8)),
        ("ggml-q3_k", Fraction(55, 16)),
        ("ggml-q4_k", Fraction(9, 2)),
        ("ggml-q5_k", Fraction(11, 2)),
        ("ggml-q6_k", Fraction(105, 16)),  # 6.5625
        ("ggml-q8_k", Fraction(73, 8)),
        ("ggml-iq1_s", Fraction(25, 16)),
        ("ggml-iq1_m", Fraction(7, 4)),
        ("ggml-iq2_xxs", Fraction(33, 16)),
        ("ggml-iq2_xs", Fraction(37, 16)),
        ("ggml-iq2_s", Fraction(41, 16)),
        ("ggml-iq3_xxs", Fraction(49, 16)),
        ("ggml-iq3_s", Fraction(55, 16)),
        ("ggml-iq4_nl", Fraction(9, 2)),
        ("ggml-iq4_xs", Fraction(17, 4)),
        ("ggml-tq1_0", Fraction(27, 16)),
        ("ggml-tq2_0", Fraction(33, 16)),
        ("ggml-mxfp4", Fraction(17, 4)),
        ("ggml-bf16", 16),
        ("fp8-block128", 8 + Fraction(32, 16384)),
        ("nf4", Fraction(9, 2)),
        ("nf4-dq", 4 + Fraction(8, 64) + Fraction(32, 64 * 256)),
        ("gptq-4bit-g128", Fraction("4.15625")),
        ("awq-4bit-g128", Fraction("4.15625")),
        ("gptq-4bit-g32", Fraction("4.625")),
        ("gptq-3bit-g128", 3 + Fraction(19, 128)),
        ("gptq-8bit-g128", Fraction("8.1875")),
        ("mxfp4", Fraction("4.25")),
        ("nvfp4", Fraction("4.5")),
        ("int8", 8),
        ("q4_k_m", Fraction(9, 2)),  # a file type shows its default type's bits
        ("iq2_m", Fraction(41, 16)),  # IQ2_M's default type is IQ2_S
    ],
)
def test_exact_bits_per_weight(name: str, bits: Fraction | int) -> None:
    """Each format's bits per weight is the exact fraction of its block layout."""
    assert get_format(name).bits_per_weight == bits


def test_block_sizes_from_ggml_common() -> None:
    """Spot checks of bytes per block against ggml-common.h."""
    assert (GGML_TYPES["Q4_K"].block_elements, GGML_TYPES["Q4_K"].block_bytes) == (256, 144)
    assert (GGML_TYPES["Q6_K"].block_elements, GGML_TYPES["Q6_K"].block_bytes) == (256, 210)
    assert (GGML_TYPES["Q8_0"].block_elements, GGML_TYPES["Q8_0"].block_bytes) == (32, 34)
    assert (GGML_TYPES["MXFP4"].block_elements, GGML_TYPES["MXFP4"].block_bytes) == (32, 17)


@pytest.mark.parametrize("spelling", ["q4_k_m", "Q4_K_M", "q4-k-m", "Q4 K M", " q4_k_m "])
def test_lookup_ignores_case_and_separators(spelling: str) -> None:
    """Case, '-', '_' and spaces do not matter."""
    assert get_format(spelling).name == "q4_k_m"


@pytest.mark.parametrize(
    ("alias", "name"),
    [
        ("F16", "gguf-f16"),
        ("float16", "fp16"),
        ("GPTQ", "gptq-4bit-g128"),
        ("bfloat16", "bf16"),
        ("ggml_Q4_0", "ggml-q4_0"),
    ],
)
def test_aliases(alias: str, name: str) -> None:
    """Common spellings resolve to canonical names."""
    assert get_format(alias).name == name


def test_unknown_format_suggests_close_names() -> None:
    """An unknown name is a QuantError with the closest names."""
    with pytest.raises(QuantError) as exc:
        get_format("q4_k_x")
    assert str(exc.value) == "unknown weight format 'q4_k_x'; did you mean q4_k_m, q4_k_s? (`llmcalc quant` lists them)"


def test_unknown_format_without_suggestion() -> None:
    """Nothing close: no 'did you mean'."""
    with pytest.raises(QuantError) as exc:
        get_format("zzzzzz")
    assert str(exc.value) == "unknown weight format 'zzzzzz' (`llmcalc quant` lists them)"


def test_catalogue_names_are_unique_and_canonical() -> None:
    """Canonical names are lower case, distinct even after normalising separators, and resolve to themselves."""
    names = [f.name for f in all_formats()]
    assert all(n == n.lower() for n in names)
    assert len({n.replace("-", "_") for n in names}) == len(names)
    assert all(get_format(n).name == n for n in names)
    gguf = {f.name for f in all_formats() if f.family == "gguf"}
    assert {"q4_0", "q4_k_m", "q2_k_s", "iq2_m", "iq3_xs", "tq1_0", "mxfp4_moe", "gguf-f16", "gguf-bf16"} <= gguf
    assert gguf == set(LLAMA_FTYPES)


def test_quality_order_names_known_formats() -> None:
    """Every name in QUALITY_ORDER is in the catalogue, once."""
    assert len(set(QUALITY_ORDER)) == len(QUALITY_ORDER)
    assert all(get_format(n).name == n for n in QUALITY_ORDER)
    assert QUALITY_ORDER.index("q8_0") < QUALITY_ORDER.index("q4_k_m") < QUALITY_ORDER.index("q2_k")


# --- GGUF mixes against llama.cpp's published Llama-3.1-8B table ---------------------------------

#: llama.cpp tools/quantize/README.md, meta-llama/Llama-3.1-8B: bits per weight. Its denominator is
#: every element in the GGUF, 8,030,261,312, which includes the 64-value F32 rope_freqs table; ours is
#: the 8,030,261,248 parameters, with rope_freqs' 256 bytes in the numerator (a 8e-9 relative
#: difference).
PUBLISHED = {
    "q2_k": 3.1593,
    "q3_k_s": 3.6429,
    "q3_k_l": 4.2979,
    "q4_k_s": 4.6672,
    "q4_k_m": 4.8944,
    "q5_k_s": 5.5704,
    "q5_k_m": 5.7036,
    "q6_k": 6.5633,
    "q8_0": 8.5008,
    "gguf-f16": 16.0005,
    "iq4_xs": 4.4597,
    "iq4_nl": 4.6818,
    "q2_k_s": 2.9697,
    "iq1_s": 2.0042,
    "iq1_m": 2.1460,
    "iq2_xxs": 2.3824,
    "iq2_xs": 2.5882,
    "iq2_s": 2.7403,
    "iq2_m": 2.9294,
    "iq3_xxs": 3.2548,
    "iq3_xs": 3.4977,
    "iq3_s": 3.6606,
    "iq3_m": 3.7628,
}
HEADLINE = {"q4_k_m", "q8_0", "gguf-f16"}


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_llama31_8b_matches_published_bpw(llama8b: ModelSpec, name: str) -> None:
    """Predicted bpw within 0.1 % (Q4_K_M, Q8_0, F16) or 1 % (the rest) of llama.cpp's table."""
    result = weights_for_format(llama8b, name)
    tolerance = 0.001 if name in HEADLINE else 0.01
    assert result.bits_per_weight == pytest.approx(PUBLISHED[name], rel=tolerance)
    # In fact every row agrees to the table's four decimals.
    assert result.bits_per_weight == pytest.approx(PUBLISHED[name], abs=0.0002)


def test_llama31_8b_q4_k_m_exact_bytes(llama8b: ModelSpec) -> None:
    """Q4_K_M: 4,912,898,304 bytes of tensor data (4.58 GiB), rope_freqs' 256 bytes included."""
    result = weights_for_format(llama8b, "q4_k_m")
    assert result.params == 8_030_261_248
    assert result.total_bytes == 4_912_898_304
    assert result.extra_bytes == 256
    assert not result.approximate
    # Q6_K: output (4096 x 128256) + attn_v (4096 x 1024) and ffn_down (14336 x 4096) in 16 layers;
    # F32: two norms per layer and the final norm.
    q6 = 4096 * 128256 + 16 * (4096 * 1024 + 14336 * 4096)
    f32 = 65 * 4096
    assert [(t.type_name, t.params) for t in result.by_type] == [
        ("Q4_K", 8_030_261_248 - q6 - f32),
        ("Q6_K", q6),
        ("F32", f32),
    ]
    assert sum(t.bytes for t in result.by_type) + result.extra_bytes == result.total_bytes
    assert sum(t.params for t in result.by_type) == result.params


def test_llama31_8b_q4_k_m_per_tensor_mix(llama8b: ModelSpec) -> None:
    """attn_v and ffn_down get Q6_K in the 16 use_more_bits layers; output Q6_K; norms F32."""
    types = {t.name: ty for t, ty in gguf_tensor_types(llama8b, "q4_k_m")}
    more = {0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31}
    assert {i for i in range(32) if use_more_bits(i, 32)} == more
    for i in range(32):
        expected = "Q6_K" if i in more else "Q4_K"
        assert types[f"blk.{i}.attn_v.weight"] == expected
        assert types[f"blk.{i}.ffn_down.weight"] == expected
        assert types[f"blk.{i}.attn_q.weight"] == types[f"blk.{i}.ffn_up.weight"] == "Q4_K"
        assert types[f"blk.{i}.attn_norm.weight"] == "F32"
    assert types["output.weight"] == "Q6_K"
    assert types["token_embd.weight"] == "Q4_K"
    assert [t.name for t in gguf_extra_tensors(llama8b)] == ["rope_freqs.weight"]


def test_imatrix_changes_the_mix(llama8b: ModelSpec) -> None:
    """IQ3_XXS defaults to an importance matrix (as published); without one ffn_down gets more bits."""
    default = weights_for_format(llama8b, "iq3_xxs")
    assert default.approximate
    with_matrix = weights_for_format(llama8b, "iq3_xxs", imatrix=True)
    without = weights_for_format(llama8b, "iq3_xxs", imatrix=False)
    assert with_matrix.total_bytes == default.total_bytes < without.total_bytes
    assert not with_matrix.approximate
    assert without.bits_per_weight == pytest.approx(3.3736, abs=0.0002)


def test_tied_embedding_takes_the_output_rule() -> None:
    """Llama-3.2-1B ties its head: token_embd gets output.weight's Q6_K in Q4_K_M."""
    spec = reference_spec("llama-3.2-1b")
    types = {t.name: ty for t, ty in gguf_tensor_types(spec, "q4_k_m")}
    assert "output.weight" not in types
    assert types["token_embd.weight"] == "Q6_K"


def test_rows_not_a_multiple_of_256_fall_back() -> None:
    """Qwen2-0.5B's hidden size (896) is not whole 256-blocks: Q4_K -> Q5_0, Q6_K -> Q8_0 on those rows."""
    spec = reference_spec("qwen2-0.5b")
    types = {t.name: ty for t, ty in gguf_tensor_types(spec, "q4_k_m")}
    assert types["blk.4.attn_q.weight"] == types["blk.4.ffn_up.weight"] == "Q5_0"
    assert types["blk.0.attn_v.weight"] == "Q8_0"  # Q6_K in a use_more_bits layer, then the fallback
    assert types["blk.0.ffn_down.weight"] == "Q6_K"  # rows of 4864 = 19 x 256 need no fallback
    assert types["blk.4.ffn_down.weight"] == "Q4_K"
    assert types["token_embd.weight"] == "Q8_0"  # tied head: the output rule's "row not whole blocks"


def test_mixtral_eight_expert_rules() -> None:
    """Mixtral (exactly 8 experts): attn_v and attn_k Q8_0; experts stay Q4_K; one kind of layer, so exact."""
    spec = reference_spec("mixtral-8x7b")
    types = {t.name: ty for t, ty in gguf_tensor_types(spec, "q4_k_m")}
    assert types["blk.5.attn_v.weight"] == types["blk.5.attn_k.weight"] == "Q8_0"
    assert types["blk.5.ffn_gate_exps.weight"] == "Q4_K"
    assert types["blk.5.ffn_gate_inp.weight"] == "F32"
    result = weights_for_format(spec, "q4_k_m")
    assert not result.approximate


def test_70b_attn_v_bump() -> None:
    """Llama-2-70B (80 layers, GQA) is llama.cpp's 70B type: Q4_K attn_v becomes Q5_K."""
    spec = reference_spec("llama-2-70b")
    types = {t.name: ty for t, ty in gguf_tensor_types(spec, "q4_k_m")}
    assert not use_more_bits(11, 80)
    assert types["blk.11.attn_v.weight"] == "Q5_K"
    assert types["blk.11.ffn_down.weight"] == "Q4_K"


def test_mxfp4_moe_puts_experts_in_mxfp4() -> None:
    """MXFP4_MOE: 3-D expert tensors MXFP4, other matrices Q8_0."""
    spec = reference_spec("gpt-oss-20b")
    types = {t.name: ty for t, ty in gguf_tensor_types(spec, "mxfp4_moe")}
    assert types["blk.0.ffn_down_exps.weight"] == "MXFP4"
    assert types["blk.0.attn_q.weight"] == types["output.weight"] == "Q8_0"


# --- uniform and linear-layer formats ------------------------------------------------------------


def test_uniform_bpw_prices_every_parameter(llama8b: ModelSpec) -> None:
    """--bpw: every parameter at that many bits, rounded up once."""
    result = weights_for_bpw(llama8b, 4.156)
    assert result.params == 8_030_261_248
    assert result.total_bytes == bits_to_bytes(8_030_261_248, "4.156") == 4_171_720_719
    assert result.bits_per_weight == pytest.approx(4.156, abs=1e-8)
    assert weights_for_format(llama8b, "bf16").total_bytes == 2 * 8_030_261_248


def test_linear_layer_formats_keep_the_rest_in_16_bits(llama8b: ModelSpec) -> None:
    """NF4: transformer-block matrices at 4.5 bits; embeddings, head and norms at 2 bytes."""
    counts = count_params(llama8b)
    rest = counts.embedding_params + counts.lm_head_params + counts.component("norms")
    linear = counts.total_params - rest
    result = weights_for_format(llama8b, "nf4")
    assert result.total_bytes == bits_to_bytes(linear, Fraction(9, 2)) + 2 * rest
    assert {t.type_name for t in result.by_type} == {"nf4", "bf16"}


def test_gptq_adds_g_idx(llama8b: ModelSpec) -> None:
    """GPTQ stores an int32 g_idx per input channel of each quantized matrix; AWQ does not."""
    linear = [t for t in weight_tensors(llama8b) if is_block_linear(t)]
    g_idx = 4 * sum(t.shape[0] for t in linear)
    gptq = weights_for_format(llama8b, "gptq-4bit-g128")
    awq = weights_for_format(llama8b, "awq-4bit-g128")
    assert gptq.extra_bytes == g_idx == 4 * 32 * (6 * 4096 + 14336)
    assert gptq.total_bytes == awq.total_bytes + g_idx


def test_every_format_runs_on_every_reference_model() -> None:
    """Each format prices each reference model; parts add up to the totals."""
    paths = sorted(CONFIGS.glob("*.json"))
    if not paths:
        pytest.skip("reference configs not available")
    for path in paths:
        spec = llmcalc.spec_from_hf_config(json.loads(path.read_text()), source=str(path), name=path.stem)
        total = count_params(spec).total_params
        for fmt in all_formats():
            result = weights_for_format(spec, fmt)
            assert result.params == total, (path.stem, fmt.name)
            assert sum(t.bytes for t in result.by_type) + result.extra_bytes == result.total_bytes
            assert sum(t.params for t in result.by_type) == total


# --- CLI -----------------------------------------------------------------------------------------


def test_cli_lists_the_catalogue_as_json() -> None:
    """`llmcalc quant --json` lists every format with exact and float bits per weight."""
    result = CliRunner().invoke(cli, ["quant", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)["formats"]
    assert len(data) == len(all_formats())
    q6 = next(d for d in data if d["name"] == "ggml-q6_k")
    assert (q6["bits_per_weight"], q6["bits_per_weight_exact"], q6["kind"]) == (6.5625, "105/16", "uniform")


def test_cli_table_has_labelled_columns() -> None:
    """The catalogue table renders at a fixed width."""
    result = CliRunner().invoke(cli, ["quant", "--width", "160"])
    assert result.exit_code == 0, result.output
    assert "Bits per weight" in result.output
    assert "per-tensor mix" in result.output


def test_cli_model_sizes() -> None:
    """`llmcalc quant CONFIG` shows GiB and GB columns and the Q4_K_M size."""
    path = CONFIGS / "llama-3.1-8b.json"
    if not path.is_file():
        pytest.skip("reference config not available")
    result = CliRunner().invoke(cli, ["quant", str(path), "--width", "120"])
    assert result.exit_code == 0, result.output
    assert "Weights (GiB)" in result.output and "Weights (GB)" in result.output
    row = next(line for line in result.output.splitlines() if "│ q4_k_m " in line)
    assert "4.58" in row and "4.91" in row and "4.8944" in row
    data = json.loads(CliRunner().invoke(cli, ["quant", str(path), "--json"]).output)
    assert next(r for r in data["formats"] if r["format"] == "q4_k_m")["total_bytes"] == 4_912_898_304
