"""The wheel a regular `pip install .` builds ships the presets and the GPU catalogue inside the package."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT


def test_wheel_contains_presets_and_gpu_catalogue(tmp_path: Path) -> None:
    """Built without network (no build isolation): every preset, the index and gpus.yaml are in llmcalc/."""
    setuptools = pytest.importorskip("setuptools", reason="building the wheel needs setuptools")
    major, minor = (int(part) for part in setuptools.__version__.split(".")[:2])
    if (major, minor) < (70, 1):
        pytest.skip(f"setuptools {setuptools.__version__} has no built-in bdist_wheel; pip install '.[test]'")
    # A clean copy: a stale build/ folder in the checkout would otherwise leak into the wheel.
    source = tmp_path / "src"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", ".ci-venv", "build", "dist", "*.egg-info", "__pycache__", ".*_cache"))
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp_path)],
        capture_output=True, text=True, cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    wheel = next(tmp_path.glob("llmcalc_cli-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    presets = {p.name for p in (ROOT / "presets").glob("*.yaml")}
    assert {f"llmcalc/presets/{n}" for n in presets} <= names
    assert "llmcalc/presets/index.json" in names
    assert "llmcalc/presets/parsed.json" in names
    assert "llmcalc/data/gpus.yaml" in names
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "llmcalc").rglob("*.py")}
    assert modules - names == set(), "subpackages missing from [tool.setuptools] packages in pyproject.toml"
    data = {p.relative_to(ROOT).as_posix() for p in (ROOT / "llmcalc" / "data").iterdir() if p.is_file()}
    assert data - names == set(), "data files missing from package-data in pyproject.toml"
    assert any(n.endswith("entry_points.txt") for n in names)
