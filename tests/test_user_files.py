"""User files cannot break the tool: a bad user preset fails only when asked for, and a user's own
preset needs only a name and a config (provenance keys are for the built-in catalogue)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from llmcalc import count_params, load_model
from llmcalc.cli import cli
from llmcalc.errors import ConfigError
from llmcalc.importers.presets import scan_presets
from tests.helpers_files import TINY_LLAMA, TINY_LLAMA_PARAMS


def _write(folder: Path, name: str, data: object) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data) if not isinstance(data, str) else data)
    return path


@pytest.fixture
def user_dir(tmp_path: Path) -> Path:
    """A user presets folder with one minimal preset and one broken file."""
    _write(tmp_path, "my-tiny", {"name": "my-tiny", "aliases": ["tiny-mine"], "config": TINY_LLAMA})
    _write(tmp_path, "broken", "name: broken\nconfig: [unclosed\n")
    return tmp_path


def test_a_broken_user_preset_does_not_break_builtin_lookups(user_dir: Path) -> None:
    """`params mixtral` works beside a broken YAML file in --presets-dir."""
    result = CliRunner().invoke(cli, ["params", "mixtral", "--presets-dir", str(user_dir)])
    assert result.exit_code == 0, result.output
    assert "46,702,792,704" in result.output or "46.7B" in result.output


def test_a_broken_user_preset_fails_when_asked_for(user_dir: Path) -> None:
    """Asking for the broken preset by its file name is its own one-line error, naming the file."""
    result = CliRunner().invoke(cli, ["params", "broken", "--presets-dir", str(user_dir)])
    assert result.exit_code == 1
    assert "broken.yaml" in result.output and "invalid YAML" in result.output


def test_presets_lists_the_broken_file(user_dir: Path) -> None:
    """`llmcalc presets` leaves the broken file out of the table and names it, with its error."""
    good, bad = scan_presets([user_dir])
    assert "my-tiny" in {p.name for p in good}
    assert [Path(path).name for path, _ in bad] == ["broken.yaml"]
    result = CliRunner().invoke(cli, ["presets", "--presets-dir", str(user_dir)])
    assert result.exit_code == 0
    assert "broken preset" in result.output and "broken.yaml" in result.output


def test_minimal_user_preset_by_name_and_alias(user_dir: Path) -> None:
    """A user preset with only name, aliases and config resolves by either and counts exactly."""
    for ref in ("my-tiny", "tiny-mine"):
        loaded = load_model(ref, presets_dirs=[user_dir])
        assert count_params(loaded.spec).total_params == TINY_LLAMA_PARAMS
        assert loaded.preset is not None and loaded.preset.published is None and not loaded.preset.builtin


def test_user_preset_published_total_is_checked(tmp_path: Path) -> None:
    """A user's published total that disagrees with the count is a warning, not an error."""
    _write(tmp_path, "claimed", {"name": "claimed", "config": TINY_LLAMA,
                                 "published": {"total_params": "7B", "source": "me"}})
    loaded = load_model("claimed", presets_dirs=[tmp_path])
    assert loaded.warnings and "does not match" in loaded.warnings[0]
    result = CliRunner().invoke(cli, ["params", "claimed", "--presets-dir", str(tmp_path)])
    assert result.exit_code == 0
    assert "Warning:" in result.output and "does not match" in result.output
    _write(tmp_path, "honest", {"name": "honest", "config": TINY_LLAMA,
                                "published": {"total_params": TINY_LLAMA_PARAMS, "source": "me"}})
    assert load_model("honest", presets_dirs=[tmp_path]).warnings == ()


def test_user_preset_still_needs_name_and_config(tmp_path: Path) -> None:
    """Without a config the user preset fails with an error naming the missing key."""
    _write(tmp_path, "empty", {"name": "empty"})
    with pytest.raises(ConfigError, match="missing key 'config'"):
        load_model("empty", presets_dirs=[tmp_path])
