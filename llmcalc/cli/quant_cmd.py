"""``llmcalc quant``: the weight-format catalogue, or one model's weight size in every format."""

from __future__ import annotations

import click

from llmcalc.cli.options import json_option, presets_dir_option, warn, width_option
from llmcalc.jsonout import dumps, to_jsonable
from llmcalc.loading import load_model
from llmcalc.quant import all_formats, weights_for_format


@click.command()
@click.argument("model", required=False)
@json_option
@presets_dir_option
@width_option
def quant(model: str | None, as_json: bool, presets_dirs: tuple[str, ...], width: int | None) -> None:
    """List the weight formats; with MODEL, each format's predicted weight size for that model.

    GGUF file types (q4_k_m ...) are priced tensor by tensor as llama.cpp's quantizer mixes them;
    GPTQ, AWQ, bitsandbytes and FP8 quantize the linear layers and keep the rest in 16 bits.
    """
    from llmcalc.render.common import make_console
    from llmcalc.render.quant import catalogue_table, model_table

    formats = all_formats()
    if model is None:
        if as_json:
            click.echo(dumps([f.as_dict() for f in formats]))
        else:
            make_console(width=width).print(catalogue_table(formats))
        return
    loaded = load_model(model, presets_dirs=presets_dirs)
    for assumption in loaded.spec.assumptions:
        warn(assumption)
    rows = [(f, weights_for_format(loaded.spec, f)) for f in formats]
    params = rows[0][1].params
    if as_json:
        click.echo(
            dumps(
                {
                    "model": loaded.spec.name,
                    "source": loaded.source,
                    "params": params,
                    "formats": [{"family": f.family, "kind": f.kind, **to_jsonable(r)} for f, r in rows],
                }
            )
        )
        return
    title = loaded.preset.display_name if loaded.preset else loaded.spec.name
    make_console(width=width).print(model_table(title, params, rows))
