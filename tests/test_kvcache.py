"""KV cache bytes: the per-token figures of ../shared/reference/README.md, windows, engines, dtypes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llmcalc import UsageError, spec_from_hf_config
from llmcalc.kvcache import kv_bytes_per_token, kv_cache
from llmcalc.spec import ModelSpec
from tests.test_params import TINY_LLAMA


def _ref(reference_dir: Path, name: str) -> ModelSpec:
    data = json.loads((reference_dir / "configs" / f"{name}.json").read_text())
    return spec_from_hf_config(data, source=name)


@pytest.mark.parametrize(
    ("name", "engine", "per_token"),
    [
        ("llama-2-7b", "hf", 524_288),
        ("llama-3-8b", "hf", 131_072),
        ("mistral-7b-v0.1", "hf", 131_072),
        ("mixtral-8x7b", "hf", 131_072),
        ("deepseek-v3", "vllm", 70_272),
        ("deepseek-v3", "llama.cpp", 70_272),
        ("deepseek-v3", "hf", 70_272),
        ("kimi-k2", "hf", 2_498_560),
    ],
    ids=lambda v: str(v),
)
def test_reference_bytes_per_token(reference_dir: Path, name: str, engine: str, per_token: int) -> None:
    """16-bit, batch 1: exact per-token figures; MLA is the latent for vLLM, llama.cpp and transformers 5.24
    (DeepSeek-V3: 61 x 576 x 2), expanded for Kimi K2's remote code (61 x 64 heads x (192 + 128) x 2)."""
    assert kv_bytes_per_token(_ref(reference_dir, name), kv_dtype="f16", engine=engine) == per_token


def test_llama3_8k_tokens_is_one_gib(reference_dir: Path) -> None:
    """Llama-3-8B: 8,192 tokens of 16-bit cache are exactly 1 GiB."""
    kv = kv_cache(_ref(reference_dir, "llama-3-8b"), context_tokens=8192)
    assert kv.total_bytes == 2**30


@pytest.mark.parametrize(("dtype", "ratio"), [("q8_0", (34, 64)), ("q4_0", (18, 64)), ("fp8", (1, 2)), ("f32", (2, 1))])
def test_quantized_cache_ratios(reference_dir: Path, dtype: str, ratio: tuple[int, int]) -> None:
    """llama.cpp q8_0 costs 8.5/16 and q4_0 4.5/16 of f16; fp8 half; f32 double."""
    spec = _ref(reference_dir, "llama-3-8b")
    f16 = kv_cache(spec, context_tokens=8192, engine="llama.cpp").total_bytes
    other = kv_cache(spec, context_tokens=8192, engine="llama.cpp", kv_dtype=dtype).total_bytes
    assert other * ratio[1] == f16 * ratio[0]


def test_tiny_model_by_hand() -> None:
    """2 layers x 1 KV head x (4 + 4) values x 10 tokens x batch 3 x 2 bytes."""
    spec = spec_from_hf_config(TINY_LLAMA, source="tiny")
    assert kv_cache(spec, context_tokens=10, batch_size=3).total_bytes == 2 * 1 * 8 * 10 * 3 * 2


def test_sliding_window_caps_per_engine(reference_dir: Path) -> None:
    """Gemma-2-2B: 13 of 26 layers use a 4,096 window; each engine caches them its own way.

    transformers holds the whole prompt in every layer right after the prefill (a view the
    sliding layers keep until the next update), then the window once decoding starts."""
    spec = _ref(reference_dir, "gemma-2-2b")
    per_layer = 4 * 256 * 2 * 2  # 4 KV heads x 256 x (K + V) x 2 bytes
    hf = kv_cache(spec, context_tokens=8192)
    assert hf.windowed_layers == 13 and hf.full_layers == 13
    assert hf.total_bytes == per_layer * 26 * 8192
    assert hf.steady_bytes == per_layer * (13 * 8192 + 13 * 4096)
    vllm = kv_cache(spec, context_tokens=8192, engine="vllm")
    assert vllm.total_bytes == per_layer * (13 * 8192 + 13 * (8192 + 16))
    llama = kv_cache(spec, context_tokens=8000, engine="llama.cpp")
    assert llama.total_bytes == per_layer * (13 * 8192 + 13 * 4608)


def test_gpt_oss_alternating_layers(reference_dir: Path) -> None:
    """gpt-oss-20b (HF): 12 full layers grow with context, 12 sliding layers settle at a 128-token window
    (after holding the whole 100,000-token prompt right after the prefill)."""
    spec = _ref(reference_dir, "gpt-oss-20b")
    kv = kv_cache(spec, context_tokens=100_000)
    assert kv.total_bytes == 24 * 8 * 64 * 2 * 2 * 100_000
    assert kv.steady_bytes == 12 * 8 * 64 * 2 * 2 * 100_000 + 12 * 8 * 64 * 2 * 2 * 128


def test_vllm_rounds_to_blocks_of_16() -> None:
    """vLLM allocates 16-token blocks: 17 tokens cost 32 slots."""
    spec = spec_from_hf_config(TINY_LLAMA, source="tiny")
    assert kv_cache(spec, context_tokens=17, engine="vllm").total_bytes == 2 * 8 * 32 * 2


def test_t5_cross_attention_cache() -> None:
    """Encoder-decoder: decoder self-attention plus a cross-attention cache of the encoder length."""
    cfg = {"model_type": "t5", "vocab_size": 10, "d_model": 8, "d_kv": 4, "num_heads": 2, "num_layers": 1,
           "num_decoder_layers": 2, "d_ff": 16}
    kv = kv_cache(spec_from_hf_config(cfg, source="tiny"), context_tokens=10, encoder_tokens=20)
    assert kv.self_attention_bytes == 2 * 2 * 8 * 10 * 2
    assert kv.cross_attention_bytes == 2 * 2 * 8 * 20 * 2


def test_encoder_only_has_no_cache() -> None:
    """BERT keeps no KV cache."""
    cfg = {"model_type": "bert", "vocab_size": 10, "hidden_size": 8, "num_hidden_layers": 1,
           "num_attention_heads": 2, "intermediate_size": 16, "max_position_embeddings": 16}
    assert kv_cache(spec_from_hf_config(cfg, source="tiny"), context_tokens=10).total_bytes == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"context_tokens": 0}, "context_tokens must be between 1 and 1,099,511,627,776, got 0"),
        ({"context_tokens": 8, "batch_size": 0}, "batch_size must be between 1 and 1,099,511,627,776, got 0"),
        ({"context_tokens": 8, "kv_dtype": "int3"}, "unknown KV cache dtype 'int3'; choose one of"),
        ({"context_tokens": 8, "engine": "tgi"}, "unknown engine 'tgi'; choose one of hf, vllm, llama.cpp"),
    ],
    ids=["context", "batch", "dtype", "engine"],
)
def test_bad_arguments(kwargs: dict[str, object], message: str) -> None:
    """Bad arguments raise UsageError naming the value."""
    spec = spec_from_hf_config(TINY_LLAMA, source="tiny")
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace(")", r"\)")):
        kv_cache(spec, **kwargs)  # type: ignore[arg-type]


def test_engine_and_dtype_names_case_insensitive() -> None:
    """Engine and dtype names ignore case."""
    spec = spec_from_hf_config(TINY_LLAMA, source="tiny")
    assert kv_cache(spec, context_tokens=8, engine="VLLM", kv_dtype="Q8_0").engine == "vllm"
