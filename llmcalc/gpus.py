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
        memory_bandwidth_gb_s: 960   # optional: needed only by `llmcalc speed`
        bf16_dense_tflops: 181       # without 2:4 sparsity; optional (prefill speed needs it)
        fp8_dense_tflops: null
        source: https://example.com/datasheet.pdf   # optional in user files

Only a name and a memory figure are required in a user file; ``llmcalc speed`` says which figure it
lacks when an entry has no bandwidth or throughput.

**Usable memory: one figure, one definition.** ``usable_memory_bytes`` is the memory a model may
occupy on one device before any engine fraction, and ``usable_memory_basis`` says where it comes from:

- ``cuda_total``: the total CUDA reports (``cudaMemGetInfo`` / ``torch.cuda.get_device_properties(i)
  .total_memory``, printed by PyTorch as "GPU 0 has a total capacity of X GiB"), from the public log
  cited in ``cuda_total_source`` (``cuda_total_gib``);
- ``nvidia_smi_total``: nvidia-smi's ``memory.total`` where no CUDA figure was found (a little more
  than CUDA's total: the A100 80GB shows 81,920 MiB in nvidia-smi and 79.25 GiB in PyTorch);
- ``capacity``: the nominal capacity, where neither is recorded;
- ``wired_limit``: on unified memory (Apple), macOS's default GPU wired limit
  (``recommendedMaxWorkingSetSize``): :data:`WIRED_LIMIT_RULE`, or the entry's
  ``gpu_usable_fraction``; ``wired_limit_mb`` (the value you set with ``sudo sysctl
  iogpu.wired_limit_mb=N``, MiB) overrides it (``usable_memory_basis: wired_limit_mb``).

``llmcalc gpus --json`` and every fit (:func:`llmcalc.fit.usable_bytes`) use this one figure.

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

_REQUIRED = ("name",)
_MEMORY_KEYS = ("memory_gib", "memory_gb")
_ALLOWED = {
    *_REQUIRED, *_MEMORY_KEYS, "vendor", "memory_bandwidth_gb_s", "source", "aliases", "bf16_dense_tflops",
    "fp16_dense_tflops", "fp8_dense_tflops", "int8_dense_tops", "unified_memory", "gpu_usable_fraction",
    "gpu_usable_fraction_source", "nvidia_smi_total_mib", "cuda_total_gib", "cuda_total_source", "wired_limit_mb",
    "gpu_cores", "host_link_gb_s", "notes",
}

#: macOS's default GPU wired limit (Metal ``recommendedMaxWorkingSetSize``) as a share of RAM: 2/3 on
#: machines with at most 36 GiB, 3/4 above. Read from llama.cpp's Metal start-up logs, which print the
#: figure: 16 GiB M1 Pro 11,453.25 MB (= 2/3 x 16 GiB; discussion #4167 logs), 64 GiB machines 51,539.61 MB
#: (= 3/4 x 64 GiB); summarised in https://stencel.io/posts/apple-silicon-limitations-with-usage-on-local-llm%20.html.
#: Newer macOS releases have been measured giving more; ``wired_limit_mb`` in a GPU file records your own.
WIRED_LIMIT_RULE = ((36 * 2**30, Fraction(2, 3)), (None, Fraction(3, 4)))
WIRED_LIMIT_SOURCE = "https://stencel.io/posts/apple-silicon-limitations-with-usage-on-local-llm%20.html"


def default_wired_fraction(memory_bytes: int) -> Fraction:
    """The default GPU share of ``memory_bytes`` of unified memory (:data:`WIRED_LIMIT_RULE`)."""
    for limit, fraction in WIRED_LIMIT_RULE:
        if limit is None or memory_bytes <= limit:
            return fraction
    raise AssertionError("the last rule has no limit")
_NAME_RE = re.compile(r"[a-z0-9][a-z0-9.-]*")
_SEPARATORS = re.compile(r"[\s_-]+")


@dataclass(frozen=True)
class GPU:
    """One accelerator, its figures as integers in base units.

    ``usable_memory_bytes`` is the memory a model may occupy before runtime overheads, by the one
    definition in the module docstring; ``usable_memory_basis`` names which figure it is.
    ``memory_bandwidth_bytes_s`` and the throughputs are None when the entry does not give them.
    """

    name: str
    display_name: str
    vendor: str
    memory_bytes: int
    memory_bandwidth_bytes_s: int | None
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
    usable_memory_basis: str = "capacity"
    cuda_total_bytes: int | None = None
    cuda_total_source: str | None = None
    fp16_dense_flops: int | None = None
    int8_dense_ops: int | None = None
    gpu_cores: int | None = None
    host_link_bytes_s: int | None = None

    @property
    def dense_16bit_flops(self) -> int | None:
        """The dense 16-bit tensor rate the speed model uses: BF16, else FP16 (Volta, Turing)."""
        return self.bf16_dense_flops or self.fp16_dense_flops

    @classmethod
    def from_mapping(cls, name: str, data: object, *, source: str) -> GPU:
        """Validate one catalogue entry; every problem is named in one :class:`GPUError`."""
        gpu, problems = _parse_entry(name, data, default_source=source)
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


_GPU_SET = re.compile(r"\s*(?:([0-9]+)\s*[x×*]\s*)?(\S.*?)\s*", flags=re.IGNORECASE)

#: The most devices one GPU set may name (the largest clusters anyone plans are ~10^5 GPUs).
MAX_GPUS_IN_SET = 1_000_000


def split_gpu_set(text: str) -> tuple[str, int] | None:
    """``"h100"`` -> ``("h100", 1)``; ``"8xh100"`` or ``"8 X H100"`` -> ``("H100", 8)``; None if malformed."""
    match = _GPU_SET.fullmatch(text)
    if match is None or (match.group(1) is not None and not 0 < int(match.group(1)[:8]) <= MAX_GPUS_IN_SET
                         or len(match.group(1) or "") > 7):
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
        gpu, entry_problems = _parse_entry(name, entry, default_source=source)
        problems += entry_problems
        if gpu is not None:
            gpus[gpu.name] = gpu
    if problems:
        raise GPUError(f"{source}: " + "; ".join(problems))
    return gpus


@lru_cache(maxsize=1)
def _builtin() -> dict[str, GPU]:
    return load_file(BUILTIN_FILE)


def _parse_entry(name: object, data: object, default_source: str = "user entry") -> tuple[GPU | None, list[str]]:
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
    vendor = text("vendor") if "vendor" in data else "unknown"
    source = text("source") if "source" in data else default_source
    notes = text("notes", required=False)
    memory = number(memory_keys[0], 2**30 if memory_keys[0] == "memory_gib" else 10**9) if memory_keys else None
    bandwidth = number("memory_bandwidth_gb_s", 10**9, optional=True)
    bf16 = number("bf16_dense_tflops", 10**12, optional=True)
    fp16 = number("fp16_dense_tflops", 10**12, optional=True)
    fp8 = number("fp8_dense_tflops", 10**12, optional=True)
    int8 = number("int8_dense_tops", 10**12, optional=True)
    host_link = number("host_link_gb_s", 10**9, optional=True)
    cuda_total = number("cuda_total_gib", 2**30, optional=True)
    cuda_source = text("cuda_total_source", required=False)
    if cuda_total is not None and cuda_source is None:
        problems.append(f"{where}.cuda_total_source must say where the CUDA total comes from")
    if cuda_total is not None and memory is not None and cuda_total > memory:
        problems.append(f"{where}.cuda_total_gib is more than the memory capacity")
    cores = data.get("gpu_cores")
    if cores is not None and (isinstance(cores, bool) or not isinstance(cores, int) or cores <= 0):
        problems.append(f"{where}.gpu_cores must be a positive whole number")
        cores = None
    wired_mb = data.get("wired_limit_mb")
    if wired_mb is not None and (isinstance(wired_mb, bool) or not isinstance(wired_mb, int) or wired_mb <= 0):
        problems.append(f"{where}.wired_limit_mb must be a positive whole number of MiB")
        wired_mb = None
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

    if wired_mb is not None and not unified:
        problems.append(f"{where}.wired_limit_mb applies only with unified_memory: true")
    fraction, fraction_source = _usable_fraction(data, where, unified, problems, memory)
    if problems or display_name is None or vendor is None or source is None or memory is None:
        return None, problems
    if unified and wired_mb is not None:
        usable, basis = min(memory, wired_mb * 2**20), "wired_limit_mb"
    elif unified:
        usable, basis = math.floor(memory * (fraction or 1)), "wired_limit"
    elif cuda_total is not None:
        usable, basis = cuda_total, "cuda_total"
    elif smi_bytes is not None:
        usable, basis = smi_bytes, "nvidia_smi_total"
    else:
        usable, basis = memory, "capacity"
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
        usable_memory_basis=basis,
        cuda_total_bytes=cuda_total,
        cuda_total_source=cuda_source,
        fp16_dense_flops=fp16,
        int8_dense_ops=int8,
        gpu_cores=cores,
        host_link_bytes_s=host_link,
    ), []


def _usable_fraction(data: Mapping[str, Any], where: str, unified: bool, problems: list[str],
                     memory: int | None) -> tuple[Fraction | None, str | None]:
    """The GPU share of unified memory and its source; by :data:`WIRED_LIMIT_RULE` when not given."""
    raw, raw_source = data.get("gpu_usable_fraction"), data.get("gpu_usable_fraction_source")
    if not unified:
        if raw is not None or raw_source is not None:
            problems.append(f"{where}.gpu_usable_fraction applies only with unified_memory: true")
        return None, None
    fraction = None
    if raw is None:
        if raw_source is not None:
            problems.append(f"{where}.gpu_usable_fraction_source needs gpu_usable_fraction")
        if memory is None:
            return None, None
        return default_wired_fraction(memory), f"default rule (llmcalc.gpus.WIRED_LIMIT_RULE): {WIRED_LIMIT_SOURCE}"
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
