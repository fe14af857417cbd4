"""Names as people type them, and messages that say what happened (issue 13 section 3)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from llmcalc.cli import cli

TINY = {"model_type": "llama", "vocab_size": 32000, "hidden_size": 64, "num_hidden_layers": 2,
        "num_attention_heads": 4, "intermediate_size": 128}


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def test_hub_style_name_resolves_to_its_preset_and_says_so() -> None:
    """`llama-3.1-70B-Instruct` counts the llama-3.1-70b preset, with a warning naming it."""
    code, out, err = run("params", "llama-3.1-70B-Instruct", "--json")
    assert code == 0 and json.loads(out)["model"] == "llama-3.1-70b"
    assert "using preset 'llama-3.1-70b'" in err


def test_repo_id_missing_from_the_cache_uses_its_preset_offline(tmp_path: Path) -> None:
    """`meta-llama/Llama-3.1-8B`, not cached and offline, is the llama-3.1-8b preset, said on stderr."""
    env = {"HF_HUB_CACHE": str(tmp_path), "HF_HUB_OFFLINE": "1"}
    code, out, err = run("params", "meta-llama/Llama-3.1-8B", "--json", env=env)
    assert code == 0 and json.loads(out)["model"] == "llama-3.1-8b"
    assert "meta-llama/Llama-3.1-8B is not in the local Hugging Face cache; using preset 'llama-3.1-8b'" in err


def test_absent_size_lists_the_sizes_there_are() -> None:
    """A size with no preset says so and lists the family's sizes, not the nearest spelling first."""
    code, _, err = run("params", "llama-3.1-13b")
    assert code == 1
    assert "no llama-3.1 preset of 13b; there are llama-3.1-8b, llama-3.1-70b, llama-3.1-405b" in err


@pytest.mark.parametrize(("ref", "message"), [
    ("~/no-such-model", "~/no-such-model: no such file"),
    ("./no-such-folder", "./no-such-folder: no such file"),
    ("/dev/null", "/dev/null: not a model file"),
], ids=["home", "relative", "device"])
def test_paths_are_not_model_names(ref: str, message: str, tmp_path: Path) -> None:
    """A path that does not exist is 'no such file'; a device is 'not a model file'; neither is 'unknown model'."""
    if ref == "/dev/null" and not os.path.exists(ref):
        pytest.skip("no /dev/null here")
    code, _, err = run("params", ref, env={"HOME": str(tmp_path)})
    assert code == 1 and message in err and "unknown model" not in err


def test_home_path_is_expanded(tmp_path: Path) -> None:
    """`~/model` reads the folder in the home directory."""
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "config.json").write_text(json.dumps(TINY))
    code, out, _ = run("params", "~/model", "--json", env={"HOME": str(tmp_path)})
    assert code == 0 and json.loads(out)["model"] == "model"


def test_dot_folder_is_named_after_the_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`llmcalc params .` names the model after the folder, not '.' or 'config'."""
    folder = tmp_path / "my-model"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(TINY))
    monkeypatch.chdir(folder)
    for ref in (".", "config.json"):
        code, out, _ = run("params", ref, "--json")
        assert code == 0 and json.loads(out)["model"] == "my-model"


def test_hub_hint_names_hf_download_and_hf_home(tmp_path: Path) -> None:
    """Offline, a missing repo names `hf download` (not huggingface-cli, not 'safetensors headers') and HF_HOME."""
    env: dict[str, str | None] = {"HF_HOME": str(tmp_path), "HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": None}
    result = CliRunner().invoke(cli, ["params", "nosuch/Model-x"], env=env)
    err = result.stderr
    assert result.exit_code == 1
    assert "hf download nosuch/Model-x" in err and "huggingface-cli" not in err
    assert "safetensors headers" not in err and "HF_HOME" in err
