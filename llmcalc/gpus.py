"""The accelerator catalogue: memory, bandwidth and dense tensor throughput of GPUs and their kin.

The built-in catalogue is ``llmcalc/data/gpus.yaml``; users add YAML files of the same shape with
``--gpus-file`` (repeatable) or ``LLMCALC_GPUS`` (several files joined with the OS path separator).
Files are read in order, built-in first, then ``LLMCALC_GPUS``, then ``--gpus-file``; an entry whose
name is already known replaces the earlier one. A file looks like::

    gpus:
      my-card:                       # the name used on the command line
        name: My Card 48GB           # display name
        aliases: [mycard]
        vendor: nvidia
        memory_gib: 48               # or memory_gb (10^9 bytes); exactly one
        memory_bandwidth_gb_s: 960
        bf16_dense_tflops: 181       # without 2:4 sparsity; null when unknown
        fp8_dense_tflops: null
        source: https://example.com/datasheet.pdf

Every figure is held as an integer: bytes, bytes per second, FLOP/s. Decimal figures in the file are
converted exactly (``3276.8`` GB/s is 3,276,800,000,000 B/s) and rounded down to a whole unit only where
a binary scale leaves a fraction of a byte. Each file is validated once, here, and every problem in it
is reported at once with the file and key path.
"""

from __future__ import annotations

import difflib
import math
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import Any

from llmcalc.errors import GPUError
from llmcalc.importers.files import read_yaml

GPUS_ENV = "LLMCALC_GPUS"
BUILTIN_FILE = Path(__file__).parent / "data" / "gpus.yaml"

_REQUIRED = ("name", "vendor", "memory_bandwidth_gb_s", "source")
_MEMORY_KEYS = ("memory_gib", "memory_gb")
_ALLOWED = {
    *_REQUIRED, *_MEMORY_KEYS, "aliases", "bf16_dense_tflops", "fp8_dense_tflops", "unified_memory",
    "gpu_usable_fraction", "gpu_usable_fraction_source", "nvidia_smi_total_mib", "notes",
}
_NAME_RE = re.compile(r"[a-z0-9][a-z0-9.-]*")
_SEPARATORS = re.compile(r"[\s_-]+")


@dataclass(frozen=True)
class GPU:
    """One accelerator, its figures as integers in base units.

    ``usable_memory_bytes`` is the memory a model may occupy before runtime overheads: the whole
    capacity on a discrete card, the default GPU share (``usable_fraction``) of RAM on unified memory.
    """

    name: str
    display_name: str
    vendor: str
    memory_bytes: int
    memory_bandwidth_bytes_s: int
    bf16_dense_flops: int | None
    fp8_dense_flops: int | None
    unified_memory: bool
    usable_memory_bytes: int
    nvidia_smi_total_bytes: int | None
    source: str
    notes: str | None
    aliases: tuple[str, ...] = ()
    usable_fraction: str | None = None
    usable_fraction_source: str | None = None

    @classmethod
    def from_mapping(cls, name: str, data: object, *, source: str) -> GPU:
        """Validate one catalogue entry; every problem is named in one :class:`GPUError`."""
        gpu, problems = _parse_entry(name, data)
        if problems or gpu is None:
            raise GPUError(f"{source}: " + "; ".join(problems))
        return gpu


@dataclass(frozen=True)
class GPUSet:
    """``count`` identical accelerators, as a model is sharded across them."""

    gpu: GPU
    count: int = 1

    def __post_init__(self) -> None:
        if isinstance(self.count, bool) or not isinstance(self.count, int) or self.count < 1:
            raise GPUError(f"a GPU count must be a whole number of at least 1, got {self.count!r}")

    @property
    def total_memory_bytes(self) -> int:
        return self.gpu.memory_bytes * self.count

    @property
    def total_usable_memory_bytes(self) -> int:
        return self.gpu.usable_memory_bytes * self.count


def normalise(name: str) -> str:
    """The lookup key of a name or alias: lowercase, with spaces, '_' and '-' removed."""
    return _SEPARATORS.sub("", name.strip().lower())


def user_files(extra_files: Iterable[str | Path] = ()) -> list[Path]:
    """User catalogue files in the order they apply: ``LLMCALC_GPUS`` first, then ``extra_files``."""
    env = os.environ.get(GPUS_ENV, "")
    return [Path(p) for p in env.split(os.pathsep) if p] + [Path(p) for p in extra_files]


def load_catalogue(extra_files: Iterable[str | Path] = ()) -> dict[str, GPU]:
    """Every GPU by name: the built-in catalogue, then user files (a later entry replaces an earlier one).

    Raises :class:`GPUError` naming the file and key for an invalid entry or an alias used twice, and
    :class:`~llmcalc.errors.ConfigError` for a file that cannot be read or parsed.
    """
    entries: dict[str, GPU] = dict(_builtin())
    origin = dict.fromkeys(entries, "the built-in catalogue")
    for path in user_files(extra_files):
        for gpu in load_file(path).values():
            entries[gpu.name] = gpu
            origin[gpu.name] = str(path)
    owner: dict[str, str] = {}
    problems: list[str] = []
    for gpu in entries.values():
        for label in (gpu.name, *gpu.aliases):
            key = normalise(label)
            other = owner.setdefault(key, gpu.name)
            if other != gpu.name:
                what = "name" if label == gpu.name else "alias"
                hint = f"; to replace that entry, name yours {other}" if what == "name" else ""
                problems.append(f"{origin[gpu.name]}: gpus.{gpu.name}: {what} '{label}' is already used by "
                                f"{other} (from {origin[other]}){hint}")
    if problems:
        raise GPUError("; ".join(problems))
    return entries


def get_gpu(name: str, extra_files: Iterable[str | Path] = ()) -> GPU:
    """The GPU a name or alias refers to; case, spaces, '_' and '-' do not matter."""
    catalogue = load_catalogue(extra_files)
    labels: dict[str, tuple[str, GPU]] = {}
    for gpu in catalogue.values():
        for label in (gpu.name, *gpu.aliases):
            labels.setdefault(normalise(label), (label, gpu))
    key = normalise(name)
    if key in labels:
        return labels[key][1]
    suggestions: dict[str, str] = {}  # one label per GPU, the closest first
    for match in difflib.get_close_matches(key, list(labels), n=10, cutoff=0.6):
        label, gpu = labels[match]
        suggestions.setdefault(gpu.name, label)
    close = list(suggestions.values())[:3]
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise GPUError(f"unknown GPU '{name}'{hint} (`llmcalc gpus` lists them)")


_GPU_SET = re.compile(r"\s*(?:(\d+)\s*[x×*]\s*)?(\S.*?)\s*", flags=re.IGNORECASE)


def split_gpu_set(text: str) -> tuple[str, int] | None:
    """``"h100"`` -> ``("h100", 1)``; ``"8xh100"`` or ``"8 X H100"`` -> ``("H100", 8)``; None if malformed."""
    match = _GPU_SET.fullmatch(text)
    if match is None or (match.group(1) is not None and int(match.group(1)) < 1):
        return None
    return match.group(2), int(match.group(1) or 1)


def parse_gpu_set(text: str, extra_files: Iterable[str | Path] = ()) -> GPUSet:
    """``"h100"`` -> one H100; ``"8xh100"`` or ``"8 x H100"`` -> eight."""
    parts = split_gpu_set(text)
    if parts is None:
        raise GPUError(f"'{text}' is not a GPU or a count x GPU (h100, 8xh100)")
    return GPUSet(get_gpu(parts[0], extra_files), parts[1])


def load_file(path: Path) -> dict[str, GPU]:
    """Parse and validate one catalogue file; every problem in it is named in one :class:`GPUError`."""
    data = read_yaml(path)
    return catalogue_from_mapping(data, source=str(path))


def catalogue_from_mapping(data: object, *, source: str) -> dict[str, GPU]:
    """The GPUs of a parsed catalogue file (``{"gpus": {name: entry}}``), in file order."""
    if not isinstance(data, Mapping) or not isinstance(data.get("gpus"), Mapping):
        raise GPUError(f"{source}: expected a mapping with the key 'gpus', mapping each GPU name to its figures")
    problems = [f"unknown key '{k}'" for k in data if k != "gpus"]
    gpus: dict[str, GPU] = {}
    for name, entry in data["gpus"].items():
        gpu, entry_problems = _parse_entry(name, entry)
        problems += entry_problems
        if gpu is not None:
            gpus[gpu.name] = gpu
    if problems:
        raise GPUError(f"{source}: " + "; ".join(problems))
    return gpus


@lru_cache(maxsize=1)
def _builtin() -> dict[str, GPU]:
    return load_file(BUILTIN_FILE)


def _parse_entry(name: object, data: object) -> tuple[GPU | None, list[str]]:
    """A GPU and no problems, or None and every problem found, each prefixed with its key path."""
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
        return None, [f"gpus.{name}: a GPU name must be lowercase letters, digits, '.' and '-'"]
    where = f"gpus.{name}"
    if not isinstance(data, Mapping):
        return None, [f"{where} must be a mapping of the GPU's figures"]
    problems = [f"{where}: missing key '{k}'" for k in _REQUIRED if k not in data]
    problems += [f"{where}: unknown key '{k}'" for k in data if k not in _ALLOWED]
    memory_keys = [k for k in _MEMORY_KEYS if k in data]
    if len(memory_keys) != 1:
        problems.append(f"{where}: give exactly one of memory_gib, memory_gb")

    def text(key: str, *, required: bool = True) -> str | None:
        value = data.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
        if key in data and (required or value is not None):  # a missing required key is reported above
            problems.append(f"{where}.{key} must be a non-empty string")
        return None

    def number(key: str, scale: int, *, optional: bool = False) -> int | None:
        value = data.get(key)
        if value is None and (optional or key not in data):
            return None
        exact = _positive(value)
        if exact is None:
            problems.append(f"{where}.{key} must be a positive number" + (" or null" if optional else ""))
            return None
        return math.floor(exact * scale)

    display_name = text("name")
    vendor = text("vendor")
    source = text("source")
    notes = text("notes", required=False)
    memory = number(memory_keys[0], 2**30 if memory_keys[0] == "memory_gib" else 10**9) if memory_keys else None
    bandwidth = number("memory_bandwidth_gb_s", 10**9)
    bf16 = number("bf16_dense_tflops", 10**12, optional=True)
    fp8 = number("fp8_dense_tflops", 10**12, optional=True)
    smi_mib = data.get("nvidia_smi_total_mib")
    if smi_mib is not None and (isinstance(smi_mib, bool) or not isinstance(smi_mib, int) or smi_mib <= 0):
        problems.append(f"{where}.nvidia_smi_total_mib must be a positive whole number of MiB")
        smi_mib = None
    smi_bytes = smi_mib * 2**20 if smi_mib is not None else None
    if smi_bytes is not None and memory is not None and smi_bytes > memory:
        problems.append(f"{where}.nvidia_smi_total_mib is more than the memory capacity")

    aliases = data.get("aliases") or []
    if not isinstance(aliases, list) or not all(isinstance(a, str) and normalise(a) for a in aliases):
        problems.append(f"{where}.aliases must be a list of names")
        aliases = []
    unified = data.get("unified_memory", False)
    if not isinstance(unified, bool):
        problems.append(f"{where}.unified_memory must be true or false")
        unified = False

    fraction, fraction_source = _usable_fraction(data, where, unified, problems)
    if problems or display_name is None or vendor is None or source is None or memory is None or bandwidth is None:
        return None, problems
    usable = math.floor(memory * fraction) if fraction is not None else memory
    return GPU(
        name=name,
        display_name=display_name,
        vendor=vendor,
        memory_bytes=memory,
        memory_bandwidth_bytes_s=bandwidth,
        bf16_dense_flops=bf16,
        fp8_dense_flops=fp8,
        unified_memory=unified,
        usable_memory_bytes=usable,
        nvidia_smi_total_bytes=smi_bytes,
        source=source,
        notes=notes,
        aliases=tuple(aliases),
        usable_fraction=str(fraction) if fraction is not None else None,
        usable_fraction_source=fraction_source,
    ), []


def _usable_fraction(data: Mapping[str, Any], where: str, unified: bool,
                     problems: list[str]) -> tuple[Fraction | None, str | None]:
    """The GPU share of unified memory and its source; required with unified memory, refused without."""
    raw, raw_source = data.get("gpu_usable_fraction"), data.get("gpu_usable_fraction_source")
    if not unified:
        if raw is not None or raw_source is not None:
            problems.append(f"{where}.gpu_usable_fraction applies only with unified_memory: true")
        return None, None
    fraction = None
    if raw is None:
        problems.append(f"{where}: unified memory needs gpu_usable_fraction, the share of RAM the GPU may use")
    elif isinstance(raw, str) and re.fullmatch(r"\s*\d+\s*/\s*\d+\s*", raw) and int(raw.split("/")[1]) != 0:
        fraction = Fraction(raw.replace(" ", ""))
    else:
        fraction = _positive(raw) if not isinstance(raw, str) else None
    if raw is not None and (fraction is None or not 0 < fraction <= 1):
        problems.append(f"{where}.gpu_usable_fraction must be a fraction in (0, 1], like 0.75 or \"3/4\"")
        fraction = None
    if not isinstance(raw_source, str) or not raw_source.strip():
        problems.append(f"{where}.gpu_usable_fraction_source must say where the fraction comes from")
        return fraction, None
    return fraction, raw_source.strip()


def _positive(value: object) -> Fraction | None:
    """An int or float > 0 as an exact fraction of its decimal text (0.1 -> 1/10), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    exact = Fraction(value) if isinstance(value, int) else Fraction(repr(value))
    return exact if exact > 0 else None
