"""Published quality cost per weight format: the table, its sources, the ranking, and where it shows."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from llmcalc.cli import cli
from llmcalc.quality import interpolated_increase, quality_cost, quality_order


@pytest.mark.parametrize(("fmt", "kld", "ppl"), [
    ("q8_0", 0.001355, 6.234284),
    ("q4_k_m", 0.031273, 6.407115),
    ("q2_k", 0.445132, 9.751568),
    ("iq4_xs", 0.036334, 6.459705),
])
def test_llama3_scoreboard_rows(fmt: str, kld: float, ppl: float) -> None:
    """GGUF types carry llama.cpp's Llama-3-8B scoreboard figures (tools/perplexity/README.md, f364eb6f)."""
    cost = quality_cost(fmt)
    assert (cost.kld, cost.ppl, cost.base_ppl) == (kld, ppl, 6.233160)
    assert cost.ppl_increase == pytest.approx(ppl / 6.233160 - 1)
    assert "tools/perplexity/README.md" in (cost.source or "") and cost.model == "Meta-Llama-3-8B (base)"


def test_awq_is_from_the_paper() -> None:
    """AWQ 4-bit g128 is the AWQ paper's Llama-2-7B WikiText-2 row: 5.60 against 5.47."""
    cost = quality_cost("awq-4bit-g128")
    assert (cost.ppl, cost.base_ppl, cost.kld) == (5.60, 5.47, None)
    assert "2306.00978" in (cost.source or "")


@pytest.mark.parametrize("fmt", ["bf16", "fp16", "gguf-f16"])
def test_sixteen_bit_formats_are_the_reference(fmt: str) -> None:
    """16-bit formats cost nothing by definition and say they are the reference."""
    cost = quality_cost(fmt)
    assert cost.reference and cost.ppl_increase == 0 and cost.label == "reference (16-bit)"


@pytest.mark.parametrize("fmt", ["fp8", "nf4", "mxfp4", "gptq-4bit-g32"])
def test_unmeasured_formats_say_so(fmt: str) -> None:
    """A format with no published figure is 'no measurement', not a guess."""
    cost = quality_cost(fmt)
    assert not cost.measured and cost.label == "no measurement"


def test_order_follows_published_cost_not_bits() -> None:
    """q5_k_s (5.5 bits) ranks above q5_1 (6 bits) and q4_k_m above q4_1: the tables, not the bits, decide."""
    order = quality_order(["q4_1", "q5_1", "q4_k_m", "q5_k_s", "bf16", "q2_k"])
    assert order == ["bf16", "q5_k_s", "q5_1", "q4_k_m", "q4_1", "q2_k"]


def test_interpolation_is_monotone_on_the_curve() -> None:
    """Unmeasured formats are placed on the measured curve: more bits never cost more."""
    values = [interpolated_increase(b / 4) for b in range(6, 40)]
    assert all(a >= b for a, b in zip(values, values[1:], strict=False))


def test_best_quant_uses_quality_ranking() -> None:
    """memory --best-quant returns the lowest published cost that fits, whatever the order given."""
    from llmcalc.fit import best_quant
    from llmcalc.gpus import get_gpu
    from llmcalc.loading import load_model

    spec = load_model("llama-3-8b").spec
    choice = best_quant(spec, gpu=get_gpu("rtx-3070"), context_tokens=4096, formats=["q2_k", "q4_1", "q4_k_m"])
    assert choice is not None and choice.format == "q4_k_m"


def test_quant_json_carries_quality() -> None:
    """`quant MODEL --json` gives each format's quality cost with its source."""
    r = CliRunner().invoke(cli, ["quant", "llama-3-8b", "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    by_name = {f["format"]: f["quality"] for f in data["formats"]}
    assert by_name["q4_k_m"]["kld"] == 0.031273 and by_name["fp8"]["measured"] is False
