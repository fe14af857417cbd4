"""Answers that never mislead, input that forgives (issue 13 sections 2 and 3): regression tests at the CLI."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from click.testing import CliRunner

from llmcalc.cli import cli
from llmcalc.fit import gpus_needed
from llmcalc.gpus import get_gpu
from llmcalc.loading import load_model
from llmcalc.memory import engine_settings, estimate_memory
from llmcalc.quant import all_formats, get_format, weights_for_format


def run(*args: str, width: int = 120) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), env={"COLUMNS": str(width)})
    return result.exit_code, result.stdout, result.stderr


def as_json(*args: str) -> Any:
    code, out, err = run(*args, "--json")
    assert code == 0, err
    return json.loads(out)


def test_gpus_needed_is_given_with_gpus_when_the_fit_fails() -> None:
    """`memory llama-3.1-70b --gpu rtx4090 --gpus 1` says how many are needed, not 'more than 64'."""
    spec = load_model("llama-3.1-70b").spec
    settings = engine_settings("hf")
    est = estimate_memory(spec, weights=weights_for_format(spec, get_format("bf16")), context_tokens=4096,
                          settings=settings)
    needed = gpus_needed(spec, est, get_gpu("rtx4090"), settings)
    assert needed is not None
    code, out, _ = run("memory", "llama-3.1-70b", "--gpu", "rtx4090", "--gpus", "1")
    assert code == 0
    row = next(line for line in out.splitlines() if "GPUs needed" in line)
    assert re.search(rf"│\s+{needed.num_gpus} \(", row) and "more than 64" not in out


def test_solver_answers_say_which_gpu_set() -> None:
    """A --max-context answer for more GPUs than the header says is marked '(on N)', and JSON says N."""
    data = as_json("memory", "mixtral", "--bpw", "6,3", "--gpu", "rtx4090", "--max-context")
    counts = [f["solver_num_gpus"] for f in data["formats"]]
    assert counts[0] > 1 and counts[1] == 1
    code, out, _ = run("memory", "mixtral", "--bpw", "6,3", "--gpu", "rtx4090", "--max-context")
    first = data["formats"][0]["max_context_tokens"]
    assert code == 0 and f"{first:,} (on {counts[0]})" in out


def test_every_preset_table_shows_the_solver_answers() -> None:
    """The every-preset table shows --max-context, --max-batch and --best-quant, not only --json."""
    from llmcalc.render.memory import all_models_table
    from llmcalc.render.table import emit
    from llmcalc.report import memory_report

    reports = [memory_report(load_model(m), bpws=["4"], gpu=get_gpu("rtx4090"), solve_context=True,
                             solve_batch=True, solve_quant=True, quality_order=("bf16", "q8_0", "q4_k_m"))
               for m in ("llama-3.1-8b", "gpt2")]
    import io

    out = io.StringIO()
    emit(all_models_table(reports, units="binary"), width=200, file=out)
    text = out.getvalue()
    assert "Max context" in text and "Max batch" in text and "Best format" in text
    for r in reports:
        f = r.formats[0]
        assert f"{f.max_context_tokens:,}" in text and r.best_quant is not None and r.best_quant.format in text


def test_sweep_marks_contexts_past_the_trained_maximum() -> None:
    """GPT-2 at 131,072 tokens is marked and warned about; uneven head splits warn as in memory."""
    code, out, err = run("sweep", "--models", "gpt2,llama-3.1-8b", "--contexts", "1024,131072", "--gpus", "3xh100",
                         width=200)
    assert code == 0
    assert "131,072*" in out and "1,024*" not in out
    assert "gpt2 was trained for 1,024 tokens; 131,072 tokens are beyond it" in err
    assert "llama-3.1-8b: 32 attention heads do not split evenly over 3 GPUs" in err
    points = as_json("sweep", "--models", "gpt2", "--contexts", "1024,131072")["points"]
    assert [p["beyond_max_context"] for p in points] == [False, True]


@pytest.mark.parametrize(("args", "message"), [
    (("memory", "llama-3.1-8b", "--quant", "q4_k_m", "--engine", "hf"), "transformers dequantizes a GGUF file"),
    (("memory", "llama-3.1-8b", "--quant", "nf4", "--engine", "llama.cpp"), "llama.cpp reads GGUF files only"),
    (("memory", "llama-3.1-8b", "--quant", "awq-4bit-g128", "--engine", "llama.cpp"), "llama.cpp reads GGUF"),
    (("memory", "llama-3.1-8b", "--quant", "gptq-4bit-g128", "--engine", "llama.cpp"), "llama.cpp reads GGUF"),
    (("memory", "llama-3.1-8b", "--kv-dtype", "q4_0", "--engine", "vllm"), "vLLM has no q4_0 KV cache"),
    (("memory", "llama-3.1-8b", "--quant", "q4_k_m", "--kv-dtype", "fp8"), "llama.cpp has no fp8 KV cache"),
    (("sweep", "--models", "gpt2", "--formats", "q4_k_m", "--engine", "hf"), "transformers dequantizes a GGUF"),
    (("context", "llama-3.1-8b", "--kv-dtype", "q4_0", "--engine", "vllm"), "vLLM has no q4_0 KV cache"),
    (("memory", "llama-3.1-8b", "--gpu", "h100", "--gpu-memory-utilization", "0.5"),
     "--gpu-memory-utilization is vLLM's share of each GPU; engine hf does not take one"),
], ids=["gguf-on-hf", "nf4-on-llamacpp", "awq-on-llamacpp", "gptq-on-llamacpp", "q4_0-kv-on-vllm",
        "fp8-kv-on-llamacpp", "sweep-gguf-on-hf", "context-q4_0-kv-on-vllm", "utilization-on-hf"])
def test_combinations_no_engine_runs_are_refused(args: tuple[str, ...], message: str) -> None:
    """What an engine does not run is one Error: line naming why (with its source), exit 1."""
    code, out, err = run(*args)
    assert code == 1 and out == ""
    assert err.startswith("Error: ") and message in err and len(err.strip().splitlines()) == 1


def test_approximate_kv_cache_warns() -> None:
    """A q8_0 KV cache on hf is priced, with a warning that transformers' caches differ."""
    code, _, err = run("memory", "llama-3.1-8b", "--kv-dtype", "q8_0")
    assert code == 0 and "Warning: transformers has no ggml q8_0 KV cache" in err


def test_gpu_memory_utilization_scales_vllm() -> None:
    """--gpu-memory-utilization is the share of the one usable figure vLLM is judged against."""
    usable = next(g for g in as_json("gpus")["gpus"] if g["name"] == "h100-sxm")["usable_memory_bytes"]
    for share in ("0.9", "0.45"):
        data = as_json("memory", "llama-3.1-8b", "--gpu", "h100", "--engine", "vllm", "--gpu-memory-utilization", share)
        assert data["formats"][0]["fit"]["usable_bytes_per_gpu"] == int(usable * float(share))


def test_quant_catalogue_shows_each_mix_on_a_reference_model() -> None:
    """Q3_K_S/M/L show what each mix gives on llama-3.1-8b, not the Q3_K block size three times."""
    from llmcalc.cli.quant_cmd import REFERENCE_MODEL

    spec = load_model(REFERENCE_MODEL).spec
    bits = {n: weights_for_format(spec, get_format(n)).bits_per_weight for n in ("q3_k_s", "q3_k_m", "q3_k_l")}
    assert len(set(bits.values())) == 3
    code, out, _ = run("quant", width=200)
    assert code == 0 and f"on {REFERENCE_MODEL}" in out
    for name, b in bits.items():
        assert f"{b:.4f}*" in next(line for line in out.splitlines() if f" {name} " in line)
    formats = {f["name"]: f for f in as_json("quant")["formats"]}
    assert formats["q3_k_m"]["reference_model"] == REFERENCE_MODEL
    assert formats["ggml-q3_k"]["reference_bits_per_weight"] is None
    assert len(formats) == len(all_formats())


def test_gpus_and_memory_agree_on_usable_memory() -> None:
    """`gpus --json` and `memory` (hf, utilization 1) use one usable figure for an H100."""
    gpu = next(g for g in as_json("gpus")["gpus"] if g["name"] == "h100-sxm")
    fit = as_json("memory", "llama-3.1-8b", "--gpu", "h100")["formats"][0]["fit"]
    assert fit["usable_bytes_per_gpu"] == gpu["usable_memory_bytes"]


@pytest.mark.parametrize(("short", "long"), [
    (("--context", "32k"), ("--context", "32768")),
    (("--context", "128K"), ("--context", "131072")),
    (("--batch", "1k"), ("--batch", "1024")),
    (("--units", "GB"), ("--units", "decimal")),
    (("--gpu", "2xh100"), ("--gpu", "h100", "--gpus", "2")),
    (("--quant", "q4_k_m,q8_0"), ("--quant", "q4_k_m", "--quant", "q8_0")),
    (("--bpw", "16,8"), ("--bpw", "16", "--bpw", "8")),
], ids=["32k", "128K", "batch-1k", "units-GB", "gpu-set", "quant-list", "bpw-repeated"])
def test_forgiving_input_means_the_same(short: tuple[str, ...], long: tuple[str, ...]) -> None:
    """Suffixes, unit names, GPU sets and lists mean what their long forms mean."""
    assert as_json("memory", "llama-3.1-8b", *short) == as_json("memory", "llama-3.1-8b", *long)


def test_repeated_quant_adds_formats() -> None:
    """A repeated --quant adds a column; it does not keep only the last."""
    data = as_json("memory", "llama-3.1-8b", "--quant", "q4_k_m", "--quant", "q8_0")
    assert data["inputs"]["weights_formats"] == ["q4_k_m", "q8_0"]


@pytest.mark.parametrize("args", [
    ("memory", "llama-3.1-8b", "--bpw", "4bit"), ("memory", "llama-3.1-8b", "--context", "32q"),
    ("context", "llama-3.1-8b", "--bpw", "4bit"), ("context", "llama-3.1-8b", "--context", "4x"),
    ("sweep", "--models", "gpt2", "--contexts", "4k,,8k"), ("memory", "llama-3.1-8b", "--gpu", "2xh100,"),
], ids=["memory-bpw", "memory-context", "context-bpw", "context-context", "sweep-empty-item", "gpu-trailing-comma"])
def test_bad_values_of_one_kind_exit_the_same_way(args: tuple[str, ...]) -> None:
    """A malformed number or list is click's usage error (exit 2) in every command."""
    code, _, err = run(*args)
    assert code == 2 and "Error: Invalid value" in err


def test_shell_completion_offers_presets_gpus_and_formats() -> None:
    """click's completion offers preset names and aliases, GPU names after Nx, and format names after commas."""
    import click

    from llmcalc.cli.options import complete_formats, complete_gpus, complete_models

    ctx = click.Context(cli)
    param = click.Option(["--x"])
    assert "mixtral-8x7b" in [c.value for c in complete_models(ctx, param, "mixt")]
    assert "llama3" in [c.value for c in complete_models(ctx, param, "llama3")]
    assert "2xh100-sxm" in [c.value for c in complete_gpus(ctx, param, "2xh100")]
    assert "q4_k_m,q8_0" in [c.value for c in complete_formats(ctx, param, "q4_k_m,q8")]


def test_gguf_file_on_hf_is_refused(tmp_path: Any) -> None:
    """A .gguf file's own weights on --engine hf are refused as a GGUF format is (llama.cpp by default works)."""
    from tests.helpers_files import write_gguf

    path = write_gguf(tmp_path / "tiny-llama-Q4_K_M.gguf")
    code, out, err = run("memory", str(path), "--engine", "hf")
    assert code == 1 and "transformers dequantizes a GGUF file" in err
    assert run("memory", str(path))[0] == 0
