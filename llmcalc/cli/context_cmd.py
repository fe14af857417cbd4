"""``llmcalc context``: the positional encoding, the maximum context, and memory against context."""

from __future__ import annotations

import click

from llmcalc.cli.media_opts import media_line, media_options, media_request
from llmcalc.cli.options import (
    Count,
    batch_option,
    bpw_option,
    engine_option,
    gpu_option,
    gpus_file_option,
    json_option,
    kv_dtype_option,
    model_argument,
    num_gpus_option,
    one_value,
    presets_dir_option,
    quant_option,
    resolve_gpu,
    units_option,
    warn,
    width_option,
)
from llmcalc.units import ByteUnits


@click.command()
@model_argument()
@click.option("--context", "context", type=Count(), metavar="TOKENS",
              help="A context to add to the curve (32k = 32,768); beyond the maximum, what growing the window "
                   "would take.")
@bpw_option("Bits per weight, applied to every parameter.")
@quant_option("A named weight format (`llmcalc quant` lists them), e.g. q4_k_m, fp8.")
@kv_dtype_option()
@batch_option
@engine_option
@gpu_option("Find the largest context that fits on this GPU (`llmcalc gpus`); 2xh100 for two.")
@num_gpus_option()
@units_option
@click.option("--no-chart", is_flag=True, help="Leave out the chart of memory against context.")
@media_options
@json_option
@presets_dir_option
@gpus_file_option
@width_option
def context(model: str, context: int | None, bpw: list[str], quant: list[str], kv_dtype: str, batch: int,
            engine: str | None, gpu_set: list[tuple[str, int]], num_gpus: int | None, units: ByteUnits,
            no_chart: bool, as_json: bool,
            presets_dirs: tuple[str, ...], gpus_files: tuple[str, ...], width: int | None,
            image_sizes: tuple[tuple[int, int], ...] = (), images: int = 0, audio_seconds: float = 0.0) -> None:
    """The context window of MODEL: positional encoding, maximum context, positional table, KV cache per
    token, and memory against context length (with --gpu, the largest context that fits).
    """
    from llmcalc.context import context_report
    from llmcalc.gpus import get_gpu
    from llmcalc.jsonout import dumps
    from llmcalc.loading import load_model

    gpu, num_gpus = resolve_gpu(gpu_set, num_gpus)
    device = get_gpu(gpu, extra_files=gpus_files) if gpu else None
    loaded = load_model(model, presets_dirs=presets_dirs)
    media = media_request(loaded.spec, image_sizes, images, audio_seconds)
    if media is not None:  # the images and audio join the context point of the curve
        context = (context or 0) + media.total_tokens
        click.echo(f"Media: {media_line(media)}", err=True)
    report = context_report(loaded, bpw=one_value(bpw, "--bpw"),
                            quant=one_value(quant, "--quant"),
                            context_tokens=context, batch_size=batch, kv_dtype=kv_dtype, engine=engine,
                            gpu=device, num_gpus=num_gpus,
                            encoder_tokens=(media.cross_attention_tokens or None) if media else None)
    for message in _engine_warnings(report.engine, one_value(quant, "--quant"), kv_dtype, loaded.kind):
        warn(message)
    if report.window_growth is not None and report.window_growth.warning:
        warn(report.window_growth.warning)
    if as_json:
        from llmcalc.jsonout import to_jsonable

        click.echo(dumps({**to_jsonable(report), "media": to_jsonable(media)} if media is not None else report))
        return
    from llmcalc.render.context import context_view
    from llmcalc.render.table import emit

    emit(context_view(report, units=units, chart=not no_chart), width=width)


def _engine_warnings(engine: str, quant: str | None, kv_dtype: str, kind: str) -> list[str]:
    """What ``memory`` refuses or warns about for this engine, format and KV cache (llmcalc.engine_support)."""
    from llmcalc.engine_support import FILE_FAMILIES, StoredFormat, check
    from llmcalc.quant import get_format

    formats: list[object] = [get_format(quant)] if quant else []
    if quant is None and kind in FILE_FAMILIES:
        formats.append(StoredFormat(f"stored ({kind})", FILE_FAMILIES[kind]))
    return check(engine, formats=formats, kv_dtype=kv_dtype)
