"""presets/parsed.json: current, read only where it matches the YAML bytes, and never different from the YAML."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from llmcalc.errors import ConfigError
from llmcalc.importers.files import load_yaml, read_text
from llmcalc.importers.parsed_presets import (
    PARSED_FILE,
    build_parsed,
    file_key,
    preset_data,
    read_parsed,
    same_data,
)
from llmcalc.importers.presets import builtin_dir, load_all_presets, load_preset_file

ROOT = Path(__file__).resolve().parents[1]
PRESETS_DIR = ROOT / "presets"


def test_parsed_file_is_current() -> None:
    """The committed presets/parsed.json is what build_parsed writes (rerun scripts/build_preset_index.py)."""
    committed = json.loads((PRESETS_DIR / PARSED_FILE).read_text(encoding="utf-8"))
    assert same_data(committed, build_parsed(PRESETS_DIR)), "stale: run python scripts/build_preset_index.py"


def test_listing_equals_reading_each_yaml(monkeypatch: pytest.MonkeyPatch) -> None:
    """load_all_presets (through parsed.json) gives the very presets that parsing each YAML file gives."""
    monkeypatch.delenv("LLMCALC_PRESETS", raising=False)
    listed = load_all_presets()
    assert listed == [load_preset_file(p.path) for p in listed]
    assert len(listed) == len(list(PRESETS_DIR.glob("*.yaml")))


def test_every_builtin_entry_is_used() -> None:
    """Every built-in file matches its entry, so no preset is parsed from YAML when listing."""
    parsed = read_parsed(builtin_dir())
    for path in sorted(PRESETS_DIR.glob("*.yaml")):
        entry = parsed.get(path.name, {})
        assert entry.get("key") == file_key(path.read_bytes()), f"{path.name}: run python scripts/build_preset_index.py"


def _folder(tmp_path: Path) -> Path:
    """A presets folder of two files and their parsed.json."""
    (tmp_path / "a.yaml").write_text("name: a\nvalue: 1\n", encoding="utf-8")
    (tmp_path / "b.yaml").write_text("name: b\nvalue: 2\n", encoding="utf-8")
    (tmp_path / PARSED_FILE).write_text(json.dumps(build_parsed(tmp_path)), encoding="utf-8")
    return tmp_path


def test_entry_used_when_bytes_match(tmp_path: Path) -> None:
    """An entry built from the file's bytes is what is read (its data, not the YAML's)."""
    folder = _folder(tmp_path)
    artifact = json.loads((folder / PARSED_FILE).read_text(encoding="utf-8"))
    artifact["files"]["a.yaml"]["data"] = {"name": "a", "value": "from the artifact"}
    (folder / PARSED_FILE).write_text(json.dumps(artifact), encoding="utf-8")
    assert preset_data(str(folder / "a.yaml"), read_parsed(str(folder)))["value"] == "from the artifact"


@pytest.mark.parametrize("change", ["edit", "new file", "no artifact", "corrupt artifact", "not an object"])
def test_yaml_read_where_artifact_is_stale(tmp_path: Path, change: str) -> None:
    """An edited or new file, or a missing or unreadable parsed.json, is read from its YAML."""
    folder = _folder(tmp_path)
    target = folder / "a.yaml"
    if change == "edit":
        target.write_text("name: a\nvalue: 10\n", encoding="utf-8")
    elif change == "new file":
        target = folder / "c.yaml"
        target.write_text("name: c\nvalue: 10\n", encoding="utf-8")
    elif change == "no artifact":
        (folder / PARSED_FILE).unlink()
        target.write_text("name: a\nvalue: 10\n", encoding="utf-8")
    elif change == "corrupt artifact":
        (folder / PARSED_FILE).write_text('{"files": {', encoding="utf-8")
        target.write_text("name: a\nvalue: 10\n", encoding="utf-8")
    else:
        (folder / PARSED_FILE).write_text("[1, 2]", encoding="utf-8")
        target.write_text("name: a\nvalue: 10\n", encoding="utf-8")
    assert preset_data(str(target), read_parsed(str(folder)))["value"] == 10


def test_stale_builtin_copy_lists_the_edit(tmp_path: Path) -> None:
    """A copied presets folder with one preset edited after the build reads the edit from its YAML."""
    folder = tmp_path / "presets"
    shutil.copytree(PRESETS_DIR, folder)
    path = folder / "mixtral-8x7b.yaml"
    text = path.read_text(encoding="utf-8")
    assert "display_name: Mixtral 8x7B\n" in text
    path.write_text(text.replace("display_name: Mixtral 8x7B\n", "display_name: Edited\n"), encoding="utf-8")
    data = preset_data(str(path), read_parsed(str(folder)))
    assert data["display_name"] == "Edited"
    assert same_data(data, load_yaml(read_text(path), source=str(path)))


@pytest.mark.parametrize("text", ["name: a\nreleased: 2024-01-01\n", "name: a\nconfig: {1: x}\n"])
def test_build_refuses_what_json_cannot_hold(tmp_path: Path, text: str) -> None:
    """A date or a non-string key would read back differently from JSON: building refuses it."""
    (tmp_path / "a.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match="a.yaml"):
        build_parsed(tmp_path)


@pytest.mark.parametrize(("a", "b", "same"), [
    ({"x": 1, "y": [1.5, None]}, {"x": 1, "y": [1.5, None]}, True),
    ({"x": True}, {"x": 1}, False),
    ({"x": 1.0}, {"x": 1}, False),
    ({"x": 1, "y": 2}, {"y": 2, "x": 1}, False),
    ([1, 2], [1, 2, 3], False),
])
def test_same_data_is_strict(a: object, b: object, same: bool) -> None:
    """same_data tells apart what == does not: bool from int, float from int, key order."""
    assert same_data(a, b) is same
