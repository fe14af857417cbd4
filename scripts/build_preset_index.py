"""Rewrite presets/index.json (every preset name and alias -> preset) from the preset files.

Run after adding or renaming a preset: ``python scripts/build_preset_index.py``. The test suite
fails while the committed index is out of date.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from llmcalc.importers.presets import INDEX_FILE, build_index  # noqa: E402


def main() -> None:
    directory = ROOT / "presets"
    index = build_index(directory)
    text = json.dumps(index, indent=1, sort_keys=True) + "\n"
    tmp = directory / (INDEX_FILE + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(directory / INDEX_FILE)  # never leave a half-written index
    print(f"wrote {directory / INDEX_FILE}: {len(index['aliases'])} names")


if __name__ == "__main__":
    main()
