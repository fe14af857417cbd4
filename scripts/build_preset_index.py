"""Rewrite presets/index.json (every preset name and alias -> preset) and presets/parsed.json (every
preset file's parsed YAML, read by ``llmcalc params`` / ``llmcalc presets`` instead of the YAML files
that are unchanged since; see :mod:`llmcalc.importers.parsed_presets`) from the preset files.

Run after adding, renaming or editing a preset: ``python scripts/build_preset_index.py``. The test
suite fails while either committed file is out of date.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from llmcalc.importers.parsed_presets import PARSED_FILE, build_parsed  # noqa: E402
from llmcalc.importers.presets import INDEX_FILE, build_index  # noqa: E402


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)  # never leave a half-written file


def main() -> None:
    directory = ROOT / "presets"
    index = build_index(directory)
    _write(directory / INDEX_FILE, json.dumps(index, indent=1, sort_keys=True) + "\n")
    print(f"wrote {directory / INDEX_FILE}: {len(index['aliases'])} names")
    parsed = build_parsed(directory)
    # compact, and in the YAML's key order (which the presets' variants keep)
    _write(directory / PARSED_FILE, json.dumps(parsed, separators=(",", ":")) + "\n")
    print(f"wrote {directory / PARSED_FILE}: {len(parsed['files'])} files")


if __name__ == "__main__":
    main()
