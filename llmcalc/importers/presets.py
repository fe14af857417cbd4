"""Model presets: YAML files holding a model's official config.json values and its provenance.

A preset file looks like::

    name: mixtral-8x7b                 # the file is presets/mixtral-8x7b.yaml
    display_name: Mixtral 8x7B
    family: mixtral
    flavour: base                      # base, instruct, chat ... where variants exist
    aliases: [mixtral]
    hf_repo: mistralai/Mixtral-8x7B-v0.1
    source: https://huggingface.co/mistralai/Mixtral-8x7B-v0.1/blob/main/config.json
    published:
      total_params: 46.7B              # as the authors wrote it; an integer when exact
      active_params: 12.9B
      source: https://mistral.ai/news/mixtral-of-experts/
    config:                            # copied from config.json, same field names
      model_type: mixtral
      ...

Built-in presets live in ``presets/`` beside the package (shipped inside the wheel as
``llmcalc/presets``). Users add folders with ``--presets-dir`` or ``LLMCALC_PRESETS`` (several
folders joined with the OS path separator); a user preset with a built-in name wins.

Built-in presets must record their provenance (``family``, ``source``, ``published``); a user's
own preset needs only ``name`` and ``config`` (a published total, when given, is checked and a
mismatch is a warning). A user preset file that does not parse fails only when it is asked for by
name; listing every preset skips it and reports it (:func:`broken_presets`).

Resolving one name reads one file: the built-in ``index.json`` maps every alias to its preset
(``python scripts/build_preset_index.py`` rewrites it; a test checks it is current). User folders
are small and have no index: a name is tried as a file name first, then by the aliases inside each
file. Listing every preset reads the built-in files' parsed YAML from ``parsed.json``, written by the
same script, wherever a file is unchanged since (:mod:`llmcalc.importers.parsed_presets`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from llmcalc.errors import ConfigError, PresetError
from llmcalc.importers.files import load_yaml, parse_json, read_text
from llmcalc.importers.hf import spec_from_hf_config
from llmcalc.spec import ModelSpec

PRESETS_ENV = "LLMCALC_PRESETS"
INDEX_FILE = "index.json"
_REQUIRED = ("name", "family", "source", "published", "config")
#: What a user's own preset must have: the rest is provenance for the built-in catalogue.
_USER_REQUIRED = ("name", "config")
_ALLOWED = set(_REQUIRED) | {"reference", "display_name", "flavour", "aliases", "variants", "hf_repo", "notes",
                             "rumour", "stored_output_head", "native_format"}
_PUBLISHED_KEYS = {"total_params", "active_params", "non_embedding_params", "source", "note", "tolerance"}


@dataclass(frozen=True, slots=True)
class PublishedFigure:
    """A parameter count as its authors published it: exact, or rounded to the digits shown."""

    text: str
    value: int
    tolerance: int

    @classmethod
    def parse(cls, raw: object, *, source: str) -> PublishedFigure:
        """``6738415616`` is exact; ``"46.7B"`` means 46.7e9 +- 0.05e9 (half the last digit)."""
        if isinstance(raw, int) and not isinstance(raw, bool):
            return cls(text=f"{raw:,}", value=raw, tolerance=0)
        if isinstance(raw, str):
            m = re.fullmatch(r"\s*([0-9][0-9,]*)(?:\.([0-9]+))?\s*([KMBT]?)\s*", raw)
            if m:
                whole, frac, suffix = m.group(1).replace(",", ""), m.group(2) or "", m.group(3)
                scale = {"": 1, "K": 10**3, "M": 10**6, "B": 10**9, "T": 10**12}[suffix]
                unit = scale // 10 ** len(frac) if scale >= 10 ** len(frac) else 1
                value = int(whole) * scale + int(frac or 0) * unit
                tolerance = unit // 2 if (suffix or frac) else 0
                return cls(text=raw.strip(), value=value, tolerance=tolerance)
        raise ConfigError(f"{source}: a published figure must be an integer or like '46.7B', got {raw!r}")

    def matches(self, count: int) -> bool:
        return abs(count - self.value) <= self.tolerance


@dataclass(frozen=True, slots=True)
class Published:
    total_params: PublishedFigure
    source: str
    active_params: PublishedFigure | None = None
    non_embedding_params: PublishedFigure | None = None
    note: str | None = None
    #: A relative tolerance (e.g. 0.003) for figures that are known to be looser than their digits,
    #: stated with the reason in ``note``.
    tolerance: float | None = None


@dataclass(frozen=True, slots=True)
class ReferenceCount:
    """The count the reference implementation gives for a preset's config, recorded in the preset.

    Written by ``scripts/record_reference_counts.py`` (the config's class built on the meta device,
    ``sum(p.numel() for p in model.parameters())``), so that exactness is tested from the
    repository alone. ``note`` says why llmcalc's count differs, where it does on purpose.
    """

    implementation: str
    model_class: str
    total_params: int
    note: str | None = None


def _reference(raw: object, source: str) -> ReferenceCount | None:
    if raw is None:
        return None
    where = f"{source} reference"
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: must be a mapping with implementation, class and total_params")
    total = raw.get("total_params")
    if isinstance(total, bool) or not isinstance(total, int) or total <= 0:
        raise ConfigError(f"{where}.total_params: must be a positive integer")
    return ReferenceCount(implementation=str(raw.get("implementation", "")), model_class=str(raw.get("class", "")),
                          total_params=total, note=str(raw["note"]) if raw.get("note") else None)


@dataclass(frozen=True, slots=True)
class Preset:
    """A preset file, parsed and validated; ``spec`` is built from its ``config`` block."""

    name: str
    display_name: str
    family: str
    flavour: str | None
    aliases: tuple[str, ...]
    variants: tuple[tuple[str, str], ...]
    hf_repo: str | None
    source: str | None
    published: Published | None
    notes: str | None
    rumour: bool
    path: str
    spec: ModelSpec
    builtin: bool = True
    reference: ReferenceCount | None = None
    #: The checkpoint stores an output head although its config ties it (Qwen3-0.6B's
    #: ``lm_head.weight``); llama.cpp's GGUF then holds ``output.weight`` (llmcalc.quant).
    stored_output_head: bool = False
    #: The weight format the checkpoint is released in (a ``llmcalc quant`` name: ``fp8-block128`` for
    #: DeepSeek-V3, ``mxfp4-experts`` for gpt-oss); ``llmcalc memory`` uses it when no format is given.
    native_format: str | None = None
    #: Set by :func:`load_preset` when the name typed was not an exact name or alias.
    match_note: str | None = None

    def published_mismatch(self, total_params: int) -> str | None:
        """A warning when a user preset's published total disagrees with the count, else ``None``."""
        if self.builtin or self.published is None:
            return None
        figure = self.published.total_params
        relative = self.published.tolerance or 0.0
        if figure.matches(total_params) or abs(total_params - figure.value) <= relative * figure.value:
            return None
        return (f"{self.path}: published total_params {figure.text} does not match the count from its config, "
                f"{total_params:,}; check the config values or the published figure")


# Paths are plain strings handled with os.path: importing pathlib would cost `llmcalc params NAME`
# 3 ms of start-up (benchmarks/bench.py), a tenth of its whole budget.

def builtin_dir() -> str:
    """The built-in presets folder, in a wheel install or a source checkout / editable install."""
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for candidate in (os.path.join(here, "presets"), os.path.join(os.path.dirname(here), "presets")):
        if os.path.isfile(os.path.join(candidate, INDEX_FILE)):
            return candidate
    raise PresetError(f"built-in presets not found beside {here}; reinstall llmcalc-cli")


def user_dirs(extra: Iterable[str | os.PathLike[str]] = ()) -> list[str]:
    """User preset folders: ``extra`` (from --presets-dir) first, then LLMCALC_PRESETS."""
    dirs = [os.fspath(p) for p in extra]
    env = os.environ.get(PRESETS_ENV, "")
    dirs += [p for p in env.split(os.pathsep) if p]
    for d in dirs:
        if not os.path.isdir(d):
            raise PresetError(f"preset folder {d} does not exist (from --presets-dir or {PRESETS_ENV})")
    return dirs


def _normalise(name: str) -> str:
    return name.strip().lower().replace("_", "-")


def _stem(path: str) -> str:
    return os.path.splitext(os.path.basename(path))[0]


def _names_in(path: str) -> set[str]:
    """A preset file's name and aliases, normalised, without building its spec (a bad file says so later)."""
    data = load_yaml(read_text(path), source=path)
    if not isinstance(data, Mapping):
        return set()
    aliases = data.get("aliases") or []
    names = [data.get("name"), *(aliases if isinstance(aliases, list) else [])]
    return {_normalise(n) for n in names if isinstance(n, str)}


def _read_index(directory: str) -> dict[str, str]:
    path = os.path.join(directory, INDEX_FILE)
    # json, not the YAML loader (which parses JSON too): importing json and parsing this file take
    # ~1.1 ms, the YAML loader ~1.9 ms (``llmcalc params NAME`` reads it whenever NAME is an alias).
    data = parse_json(read_text(path), source=path)
    aliases = data.get("aliases") if isinstance(data, dict) else None
    if not isinstance(aliases, dict):
        raise ConfigError(f"{path}: expected an object with an 'aliases' mapping")
    return aliases


def build_index(directory: str | os.PathLike[str]) -> dict[str, Any]:
    """The index of a presets folder: every name and alias -> preset name (for index.json)."""
    aliases: dict[str, str] = {}
    for path in _files(os.fspath(directory)):
        preset = load_preset_file(path)
        for key in (preset.name, *preset.aliases):
            key = _normalise(key)
            if key in aliases and aliases[key] != preset.name:
                raise ConfigError(f"{path}: alias '{key}' is already used by preset '{aliases[key]}'")
            aliases[key] = preset.name
    return {"comment": "generated by `python scripts/build_preset_index.py`; do not edit", "aliases": aliases}


def _files(directory: str) -> list[str]:
    """The preset files of a folder, ``*.yaml`` then ``*.yml``, each sorted by name."""
    names = os.listdir(directory)
    return [os.path.join(directory, n) for suffix in (".yaml", ".yml") for n in sorted(names) if n.endswith(suffix)]


#: No preset name or alias is longer; a longer name is unknown without searching for close matches.
MAX_NAME_CHARS = 200


#: Suffixes people type after a model name that name a flavour, not another architecture; a name
#: that matches no preset is tried without them (``llama-3.3-70b-instruct`` -> ``llama-3.3-70b``).
LOOSE_SUFFIXES = ("-instruct", "-it", "-chat", "-base", "-hf", "-pt")


def loose_names(name: str) -> list[str]:
    """Other spellings of a typed model name, most specific first: without an ``org/`` prefix
    (``meta-llama/Llama-3.3-70B-Instruct``), then without flavour suffixes, one at a time."""
    key = _normalise(name)
    out: list[str] = []
    if "/" in key:
        key = key.rsplit("/", 1)[1]
        out.append(key)
    stripped = True
    while stripped:
        stripped = False
        for suffix in LOOSE_SUFFIXES:
            if key.endswith(suffix) and len(key) > len(suffix):
                key = key[: -len(suffix)]
                out.append(key)
                stripped = True
    return [k for k in dict.fromkeys(out) if k]


def _compact(key: str) -> str:
    return key.replace("-", "").replace(".", "").replace(" ", "")


def resolve_preset_path(name: str, *, extra_dirs: Iterable[str | os.PathLike[str]] = ()) -> str:
    """The preset file a name or alias refers to; user folders first. Reads at most one index.

    A name that matches no preset exactly is tried as :func:`resolve_preset` does (without an
    ``org/`` prefix or a flavour suffix, then ignoring ``-`` and ``.``).
    """
    return resolve_preset(name, extra_dirs=extra_dirs)[0]


def resolve_preset(name: str, *, extra_dirs: Iterable[str | os.PathLike[str]] = ()) -> tuple[str, str | None]:
    """The preset file for ``name`` and, when it was not an exact name or alias, a note saying
    which preset was used for it (names as people type them: ``meta-llama/Llama-3.3-70B-Instruct``,
    ``Qwen3-14B-Instruct``, ``qwen3next``)."""
    if not isinstance(name, str):
        raise PresetError(f"a model name must be a string, got {type(name).__name__}")
    if len(name) > MAX_NAME_CHARS or "\x00" in name:
        raise PresetError(f"unknown model '{name[:60]}...' ({len(name):,} characters; `llmcalc presets` lists them)")
    dirs = user_dirs(extra_dirs)
    key = _normalise(name)
    found = _lookup(key, dirs)
    if found is not None:
        return found, None
    for other in loose_names(name):
        found = _lookup(other, dirs)
        if found is not None:
            return found, f"'{name}' is not a preset name; using preset '{_stem(found)}'"
    index = _read_index(builtin_dir())
    compact = {_compact(k): v for k, v in index.items()}
    for other in (key, *loose_names(name)):
        if _compact(other) in compact:
            found = os.path.join(builtin_dir(), compact[_compact(other)] + ".yaml")
            return found, f"'{name}' is not a preset name; using preset '{_stem(found)}'"
    import difflib

    names = set(index.values()) | {_stem(p) for d in dirs for p in _files(d)}
    sizes = _other_sizes(key, names)
    if sizes:
        stem, size, others = sizes
        raise PresetError(f"unknown model '{name}': no {stem} preset of {size}; there are {', '.join(others)} "
                          "(`llmcalc presets` lists them)")
    candidates = sorted(set(index) | {_stem(p) for d in dirs for p in _files(d)})
    close = difflib.get_close_matches(key, candidates, n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise PresetError(f"unknown model '{name}'{hint} (`llmcalc presets` lists them)")


_SIZED = re.compile(r"(?P<stem>.+?)-(?P<size>\d+(?:\.\d+)?[bm])(?P<rest>(?:-.*)?)")


def _size_value(size: str) -> float:
    return float(size[:-1]) * (1e-3 if size.endswith("m") else 1.0)


def _other_sizes(key: str, names: Iterable[str]) -> tuple[str, str, list[str]] | None:
    """``llama-3.1-13b`` when no such preset exists: ("llama-3.1", "13b", the llama-3.1 presets by size), so the
    error says there is no preset of that size instead of suggesting the nearest spelling (llama-3.2-3b)."""
    m = _SIZED.fullmatch(key)
    if m is None:
        return None
    found = []
    for n in names:
        other = _SIZED.fullmatch(n)
        if other is not None and other.group("stem") == m.group("stem"):
            found.append((_size_value(other.group("size")), n))
    if not found or any(v == _size_value(m.group("size")) for v, _ in found):
        return None  # that size exists: a spelling mistake elsewhere, which difflib handles
    return m.group("stem"), m.group("size"), [n for _, n in sorted(found)]


def _lookup(key: str, dirs: list[str]) -> str | None:
    """The preset file whose file name, name or alias is exactly ``key`` (user folders first)."""
    for d in dirs:
        for suffix in (".yaml", ".yml"):
            candidate = os.path.join(d, key + suffix)
            if os.path.isfile(candidate):
                return candidate
    for d in dirs:
        for path in _files(d):
            try:
                names = _names_in(path)
            except ConfigError:  # a broken user file fails only when asked for by its file name
                continue
            if key in names:
                return path
    builtin = builtin_dir()
    candidate = os.path.join(builtin, key + ".yaml")
    if os.path.isfile(candidate):
        return candidate
    index = _read_index(builtin)
    if key in index:
        return os.path.join(builtin, index[key] + ".yaml")
    return None


def load_preset(name: str, *, extra_dirs: Iterable[str | os.PathLike[str]] = ()) -> Preset:
    """Load one preset by name or alias (user folders first, then the built-in ones).

    When the name was matched loosely (see :func:`resolve_preset`), ``match_note`` says which
    preset was used.
    """
    path, note = resolve_preset(name, extra_dirs=extra_dirs)
    preset = load_preset_file(path)
    return replace(preset, match_note=note) if note else preset


def all_preset_paths(*, extra_dirs: Iterable[str | os.PathLike[str]] = ()) -> list[str]:
    """Every preset file; a user preset hides a built-in one of the same name."""
    seen: dict[str, str] = {}
    for d in [*user_dirs(extra_dirs), builtin_dir()]:
        for path in _files(d):
            seen.setdefault(_stem(path), path)
    return sorted(seen.values(), key=_stem)


def load_all_presets(*, extra_dirs: Iterable[str | os.PathLike[str]] = ()) -> list[Preset]:
    """Every preset that loads; a broken user preset is left out (see :func:`broken_presets`)."""
    return scan_presets(extra_dirs)[0]


def broken_presets(*, extra_dirs: Iterable[str | os.PathLike[str]] = ()) -> list[tuple[str, str]]:
    """``(path, error)`` for every user preset file that does not load."""
    return scan_presets(extra_dirs)[1]


def scan_presets(
    extra_dirs: Iterable[str | os.PathLike[str]] = (),
) -> tuple[list[Preset], list[tuple[str, str]]]:
    """Every preset that loads, and ``(path, error)`` for each user preset file that does not."""
    from llmcalc.importers.parsed_presets import preset_data, read_parsed  # not needed for one preset

    builtin = builtin_dir()
    parsed = read_parsed(builtin)  # the built-in files' parsed YAML, where up to date (parsed.json)
    good: list[Preset] = []
    bad: list[tuple[str, str]] = []
    for path in all_preset_paths(extra_dirs=extra_dirs):
        if os.path.dirname(path) == builtin:
            good.append(preset_from_mapping(preset_data(path, parsed), path=path))
            continue
        try:
            good.append(load_preset_file(path))
        except (ConfigError, PresetError, ValueError) as exc:  # SpecError is a ValueError
            bad.append((path, str(exc)))
    return good, bad


def load_preset_file(path: str | os.PathLike[str]) -> Preset:
    """Parse and validate one preset file; every error names the file and key."""
    path = os.fspath(path)
    data = load_yaml(read_text(path), source=path)
    builtin = os.path.dirname(os.path.abspath(path)) == os.path.abspath(builtin_dir())
    return preset_from_mapping(data, path=path, builtin=builtin)


def preset_from_mapping(data: object, *, path: str | os.PathLike[str], builtin: bool = True) -> Preset:
    """Validate a parsed preset; ``path`` names the file (its stem must equal ``name``).

    A built-in preset (``builtin``) must carry ``family``, ``source`` and ``published``; a user's
    own preset needs only ``name`` and ``config``.
    """
    path = os.fspath(path)
    source = path
    required = _REQUIRED if builtin else _USER_REQUIRED
    if not isinstance(data, Mapping):
        raise ConfigError(f"{source}: a preset must be a mapping with keys {', '.join(required)}")
    missing = [k for k in required if k not in data]
    unknown = sorted(set(data) - _ALLOWED)
    problems = [f"missing key '{k}'" for k in missing] + [f"unknown key '{k}'" for k in unknown]
    if problems:
        raise ConfigError(f"{source}: " + "; ".join(problems))
    name = _string(data, "name", source)
    if _normalise(name) != _normalise(_stem(path)):
        raise ConfigError(f"{source}: key 'name' is '{name}' but the file is named '{_stem(path)}'; make them agree")
    aliases = data.get("aliases") or []
    if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
        raise ConfigError(f"{source}: key 'aliases' must be a list of names")
    variants = data.get("variants") or {}
    if not isinstance(variants, Mapping):
        raise ConfigError(f"{source}: key 'variants' must map a flavour to a repository")
    config = data["config"]
    if not isinstance(config, Mapping):
        raise ConfigError(f"{source}: key 'config' must be the mapping of config.json fields")
    spec = spec_from_hf_config(config, source=f"{source} config", name=name)
    return Preset(
        name=name,
        display_name=str(data.get("display_name") or name),
        family=_string(data, "family", source) if builtin or "family" in data else "user",
        flavour=str(data["flavour"]) if data.get("flavour") else None,
        aliases=tuple(aliases),
        variants=tuple((str(k), str(v)) for k, v in variants.items()),
        hf_repo=str(data["hf_repo"]) if data.get("hf_repo") else None,
        source=_string(data, "source", source) if builtin or "source" in data else None,
        published=_published(data["published"], source) if builtin or data.get("published") is not None else None,
        notes=str(data["notes"]) if data.get("notes") else None,
        rumour=bool(data.get("rumour", False)),
        stored_output_head=_flag(data, "stored_output_head", source),
        native_format=_native_format(data, source),
        path=path,
        spec=spec,
        builtin=builtin,
        reference=_reference(data.get("reference"), source),
    )


def _native_format(data: Mapping[str, Any], source: str) -> str | None:
    """``native_format``: a weight-format name (checked against ``llmcalc quant`` where it is used, so that
    loading a preset does not import the format catalogue)."""
    value = data.get("native_format")
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{source}: key 'native_format' must be a weight-format name (`llmcalc quant` lists them)")
    return value.strip()


def _flag(data: Mapping[str, Any], key: str, source: str) -> bool:
    value = data.get(key, False)
    if not isinstance(value, bool):
        raise ConfigError(f"{source}: key '{key}' must be true or false")
    return value


def _string(data: Mapping[str, Any], key: str, source: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{source}: key '{key}' must be a non-empty string")
    return value


def _published(raw: object, source: str) -> Published:
    where = f"{source} published"
    if not isinstance(raw, Mapping) or "total_params" not in raw or "source" not in raw:
        raise ConfigError(f"{where}: needs 'total_params' and 'source'")
    unknown = sorted(set(raw) - _PUBLISHED_KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown key '{unknown[0]}'")

    def figure(key: str) -> PublishedFigure | None:
        return PublishedFigure.parse(raw[key], source=f"{where}.{key}") if raw.get(key) is not None else None

    tolerance = raw.get("tolerance")
    if tolerance is not None and (not isinstance(tolerance, (int, float)) or not 0 < tolerance < 1):
        raise ConfigError(f"{where}.tolerance: must be a fraction between 0 and 1")
    total = figure("total_params")
    if total is None:
        raise ConfigError(f"{where}.total_params: must be an integer or like '46.7B', got null")
    return Published(
        total_params=total,
        source=str(raw["source"]),
        active_params=figure("active_params"),
        non_embedding_params=figure("non_embedding_params"),
        note=str(raw["note"]) if raw.get("note") else None,
        tolerance=float(tolerance) if tolerance is not None else None,
    )
