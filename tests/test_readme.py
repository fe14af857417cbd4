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
