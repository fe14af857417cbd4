"""Reading config files: safe YAML only, errors that name the file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmcalc import ConfigError
from llmcalc.importers.files import read_json, read_yaml


def test_yaml_python_tags_are_refused(tmp_path: Path) -> None:
    """The safe loader refuses tags that would build Python objects."""
    path = tmp_path / "evil.yaml"
    path.write_text("model_type: !!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(ConfigError, match=f"{path}: invalid YAML at line 1"):
        read_yaml(path)


def test_not_utf8_names_the_file(tmp_path: Path) -> None:
    """A file that is not UTF-8 says so, with its name."""
    path = tmp_path / "config.json"
    path.write_bytes(b'{"a": "\xff"}')
    with pytest.raises(ConfigError, match=f"{path}: not UTF-8 text"):
        read_json(path)


def test_folder_is_not_a_file(tmp_path: Path) -> None:
    """A folder given where a file is expected is named."""
    with pytest.raises(ConfigError, match="is a folder, expected a file"):
        read_json(tmp_path)
