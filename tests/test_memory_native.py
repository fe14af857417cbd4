"""Release formats: presets record the format their checkpoint ships in, and memory uses it."""

from __future__ import annotations

import pytest

import llmcalc
from llmcalc.importers.presets import load_all_presets
from llmcalc.params import count_params
from llmcalc.quant import get_format, weights_for_format
from llmcalc.report import memory_report


def test_mxfp4_experts_is_gpt_oss_layout() -> None:
    """openai/gpt-oss-20b config.json quantization_config: MXFP4 (17 bytes / 32) on experts, bf16 elsewhere."""
    spec = llmcalc.load_model("gpt-oss-20b").spec
    w = weights_for_format(spec, "mxfp4-experts")
    experts = 24 * 32 * 3 * 2880 * 2880  # gate, up, down per expert; expert biases stay 16-bit
    rest = count_params(spec).total_params - experts
    assert w.total_bytes == experts * 17 // 32 + 2 * rest == 13_761_264_768


@pytest.mark.parametrize(
    ("name", "native"),
    [("deepseek-v3", "fp8-block128"), ("kimi-k2", "fp8-block128"), ("gpt-oss-20b", "mxfp4-experts"),
     ("gpt-oss-120b", "mxfp4-experts"), ("llama-3.1-8b", None)],
)
def test_memory_defaults_to_release_format(name: str, native: str | None) -> None:
    """With no --bpw/--quant, memory prices a preset in its release format and says so."""
    report = memory_report(llmcalc.load_model(name))
    est = report.formats[0].estimate
    assert est.weights_format == (native or "bf16")
    assert any("released in" in n for n in est.notes) == (native is not None)


def test_every_native_format_is_known() -> None:
    """A preset's native_format names a format of the catalogue."""
    for preset in load_all_presets():
        if preset.native_format:
            assert get_format(preset.native_format).name == preset.native_format
