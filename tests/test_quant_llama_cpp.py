"""GGUF mixes as today's llama.cpp writes them: gpt-oss MXFP4 experts, stored heads, fused QKV, split MLA, ftypes."""

from __future__ import annotations

import pytest

import llmcalc
from llmcalc.errors import ConfigError
from llmcalc.importers.presets import preset_from_mapping
from llmcalc.params import count_params
from llmcalc.quant import GGML_TYPES, LLAMA_FTYPES, gguf_tensor_types, weights_for_format
from llmcalc.spec import ModelSpec
from llmcalc.tensors import gguf_tensors, weight_tensors

#: Published file sizes (3 significant figures, GB) from the Hugging Face file listing of
#: unsloth/gpt-oss-20b-GGUF: gpt-oss-20b-F16.gguf 13.8 GB, gpt-oss-20b-Q4_K_M.gguf 11.6 GB.
GPT_OSS_20B_PUBLISHED_GB = {"gguf-f16": 13.8, "q4_k_m": 11.6}


def preset(name: str) -> ModelSpec:
    return llmcalc.load_preset(name).spec


@pytest.mark.parametrize(("fmt", "published_gb"), sorted(GPT_OSS_20B_PUBLISHED_GB.items()))
def test_gpt_oss_20b_file_matches_published_size(fmt: str, published_gb: float) -> None:
    """gpt-oss-20b's GGUF keeps the experts MXFP4 (conversion/gpt_oss.py ``GptOssModel.repack_mxfp4``,
    raw_dtype MXFP4 for any --outtype); sizes from the unsloth/gpt-oss-20b-GGUF file listing."""
    result = weights_for_format(preset("gpt-oss-20b"), fmt)
    assert result.file_bytes is not None
    assert round(result.file_bytes / 1e9, 1) == published_gb


@pytest.mark.parametrize("fmt", ["gguf-f16", "gguf-bf16", "q8_0", "q4_k_m", "q2_k", "iq2_xxs", "mxfp4_moe"])
def test_gpt_oss_experts_stay_mxfp4_in_every_file_type(fmt: str) -> None:
    """Every 3-D routed-expert tensor of gpt-oss is MXFP4 whatever the file type (GptOssModel.repack_mxfp4)."""
    types = [(t, ty) for t, ty in gguf_tensor_types(preset("gpt-oss-20b"), fmt) if t.role == "routed_experts"]
    experts = [ty for t, ty in types if t.n_dims == 3]
    assert experts and set(experts) == {"MXFP4"}


def test_qwen3_06b_preset_records_its_stored_head() -> None:
    """Qwen3-0.6B's checkpoint stores lm_head.weight although its config ties it (Hub: 752M params)."""
    assert llmcalc.load_preset("qwen3-0.6b").stored_output_head
    assert not llmcalc.load_preset("qwen2-0.5b").stored_output_head


def test_stored_head_decides_tying_from_the_tensors() -> None:
    """With output.weight present, token_embd takes Q5_K_S's default Q5_K and output Q6_K
    (src/llama-quant.cpp ``init_quantize_state_counters``: has_tied_embeddings false once output.weight is seen)."""
    spec = preset("qwen3-0.6b")
    tied = dict((t.name, ty) for t, ty in gguf_tensor_types(spec, "q5_k_s"))
    stored = dict((t.name, ty) for t, ty in gguf_tensor_types(spec, "q5_k_s", stored_output_head=True))
    assert tied["token_embd.weight"] == "Q6_K" and "output.weight" not in tied
    assert stored["token_embd.weight"] == "Q5_K" and stored["output.weight"] == "Q6_K"
    plain = weights_for_format(spec, "q5_k_s")
    with_head = weights_for_format(spec, "q5_k_s", stored_output_head=True)
    rows = 151936 * 1024
    assert with_head.total_bytes - plain.total_bytes == rows // 256 * 210 + rows // 256 * (176 - 210)
    assert with_head.params == plain.params == count_params(spec).total_params


def test_stored_output_head_must_be_a_boolean(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A preset's stored_output_head that is not true/false is an error naming the key."""
    data = {"name": "x", "config": {"model_type": "gpt2", "n_embd": 8, "n_head": 2, "n_layer": 1,
                                    "vocab_size": 16, "n_positions": 8}, "stored_output_head": "yes"}
    with pytest.raises(ConfigError, match="key 'stored_output_head' must be true or false"):
        preset_from_mapping(data, path=tmp_path / "x.yaml", builtin=False)


@pytest.mark.parametrize("name", ["gpt-neox-20b", "bloom-560m", "falcon-7b", "phi-3-mini-4k", "gpt2", "dbrx-base"])
def test_fused_qkv_models_hold_one_attn_qkv(name: str) -> None:
    """Fused-QKV checkpoints become one attn_qkv per layer (convert_hf_to_gguf.py: query_key_value /
    qkv_proj / c_attn / Wqkv map to MODEL_TENSOR.ATTN_QKV); elements still add up to the count."""
    spec = preset(name)
    names = {t.name for t in weight_tensors(spec)}
    assert "blk.0.attn_qkv.weight" in names and "blk.0.attn_q.weight" not in names
    assert sum(t.n_elements for t in weight_tensors(spec)) == count_params(spec).total_params


def test_phi3_gate_and_up_are_one_ffn_up() -> None:
    """Phi-3's gate_up_proj is one ffn_up of 2 x intermediate outputs (Phi3MiniModel, conversion/phi.py)."""
    shapes = {t.name: t.shape for t in weight_tensors(preset("phi-3-mini-4k"))}
    assert shapes["blk.0.ffn_up.weight"] == (3072, 2 * 8192) and "blk.0.ffn_gate.weight" not in shapes


@pytest.mark.parametrize(("fmt", "layer_types"), [
    ("q4_k_m", {0: "Q6_K", 5: "Q4_K", 7: "Q6_K", 43: "Q6_K"}),  # use_more_bits over 44 layers
    ("q3_k_m", {0: "Q5_K", 1: "Q5_K", 2: "Q4_K", 20: "Q4_K"}),
    ("q5_k_m", {0: "Q6_K", 5: "Q5_K"}),
])
def test_attn_qkv_takes_the_value_projection_rules(fmt: str, layer_types: dict[int, str]) -> None:
    """gpt-neox-20b's attn_qkv is priced by the attn_v rules (src/llama-quant.cpp ``category_is_attn_v``:
    ATTENTION_V, ATTENTION_QKV, ATTENTION_KV_B), counted among n_attention_wv."""
    types = dict((t.name, ty) for t, ty in gguf_tensor_types(preset("gpt-neox-20b"), fmt))
    assert {i: types[f"blk.{i}.attn_qkv.weight"] for i in layer_types} == layer_types


def test_deepseek_mla_kv_b_is_split_into_k_b_and_v_b() -> None:
    """DeepSeek-V3's attn_kv_b becomes attn_k_b (nope, rank, heads) and attn_v_b (rank, v, heads)
    (conversion/deepseek.py ``DeepseekV2Model.modify_tensors``: k_b transposed per head)."""
    spec = preset("deepseek-v3")
    tensors = {t.name: t for t in gguf_tensors(spec)}
    assert "blk.0.attn_kv_b.weight" not in tensors
    assert tensors["blk.0.attn_k_b.weight"].shape == (128, 512, 128)
    assert tensors["blk.0.attn_v_b.weight"].shape == (512, 128, 128)
    assert sum(t.n_elements for t in tensors.values()) == count_params(spec).total_params


@pytest.mark.parametrize(("fmt", "k_b", "v_b"), [
    ("q4_k_m", "Q5_0", "Q4_K"),  # k_b rows of 128 are not whole 256-blocks: tensor_type_fallback
    ("q8_0", "Q8_0", "Q8_0"),
    ("mxfp4_moe", "MXFP4", "MXFP4"),  # 3-D with ne[2] = heads > 1
])
def test_deepseek_k_b_and_v_b_types(fmt: str, k_b: str, v_b: str) -> None:
    """attn_k_b/attn_v_b fall in no named category (src/llama-quant.cpp ``tensor_get_category``): the
    default type, then the shape fallback; MXFP4_MOE gives every tensor with ne[2] > 1 MXFP4."""
    types = dict((t.name, ty) for t, ty in gguf_tensor_types(preset("deepseek-v3"), fmt))
    assert (types["blk.3.attn_k_b.weight"], types["blk.3.attn_v_b.weight"]) == (k_b, v_b)


@pytest.mark.parametrize(("name", "ftype_id", "default"), [
    ("gguf-f32", 0, "F32"), ("gguf-f16", 1, "F16"), ("q4_0", 2, "Q4_0"), ("q8_0", 7, "Q8_0"),
    ("q4_k_m", 15, "Q4_K"), ("iq2_s", 28, "IQ2_XS"), ("gguf-bf16", 32, "BF16"), ("tq2_0", 37, "TQ2_0"),
    ("mxfp4_moe", 38, "MXFP4"), ("gguf-nvfp4", 39, "NVFP4"), ("q1_0", 40, "Q1_0"), ("q2_0", 41, "Q2_0"),
])
def test_llama_ftype_values(name: str, ftype_id: int, default: str) -> None:
    """enum llama_ftype values (include/llama.h) and default types (llama_ftype_get_default_type)."""
    assert (LLAMA_FTYPES[name].ftype_id, LLAMA_FTYPES[name].default_type) == (ftype_id, default)


def test_every_llama_ftype_value_once() -> None:
    """The 36 live values of enum llama_ftype (0-3, 7-32, 36-41), each once."""
    ids = sorted(f.ftype_id for f in LLAMA_FTYPES.values())
    assert ids == [0, 1, 2, 3, *range(7, 33), *range(36, 42)]


@pytest.mark.parametrize(("name", "elements", "nbytes"), [("NVFP4", 64, 36), ("Q1_0", 128, 18), ("Q2_0", 64, 18)])
def test_new_ggml_block_sizes(name: str, elements: int, nbytes: int) -> None:
    """The newer block types (gguf-py/gguf/constants.py GGML_QUANT_SIZES: NVFP4 (64, 4 + 32), Q1_0 (128, 2 + 16),
    Q2_0 (64, 2 + 16))."""
    assert (GGML_TYPES[name].block_elements, GGML_TYPES[name].block_bytes) == (elements, nbytes)


#: Issue 10's review of published GGUF files against llmcalc 6fb38d6 (q/k/v priced apart, heads tied
#: as configured): the old tensor-data prediction and how far below the published file it was,
#: as (published - predicted) / published. The implied published size is predicted / (1 - low).
REVIEWED_LOW = {
    ("gpt-neox-20b", "q3_k_m"): (10_336_419_840, 0.043),
    ("qwen3-0.6b", "q5_k_s"): (430_664_704, 0.21),
}


@pytest.mark.parametrize(("name", "fmt"), sorted(REVIEWED_LOW))
def test_reviewed_files_now_agree(name: str, fmt: str) -> None:
    """file_bytes lands within the rounding of the published size issue 10 implies (old prediction / (1 - low),
    the low figure given to 2 significant figures): fused attn_qkv for NeoX, the stored head for Qwen3-0.6B."""
    old, low = REVIEWED_LOW[(name, fmt)]
    half_step = 0.0005 if low < 0.1 else 0.005
    lo, hi = old / (1 - (low - half_step)), old / (1 - (low + half_step))
    p = llmcalc.load_preset(name)
    result = weights_for_format(p.spec, fmt, stored_output_head=p.stored_output_head)
    assert result.file_bytes is not None and lo <= result.file_bytes <= hi


@pytest.mark.xfail(strict=True, reason="today's attn_v rules put half the attn_qkv layers in Q6_K: 0.4% above "
                   "the file issue 10 reviewed (12,724,482,048 bytes predicted, 2.9% low), likely made with the "
                   "older attn_qkv rule (Q5_K everywhere), which is 0.3% above too: not understood")
def test_gpt_neox_20b_q4_k_m_reviewed_file() -> None:
    """gpt-neox-20b Q4_K_M: the published size issue 10 implies (old prediction / (1 - 0.029)), within 0.1%."""
    result = weights_for_format(preset("gpt-neox-20b"), "q4_k_m")
    implied = 12_724_482_048 / (1 - 0.029)
    assert result.file_bytes is not None and abs(result.file_bytes / implied - 1) < 0.001


def test_model_files_decide_a_stored_head() -> None:
    """Safetensors headers with one embedding table more than a tied config's count mean a stored lm_head."""
    from llmcalc.gguf_source import stored_output_head
    from llmcalc.loading import LoadedModel

    spec = preset("qwen2-0.5b")
    total = count_params(spec).total_params
    head = spec.vocab_size * spec.hidden_size
    stored = LoadedModel(spec=spec, source="x", kind="safetensors", counted_params=total + head)
    assert stored_output_head(stored)
    assert not stored_output_head(LoadedModel(spec=spec, source="x", kind="safetensors", counted_params=total))
    assert not stored_output_head(LoadedModel(spec=spec, source="x", kind="config"))


def test_state_space_convolutions_stay_f32() -> None:
    """Jamba's ssm_conv1d stays F32 in Q4_K_M (src/llama-quant.cpp ``tensor_allows_quantization`` excludes it;
    the converter writes it F32), while its ssm_in projection takes the default Q4_K."""
    types = dict((t.name, ty) for t, ty in gguf_tensor_types(preset("jamba-1.5-mini"), "q4_k_m"))
    assert (types["blk.0.ssm_conv1d.weight"], types["blk.0.ssm_in.weight"]) == ("F32", "Q4_K")


#: File types whose rules read the counters, the layer index and the expert count (q4_k_m, q3_k_m,
#: iq2_xxs, q2_k, iq3_xs) or the expert dimension (mxfp4_moe).
_RULE_HEAVY = ("q4_k_m", "q3_k_m", "iq2_xxs", "q2_k", "iq3_xs", "mxfp4_moe")


@pytest.mark.parametrize("name", sorted(p.name for p in llmcalc.load_all_presets()))
def test_grouped_mix_equals_the_mix_tensor_by_tensor(name: str) -> None:
    """The grouped pricing (gguf_type_counts) and the per-tensor list give what llama-quantize's rules
    give each tensor one by one, in llama.cpp's order and without any memo, for every preset."""
    from collections import Counter

    from llmcalc.quant import gguf_mix

    spec = preset(name)
    prepared = gguf_mix._prepared(spec, False)
    for fmt in _RULE_HEAVY:
        imatrix = gguf_mix.GGUF_FILE_TYPES[fmt][0] in gguf_mix.NEEDS_IMATRIX
        mix = gguf_mix._Mix(spec, prepared, fmt, imatrix)
        one_by_one = [(e.tensor, mix.type_of(e)) for e in prepared.entries]
        expected = Counter((t.shape, t.role, ty) for t, ty in one_by_one)
        grouped: Counter[tuple[tuple[int, ...], str, str]] = Counter()
        for t, ty, n in gguf_mix.gguf_type_counts(spec, fmt, imatrix, False):
            grouped[t.shape, t.role, ty] += n
        assert grouped == expected, fmt
        assert list(gguf_tensor_types(spec, fmt)) == one_by_one, fmt
