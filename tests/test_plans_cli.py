"""``llmcalc memory`` plan flags: the plan table, the emitted command, JSON, and bad input."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from llmcalc.cli import cli


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["memory", *args, "--width", "120"])
    return result.exit_code, result.stdout, result.stderr


def test_offload_plan_table_and_command() -> None:
    """--offload --emit llama.cpp: a per-device table, system RAM, and the llama-server line."""
    code, out, _ = _run("qwen3-30b-a3b", "--quant", "Q4_K_M", "--context", "32k", "--gpu", "rtx-3060",
                        "--offload", "--emit", "llama.cpp")
    assert code == 0
    assert "Plan on llama.cpp (fits)" in out and "system RAM" in out
    assert "Command:\n  llama-server -m Qwen3-30B-A3B-Q4_K_M.gguf -c 32768 -ngl 49 \\\n    --n-cpu-moe" in out


def test_json_carries_the_plan_settings() -> None:
    """--json has plan_settings, the plan's devices and the same command."""
    code, out, _ = _run("qwen3-30b-a3b", "--quant", "Q4_K_M", "--context", "32k", "--gpu", "rtx-3060",
                        "--offload", "--emit", "llama.cpp", "--json")
    assert code == 0
    data = json.loads(out)
    settings = data["plan_settings"]
    assert data["command"].endswith(f"-ngl {settings['n_gpu_layers']} --n-cpu-moe {settings['n_cpu_moe']}")
    assert [d["device"] for d in data["plan"]["devices"]] == ["rtx-3060 #0"]
    assert data["activation_bytes_low"] <= data["activation_bytes"] < data["activation_bytes_high"]


def test_mixed_gpus_plan() -> None:
    """--gpu rtx4090,rtx3090 on llama.cpp: one row per device and -ts by free memory."""
    code, out, _ = _run("llama-3.1-70b", "--quant", "Q4_K_M", "--context", "8k", "--gpu", "rtx4090,rtx3090",
                        "--emit", "llama.cpp")
    assert code == 0
    assert "rtx-4090 #0" in out and "rtx-3090 #1" in out and " -ts " in out


def test_vllm_mixed_set_says_identical() -> None:
    """vLLM on a mixed set: the note that tensor parallelism needs identical GPUs."""
    code, out, _ = _run("llama-3.1-8b", "--context", "8k", "--gpu", "rtx4090,rtx3090", "--emit", "vllm")
    assert code == 0
    assert "needs identical GPUs" in out and "vllm serve meta-llama/Llama-3.1-8B" in out


def test_command_lines_break_between_flags() -> None:
    """A long command is broken between flags with shell continuations, a flag kept with its value."""
    from llmcalc.render.memory import shell_lines

    text = shell_lines("vllm serve org/name --max-model-len 32768 --gpu-memory-utilization 0.92 "
                       "--tensor-parallel-size 4 --kv-cache-memory-bytes 2684354560", width=60)
    assert text == ("vllm serve org/name --max-model-len 32768 \\\n"
                    "    --gpu-memory-utilization 0.92 --tensor-parallel-size 4 \\\n"
                    "    --kv-cache-memory-bytes 2684354560")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("llama-3.1-8b", "--gpu", "rtx4090", "--cpu-moe", "--engine", "llama.cpp"), "has no experts"),
        (("llama-3.1-8b", "--gpu", "rtx4090", "--offload"), "for --engine llama.cpp or vllm"),
        (("llama-3.1-8b", "--offload", "--engine", "llama.cpp"), "needs --gpu"),
        (("mixtral", "--gpu", "rtx4090", "--mtp", "--engine", "vllm"), "no multi-token-prediction heads"),
    ],
    ids=["experts-on-dense", "hf-plan", "no-gpu", "no-mtp"],
)
def test_plan_errors(args: tuple[str, ...], message: str) -> None:
    """Plan flags that cannot apply give one Error line and exit 1."""
    code, _, err = _run(*args)
    assert code == 1 and message in err


def test_conflicting_flags_are_usage_errors() -> None:
    """--n-cpu-moe with --cpu-moe, or --lora-rank alone, exit 2."""
    assert _run("mixtral", "--gpu", "rtx4090", "--n-cpu-moe", "3", "--cpu-moe")[0] == 2
    assert _run("mixtral", "--gpu", "rtx4090", "--lora-rank", "8", "--engine", "vllm")[0] == 2


@pytest.mark.parametrize(("backend", "block"), [("flashmla", 64), ("cutlass_mla", 128)])
def test_mla_backend_flag(backend: str, block: int) -> None:
    """--mla-backend sets vLLM's MLA KV block (FlashMLA 64, CUTLASS MLA 128 tokens)."""
    code, out, _ = _run("deepseek-v3", "--engine", "vllm", "--context", "60", "--mla-backend", backend, "--json")
    assert code == 0
    assert json.loads(out)["kv_cache_bytes"] == 61 * 576 * 2 * block
