"""Memory estimates, GPU fit and solvers: exact parts exact, estimates labelled, splits by the rules."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import llmcalc
from llmcalc.cli import cli
from llmcalc.fit import best_quant, check_fit, gpus_needed, max_batch, max_context, per_gpu
from llmcalc.gpus import get_gpu
from llmcalc.kvcache import kv_cache
from llmcalc.memory import engine_settings, estimate_memory
from llmcalc.quant import get_format, weights_for_bpw, weights_for_format
from llmcalc.report import memory_report


def _spec(name: str) -> llmcalc.ModelSpec:
    return llmcalc.load_model(name).spec


def test_total_is_sum_of_parts() -> None:
    """total = weights + KV + activations + overhead; exact and estimated parts kept apart."""
    spec = _spec("llama-3.1-8b")
    est = estimate_memory(spec, weights=weights_for_bpw(spec, 16), context_tokens=8192)
    assert est.weights_bytes == 8_030_261_248 * 2
    assert est.kv_cache_bytes == 2**30
    assert est.exact_bytes == est.weights_bytes + est.kv_cache_bytes
    assert est.estimated_bytes == est.activation_bytes + est.overhead_bytes
    assert est.total_bytes == est.exact_bytes + est.estimated_bytes


def test_uniform_bpw_rounds_once() -> None:
    """--bpw applies to every parameter: ceil(params x bpw / 8)."""
    spec = _spec("mixtral")
    assert weights_for_bpw(spec, 4).total_bytes == 46_702_792_704 // 2
    assert weights_for_bpw(spec, "4.5").total_bytes == -(-46_702_792_704 * 9 // 16)


def test_tensor_parallel_splits_kv_heads() -> None:
    """8 KV heads over 2 GPUs: half the cache each; over 16 GPUs: one head each, replicated; norms whole."""
    spec = _spec("llama-3.1-8b")
    settings = engine_settings("vllm")
    est = estimate_memory(spec, weights=weights_for_bpw(spec, 16), context_tokens=8192, settings=settings)
    assert per_gpu(spec, est, 2, settings).kv_cache_bytes == est.kv_cache_bytes // 2
    assert per_gpu(spec, est, 16, settings).kv_cache_bytes == est.kv_cache_bytes // 8
    norms = 32 * 2 * 4096 + 4096  # replicated on every GPU, two bytes each
    assert per_gpu(spec, est, 4, settings).weights_bytes == (est.weights_bytes - 2 * norms) // 4 + 2 * norms


def test_mla_latent_is_replicated() -> None:
    """vLLM keeps DeepSeek-V3's latent cache whole on every GPU."""
    spec = _spec("deepseek-v3")
    settings = engine_settings("vllm")
    est = estimate_memory(spec, weights=weights_for_format(spec, "fp8"), context_tokens=4096, settings=settings)
    assert per_gpu(spec, est, 8, settings).kv_cache_bytes == est.kv_cache_bytes == 4096 * 70_272


def test_llama_cpp_splits_by_layer() -> None:
    """llama.cpp's layer split divides weights and KV cache alike."""
    spec = _spec("llama-3.1-8b")
    settings = engine_settings("llama.cpp")
    est = estimate_memory(spec, weights=weights_for_bpw(spec, 16), context_tokens=8192, settings=settings)
    assert per_gpu(spec, est, 2, settings).kv_cache_bytes == est.kv_cache_bytes // 2


def test_vllm_fit_uses_memory_utilization() -> None:
    """vLLM's usable memory is gpu_memory_utilization x the GPU's usable memory (CUDA total)."""
    spec = _spec("llama-3.1-8b")
    gpu = get_gpu("h100")
    settings = engine_settings("vllm", gpu_memory_utilization=0.5)
    est = estimate_memory(spec, weights=weights_for_bpw(spec, 16), context_tokens=4096, settings=settings)
    result = check_fit(spec, est, gpu, 1, settings)
    assert result.usable_bytes_per_gpu == int(gpu.usable_memory_bytes * 0.5)
    assert result.headroom_bytes == result.usable_bytes_per_gpu - result.per_gpu.total_bytes


def test_gpus_needed_is_smallest_power_of_two() -> None:
    """Llama-3.1-405B in bf16 needs 16 H100s (8 are not enough), per the rules."""
    spec = _spec("llama-3.1-405b")
    settings = engine_settings("vllm")
    est = estimate_memory(spec, weights=weights_for_bpw(spec, 16), context_tokens=4096, settings=settings)
    gpu = get_gpu("h100")
    needed = gpus_needed(spec, est, gpu, settings)
    assert needed is not None and needed.num_gpus == 16
    assert not check_fit(spec, est, gpu, 8, settings).fits


def test_max_context_is_exact() -> None:
    """The solver's context fits and one more token does not."""
    spec = _spec("llama-3.1-8b")
    gpu = get_gpu("rtx4090")
    w = weights_for_format(spec, "q4_k_m")
    settings = engine_settings("llama.cpp")
    best = max_context(spec, weights=w, gpu=gpu, settings=settings)

    def fits(ctx: int) -> bool:
        est = estimate_memory(spec, weights=w, context_tokens=ctx, settings=settings)
        return check_fit(spec, est, gpu, 1, settings).fits

    assert fits(best) and not fits(best + 1)


def test_max_batch_is_exact() -> None:
    """The largest batch fits and one more sequence does not."""
    spec = _spec("mistral-7b-v0.1")
    gpu = get_gpu("a100-80gb")
    w = weights_for_bpw(spec, 16)
    settings = engine_settings("hf")
    best = max_batch(spec, weights=w, gpu=gpu, context_tokens=4096, settings=settings)
    assert best > 1
    for batch, expected in ((best, True), (best + 1, False)):
        est = estimate_memory(spec, weights=w, context_tokens=4096, batch_size=batch, settings=settings)
        assert check_fit(spec, est, gpu, 1, settings).fits is expected


def test_best_quant_picks_first_that_fits() -> None:
    """Llama-3.1-70B on one 80 GB A100: bf16 does not fit, the chosen format does."""
    spec = _spec("llama-3.1-70b")
    gpu = get_gpu("a100-80gb")
    choice = best_quant(spec, gpu=gpu, context_tokens=4096, formats=("bf16", "q8_0", "q4_k_m"))
    assert choice is not None and choice.format in ("q8_0", "q4_k_m")
    assert choice.fit.fits


def test_report_warns_beyond_max_context() -> None:
    """A context beyond max_position_embeddings is computed, with a warning that says so."""
    report = memory_report(llmcalc.load_model("gpt2"), context_tokens=4096)
    assert report.warnings == (
        "context 4,096 is beyond gpt2's maximum of 1,024 tokens (max_position_embeddings): "
        "the model was not trained for it",
    )


def test_report_engine_default_for_gguf() -> None:
    """A GGUF format defaults the engine to llama.cpp, and says why."""
    report = memory_report(llmcalc.load_model("llama-3.1-8b"), quant="Q4_K_M")
    assert (report.engine, report.engine_default_reason) == ("llama.cpp", "default for GGUF formats")


def _cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_cli_bpw_columns_and_units() -> None:
    """--bpw 16,8,4 gives one column each; the unit is labelled."""
    code, out, _ = _cli("memory", "llama-3.1-8b", "--bpw", "16,8,4", "--width", "120")
    assert code == 0
    assert "16 bpw" in out and "8 bpw" in out and "4 bpw" in out
    assert "Sizes in GiB (2^30 bytes)" in out
    code, out, _ = _cli("memory", "llama-3.1-8b", "--units", "decimal", "--width", "120")
    assert "Sizes in GB (10^9 bytes)" in out


def test_cli_json_keys() -> None:
    """--json has the byte fields and the inputs used."""
    code, out, _ = _cli("memory", "llama-3.1-8b", "--quant", "q4_k_m", "--context", "8192", "--gpu", "H100", "--json")
    assert code == 0
    data = json.loads(out)
    for key in ("weights_bytes", "kv_cache_bytes", "activation_bytes", "overhead_bytes", "total_bytes"):
        assert data[key] == data["formats"][0]["estimate"][key]
    assert data["inputs"] == {"context_tokens": 8192, "batch_size": 1, "kv_dtype": "f16", "engine": "llama.cpp",
                              "engine_reason": "default for GGUF formats", "weights_formats": ["q4_k_m"],
                              "gpu": "h100-sxm", "num_gpus": 1}
    est = data["formats"][0]["estimate"]
    for key in ("weights_bytes", "kv_cache_bytes", "activation_bytes", "overhead_bytes", "total_bytes",
                "context_tokens", "batch_size", "kv_dtype", "engine", "weights_format"):
        assert key in est
    assert est["kv_cache_bytes"] == 8192 * 131_072
    assert data["formats"][0]["fit"]["fits"] is True


def test_cli_all_presets_with_gpu() -> None:
    """No MODEL: every preset at --bpw 4, with a fit column for the GPU."""
    code, out, _ = _cli("memory", "--bpw", "4", "--gpu", "rtx4090", "--width", "160")
    assert code == 0
    assert "Fits 1 x rtx-4090" in out and "mixtral-8x7b" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--context", "99999999999"), "context 99,999,999,999 is more than"),
        (("--gpu", "h10"), "unknown GPU 'h10'; did you mean"),
        (("--bpw", "4", "--quant", "q4_k_m"), "--bpw and --quant both set the weight format; give one of them"),
        (("--gpus", "2"), "--gpus, --max-context, --max-batch and --best-quant need --gpu"),
        (("--kv-dtype", "int3"), "unknown KV cache dtype 'int3'"),
        (("--engine", "tgi"), "unknown engine 'tgi'"),
    ],
    ids=["absurd-context", "unknown-gpu", "bpw-and-quant", "gpus-without-gpu",
         "kv-dtype", "engine"],
)
def test_cli_bad_input(args: tuple[str, ...], message: str) -> None:
    """One Error: line, exit 1, no traceback."""
    code, out, err = _cli("memory", "llama-3.1-8b", *args)
    assert code == 1 and out == ""
    assert err.startswith("Error: ") and message in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--bpw", "-4"), "bits per weight must be a positive number up to 64, got '-4'"),
        (("--bpw", "four"), "bits per weight must be a positive number up to 64, got 'four'"),
        (("--bpw", "1e400"), "bits per weight must be a positive number up to 64, got '1e400'"),
        (("--bpw", "4,,8"), "'4,,8' has an empty bits-per-weight value"),
        (("--quant", "q4_k_x"), "unknown weight format 'q4_k_x'; did you mean"),
        (("--context", "32q"), "'32q': expected a whole number such as 4096, 32k or 1M"),
        (("--batch", "0"), "'0' is less than 1"),
    ],
    ids=["negative-bpw", "text-bpw", "huge-bpw", "empty-item", "unknown-quant", "bad-suffix", "zero-batch"],
)
def test_cli_bad_flag_values_are_usage_errors(args: tuple[str, ...], message: str) -> None:
    """A bad value of a flag (a number, a list item, a format name) is click's usage error: exit 2, one Error: line."""
    code, out, err = _cli("memory", "llama-3.1-8b", *args)
    assert code == 2 and out == ""
    assert message in err and err.count("Error: ") == 1 and "Traceback" not in err


def test_cli_context_beyond_max_warns() -> None:
    """A context beyond the model's maximum is a warning on stderr, not silence."""
    code, _, err = _cli("memory", "gpt2", "--context", "4096")
    assert code == 0 and err.startswith("Warning: context 4,096 is beyond gpt2's maximum of 1,024 tokens")


def test_format_names_case_insensitive() -> None:
    """Q4_K_M and q4_k_m are the same format."""
    assert get_format("Q4_K_M") == get_format("q4_k_m")


def test_kv_cache_matches_module() -> None:
    """The memory estimate's KV figure is the KV module's figure."""
    spec = _spec("gemma-2-9b")
    est = estimate_memory(spec, weights=weights_for_bpw(spec, 16), context_tokens=20000, engine="hf")
    assert est.kv_cache_bytes == kv_cache(spec, context_tokens=20000).total_bytes


def test_best_quant_prices_each_format_on_its_engine() -> None:
    """Without --engine, --best-quant prices a GGUF format on llama.cpp, as --quant does."""
    loaded = llmcalc.load_model("llama-3.1-8b")
    gpu = get_gpu("t4")
    best = memory_report(loaded, gpu=gpu, context_tokens=8192, solve_quant=True,
                         quality_order=("bf16", "q8_0", "q4_k_m")).best_quant
    direct = memory_report(loaded, gpu=gpu, context_tokens=8192, quant="q8_0").formats[0]
    assert best is not None and best.format == "q8_0"
    assert best.fit.per_gpu.total_bytes == direct.fit.per_gpu.total_bytes  # type: ignore[union-attr]
