"""Every --json document carries schema_version and llmcalc_version, and README tables its keys (issue 13 section 7).

README's "JSON output" section has one table per document, under a heading ``### `llmcalc CMD --json` ``;
the first cell of each row names one or more keys in backticks: top-level keys, and ``list[].key``
for the keys of the objects in a top-level list. A key added to a document or removed from it
without its row fails here.
"""

from __future__ import annotations

import json
import re
from typing import Any

import click
import pytest
from click.testing import CliRunner

from llmcalc.cli import COMMANDS, cli
from llmcalc.jsonout import SCHEMA_VERSION, llmcalc_version
from tests.conftest import ROOT

#: README heading (after `llmcalc `, before ` --json`) -> the arguments that produce that document.
DOCUMENTS: dict[str, list[str]] = {
    "params MODEL": ["params", "mixtral"],
    "params": ["params"],
    "presets": ["presets"],
    "memory MODEL": ["memory", "llama-3.1-8b", "--gpu", "h100", "--max-context", "--best-quant"],
    "memory": ["memory", "--bpw", "4"],
    "quant": ["quant"],
    "quant MODEL": ["quant", "gpt2"],
    "gpus": ["gpus"],
    "context MODEL": ["context", "gpt2", "--gpu", "h100"],
    "sweep": ["sweep", "--models", "gpt2", "--formats", "bf16", "--gpus", "h100"],
    "speed MODEL": ["speed", "llama-3.1-8b", "--gpu", "h100"],
    "train MODEL": ["train", "llama-3.1-8b"],
}


def key_paths(doc: dict[str, Any]) -> set[str]:
    """Top-level keys, and ``key[].sub`` for the keys of the objects in a top-level list."""
    out = set()
    for key, value in doc.items():
        out.add(key)
        if isinstance(value, list):
            out |= {f"{key}[].{sub}" for item in value if isinstance(item, dict) for sub in item}
    return out


def readme_tables() -> dict[str, set[str]]:
    """Heading -> the keys its table names."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## JSON output\n", 1)[1].split("\n## ", 1)[0]
    tables: dict[str, set[str]] = {}
    for block in re.split(r"^### ", section, flags=re.M)[1:]:
        heading, _, body = block.partition("\n")
        match = re.fullmatch(r"`llmcalc (.+) --json`", heading.strip())
        if match is None:
            continue
        keys = set()
        for line in body.splitlines():
            if line.startswith("| `"):
                keys |= set(re.findall(r"`([^`]+)`", line.split("|")[1]))
        tables[match.group(1)] = keys
    return tables


def _document(args: list[str]) -> dict[str, Any]:
    result = CliRunner().invoke(cli, [*args, "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert isinstance(doc, dict)
    return doc


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_document_keys_are_tabled_in_readme(name: str) -> None:
    """The document's keys are exactly those README's table for it names."""
    if DOCUMENTS[name][0] not in COMMANDS:
        pytest.skip(f"no {DOCUMENTS[name][0]} command")
    tables = readme_tables()
    assert name in tables, f"README has no '### `llmcalc {name} --json`' table"
    keys = key_paths(_document(DOCUMENTS[name]))
    assert sorted(keys - tables[name]) == [], "keys missing from README's table"
    assert sorted(tables[name] - keys) == [], "README's table names keys the document lacks"


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_document_carries_versions(name: str) -> None:
    """Every document starts with schema_version and llmcalc_version."""
    if DOCUMENTS[name][0] not in COMMANDS:
        pytest.skip(f"no {DOCUMENTS[name][0]} command")
    doc = _document(DOCUMENTS[name])
    assert list(doc)[:2] == ["schema_version", "llmcalc_version"]
    assert doc["schema_version"] == SCHEMA_VERSION and doc["llmcalc_version"] == llmcalc_version()


def test_every_json_command_has_a_document() -> None:
    """Each command with a --json flag has at least one document in DOCUMENTS (and so in README)."""
    for name in COMMANDS:
        command = cli.get_command(click.Context(cli), name)
        assert command is not None
        if any("--json" in getattr(p, "opts", ()) for p in command.params):
            assert any(args[0] == name for args in DOCUMENTS.values()), f"add a `{name}` document to DOCUMENTS"


def test_sweep_json_flag_and_stream_are_one_document(tmp_path: Any) -> None:
    """`sweep --json` and `--format json -o FILE` give the same single JSON document."""
    args = DOCUMENTS["sweep"]
    out = tmp_path / "points.json"
    assert CliRunner().invoke(cli, [*args, "--format", "json", "-o", str(out)]).exit_code == 0
    assert json.loads(out.read_text()) == _document(args)
