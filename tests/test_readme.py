"""README's Python examples run and print what their comments say."""

from __future__ import annotations

import contextlib
import io
import re

from tests.conftest import ROOT


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)


def test_readme_examples_print_their_comments() -> None:
    """Every `print(...)  # expected` line in README's Python blocks prints the expected text."""
    blocks = _python_blocks()
    assert blocks
    for block in blocks:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(block, "README.md", "exec"), {})  # noqa: S102 - our own documentation
        printed = out.getvalue().splitlines()
        expected = [m.group(1).strip() for m in re.finditer(r"^print\(.*\)\s+#\s*(.+)$", block, flags=re.M)]
        for want in expected:
            want = want.split(" (")[0]
            assert any(line.startswith(want) for line in printed), (want, printed)


def _yaml_examples() -> dict[str, tuple[str, list[str]]]:
    """README's ```yaml blocks whose first line is ``# FILE  (llmcalc ARGS)``: file -> (text, args)."""
    found: dict[str, tuple[str, list[str]]] = {}
    for block in re.findall(r"```yaml\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S):
        m = re.match(r"# (\S+)\s+\(llmcalc (.+)\)\n", block)
        if m:
            found[m.group(1)] = (block, m.group(2).split())
    return found


def test_readme_user_file_examples_run(tmp_path: object) -> None:
    """The minimal preset, GPU file and sweep grid in README ('Your own files') work as written."""
    import os
    from pathlib import Path

    from click.testing import CliRunner

    from llmcalc.cli import cli

    examples = _yaml_examples()
    assert {"my-llama.yaml", "lab.yaml", "grid.yaml"} <= set(examples)
    folder = Path(str(tmp_path))
    for name, (text, _) in examples.items():
        (folder / name).write_text(text)
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        for name, (_, args) in examples.items():
            result = CliRunner().invoke(cli, args)
            assert result.exit_code == 0, (name, result.output)
            assert "Warning" not in result.output or name == "grid.yaml", (name, result.output)
    finally:
        os.chdir(cwd)
