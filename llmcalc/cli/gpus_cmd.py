"""``llmcalc gpus``, and the ``--gpus-file`` option shared by every command that takes a GPU."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import click

from llmcalc.cli.options import json_option, width_option
from llmcalc.gpus import load_catalogue
from llmcalc.jsonout import dumps
from llmcalc.units import ByteUnits

F = TypeVar("F", bound=Callable[..., Any])


def gpus_file_option(f: F) -> F:
    return click.option(
        "--gpus-file",
        "gpus_files",
        multiple=True,
        type=click.Path(exists=True, dir_okay=False),
        help="Extra GPU catalogue YAML file; its entries replace built-in ones of the same name "
             "(repeatable; also LLMCALC_GPUS, joined with ':').",
    )(f)


@click.command()
@click.option("--units", type=click.Choice(["binary", "decimal"]), default="binary", show_default=True,
              help="Memory in GiB (2^30 bytes) or GB (10^9 bytes).")
@json_option
@gpus_file_option
@width_option
def gpus(units: str, as_json: bool, gpus_files: tuple[str, ...], width: int | None) -> None:
    """List the GPU catalogue: memory, bandwidth, dense BF16 and FP8 TFLOPS.

    JSON gives every figure as an exact integer in bytes, bytes per second or FLOP/s.
    """
    catalogue = load_catalogue(gpus_files)
    if as_json:
        click.echo(dumps(list(catalogue.values())))
        return
    from llmcalc.render.common import make_console
    from llmcalc.render.gpus import gpus_table

    make_console(width=width).print(gpus_table(catalogue.values(), units=cast("ByteUnits", units)))
