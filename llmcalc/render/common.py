"""Console and table helpers shared by the renderers."""

from __future__ import annotations

import sys
from typing import IO

from rich.console import Console
from rich.table import Table


def make_console(*, stderr: bool = False, width: int | None = None, file: IO[str] | None = None) -> Console:
    """A console for stdout (tables) or stderr (warnings); colour only on a terminal.

    ``emoji=False``: llmcalc prints no ``:emoji:`` codes, and not loading rich's emoji table saves
    about 2 ms of start-up.
    """
    stream = file or (sys.stderr if stderr else sys.stdout)
    return Console(file=stream, width=width, highlight=False, soft_wrap=False, emoji=False)


def table(title: str | None = None, *, caption: str | None = None) -> Table:
    """A table in the house style: bold headers, numeric columns right-justified by callers."""
    return Table(title=title, caption=caption, title_justify="left", caption_justify="left", header_style="bold")
