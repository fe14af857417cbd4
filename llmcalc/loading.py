"""Turn what a user types (a preset name, a YAML preset, a config.json, a model folder, model files,
an ``org/name`` in the local Hugging Face cache) into a spec.

:func:`load_model` is the single entry point the CLI and scripts use. Model files are read by
:mod:`llmcalc.importers.safetensors` (headers only) and :mod:`llmcalc.importers.gguf`; the cache is
found by :mod:`llmcalc.importers.hf_cache`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from llmcalc.errors import ConfigError, PresetError
from llmcalc.importers.files import read_json, read_yaml
from llmcalc.importers.hf import spec_from_hf_config
from llmcalc.importers.presets import Preset, load_preset, preset_from_mapping
from llmcalc.spec import ModelSpec

if TYPE_CHECKING:
    from pathlib import Path

    from llmcalc.stored import StoredWeights

# The safetensors and GGUF readers, the Hugging Face cache lookup and pathlib itself are imported where
# they are used: a preset lookup needs none of them, and start-up time is what `llmcalc params NAME`
# feels (benchmarks/bench.py).


@dataclass(frozen=True, slots=True)
class LoadedModel:
    """A spec and where it came from.

    ``kind`` is preset, yaml, config, safetensors, gguf, hf-cache or hub. ``weights`` is set when
    real weight files were read; ``counted_params`` is then the count from their tensor shapes, to
    compare with the analytical count of ``spec``.
    """

    spec: ModelSpec
    source: str
    kind: str
    preset: Preset | None = None
    weights: StoredWeights | None = None
    counted_params: int | None = None
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


def load_model(
    ref: str | Path, *, presets_dirs: Iterable[str | Path] = (), offline: bool | None = None
) -> LoadedModel:
    """Load a model from a preset name or alias, a YAML preset, a config.json, model files, the HF cache or Hub.

    A string that names an existing path is read from disk: a folder (config.json, with its
    safetensors headers when present), a ``.safetensors`` file or ``*.safetensors.index.json``
    (architecture from the config.json beside it), a ``.gguf`` file, a config.json or a YAML
    preset. Otherwise ``org/name`` (exactly one ``/``) is looked up in the local Hugging Face
    cache and, when it is not there and going online is allowed (``offline`` false, or ``None``
    with ``HF_HUB_OFFLINE`` unset), on the Hub (:mod:`llmcalc.importers.hub`: config.json and the
    safetensors headers, never the weights). Anything else is a preset name.
    """
    if not isinstance(ref, (str, os.PathLike)):
        raise PresetError(f"a model must be a name or a path, got {type(ref).__name__}")
    if os.path.isdir(ref) or os.path.isfile(ref):
        from pathlib import Path

        return _from_path(Path(ref))
    text = str(ref)
    if os.path.exists(text):  # a device, a FIFO, a socket: not something a model is read from
        raise ConfigError(f"{text}: not a model file (give a config.json, model files, a YAML preset or a folder)")
    expanded = os.path.expanduser(text) if text.startswith("~") else text
    if expanded != text and (os.path.isdir(expanded) or os.path.isfile(expanded)):
        from pathlib import Path

        return _from_path(Path(expanded))
    looks_like_path = text.lower().endswith(_FILE_SUFFIXES) or text.startswith(_PATH_STARTS) or text in (".", "..")
    if not isinstance(ref, str) or looks_like_path:  # no preset name ends like a model file or starts like a path
        raise ConfigError(f"{ref}: no such file")
    if text.count("/") == 1:
        from llmcalc.importers.hf_cache import is_repo_id, resolve_repo

        if is_repo_id(text):
            from llmcalc.importers.hf_cache import find_snapshot
            from llmcalc.importers.hub import offline_requested

            if find_snapshot(text) is None:
                from llmcalc.importers.hub import hub_client_installed

                if not offline_requested(offline) and hub_client_installed():
                    return _from_hub(text)
                # offline, or without the hub extra: the preset of that name, if any
                fallback = _preset_for_repo(text, presets_dirs)
                if fallback is not None:
                    return fallback
                if not offline_requested(offline):
                    return _from_hub(text)  # says how to install the hub extra
            snapshot = resolve_repo(text)
            loaded = _from_folder(snapshot)
            return replace(loaded, kind="hf-cache", source=str(snapshot),
                           notes=(f"{text}: read from the local Hugging Face cache ({snapshot})", *loaded.notes))
    preset = load_preset(text, extra_dirs=presets_dirs)
    return _preset_model(preset)


def _preset_for_repo(repo_id: str, presets_dirs: Iterable[str | Path]) -> LoadedModel | None:
    """``meta-llama/Llama-3.1-8B`` missing from the cache, offline: the preset it names (loose matching), saying so."""
    from llmcalc.errors import PresetError

    try:
        preset = load_preset(repo_id, extra_dirs=presets_dirs)
    except PresetError:
        return None
    loaded = _preset_model(preset)
    note = (f"{repo_id} is not in the local Hugging Face cache; using preset '{preset.name}' (its official "
            "config), offline")
    return replace(loaded, warnings=(note, *(w for w in loaded.warnings if w != preset.match_note)))


def _preset_model(preset: Preset) -> LoadedModel:
    """A loaded preset; a user preset whose published total disagrees with its count warns."""
    warnings: tuple[str, ...] = ()
    if not preset.builtin and preset.published is not None:
        from llmcalc.params import count_params

        mismatch = preset.published_mismatch(count_params(preset.spec).total_params)
        warnings = (mismatch,) if mismatch else ()
    if preset.match_note:  # a name matched loosely says which preset it got
        warnings = (preset.match_note, *warnings)
    return LoadedModel(spec=preset.spec, source=str(preset.path), kind="preset", preset=preset, warnings=warnings)


def _from_path(path: Path) -> LoadedModel:
    """An existing file or folder on disk."""
    if path.is_dir():
        return _from_folder(path)
    from llmcalc.importers.safetensors import INDEX_SUFFIX

    if path.name.endswith(INDEX_SUFFIX):
        return _from_weights(path.parent, index=path)
    if path.suffix == ".safetensors":
        return _from_weights(path.parent, single=path)
    if path.suffix == ".gguf":
        return _from_gguf(path)
    if path.suffix in (".yaml", ".yml"):
        return _from_yaml(path)
    if path.suffix == ".json":
        return _from_config(path)
    raise ConfigError(
        f"{path}: unsupported file type '{path.suffix}'; give a config.json, a .safetensors file or index, "
        "a .gguf file, a YAML preset or a folder"
    )


_FILE_SUFFIXES = (".json", ".yaml", ".yml", ".safetensors", ".gguf")
_PATH_STARTS = ("/", "./", "../", "~")


def _config_spec(path: Path) -> tuple[dict[str, Any], ModelSpec]:
    data = read_json(path)
    folder = path.absolute().parent  # `llmcalc params .` is named after the folder, not "."
    name = folder.name if path.name == "config.json" and folder.name else path.stem
    if path.name == "config.json" and path.parent.parent.name == "snapshots":  # HF cache: models--org--name
        name = path.parent.parent.parent.name.removeprefix("models--").replace("--", "/")
    spec = spec_from_hf_config(data, source=str(path), name=name)
    return (data if isinstance(data, dict) else {}), spec


def _from_config(path: Path) -> LoadedModel:
    _, spec = _config_spec(path)
    return LoadedModel(spec=spec, source=str(path), kind="config")


def _from_folder(folder: Path) -> LoadedModel:
    """A model folder: config.json plus its safetensors weights (headers only) when present, or one GGUF."""
    from llmcalc.importers.safetensors import weight_files

    config = folder / "config.json"
    index, files = weight_files(folder)
    if files:
        return _from_weights(folder, index=index, files=files)
    if config.is_file():
        loaded = _from_config(config)
        return replace(loaded, notes=(f"{folder}: no *.safetensors files; counted from config.json only",))
    ggufs = sorted(p for p in folder.glob("*.gguf") if p.is_file())
    from llmcalc.importers.gguf import is_first_part

    firsts = [p for p in ggufs if is_first_part(p.name)]
    if len(firsts) == 1:
        return _from_gguf(firsts[0])
    if firsts:
        raise ConfigError(f"{folder}: several GGUF files ({', '.join(p.name for p in firsts)}); pass one of them")
    raise ConfigError(f"{folder}: folder has no config.json")


def _from_weights(
    folder: Path, *, index: Path | None = None, files: list[Path] | None = None, single: Path | None = None
) -> LoadedModel:
    """Safetensors weights: the spec from the config.json beside them, the counts from their headers."""
    from llmcalc.importers.safetensors import read_headers, read_index, weight_files

    notes: list[str] = []
    if single is not None:
        found_index, shards = weight_files(folder)
        if found_index is not None and single in shards and len(shards) > 1:
            notes.append(f"{single.name} is one of {len(shards)} shards; counted every shard in {found_index.name}")
            index, files = found_index, shards
        else:
            files = [single]
    elif files is None:
        assert index is not None  # callers pass an index, files, or a single file
        files = read_index(index)
    config = folder / "config.json"
    if not config.is_file():
        what = index or (files[0] if len(files) == 1 else folder)
        raise ConfigError(f"{what}: no config.json beside the weights; llmcalc reads the architecture from it")
    data, spec = _config_spec(config)
    source = str(index or (files[0] if len(files) == 1 else folder))
    return _counted(spec, data, read_headers(files), source=source, kind="safetensors", config=str(config),
                    notes=notes)


def _counted(spec: ModelSpec, data: dict[str, Any], headers: list[Any], *, source: str, kind: str, config: str,
             notes: list[str]) -> LoadedModel:
    """A spec and the count of its safetensors headers (read from disk or from the Hub)."""
    from llmcalc.importers.safetensors import count_tensors
    from llmcalc.stored import StoredWeights

    qc = data.get("quantization_config")
    count = count_tensors(headers, quantization_config=qc if isinstance(qc, dict) else None,
                          num_layers=spec.num_hidden_layers)
    weights = StoredWeights(total_bytes=count.total_bytes, params=count.params,
                            bytes_by_dtype=count.bytes_by_dtype, notes=count.notes)
    n = len(headers)
    notes.append(f"read the headers of {n} safetensors file{'s' if n > 1 else ''} "
                 f"({count.tensors:,} tensors); architecture from {config}")
    return LoadedModel(spec=spec, source=source, kind=kind, weights=weights,
                       counted_params=count.params - count.extra_layer_params, notes=tuple(notes))


def _from_hub(repo_id: str) -> LoadedModel:
    """``org/name`` from the Hugging Face Hub: config.json (cached) and the safetensors headers."""
    from llmcalc.importers.hub import fetch_model

    hub = fetch_model(repo_id)
    data = read_json(hub.config_path)
    spec = spec_from_hf_config(data, source=f"{repo_id} config.json (Hub)", name=repo_id)
    notes = [f"{repo_id}: read from the Hugging Face Hub (config.json cached in {hub.config_path.parent})"]
    if not hub.headers:
        notes.append(f"{repo_id}: no safetensors weights on the Hub; counted from config.json only")
        return LoadedModel(spec=spec, source=repo_id, kind="hub", notes=tuple(notes))
    return _counted(spec, data if isinstance(data, dict) else {}, list(hub.headers), source=repo_id, kind="hub",
                    config="config.json (Hub)", notes=notes)


def _from_gguf(path: Path) -> LoadedModel:
    """A GGUF model: the spec from its metadata, exact tensor bytes per ggml type."""
    from llmcalc.importers.gguf import config_from_gguf, count_gguf, read_gguf_model

    parts = read_gguf_model(path)
    config, notes = config_from_gguf(parts)
    meta = parts[0].metadata
    name = meta.get("general.name")
    spec = spec_from_hf_config(config, source=f"{path} (GGUF metadata)",
                               name=name if isinstance(name, str) and name else path.stem)
    count = count_gguf(parts)
    weight_notes = []
    if count.file_type:
        weight_notes.append(f"general.file_type {count.file_type}; per-tensor types: "
                            + ", ".join(f"{t} {n:,} params" for t, n in count.params_by_type))
    if count.buffer_params:
        weight_notes.append(f"{count.buffer_params:,} values in buffers (rope_freqs, exp_probs_b) are not parameters")
    from llmcalc.stored import StoredWeights

    weights = StoredWeights(total_bytes=count.total_bytes, params=count.params,
                            bytes_by_dtype=count.bytes_by_type, notes=tuple(weight_notes))
    notes.insert(0, f"GGUF v{parts[0].version}, architecture '{parts[0].architecture}', "
                    f"{count.tensors:,} tensors in {len(parts)} file{'s' if len(parts) > 1 else ''}")
    return LoadedModel(spec=spec, source=str(path), kind="gguf", weights=weights, counted_params=count.params,
                       notes=tuple(notes))


def _from_yaml(path: Path) -> LoadedModel:
    data = read_yaml(path)
    if isinstance(data, dict) and "config" in data and "name" in data:
        return _preset_model(preset_from_mapping(data, path=path, builtin=False))
    if isinstance(data, dict) and "model_type" in data:
        spec = spec_from_hf_config(data, source=str(path), name=path.stem)
        return LoadedModel(spec=spec, source=str(path), kind="yaml")
    raise ConfigError(
        f"{path}: expected a preset (with 'name' and 'config') or config.json fields (with 'model_type')"
    )


__all__ = ["LoadedModel", "PresetError", "load_model"]
