"""Turn what a user types (a preset name, a YAML preset, a config.json, a model folder) into a spec.

:func:`load_model` is the single entry point the CLI and scripts use. Model files (safetensors,
GGUF) and the local Hugging Face cache plug in here too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from llmcalc.errors import ConfigError, PresetError
from llmcalc.importers.files import read_json, read_yaml
from llmcalc.importers.hf_config import spec_from_hf_config
from llmcalc.importers.presets import Preset, load_preset, preset_from_mapping
from llmcalc.spec import ModelSpec


@dataclass(frozen=True)
class StoredWeights:
    """What real model files hold: exact bytes on disk per storage dtype and the parameters they represent.

    ``memory`` uses ``total_bytes`` as the weights' footprint unless the user asks for another format.
    """

    total_bytes: int
    params: int
    bytes_by_dtype: tuple[tuple[str, int], ...]
    notes: tuple[str, ...] = ()

    @property
    def bits_per_weight(self) -> float:
        """The files' effective bits per weight: 8 x bytes / parameters."""
        return 8 * self.total_bytes / self.params if self.params else 0.0


@dataclass(frozen=True)
class LoadedModel:
    """A spec and where it came from.

    ``kind`` is preset, yaml, config (later: safetensors, gguf, hf-cache). ``weights`` is set when
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


def load_model(ref: str | Path, *, presets_dirs: Iterable[str | Path] = ()) -> LoadedModel:
    """Load a model from a preset name or alias, a preset YAML file, a config.json, or a folder.

    A string that names an existing path is read as a file; anything else is a preset name.
    """
    path = Path(ref)
    if path.is_dir():
        config = path / "config.json"
        if not config.is_file():
            raise ConfigError(f"{path}: folder has no config.json")
        return _from_config(config)
    if path.is_file():
        if path.suffix in (".yaml", ".yml"):
            return _from_yaml(path)
        if path.suffix == ".json":
            return _from_config(path)
        raise ConfigError(f"{path}: unsupported file type '{path.suffix}'; give a config.json, a YAML preset or a folder")
    if isinstance(ref, Path) or any(sep in str(ref) for sep in ("/", "\\")) and str(ref).endswith((".json", ".yaml", ".yml")):
        raise ConfigError(f"{ref}: no such file")
    preset = load_preset(str(ref), extra_dirs=presets_dirs)
    return LoadedModel(spec=preset.spec, source=str(preset.path), kind="preset", preset=preset)


def _from_config(path: Path) -> LoadedModel:
    data = read_json(path)
    name = path.parent.name if path.name == "config.json" and path.parent.name else path.stem
    spec = spec_from_hf_config(data, source=str(path), name=name)
    return LoadedModel(spec=spec, source=str(path), kind="config")


def _from_yaml(path: Path) -> LoadedModel:
    data = read_yaml(path)
    if isinstance(data, dict) and "config" in data and "published" in data:
        preset = preset_from_mapping(data, path=path)
        return LoadedModel(spec=preset.spec, source=str(path), kind="preset", preset=preset)
    if isinstance(data, dict) and "model_type" in data:
        spec = spec_from_hf_config(data, source=str(path), name=path.stem)
        return LoadedModel(spec=spec, source=str(path), kind="yaml")
    raise ConfigError(f"{path}: expected a preset (with 'config' and 'published') or config.json fields (with 'model_type')")


__all__ = ["LoadedModel", "PresetError", "StoredWeights", "load_model"]
