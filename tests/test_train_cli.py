"""`llmcalc train`: JSON keys the checks call, exit codes, one-line errors, the grid and the solvers."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from llmcalc.cli import cli

KEYS = ("trainable_params", "weight_bytes", "gradient_bytes", "optimizer_bytes", "activation_bytes", "total_bytes",
        "forward_flops_per_token", "training_flops_per_token")


def _json(runner: CliRunner, *args: str) -> dict[str, object]:
    result = runner.invoke(cli, ["train", *args, "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert isinstance(doc, dict)
    return doc


def test_json_keys_and_peft_figure(runner: CliRunner) -> None:
    """--json has the keys the issue names; Llama-2-7B r=8 q_proj,v_proj trains 4,194,304 parameters."""
    doc = _json(runner, "llama-2-7b", "--method", "lora", "--rank", "8", "--targets", "q_proj,v_proj")
    assert set(KEYS) <= set(doc)
    assert doc["trainable_params"] == 4194304
    assert all(isinstance(doc[k], int) for k in KEYS)


def test_every_flag_the_issue_names(runner: CliRunner) -> None:
    """All the named flags parse together and give a per-GPU total on 8 x H100."""
    doc = _json(runner, "mixtral-8x7b", "--method", "qlora", "--rank", "16", "--alpha", "32", "--targets",
                "attention", "--dora", "--modules-to-save", "lm_head", "--optimizer", "adamw", "--precision",
                "bf16-mixed", "--zero", "3", "--gpu", "8xh100", "--tp", "2", "--pp", "1", "--cp", "1", "--ep", "2",
                "--micro-batch", "2", "--seq", "4k", "--attention", "flash", "--recompute", "selective",
                "--tokens", "1T", "--mfu", "0.4")
    assert doc["gpus"] == 8 and doc["fits"] in (True, False)
    assert doc["compute"]["tokens"] == 10**12  # type: ignore[index]
    assert doc["total_bytes"] == (doc["weight_bytes"] + doc["gradient_bytes"] + doc["master_weight_bytes"]  # type: ignore[operator]
                                  + doc["optimizer_bytes"] + doc["activation_bytes"] + doc["recompute_peak_bytes"])


def test_table(runner: CliRunner) -> None:
    """The table names each part per GPU and the fit."""
    result = runner.invoke(cli, ["train", "llama-3.1-8b", "--method", "qlora", "--rank", "16", "--targets",
                                 "all-linear", "--gpu", "rtx-4090", "--recompute", "full", "--width", "160"])
    assert result.exit_code == 0, result.output
    for text in ("Trainable parameters", "41,943,040", "Weights (exact)", "Optimizer states (exact)",
                 "Activations (estimate)", "GPU memory (fits)", "6N + 12Lhs"):
        assert text in result.stdout


def test_grid(runner: CliRunner) -> None:
    """--grid gives one plan per combination."""
    doc = _json(runner, "gpt2", "--grid", "micro_batch=1,2", "--grid", "zero=0,3", "--gpu", "2xh100")
    plans = doc["plans"]
    assert isinstance(plans, list) and len(plans) == 4
    assert [(p["settings"]["micro_batch"], p["settings"]["zero"]) for p in plans] == [(1, 0), (1, 3), (2, 0), (2, 3)]


def test_solvers(runner: CliRunner) -> None:
    """--solve finds the largest micro-batch, and more micro-batch does not fit."""
    doc = _json(runner, "llama-3.1-8b", "--gpu", "h100", "--method", "lora", "--seq", "4096", "--solve", "micro-batch",
                "--solve", "recompute", "--solve", "gpus", "--solve", "seq")
    solved = doc["solved"]
    assert isinstance(solved, dict)
    best = solved["largest_micro_batch"]
    assert best >= 1
    bigger = _json(runner, "llama-3.1-8b", "--gpu", "h100", "--method", "lora", "--seq", "4096", "--micro-batch",
                   str(best + 1))
    assert bigger["fits"] is False
    assert solved["cheapest_recompute"] == "none" and solved["fewest_gpus"] == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [(["gpt2", "--method", "lora", "--targets", "q_proj"], "Error: --targets q_proj: no module of gpt2 matches"),
     (["gpt2", "--grid", "colour=red"], "Error: --grid colour: not a training setting"),
     (["gpt2", "--gpu", "3xh100", "--tp", "2"], "Error: 3 GPUs do not divide into tp x pp x cp = 2")],
    ids=["targets", "grid", "tp"],
)
def test_errors(runner: CliRunner, args: list[str], message: str) -> None:
    """Domain errors are one line on stderr and exit 1, no traceback."""
    result = runner.invoke(cli, ["train", *args])
    assert result.exit_code == 1
    assert message in result.stderr and "Traceback" not in result.stderr


def test_bad_flag_is_usage_error(runner: CliRunner) -> None:
    """A value outside a choice is click's usage error, exit 2."""
    result = runner.invoke(cli, ["train", "gpt2", "--zero", "4"])
    assert result.exit_code == 2


def test_peft_moe_conversion_refuses_dora(runner: CliRunner) -> None:
    """Mixtral all-linear reaches the fused experts (PEFT 0.21's MoE conversion), where DoRA is refused."""
    result = runner.invoke(cli, ["train", "mixtral-8x7b", "--method", "lora", "--targets", "all-linear", "--dora"])
    assert result.exit_code == 1
    assert "does not support DoRA" in result.stderr
