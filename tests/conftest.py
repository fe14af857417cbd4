"""Shared fixtures: where the shared reference material is, and a CLI runner."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

# No test may reach the real Hugging Face Hub: an org/name missing from a test's cache stays offline.
# (tests/test_hub.py runs the CLI in subprocesses against a local server with its own environment.)
os.environ["HF_HUB_OFFLINE"] = "1"

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT.parent / "shared" / "reference"


@pytest.fixture
def reference_dir() -> Path:
    """../shared/reference beside the clone (CI has it); skip where it is absent."""
    if not (REFERENCE / "configs-params.json").is_file():
        pytest.skip(f"shared reference material not found at {REFERENCE} (present in CI, beside the clone)")
    return REFERENCE


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()
