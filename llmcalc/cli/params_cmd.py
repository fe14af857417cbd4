"""``llmcalc params`` and ``llmcalc presets``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from llmcalc.cli.options import json_option, model_argument, presets_dir_option, warn, width_option
from llmcalc.importers.presets import load_all_presets
from llmcalc.loading import LoadedModel, load_model
from llmcalc.params import ParamCounts, count_params

SORT_KEYS = {
    "name": lambda r: r[0].name,
    "family": lambda r: (r[0].family, r[0].name),
    "total": lambda r: -r[1].total_params,
    "active": lambda r: -r[1].active_params,
    "context": lambda r: -(r[0].spec.max_context or 0),
}

if TYPE_CHECKING:
    from llmcalc.spec import ModelSpec
    from llmcalc.stored import CountCheck


@click.command()
@model_argument(required=False)
@click.option("--sort", type=click.Choice(sorted(SORT_KEYS)), default="total", show_default=True,
              help="Order of the comparison table (no MODEL).")
@click.option("--exact", is_flag=True, help="Show exact integer counts in the comparison table.")
@json_option
@presets_dir_option
@width_option
def params(model: str | None, sort: str, exact: bool, as_json: bool, presets_dirs: tuple[str, ...],
           width: int | None) -> None:
    """Count MODEL's parameters, by component; with no MODEL, compare every preset.

    Totals count tied weights once. Active = total minus the routed experts a token does not use.
    """
    if model is None:
        rows = [(p, count_params(p.spec)) for p in load_all_presets(extra_dirs=presets_dirs)]
        rows.sort(key=SORT_KEYS[sort])
        if as_json:
            from llmcalc.jsonout import dumps  # here, not at the top: a table never needs it

            click.echo(dumps([{"model": p.name, "source": str(p.path), **_fields(c)} for p, c in rows], key="models"))
            return
        from llmcalc.render.params import compare_table
        from llmcalc.render.table import emit

        emit(compare_table(rows, exact=exact), width=width)
        return
    loaded = load_model(model, presets_dirs=presets_dirs)
    counts = count_params(loaded.spec)
    for assumption in (*loaded.spec.assumptions, *loaded.warnings):
        warn(assumption)
    check = None
    if loaded.counted_params is not None:
        from llmcalc.stored import check_counts

        check = check_counts(loaded, counts.total_params)
    if check is not None and not check.matches:
        warn(f"{check.counted_params:,} parameters counted from the files, {check.analytical_params:,} from the "
             f"architecture ({check.difference_params:+,}); the config and the weights disagree")
    if as_json:
        from llmcalc.jsonout import dumps

        files = {"files": _files_json(loaded, check)} if loaded.weights is not None else {}
        towers = {"towers": _towers_json(loaded.spec)} if loaded.spec.towers else {}
        click.echo(dumps({"model": loaded.spec.name, "source": loaded.source, **_fields(counts), **towers, **files}))
        return
    from llmcalc.render.params import params_table, stored_weights_view
    from llmcalc.render.table import emit, stack

    preset = loaded.preset
    title = preset.display_name if preset else loaded.spec.name
    rumour = None
    if preset and preset.rumour and preset.published is not None:
        rumour = f"the rumoured total is {preset.published.total_params.text}; see {preset.path} for what is invented"
    emit(stack(params_table(loaded.spec, counts, title=title, rumour=rumour),
               stored_weights_view(loaded, check) if loaded.weights is not None else None), width=width)


def _files_json(loaded: LoadedModel, check: CountCheck | None) -> dict[str, object]:
    """The files' side of ``--json``: kind, the cross-check, stored bytes per dtype, bpw, notes."""
    w = loaded.weights
    assert w is not None
    return {
        "kind": loaded.kind,
        "counted_params": check.counted_params if check else None,
        "analytical_params": check.analytical_params if check else None,
        "difference_params": check.difference_params if check else None,
        "stored_params": w.params,
        "stored_bytes": w.total_bytes,
        "bytes_by_dtype": dict(w.bytes_by_dtype),
        "bits_per_weight": w.bits_per_weight,
        "notes": [*w.notes, *loaded.notes],
    }


def _towers_json(spec: ModelSpec) -> list[dict[str, object]]:
    """Each tower: role, kind, size, its parameters and components, the image-token rule."""
    from llmcalc.jsonout import to_jsonable

    return [{**to_jsonable(t), "params": t.params, "components": dict(t.components)} for t in spec.towers]


def _fields(counts: object) -> dict[str, object]:
    from llmcalc.jsonout import to_jsonable

    data: dict[str, object] = dict(to_jsonable(counts))
    data.pop("model", None)
    if isinstance(counts, ParamCounts):  # the property: total less towers and projector
        data["language_params"] = counts.language_params
    return data


@click.command()
@json_option
@presets_dir_option
@width_option
def presets(as_json: bool, presets_dirs: tuple[str, ...], width: int | None) -> None:
    """List the model presets: name, family, total and active parameters, context length."""
    from llmcalc.importers.presets import scan_presets

    good, broken = scan_presets(presets_dirs)
    rows = [(p, count_params(p.spec)) for p in good]
    for path, error in broken:
        warn(f"broken preset {path} (left out): {error}")
    if as_json:
        from llmcalc.jsonout import dumps

        click.echo(dumps([
            {
                "name": p.name,
                "display_name": p.display_name,
                "family": p.family,
                "flavour": p.flavour,
                "aliases": list(p.aliases),
                "total_params": c.total_params,
                "active_params": c.active_params,
                "max_context": p.spec.max_context,
                "source": p.source,
                "published_total": p.published.total_params.text if p.published else None,
                "published_source": p.published.source if p.published else None,
                "rumour": p.rumour,
                "path": str(p.path),
            }
            for p, c in rows
        ], key="presets"))
        return
    from llmcalc.render.params import presets_table
    from llmcalc.render.table import emit

    emit(presets_table(rows), width=width)
