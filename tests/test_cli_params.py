"""`llmcalc params` and `llmcalc presets`: output, JSON, and one-line errors with no traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from llmcalc.cli import COMMANDS, cli
from tests.conftest import ROOT
from tests.test_params import TINY_LLAMA


def _run(runner: CliRunner, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_params_mixtral_table(runner: CliRunner) -> None:
    """The headline: 46,702,792,704 (46.7B) total, 12,879,925,248 (12.9B) active, experts explained."""
    code, out, _ = _run(runner, "params", "mixtral", "--width", "120")
    assert code == 0
    assert "Mixtral 8x7B: 46.7B parameters, 12.9B active per token" in out
    assert "46,702,792,704" in out and "12,879,925,248" in out
    assert "Only the routed experts are replicated: 8 experts x 32 MoE layers" in out


def test_params_json_keys(runner: CliRunner) -> None:
    """--json carries the documented keys with exact integers."""
    code, out, _ = _run(runner, "params", "mixtral", "--json")
    assert code == 0
    data = json.loads(out)
    for key in ("total_params", "active_params", "active_params_excluding_embedding", "embedding_params",
                "positional_params", "components"):
        assert key in data
    assert data["total_params"] == 46_702_792_704
    assert data["active_params"] == 12_879_925_248
    assert sum(c["params"] for c in data["components"]) == data["total_params"]


def test_params_config_json_and_folder(runner: CliRunner, tmp_path: Path) -> None:
    """A config.json path and a folder holding one give the same count."""
    folder = tmp_path / "tiny"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(TINY_LLAMA))
    for target in (str(folder / "config.json"), str(folder)):
        code, out, _ = _run(runner, "params", target, "--json")
        assert code == 0
        assert json.loads(out)["total_params"] == 1352


def test_params_compare_all_sorted(runner: CliRunner) -> None:
    """No MODEL compares every preset; --sort total puts the largest first."""
    code, out, _ = _run(runner, "params", "--json", "--sort", "total")
    assert code == 0
    rows = json.loads(out)["models"]
    totals = [r["total_params"] for r in rows]
    assert totals == sorted(totals, reverse=True) and len(rows) >= 40


def test_presets_lists_aliases(runner: CliRunner) -> None:
    """`llmcalc presets` lists names, families and aliases."""
    code, out, _ = _run(runner, "presets", "--json")
    assert code == 0
    mixtral = next(p for p in json.loads(out)["presets"] if p["name"] == "mixtral-8x7b")
    assert "mixtral" in mixtral["aliases"] and mixtral["active_params"] == 12_879_925_248


def test_user_preset_folder(runner: CliRunner, tmp_path: Path) -> None:
    """A preset in --presets-dir (or LLMCALC_PRESETS) is found by name and alias."""
    text = (ROOT / "presets" / "mixtral-8x7b.yaml").read_text()
    text = text.replace("name: mixtral-8x7b", "name: my-model").replace(
        "aliases: [mixtral, mixtral-8x7b-v0.1, mixtral-8x7b-base]", "aliases: [mine]")
    (tmp_path / "my-model.yaml").write_text(text)
    code, out, _ = _run(runner, "params", "mine", "--presets-dir", str(tmp_path), "--json")
    assert code == 0 and json.loads(out)["total_params"] == 46_702_792_704
    result = runner.invoke(cli, ["params", "my-model", "--json"], env={"LLMCALC_PRESETS": str(tmp_path)})
    assert result.exit_code == 0


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("unknown", "Error: unknown model 'mixtrl'; did you mean mixtral"),
        ("bad-json", "invalid JSON at line 2, column 1"),
        ("bad-yaml", "invalid YAML at line 2"),
        ("heads", "num_attention_heads (2) must be a multiple of num_key_value_heads (3)"),
        ("negative", "field 'hidden_size' must be positive, got -8"),
        ("missing-file", "no such file"),
    ],
    ids=lambda v: v,
)
def test_bad_input_one_error_line(runner: CliRunner, tmp_path: Path, setup: str, message: str) -> None:
    """Bad input: one `Error:` line on stderr naming the problem, exit 1, no traceback."""
    target = "mixtrl"
    if setup == "bad-json":
        target = str(tmp_path / "config.json")
        Path(target).write_text('{"model_type": "llama",\n}')
    elif setup == "bad-yaml":
        target = str(tmp_path / "m.yaml")
        Path(target).write_text("model_type: llama\n  hidden_size: [8\n")
    elif setup in ("heads", "negative"):
        target = str(tmp_path / "config.json")
        change = {"num_key_value_heads": 3} if setup == "heads" else {"hidden_size": -8}
        Path(target).write_text(json.dumps({**TINY_LLAMA, **change}))
    elif setup == "missing-file":
        target = str(tmp_path / "nope" / "config.json")
    code, out, err = _run(runner, "params", target)
    assert code == 1
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ")
    assert message in lines[0]
    assert "Traceback" not in err
    if setup in ("bad-json", "heads", "negative"):
        assert target in lines[0]


def test_unknown_model_type_warns(runner: CliRunner, tmp_path: Path) -> None:
    """A config of an unknown model_type is counted, with a warning naming the assumptions."""
    path = tmp_path / "config.json"
    path.write_text(json.dumps({**TINY_LLAMA, "model_type": "mystery"}))
    code, out, err = _run(runner, "params", str(path), "--json")
    assert code == 0 and json.loads(out)["total_params"] == 1352
    assert err.startswith("Warning: model_type 'mystery' is not one llmcalc knows")


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_has_help_and_is_documented(runner: CliRunner, command: str) -> None:
    """Each command answers --help and README mentions `llmcalc COMMAND`."""
    result = runner.invoke(cli, [command, "--help"])
    assert result.exit_code == 0 and "Usage:" in result.stdout
    assert f"llmcalc {command}" in (ROOT / "README.md").read_text()


def test_rumour_preset_explains_the_overcount(runner: CliRunner) -> None:
    """gpt-4-rumored is labelled a rumour and shows why 8 x 220B = 1.76T overstates the total."""
    code, out, _ = _run(runner, "params", "gpt-4-rumored", "--width", "200")
    assert code == 0
    assert "RUMOUR, not a published architecture: the rumoured total is 1.76T" in out
    assert "8 x 220B = 1.76T would count the shared parts 8 times. The total is 1.23T." in out
