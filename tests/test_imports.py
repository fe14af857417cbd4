"""The library imports neither click nor rich; the CLI is only a shell over it."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT


def test_import_llmcalc_skips_click_and_rich() -> None:
    """`import llmcalc` (and counting a preset) pulls in neither click nor rich."""
    code = (
        "import sys, llmcalc; c = llmcalc.count_params(llmcalc.load_model('mixtral').spec); "
        "bad = [m for m in ('click', 'rich') if m in sys.modules]; "
        "print(c.total_params); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "46702792704"


def test_resolving_one_preset_reads_one_preset_file() -> None:
    """Loading a preset by alias parses one YAML file, not the whole folder."""
    code = (
        "import os, llmcalc.importers.presets as p\n"
        "seen = []\n"
        "orig = p.load_preset_file\n"
        "p.load_preset_file = lambda path: (seen.append(os.path.basename(path)), orig(path))[1]\n"
        "p.load_preset('mixtral')\n"
        "print(seen)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['mixtral-8x7b.yaml']"
