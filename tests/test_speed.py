"""The speed model: work per token, MoE expert touching, bounds, user GPU files, the CLI, calibration."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import llmcalc
from llmcalc.cli import cli
from llmcalc.gpus import get_gpu
from llmcalc.params import count_params, token_embedding_params
from llmcalc.speed import estimate_speed, format_class, hardware, load_constants, model_work, speed_for

ROOT = Path(__file__).resolve().parent.parent


def test_dense_work_reads_everything_but_the_input_embedding() -> None:
    """A dense untied model's step reads total - input embedding parameters."""
    spec = llmcalc.load_model("llama-3-8b").spec
    work = model_work(spec)
    assert work.touched_params(1) == count_params(spec).total_params - token_embedding_params(spec)
    assert work.touched_params(64) == work.touched_params(1)


@pytest.mark.parametrize("batch", [1, 2, 8, 64])
def test_moe_touches_expected_experts(batch: int) -> None:
    """At batch B a MoE layer reads E(1 - (1 - k/E)^B) experts (Mixtral: E=8, k=2)."""
    work = model_work(llmcalc.load_model("mixtral").spec)
    expected = work.dense_params + round(work.moe_layers * work.expert_params * 8 * (1 - (1 - 2 / 8) ** batch))
    assert work.touched_params(batch) == expected


def test_flops_per_token_grows_with_context() -> None:
    """FLOPs per token are 2 x active non-embedding parameters plus 4 x d_attn x context."""
    spec = llmcalc.load_model("llama-3-8b").spec
    work = model_work(spec)
    assert work.flops_per_token(0) == 2 * (count_params(spec).active_params - token_embedding_params(spec))
    assert work.flops_per_token(1000) - work.flops_per_token(0) == 4 * 32 * 4096 * 1000


def test_decode_is_below_the_bare_roofline() -> None:
    """Decode never beats bandwidth / bytes and is memory-bound for one sequence on a GPU."""
    spec = llmcalc.load_model("llama-3-8b").spec
    est = speed_for(spec, fmt="q4_k_m", gpu=get_gpu("rtx4090"))
    assert est.decode_tokens_per_s < 1008e9 / est.step_bytes
    assert est.decode_bound == "memory" and est.tpot_s == pytest.approx(1 / est.decode_tokens_per_s)


def test_offloaded_bytes_are_read_over_pcie() -> None:
    """Weights placed in system RAM slow decode and can make it PCIe-bound."""
    spec = llmcalc.load_model("llama-3-8b").spec
    work = model_work(spec)
    kw = {"weights_bytes": 16 * 10**9, "weights_params": 8 * 10**9, "fmt": "bf16", "hw": hardware(get_gpu("h100"))}
    on = estimate_speed(work, **kw)
    off = estimate_speed(work, offloaded_bytes=4 * 10**9, **kw)
    assert off.decode_bound == "pcie" and off.decode_tokens_per_s < on.decode_tokens_per_s


def test_concurrency_raises_throughput() -> None:
    """Batched decode reads the weights once for every sequence: throughput grows with concurrency."""
    spec = llmcalc.load_model("llama-3-8b").spec
    one = speed_for(spec, fmt="bf16", gpu=get_gpu("h100"), engine="vllm")
    many = speed_for(spec, fmt="bf16", gpu=get_gpu("h100"), engine="vllm", concurrency=64)
    assert many.throughput_tokens_per_s > 10 * one.throughput_tokens_per_s


@pytest.mark.parametrize(("fmt", "cls"), [("bf16", "float"), ("gguf-f16", "float"), ("q8_0", "int8"),
                                          ("q4_0", "legacy"), ("q4_k_m", "kquant"), ("iq4_xs", "iquant"),
                                          ("16bpw", "float"), ("awq-4bit-g128", "other")])
def test_format_classes(fmt: str, cls: str) -> None:
    """Each weight format maps to the class its dequantisation factor is fitted for."""
    assert format_class(fmt) == cls


def test_every_profile_cites_what_it_was_fitted_on() -> None:
    """Every engine/backend profile says what it was fitted on (or that it was not)."""
    for p in load_constants().profiles.values():
        assert p.fitted_on and 0 < p.bw_efficiency <= 1


USER_GPU = """\
gpus:
  my-card:
    name: My Card
    vendor: amd
    memory_gib: 24
    memory_bandwidth_gb_s: 960
    bf16_dense_tflops: 120
"""


def test_cli_json_for_a_user_gpu_file(tmp_path: Path) -> None:
    """`llmcalc speed --gpus-file` works for a device given only as a user entry, with --backend."""
    path = tmp_path / "g.yaml"
    path.write_text(USER_GPU)
    r = CliRunner().invoke(cli, ["speed", "llama-3-8b", "--quant", "q4_k_m", "--gpu", "my-card", "--gpus-file",
                                 str(path), "--backend", "vulkan", "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["inputs"]["backend"] == "vulkan" and data["bound"] == "memory"
    for key in ("decode_tokens_per_s", "prefill_tokens_per_s", "ttft_s", "tpot_s"):
        assert data[key] > 0


def test_cli_gpu_without_bandwidth_is_an_error(tmp_path: Path) -> None:
    """An entry without bandwidth gives one Error line naming the missing figure."""
    path = tmp_path / "g.yaml"
    path.write_text("gpus:\n  tiny:\n    name: Tiny\n    memory_gb: 8\n")
    r = CliRunner().invoke(cli, ["speed", "llama-3-8b", "--gpu", "tiny", "--gpus-file", str(path)])
    assert r.exit_code == 1 and "has no memory_bandwidth_gb_s" in r.output


def test_cli_table_labels_estimates() -> None:
    """The table shows decode, prefill, TTFT, TPOT and says they are estimates."""
    r = CliRunner().invoke(cli, ["speed", "llama-3-8b", "--gpu", "m2-ultra-76c", "--width", "160"])
    assert r.exit_code == 0, r.output
    for text in ("Decode tokens/s", "Prefill tokens/s", "Time to first token", "Time per output token",
                 "(estimate)", "llama.cpp/metal"):
        assert text in r.output


def test_calibration_rows_cite_their_source() -> None:
    """Every calibration row names its source and table row, and its GPU and model are known."""
    rows = json.loads((ROOT / "llmcalc" / "data" / "speed_measurements.json").read_text())["rows"]
    assert len(rows) >= 156
    for row in rows:
        assert row["source"] and row["locator"]
        get_gpu(row["gpu"])


def test_concurrency_is_capped_by_the_kv_cache() -> None:
    """Asking for more sequences than fit caps the concurrency at llmcalc.fit.max_batch and says so."""
    spec = llmcalc.load_model("llama-3.1-70b").spec
    est = speed_for(spec, fmt="bf16", gpu=get_gpu("h100"), num_gpus=2, engine="vllm", concurrency=512,
                    prompt_tokens=4096)
    assert est.decode_bound == "kv-cache" and 1 <= est.concurrency < 512
    assert any("fit in memory" in n for n in est.notes)


def test_sweep_memory_and_speed_agree() -> None:
    """The sweep's Speed column equals speed_for's decode at the same context, batch, GPU set and engine."""
    from llmcalc.sweep import Grid, sweep

    spec = llmcalc.load_model("mixtral").spec
    grid = Grid(models=("mixtral",), formats=("q4_k_m", "bf16"), contexts=(4096,), batches=(1, 8),
                gpus=(("h100", 1), ("rtx-4090", 2)))
    for p in sweep(grid):
        est = speed_for(spec, fmt=p.format, gpu=get_gpu(p.gpu), num_gpus=p.num_gpus, engine=p.engine,
                        context_tokens=p.context_tokens, prompt_tokens=0, gen_tokens=1,
                        concurrency=p.batch_size, kv_limit=False)
        assert p.decode_tokens_per_s == pytest.approx(est.decode_tokens_per_s, rel=1e-6), p


def test_memory_shows_speed_and_quality_rows() -> None:
    """`memory --gpu` has a Speed row and a published-quality row."""
    r = CliRunner().invoke(cli, ["memory", "llama-3-8b", "--quant", "q4_k_m", "--gpu", "rtx4090", "--width", "160"])
    assert r.exit_code == 0, r.output
    assert "Speed, decode tok/s" in r.output and "KLD 0.0313" in r.output


def test_offload_bandwidth_is_the_callers() -> None:
    """Offloaded bytes are read at the bandwidth given (system RAM for llama.cpp CPU layers): 4 GB at 50 GB/s."""
    spec = llmcalc.load_model("llama-3-8b").spec
    est = speed_for(spec, fmt="q4_k_m", gpu=get_gpu("rtx4090"), offloaded_bytes=4 * 10**9,
                    offload_bandwidth_bytes_s=50 * 10**9)
    assert est.decode_pcie_s == pytest.approx(4e9 / 50e9) and est.decode_bound == "pcie"


def test_calibration_meets_its_targets_on_held_out_gpus() -> None:
    """On GPUs the fit never saw, decode is within 25% for >= 80% of rows and prefill within 35% for >= 70%."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("speed_calibration", ROOT / "benchmarks" / "speed_calibration.py")
    assert spec is not None and spec.loader is not None
    calib = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(calib)
    rows = [r for r in calib.load_rows() if not r.get("superseded")]
    test_gpus = calib.held_out(rows)
    cache, constants = calib.Cache(), load_constants()
    for metric, band, share in (("decode", 0.25, 0.80), ("prefill", 0.35, 0.70)):
        sel = [r for r in rows if r["gpu"] in test_gpus and r["metric"] == metric]
        errs = calib.errors(sel, constants, cache)
        assert len(errs) >= 25
        assert sum(abs(e) <= band for e in errs) / len(errs) >= share, metric
