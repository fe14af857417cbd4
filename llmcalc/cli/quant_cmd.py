"""``llmcalc quant``: the weight-format catalogue, or one model's weight size in every format."""

from __future__ import annotations

import click

from llmcalc.cli.options import json_option, model_argument, presets_dir_option, warn, width_option
from llmcalc.gguf_source import gguf_options
from llmcalc.jsonout import dumps, to_jsonable
from llmcalc.loading import load_model
from llmcalc.quality import quality_cost
from llmcalc.quant import all_formats, weights_for_format

#: The model a GGUF mix's bits per weight are shown for when no MODEL is given: the one llama.cpp's own
#: quantize table (tools/quantize/README.md) reports its file types for.
REFERENCE_MODEL = "llama-3.1-8b"
#: The kind of a GGUF file type (llmcalc.quant: its bits depend on the model).
MIX_KIND = "per-tensor mix"


@click.command()
@model_argument(required=False)
@json_option
@presets_dir_option
@width_option
def quant(model: str | None, as_json: bool, presets_dirs: tuple[str, ...], width: int | None) -> None:
    """List the weight formats; with MODEL, each format's predicted weight size for that model.

    GGUF file types (q4_k_m ...) are priced tensor by tensor as llama.cpp's quantizer mixes them;
    GPTQ, AWQ, bitsandbytes and FP8 quantize the linear layers and keep the rest in 16 bits.
    """
    from llmcalc.render.quant import catalogue_table, model_table
    from llmcalc.render.table import emit

    formats = all_formats()
    if model is None:
        reference = load_model(REFERENCE_MODEL).spec
        mixes = {f.name: weights_for_format(reference, f).bits_per_weight for f in formats if f.kind == MIX_KIND}
        if as_json:
            click.echo(dumps([{**f.as_dict(), **_on_reference(mixes.get(f.name))} for f in formats], key="formats"))
        else:
            emit(catalogue_table(formats, reference=(REFERENCE_MODEL, mixes)), width=width)
        return
    loaded = load_model(model, presets_dirs=presets_dirs)
    for assumption in loaded.spec.assumptions:
        warn(assumption)
    options = gguf_options(loaded)
    rows = [(f, weights_for_format(loaded.spec, f, **options)) for f in formats]
    params = rows[0][1].params
    if as_json:
        click.echo(
            dumps(
                {
                    "model": loaded.spec.name,
                    "source": loaded.source,
                    "params": params,
                    "formats": [{"family": f.family, "kind": f.kind, **to_jsonable(r),
                                 "quality": to_jsonable(quality_cost(f.name))} for f, r in rows],
                }
            )
        )
        return
    title = loaded.preset.display_name if loaded.preset else loaded.spec.name
    emit(model_table(title, params, rows), width=width)


def _on_reference(bits: float | None) -> dict[str, object]:
    """A GGUF mix's bits per weight on :data:`REFERENCE_MODEL` (None for formats whose bits are fixed)."""
    return {"reference_model": REFERENCE_MODEL if bits is not None else None,
            "reference_bits_per_weight": float(bits) if bits is not None else None}
