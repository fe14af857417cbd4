"""``llmcalc gpus``, and the ``--gpus-file`` option shared by every command that takes a GPU."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from llmcalc.cli.options import gpus_file_option, json_option, units_option, width_option
from llmcalc.gpus import load_catalogue
from llmcalc.jsonout import dumps
from llmcalc.units import ByteUnits

F = TypeVar("F", bound=Callable[..., Any])


@click.command()
@units_option
@json_option
@gpus_file_option
@width_option
def gpus(units: ByteUnits, as_json: bool, gpus_files: tuple[str, ...], width: int | None) -> None:
    """List the GPU catalogue: memory, bandwidth, dense BF16 and FP8 TFLOPS.

    JSON gives every figure as an exact integer in bytes, bytes per second or FLOP/s.
    """
    catalogue = load_catalogue(gpus_files)
    if as_json:
        click.echo(dumps(list(catalogue.values()), key="gpus"))
        return
    from llmcalc.render.gpus import gpus_table
    from llmcalc.render.table import emit

    emit(gpus_table(catalogue.values(), units=units), width=width)
