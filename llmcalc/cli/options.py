"""Option groups shared by several commands, as plain decorator functions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def presets_dir_option(f: F) -> F:
    return click.option(
        "--presets-dir",
        "presets_dirs",
        multiple=True,
        type=click.Path(file_okay=False),
        help="Extra folder of preset YAML files (repeatable; also LLMCALC_PRESETS, joined with ':').",
    )(f)


def json_option(f: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON instead of a table.")(f)


def width_option(f: F) -> F:
    return click.option("--width", type=click.IntRange(40, 400), default=None, hidden=True,
                        help="Render tables at this width (for tests and pipes).")(f)


def warn(message: str) -> None:
    """A warning line on stderr."""
    click.echo(f"Warning: {message}", err=True)


def units_option(f: F) -> F:
    return click.option("--units", type=click.Choice(["binary", "decimal"]), default="binary", show_default=True,
                        help="Memory in GiB (2^30 bytes, binary) or GB (10^9 bytes, decimal).")(f)


def gpus_file_option(f: F) -> F:
    return click.option(
        "--gpus-file",
        "gpus_files",
        multiple=True,
        type=click.Path(exists=True, dir_okay=False),
        help="Extra GPU catalogue YAML file; its entries replace built-in ones of the same name "
             "(repeatable; also LLMCALC_GPUS, joined with ':').",
    )(f)
