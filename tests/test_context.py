"""The context window: positional tables, KV per token, the memory curve, the crossover, growth, the CLI."""

from __future__ import annotations

import io
import json

import pytest
from click.testing import CliRunner
from rich.console import Console

from llmcalc import UsageError, spec_from_hf_config
from llmcalc.cli import cli
from llmcalc.context import (
    MAX_CONTEXT_TOKENS,
    MemoryPoint,
    check_context,
    context_info,
    context_report,
    crossover_context,
    curve_contexts,
    doubling_contexts,
    grow_window,
    memory_curve,
    positional_table_bytes,
)
from llmcalc.fit import check_fit
from llmcalc.fit import max_context as fit_max_context
from llmcalc.gpus import get_gpu
from llmcalc.kvcache import kv_bytes_per_token, kv_cache
from llmcalc.loading import load_model
from llmcalc.memory import engine_settings, estimate_memory
from llmcalc.quant import get_format, weights_for_bpw, weights_for_format
from llmcalc.render.context import MemoryChart, context_view
from llmcalc.spec import ModelSpec
from tests.test_params import TINY_GPT2, TINY_LLAMA


def _spec(name: str) -> ModelSpec:
    return load_model(name).spec


def _render(renderable: object) -> str:
    out = io.StringIO()
    Console(width=100, color_system=None, file=out).print(renderable)
    return out.getvalue()


# --- positional tables -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "encoding", "params", "rows", "max_ctx"),
    [
        ("gpt2", "learned", 1024 * 768, 1024, 1024),
        ("opt-1.3b", "learned", 2050 * 2048, 2050, 2048),
        ("llama-3.1-8b", "rotary", 0, 0, 131_072),
        ("bloom-560m", "alibi", 0, 0, None),
        ("t5-small", "relative", 0, 0, 512),
    ],
    ids=["gpt2", "opt-1.3b", "llama-3.1-8b", "bloom-560m", "t5-small"],
)
def test_positional_table(name: str, encoding: str, params: int, rows: int, max_ctx: int | None) -> None:
    """GPT-2 1,024 x 768 = 786,432; OPT-1.3B (2,048 + 2) x 2,048 = 4,198,400; rotary, ALiBi, T5: none."""
    info = context_info(_spec(name))
    assert (info.positional_encoding, info.positional_params, info.positional_table_rows) == (encoding, params, rows)
    assert info.max_context == max_ctx
    assert info.positional_bytes == params * info.dtype_bytes


def test_exact_figures_pinned() -> None:
    """The issue's figures to the last parameter, and bytes at the model's dtype."""
    assert context_info(_spec("gpt2")).positional_params == 786_432
    opt = context_info(_spec("opt-1.3b"))
    assert (opt.positional_params, opt.positional_offset) == (4_198_400, 2)
    assert context_info(_spec("llama-3.1-8b")).positional_params == 0
    assert positional_table_bytes(_spec("gpt2"), dtype_bytes=4) == 786_432 * 4


@pytest.mark.parametrize(
    ("name", "dtype_bytes", "assumed"),
    [("llama-3.1-8b", 2, False), ("olmo2-7b", 4, False), ("gpt2", 2, True)],
    ids=["bfloat16", "float32", "no-torch-dtype"],
)
def test_dtype_bytes(name: str, dtype_bytes: int, assumed: bool) -> None:
    """Table bytes use torch_dtype: float32 -> 4, bf16 -> 2, none stated -> 2 (assumed)."""
    info = context_info(_spec(name))
    assert (info.dtype_bytes, info.dtype_assumed) == (dtype_bytes, assumed)
    assert info.token_embedding_bytes == info.token_embedding_params * dtype_bytes


def test_share_and_token_embedding_gpt2() -> None:
    """GPT-2: the table beside the 50,257 x 768 token embedding, as a share of 124,439,808."""
    info = context_info(_spec("gpt2"))
    assert info.token_embedding_params == 50_257 * 768
    assert info.total_params == 124_439_808
    assert info.positional_share_of_total == 786_432 / 124_439_808


def test_rope_and_windows() -> None:
    """Llama 3.1 reports theta and llama3 x8 over 8,192; Gemma 2 2B has 13 layers of 4,096-token windows."""
    llama = context_info(_spec("llama-3.1-8b"))
    assert (llama.rope_theta, llama.rope_scaling_type, llama.rope_scaling_factor, llama.original_max_context) == (
        500_000.0, "llama3", 8.0, 8192)
    gemma = context_info(_spec("gemma-2-2b"))
    assert [(w.window_tokens, w.layers) for w in gemma.sliding_windows] == [(4096, 13)]


def test_t5_relative_bias() -> None:
    """T5-small: 32 buckets x 8 heads in each of its two stacks."""
    assert context_info(_spec("t5-small")).relative_bias_params == 2 * 32 * 8


@pytest.mark.parametrize(
    ("name", "kv_dtype", "engine"),
    [("llama-3.1-8b", "f16", "hf"), ("gemma-2-2b", "q8_0", "llama.cpp"), ("deepseek-v2-lite", "fp8", "vllm"),
     ("gpt2", "f32", "hf")],
    ids=["llama-f16", "gemma-q8_0", "mla-latent", "gpt2-f32"],
)
def test_kv_per_token_matches_kvcache(name: str, kv_dtype: str, engine: str) -> None:
    """ContextInfo's KV per token is kv_bytes_per_token for the same dtype and engine."""
    spec = _spec(name)
    info = context_info(spec, kv_dtype=kv_dtype, engine=engine)
    assert info.kv_cache_bytes_per_token == kv_bytes_per_token(spec, kv_dtype=kv_dtype, engine=engine)


def test_llama_kv_per_token_value() -> None:
    """Llama 3.1 8B at f16: 2 x 32 layers x 8 KV heads x 128 x 2 bytes = 131,072."""
    assert context_info(_spec("llama-3.1-8b")).kv_cache_bytes_per_token == 2 * 32 * 8 * 128 * 2


# --- context lists -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("top", "expected"),
    [
        (1024, (64, 128, 256, 512, 1024)),
        (2048, (128, 256, 512, 1024, 2048)),
        (40_960, (512, 1024, 2048, 4096, 8192, 16384, 32768, 40_960)),
        (131_072, (512, 1024, 2048, 4096, 8192, 16384, 32768, 65536, 131_072)),
        (1, (1,)),
    ],
    ids=["1k", "2k", "40960", "128k", "one"],
)
def test_doubling_ends_at_the_maximum(top: int, expected: tuple[int, ...]) -> None:
    """Powers of two from 512 (or top / 16) up to the top, which is always included."""
    assert doubling_contexts(top) == expected


@pytest.mark.parametrize(
    ("name", "context", "last_two"),
    [("gpt2", 2048, (1024, 2048)), ("llama-3.1-8b", 100_000, (100_000, 131_072)),
     ("bloom-560m", None, (65_536, 131_072)), ("falcon-7b", 4096, (2048, 4096))],
    ids=["beyond-max", "inside-max", "no-max-default", "no-max-context"],
)
def test_curve_contexts(name: str, context: int | None, last_two: tuple[int, int]) -> None:
    """The curve holds the maximum and --context; without a maximum it runs to --context or 131,072."""
    assert curve_contexts(_spec(name), context)[-2:] == last_two


@pytest.mark.parametrize(
    ("name", "context", "message"),
    [
        ("gpt2", 0, "context must be a positive number of tokens, got 0"),
        ("gpt2", -5, "context must be a positive number of tokens, got -5"),
        ("bloom-560m", MAX_CONTEXT_TOKENS + 1,
         "context 2,147,483,649 is more than the 2,147,483,648 tokens llmcalc accepts"),
        ("gpt2", 1_024_001, "context 1,024,001 is more than 1,000 times gpt2's maximum of 1,024 tokens"),
    ],
    ids=["zero", "negative", "over-2^31", "over-1000x"],
)
def test_absurd_context_errors(name: str, context: int, message: str) -> None:
    """Non-positive and absurd contexts raise UsageError with a one-line message."""
    with pytest.raises(UsageError) as exc:
        check_context(_spec(name), context)
    assert str(exc.value) == message


def test_exactly_1000x_is_accepted() -> None:
    """1,000 x the maximum is the last context accepted."""
    check_context(_spec("gpt2"), 1_024_000)


# --- memory curve and crossover ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "engine", "batch", "num_gpus"),
    [("llama-3.1-8b", "hf", 1, 1), ("gemma-2-2b", "vllm", 4, 1), ("llama-3.1-8b", "llama.cpp", 2, 2)],
    ids=["llama-hf", "gemma-vllm", "llama-cpp-2gpus"],
)
def test_curve_equals_estimate_memory(name: str, engine: str, batch: int, num_gpus: int) -> None:
    """Every point is estimate_memory and check_fit at that context, to the byte."""
    spec = _spec(name)
    weights = weights_for_format(spec, get_format("bf16"))
    settings = engine_settings(engine)
    gpu = get_gpu("h100")
    points = memory_curve(spec, weights=weights, batch_size=batch, settings=settings, gpu=gpu, num_gpus=num_gpus)
    assert [p.context_tokens for p in points] == list(curve_contexts(spec))
    for p in points:
        est = estimate_memory(spec, weights=weights, context_tokens=p.context_tokens, batch_size=batch,
                              settings=settings)
        fit = check_fit(spec, est, gpu, num_gpus, settings)
        assert p == MemoryPoint(p.context_tokens, est.weights_bytes, est.kv_cache_bytes, est.activation_bytes,
                                est.overhead_bytes, est.total_bytes, fit.per_gpu.total_bytes, fit.fits, False)


@pytest.mark.parametrize(
    ("name", "engine", "batch", "bpw"),
    [("llama-3.1-8b", "hf", 1, "16"), ("gpt2", "vllm", 1, "16"), ("gemma-2-2b", "llama.cpp", 3, "4.5"),
     ("t5-small", "hf", 1, "16")],
    ids=["llama", "gpt2-vllm", "gemma-windows", "t5-cross"],
)
def test_crossover_is_exact(name: str, engine: str, batch: int, bpw: str) -> None:
    """KV(c - 1) < weights <= KV(c), with the engine's rounding and window caps."""
    spec = _spec(name)
    weights = weights_for_bpw(spec, bpw).total_bytes
    c = crossover_context(spec, weights_bytes=weights, batch_size=batch, engine=engine)
    assert c is not None

    def kv(ctx: int) -> int:
        return kv_cache(spec, context_tokens=ctx, batch_size=batch, engine=engine).total_bytes

    assert kv(c) >= weights
    assert c == 1 or kv(c - 1) < weights


def test_crossover_llama_31_8b() -> None:
    """Llama 3.1 8B in bf16: 16,060,522,496 weight bytes / 131,072 per token -> 122,533 tokens."""
    spec = _spec("llama-3.1-8b")
    weights = weights_for_format(spec, get_format("bf16")).total_bytes
    assert crossover_context(spec, weights_bytes=weights) == -(-weights // 131_072) == 122_533


@pytest.mark.parametrize("name", ["bert-base-uncased", "mistral-7b-v0.1"], ids=["encoder-only", "all-windowed"])
def test_no_crossover(name: str) -> None:
    """No KV cache (BERT), or one capped by windows below the weights (Mistral 7B v0.1 on vLLM): None.

    (On transformers the windowed layers hold the whole prompt right after the prefill, so there the
    cache does reach the weights.)"""
    spec = _spec(name)
    weights = weights_for_format(spec, get_format("bf16")).total_bytes
    assert crossover_context(spec, weights_bytes=weights, engine="vllm") is None


# --- growing the window ------------------------------------------------------------------------


def test_grow_gpt2_to_2048() -> None:
    """GPT-2 at 2,048: 1,024 more rows of 768, and a pinned warning."""
    g = grow_window(_spec("gpt2"), 2048)
    assert (g.table_rows_needed, g.extra_positional_params) == (2048, 1024 * 768)
    assert g.extra_positional_bytes == 1024 * 768 * 2
    assert g.implied_rope_factor is None
    assert g.warning == (
        "2,048 tokens is beyond gpt2's maximum of 1,024: its learned position table would need 1,024 more rows, "
        "786,432 new untrained parameters; the model was not trained for this context, expect degraded output "
        "unless it is fine-tuned"
    )


def test_grow_opt_counts_the_offset() -> None:
    """OPT-1.3B at 4,096 needs 4,098 rows (offset 2): 2,048 more rows of 2,048."""
    g = grow_window(_spec("opt-1.3b"), 4096)
    assert (g.table_rows_needed, g.extra_positional_params) == (4098, 2048 * 2048)


def test_grow_llama_31_to_262144() -> None:
    """Llama 3.1 8B at 262,144: factor 32 over the original 8,192, against the current 8."""
    g = grow_window(_spec("llama-3.1-8b"), 262_144)
    assert (g.implied_rope_factor, g.current_rope_factor, g.original_max_context) == (32.0, 8.0, 8192)
    assert g.extra_positional_params == 0
    assert g.warning == (
        "262,144 tokens is beyond llama-3.1-8b's maximum of 131,072: rope scaling llama3 stretches 8,192 positions "
        "by a factor of 8; this context needs a factor of 32 (4x the current); the model was not trained for this "
        "context, expect degraded output unless it is fine-tuned"
    )


@pytest.mark.parametrize(
    ("name", "context", "warning"),
    [
        ("llama-2-7b", 8192, "8,192 tokens is beyond llama-2-7b's maximum of 2,048: it has no rope scaling; this "
         "context needs a factor of 4 over its 2,048 positions (Position Interpolation or YaRN); the model was not "
         "trained for this context, expect degraded output unless it is fine-tuned"),
        ("bloom-560m", 8192, "no maximum context is recorded for bloom-560m; whether it handles 8,192 tokens is "
         "unknown"),
        ("t5-small", 1024, "1,024 tokens is beyond t5-small's maximum of 512: its relative position buckets stay as "
         "they are (distances past the last bucket share it); the model was not trained for this context, expect "
         "degraded output unless it is fine-tuned"),
        ("gpt2", 1024, None),
    ],
    ids=["rotary-unscaled", "alibi-no-max", "t5-relative", "within-max"],
)
def test_growth_warnings(name: str, context: int, warning: str | None) -> None:
    """Each encoding's warning, pinned; none within the maximum."""
    assert grow_window(_spec(name), context).warning == warning


def test_grow_window_rejects_absurd() -> None:
    """grow_window checks the context like the CLI does."""
    with pytest.raises(UsageError, match="more than 1,000 times"):
        grow_window(_spec("llama-3.1-8b"), 200_000_000)


# --- the report --------------------------------------------------------------------------------


def test_report_fit_on_h100() -> None:
    """Llama 3.1 8B bf16 on one H100: the fit solver's answer, and every doubling up to 131,072 fits."""
    loaded = load_model("llama-3.1-8b")
    gpu = get_gpu("h100")
    report = context_report(loaded, gpu=gpu)
    weights = weights_for_format(loaded.spec, get_format("bf16"))
    assert report.max_context_that_fits == fit_max_context(loaded.spec, weights=weights, gpu=gpu,
                                                           settings=engine_settings("hf"))
    assert report.first_context_not_fitting is None
    assert all(p.fits for p in report.series)
    assert report.crossover_context == 122_533


def test_report_first_context_not_fitting() -> None:
    """Gemma 2 2B, Q4_K_M, batch 64 on an RTX 4090: stops fitting at the 4,096 doubling."""
    report = context_report(load_model("gemma-2-2b"), quant="Q4_K_M", batch_size=64, gpu=get_gpu("rtx-4090"))
    assert report.engine == "llama.cpp"
    assert report.first_context_not_fitting == 4096
    assert report.max_context_that_fits is not None and 2048 <= report.max_context_that_fits < 4096


def test_report_gpus_needs_gpu() -> None:
    """--gpus without --gpu is a usage error."""
    with pytest.raises(UsageError, match="--gpus needs --gpu"):
        context_report(load_model("gpt2"), num_gpus=2)


def test_tiny_models_by_hand() -> None:
    """Tiny GPT-2: a 6 x 8 table; tiny Llama: none, and 2 layers x 1 KV head x 8 values x 2 bytes per token."""
    gpt2 = context_info(spec_from_hf_config(TINY_GPT2, source="tiny"))
    assert (gpt2.positional_params, gpt2.max_context) == (48, 6)
    llama = context_info(spec_from_hf_config(TINY_LLAMA, source="tiny"))
    assert (llama.positional_params, llama.kv_cache_bytes_per_token) == (0, 2 * 1 * 8 * 2)


# --- rendering and the CLI ---------------------------------------------------------------------


def test_chart_marks_crossover_and_fit() -> None:
    """The chart labels the first row with KV >= weights and the rows that do not fit."""
    report = context_report(load_model("gemma-2-2b"), quant="Q4_K_M", batch_size=64, gpu=get_gpu("rtx-4090"))
    text = _render(MemoryChart(report.series, units="binary"))
    lines = text.splitlines()
    assert lines[0] == ("Memory (GiB) against context: █ weights  ▒ KV cache  ░ activations + overhead (estimated)")
    assert lines[1].startswith("  512 |██▒▒▒▒▒░ ") and lines[1].endswith("|  5.70 <- KV cache >= weights")
    assert lines[4].endswith("| 28.45 does not fit")
    assert all(len(line) <= 100 for line in lines)


def test_chart_is_deterministic() -> None:
    """Rendering twice at width 100 gives the same text, with bars no wider than the width."""
    report = context_report(load_model("llama-3.1-8b"))
    assert _render(context_view(report, units="binary")) == _render(context_view(report, units="binary"))


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["context", *args, "--width", "100"])
    return result.exit_code, result.stdout, result.stderr


def test_cli_llama_h100() -> None:
    """Key lines of `llmcalc context llama-3.1-8b --gpu h100`."""
    code, out, err = _run("llama-3.1-8b", "--gpu", "h100")
    assert code == 0, err
    for line in (
        "│ Positional encoding │ rotary (RoPE)",
        "│ Maximum context     │ 131,072 tokens (max_position_embeddings)",
        "│ RoPE scaling        │ llama3, factor 8 over 8,192 original positions",
        "│ KV cache per token  │ 131,072 B (128.00 KiB) at f16, engine hf, before window caps",
        "│ 131,072 │   14.96 │    16.00 │         12.50 │       0.50 │ 43.96 │   43.96 │  yes │",
        "The KV cache reaches the weights (14.96 GiB) at 122,533 tokens (batch 1).",
        "Every context in the table fits.",
    ):
        assert line in out
    assert "Largest context that fits on 1 x h100-sxm: 292,736 tokens (beyond the maximum of 131,072)." in out
    assert err == ""


def test_cli_gpt2_growth() -> None:
    """gpt2 --context 2048: the table row, the growth line, the warning on stderr."""
    code, out, err = _run("gpt2", "--context", "2048", "--no-chart")
    assert code == 0
    assert "│ Positional table (1,024 x 768) │     786,432 │   1,572,864 │   1.50 MiB │          0.63% │" in out
    assert "│  2,048* │  237.35 │    72.00 │         30.19 │     512.00 │ 851.54 │" in out
    assert "At 2,048 tokens: 2,048 table rows, +786,432 parameters (1.50 MiB) beyond the weights above.\n" in out
    assert "█" not in out
    assert err.startswith("Warning: 2,048 tokens is beyond gpt2's maximum of 1,024: ")


def test_cli_no_maximum() -> None:
    """A preset without a maximum says so, in the table and in JSON (max_context null)."""
    code, out, _ = _run("bloom-560m", "--no-chart")
    assert code == 0
    assert "no maximum context is recorded for bloom-560m" in out
    code, out, _ = _run("bloom-560m", "--json")
    assert json.loads(out)["max_context"] is None


def test_cli_json_keys() -> None:
    """--json: the issue's keys at the top, the info, the series, crossover, fit and growth."""
    code, out, _ = _run("llama-3.1-8b", "--gpu", "h100", "--context", "262144", "--json")
    assert code == 0
    data = json.loads(out)
    for key in ("positional_encoding", "max_context", "positional_params", "kv_cache_bytes_per_token", "info",
                "series", "crossover_context", "max_context_that_fits", "window_growth"):
        assert key in data
    assert (data["positional_encoding"], data["max_context"], data["positional_params"],
            data["kv_cache_bytes_per_token"]) == ("rotary", 131_072, 0, 131_072)
    assert data["window_growth"]["implied_rope_factor"] == 32.0
    assert data["series"][-1]["context_tokens"] == 262_144
    assert data["series"][-1]["beyond_max_context"] is True


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("gpt2", "--context", "0"), 2, "Invalid value for '--context': '0' is less than 1"),
        (("gpt2", "--context", "3000000000"), 1,
         "Error: context 3,000,000,000 is more than the 2,147,483,648 tokens llmcalc accepts"),
        (("gpt2", "--context", "2000000"), 1,
         "Error: context 2,000,000 is more than 1,000 times gpt2's maximum of 1,024 tokens"),
        (("gpt2", "--gpus", "2"), 1, "Error: --gpus needs --gpu"),
        (("gpt2", "--bpw", "4", "--quant", "fp8"), 1,
         "Error: --bpw and --quant both set the weight format; give one of them"),
    ],
    ids=["zero", "over-2^31", "over-1000x", "gpus-without-gpu", "bpw-and-quant"],
)
def test_cli_errors(args: tuple[str, ...], code: int, message: str) -> None:
    """Bad input: usage errors exit 2, domain errors exit 1 with one Error line."""
    exit_code, _, err = _run(*args)
    assert exit_code == code
    assert message in err


@pytest.mark.parametrize("gpu", ["h100", "rtx-4090"])
def test_vllm_curve_uses_the_gpus_batch_defaults(gpu: str) -> None:
    """On vLLM, `context --gpu` sizes activations with the GPU's batch defaults, as `memory --gpu` does."""
    args = ("llama-3.1-8b", "--engine", "vllm", "--gpu", gpu, "--context", "8192", "--json")
    runner = CliRunner()
    curve = json.loads(runner.invoke(cli, ["context", *args]).output)["series"]
    point = next(p for p in curve if p["context_tokens"] == 8192)
    memory = json.loads(runner.invoke(cli, ["memory", *args]).output)
    assert (point["activation_bytes"], point["total_bytes"]) == (memory["activation_bytes"], memory["total_bytes"])
