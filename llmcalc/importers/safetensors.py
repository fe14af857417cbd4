"""Read safetensors headers (never the weights) and count what the tensors hold.

Format (``huggingface/safetensors`` README, "Format"): an unsigned little-endian 64-bit header
length ``N``, then ``N`` bytes of UTF-8 JSON mapping each tensor name to ``{"dtype", "shape",
"data_offsets": [begin, end]}`` (offsets relative to the byte after the header) plus an optional
``"__metadata__"`` mapping of strings, then the tensor data. A sharded checkpoint adds
``model.safetensors.index.json`` whose ``weight_map`` names the shard of every tensor.

Reading is bounded: the header length is checked against the file size (and a 100 MB cap) before
any of it is read, and every tensor's ``data_offsets`` against its shape, dtype and the file size.
Only the ``weight_shape`` tensors of compressed-tensors checkpoints (a few integers each) are read
from the data section.

Counting (:func:`count_tensors`): a tensor's parameters are its elements, except for

- packed quantized weights, counted as the values they represent: GPTQ/AWQ ``qweight`` (int32
  holding ``32 / bits`` values), compressed-tensors ``weight_packed`` (its ``weight_shape``, or the
  packing factor), bitsandbytes 4-bit ``weight`` (uint8, 2 values a byte), MXFP4 ``*_blocks``
  (uint8, 2 values a byte; gpt-oss);
- quantization metadata (``scales``, ``qzeros``, ``g_idx``, ``weight_scale``, ``absmax``, ...),
  whose bytes are stored but which are not parameters of the model;
- buffers some checkpoints store (rotary ``inv_freq``, GPT-2's causal-mask ``attn.bias``,
  DeepSeek-V3's ``e_score_correction_bias``), which are not parameters either.

Bytes are always the exact bytes of each tensor, grouped by stored dtype.
"""

from __future__ import annotations

import json
import math
import re
import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmcalc.errors import FileFormatError
from llmcalc.importers.files import reading

#: A header longer than this is refused (the largest real ones, DeepSeek-V3 shards, are < 1 MB; a
#: single-file checkpoint of 100,000 tensors would need about 10 MB).
MAX_HEADER_BYTES = 16 * 1000 * 1000


def _header_int(text: str) -> int:
    """A header integer: offsets and dimensions fit in 64 bits, so 20 digits; NaN/Infinity refused."""
    if not text.lstrip("-").isdigit() or len(text) > 21:
        raise ValueError(f"{text[:30]!r} is not an integer a header can hold")
    return int(text)

#: Bits per element of each safetensors dtype (``Dtype::bitsize`` in safetensors ``tensor.rs``).
DTYPE_BITS: dict[str, int] = {
    "BOOL": 8,
    "U8": 8,
    "I8": 8,
    "F8_E5M2": 8,
    "F8_E4M3": 8,
    "F8_E8M0": 8,
    "I16": 16,
    "U16": 16,
    "F16": 16,
    "BF16": 16,
    "I32": 32,
    "U32": 32,
    "F32": 32,
    "I64": 64,
    "U64": 64,
    "F64": 64,
    "F4": 4,
    "F6_E2M3": 6,
    "F6_E3M2": 6,
}

INDEX_SUFFIX = ".safetensors.index.json"


@dataclass(frozen=True)
class Tensor:
    """One tensor of a safetensors file, as its header describes it."""

    name: str
    dtype: str
    shape: tuple[int, ...]
    begin: int
    end: int

    @property
    def numel(self) -> int:
        return math.prod(self.shape)

    @property
    def nbytes(self) -> int:
        return self.end - self.begin


@dataclass(frozen=True)
class SafetensorsHeader:
    """The parsed header of one file: its tensors, ``__metadata__``, and where the data starts."""

    path: Path
    tensors: tuple[Tensor, ...]
    metadata: tuple[tuple[str, str], ...]
    data_start: int
    file_bytes: int


@dataclass(frozen=True)
class TensorCount:
    """What a set of tensors holds: parameters represented, exact bytes per dtype, and why.

    ``params`` counts packed values as the parameters they stand for and leaves out quantization
    metadata and buffers (``metadata_bytes`` and ``buffer_bytes`` are in ``total_bytes`` all the
    same). ``extra_layer_params`` are parameters of layers numbered past the config's
    ``num_hidden_layers`` (DeepSeek-V3's multi-token-prediction module), inside ``params``.
    """

    files: tuple[str, ...]
    tensors: int
    params: int
    total_bytes: int
    bytes_by_dtype: tuple[tuple[str, int], ...]
    metadata_bytes: int
    buffer_bytes: int
    extra_layer_params: int
    notes: tuple[str, ...]


# --- reading ---------------------------------------------------------------------------------


def read_header(path: Path) -> SafetensorsHeader:
    """Read and check one file's header; raises :class:`FileFormatError` naming the file."""
    with reading(path, error=FileFormatError, expected="a .safetensors file"), path.open("rb") as fh:
        size = path.stat().st_size
        prefix = fh.read(8)
        if len(prefix) < 8:
            raise FileFormatError(f"{path}: truncated: {size} bytes is too short for a safetensors header")
        (length,) = struct.unpack("<Q", prefix)
        if length > size - 8:
            raise FileFormatError(
                f"{path}: header length {length:,} is larger than the file ({size:,} bytes); "
                "truncated or not a safetensors file"
            )
        if length > MAX_HEADER_BYTES:
            raise FileFormatError(f"{path}: header length {length:,} exceeds the {MAX_HEADER_BYTES:,}-byte limit")
        raw = fh.read(length)
    if len(raw) != length:
        raise FileFormatError(f"{path}: truncated header")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FileFormatError(f"{path}: header is not UTF-8 ({exc.reason} at byte {8 + exc.start})") from None
    try:
        data = json.loads(text, parse_int=_header_int, parse_constant=_header_int)
    except json.JSONDecodeError as exc:
        raise FileFormatError(f"{path}: header is not valid JSON ({exc.msg} at char {exc.pos})") from None
    except RecursionError:
        raise FileFormatError(f"{path}: header JSON is nested too deeply") from None
    except ValueError as exc:
        raise FileFormatError(f"{path}: header is not valid: {exc}") from None
    if not isinstance(data, dict):
        raise FileFormatError(f"{path}: header must be a JSON object, got {type(data).__name__}")
    return _parse_header(path, data, data_start=8 + length, file_bytes=size)


def _parse_header(path: Path, data: dict[str, Any], *, data_start: int, file_bytes: int) -> SafetensorsHeader:
    data_bytes = file_bytes - data_start
    metadata = data.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise FileFormatError(f"{path}: '__metadata__' must map strings to strings")
    tensors = []
    for name, info in data.items():
        where = f"{path}: tensor '{name}'"
        if not isinstance(info, dict):
            raise FileFormatError(f"{where}: expected an object with dtype, shape and data_offsets")
        dtype, shape, offsets = info.get("dtype"), info.get("shape"), info.get("data_offsets")
        if not isinstance(dtype, str):
            raise FileFormatError(f"{where}: missing or invalid 'dtype'")
        if dtype not in DTYPE_BITS:
            raise FileFormatError(f"{where}: unknown dtype '{dtype}' (known: {', '.join(DTYPE_BITS)})")
        if not isinstance(shape, list) or not all(_is_uint(d) for d in shape):
            raise FileFormatError(f"{where}: 'shape' must be a list of non-negative integers, got {shape!r}")
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(_is_uint(o) for o in offsets)):
            raise FileFormatError(f"{where}: 'data_offsets' must be [begin, end], got {offsets!r}")
        begin, end = offsets
        bits = math.prod(shape) * DTYPE_BITS[dtype]
        if bits % 8:
            raise FileFormatError(f"{where}: {math.prod(shape)} elements of {dtype} do not fill whole bytes")
        if end < begin or end - begin != bits // 8:
            raise FileFormatError(
                f"{where}: data_offsets [{begin}, {end}] hold {end - begin} bytes but shape {shape} of {dtype} "
                f"needs {bits // 8}"
            )
        if end > data_bytes:
            raise FileFormatError(
                f"{where}: data ends at byte {data_start + end:,} but the file has {file_bytes:,} bytes (truncated?)"
            )
        tensors.append(Tensor(name=name, dtype=dtype, shape=tuple(shape), begin=begin, end=end))
    return SafetensorsHeader(
        path=path,
        tensors=tuple(tensors),
        metadata=tuple(sorted(metadata.items())),
        data_start=data_start,
        file_bytes=file_bytes,
    )


def _is_uint(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def read_index(path: Path) -> list[Path]:
    """The shard files a ``*.safetensors.index.json`` names, checked to exist, in order."""
    from llmcalc.importers.files import read_json

    data = read_json(path)
    weight_map = data.get("weight_map") if isinstance(data, dict) else None
    if not isinstance(weight_map, dict) or not all(isinstance(v, str) for v in weight_map.values()):
        raise FileFormatError(f"{path}: expected an object with a 'weight_map' of tensor name -> shard file")
    shards: list[Path] = []
    for name in dict.fromkeys(weight_map.values()):
        if Path(name).name != name:
            raise FileFormatError(f"{path}: shard '{name}' must be a file name beside the index")
        shard = path.parent / name
        if not shard.is_file():
            raise FileFormatError(f"{path}: missing shard '{name}' (listed in weight_map, not in {path.parent})")
        shards.append(shard)
    if not shards:
        raise FileFormatError(f"{path}: 'weight_map' is empty")
    return shards


def weight_files(folder: Path) -> tuple[Path | None, list[Path]]:
    """The index (if any) and the safetensors files of a model folder.

    With a ``model.safetensors.index.json`` (or one other ``*.safetensors.index.json``) only the
    shards it names are read, so Mistral-style folders that also hold ``consolidated.safetensors``
    are not counted twice. Without an index, every ``*.safetensors`` file in the folder is read.
    """
    indexes = sorted(folder.glob(f"*{INDEX_SUFFIX}"))
    preferred = folder / f"model{INDEX_SUFFIX}"
    if preferred in indexes:
        return preferred, read_index(preferred)
    if len(indexes) == 1:
        return indexes[0], read_index(indexes[0])
    return None, sorted(p for p in folder.glob("*.safetensors") if p.is_file())


def read_headers(paths: Iterable[Path]) -> list[SafetensorsHeader]:
    """Headers of several shards; a tensor name in two shards is an error."""
    headers = [read_header(p) for p in paths]
    seen: dict[str, Path] = {}
    for header in headers:
        for t in header.tensors:
            if t.name in seen:
                raise FileFormatError(f"{header.path}: tensor '{t.name}' is also in {seen[t.name].name}")
            seen[t.name] = header.path
    return headers


def read_small_ints(header: SafetensorsHeader, tensor: Tensor) -> list[int] | None:
    """The values of a tiny 1-D integer tensor (compressed-tensors' ``weight_shape``), else ``None``."""
    formats = {"I64": "q", "I32": "i", "U64": "Q", "U32": "I", "I16": "h"}
    if tensor.dtype not in formats or len(tensor.shape) != 1 or tensor.numel > 8:
        return None
    with header.path.open("rb") as fh:
        fh.seek(header.data_start + tensor.begin)
        raw = fh.read(tensor.nbytes)
    if len(raw) != tensor.nbytes:
        raise FileFormatError(f"{header.path}: tensor '{tensor.name}': truncated data")
    return list(struct.unpack(f"<{tensor.numel}{formats[tensor.dtype]}", raw))


# --- counting --------------------------------------------------------------------------------

#: Quantization metadata, whatever its neighbours (compressed-tensors, FP8 and NVFP4 checkpoints).
_QUANT_META_SUFFIXES = (
    ".weight_scale",
    ".weight_scale_inv",
    ".weight_scale_2",
    ".weight_zero_point",
    ".weight_g_idx",
    ".weight_shape",
    ".weight_global_scale",
    ".input_scale",
    ".input_global_scale",
    ".output_scale",
    ".k_scale",
    ".v_scale",
    ".q_scale",
    ".SCB",
    ".weight_format",
)
#: GPTQ/AWQ companions of a ``qweight``.
_GPTQ_META = ("qzeros", "scales", "g_idx")
#: Buffers that some checkpoints store; not learned parameters.
_BUFFER_SUFFIXES = (".inv_freq", ".attn.bias", ".attn.masked_bias", ".e_score_correction_bias", ".position_ids")
_LAYER_RE = re.compile(r"(?:^|\.)layers\.(\d+)\.")


def count_tensors(
    headers: Sequence[SafetensorsHeader],
    *,
    quantization_config: Mapping[str, Any] | None = None,
    num_layers: int | None = None,
) -> TensorCount:
    """Count parameters and bytes of the tensors in ``headers`` (see the module docstring).

    ``quantization_config`` is config.json's (``bits`` for GPTQ/AWQ, default 4).
    ``num_layers`` is the config's ``num_hidden_layers``: parameters of ``layers.N`` with ``N``
    at or past it are reported in ``extra_layer_params``.
    """
    qc = quantization_config or {}
    names = {t.name for h in headers for t in h.tensors}
    bits = _gptq_bits(qc)
    packed_bits = _compressed_bits(qc)
    by_dtype: dict[str, int] = {}
    params = meta_bytes = buffer_bytes = extra = 0
    packed: dict[str, int] = {}  # kind -> tensors
    for header in headers:
        for t in header.tensors:
            by_dtype[t.dtype] = by_dtype.get(t.dtype, 0) + t.nbytes
            kind, n = _classify(t, header, names, bits, packed_bits)
            if kind == "metadata":
                meta_bytes += t.nbytes
                continue
            if kind == "buffer":
                buffer_bytes += t.nbytes
                continue
            if kind != "plain":
                packed[kind] = packed.get(kind, 0) + 1
            params += n
            layer = _LAYER_RE.search(t.name)
            if num_layers is not None and layer and int(layer.group(1)) >= num_layers:
                extra += n
    notes = [_PACK_NOTES[k].format(n=n, per=32 // bits if 32 % bits == 0 else f"32/{bits}", bits=bits)
             for k, n in sorted(packed.items())]
    if meta_bytes:
        notes.append(f"{meta_bytes:,} bytes of quantization metadata (scales, zero points, group indices) are "
                     "stored but are not parameters.")
    if buffer_bytes:
        notes.append(f"{buffer_bytes:,} bytes of stored buffers (rotary inv_freq, causal masks, router score "
                     "biases) are not parameters.")
    if extra:
        notes.append(f"{extra:,} parameters sit in layers numbered past num_hidden_layers ({num_layers}); "
                     "DeepSeek-V3 stores its multi-token-prediction module there.")
    return TensorCount(
        files=tuple(str(h.path) for h in headers),
        tensors=sum(len(h.tensors) for h in headers),
        params=params,
        total_bytes=sum(by_dtype.values()),
        bytes_by_dtype=tuple(sorted(by_dtype.items(), key=lambda kv: (-kv[1], kv[0]))),
        metadata_bytes=meta_bytes,
        buffer_bytes=buffer_bytes,
        extra_layer_params=extra,
        notes=tuple(notes),
    )


_PACK_NOTES = {
    "gptq": "GPTQ/AWQ: {n} qweight tensors of int32 pack {per} {bits}-bit values each; counted as the values "
            "they hold.",
    "compressed": "compressed-tensors: {n} weight_packed tensors counted from their weight_shape (or packing "
                  "factor).",
    "bnb4": "bitsandbytes 4-bit: {n} uint8 weight tensors hold 2 values per byte; counted as 2 per byte.",
    "mxfp4": "MXFP4: {n} *_blocks tensors of uint8 hold 2 four-bit values per byte (one E8M0 scale per 32 "
             "values in *_scales); counted as 2 per byte.",
}


def _gptq_bits(qc: Mapping[str, Any]) -> int:
    bits = qc.get("bits", qc.get("w_bit", 4))
    return bits if isinstance(bits, int) and not isinstance(bits, bool) and 1 <= bits <= 32 else 4


def _compressed_bits(qc: Mapping[str, Any]) -> int:
    """``num_bits`` of the first weights scheme of a compressed-tensors config (default 4)."""
    groups = qc.get("config_groups")
    if isinstance(groups, Mapping):
        for group in groups.values():
            weights = group.get("weights") if isinstance(group, Mapping) else None
            bits = weights.get("num_bits") if isinstance(weights, Mapping) else None
            if isinstance(bits, int) and not isinstance(bits, bool) and bits in (2, 4, 8):
                return bits
    return 4


def _classify(
    t: Tensor, header: SafetensorsHeader, names: set[str], bits: int, packed_bits: int
) -> tuple[str, int]:
    """(kind, parameters) of one tensor; kind is plain, metadata, buffer, or a packing kind."""
    name = t.name
    stem, _, leaf = name.rpartition(".")
    if name.endswith(_BUFFER_SUFFIXES):
        return "buffer", 0
    if name.endswith(_QUANT_META_SUFFIXES):
        return "metadata", 0
    if leaf in _GPTQ_META and f"{stem}.qweight" in names:
        return "metadata", 0
    if leaf == "qweight" and t.dtype in ("I32", "U32"):
        if (t.numel * 32) % bits:
            raise FileFormatError(f"{header.path}: tensor '{name}': {t.numel} int32 values do not hold whole "
                                  f"{bits}-bit values")
        return "gptq", t.numel * 32 // bits
    if leaf == "weight_packed":
        return "compressed", _compressed_params(t, header, stem, packed_bits)
    # bitsandbytes 4-bit: weight (uint8) with weight.absmax / weight.quant_map / weight.quant_state.*
    if ".weight." in name and (f"{name.split('.weight.')[0]}.weight" in names):
        return "metadata", 0
    if leaf == "weight" and t.dtype == "U8" and (f"{name}.absmax" in names or f"{name}.quant_map" in names):
        return "bnb4", 2 * t.numel
    if name.endswith("_scales") and t.dtype == "U8" and f"{name[: -len('_scales')]}_blocks" in names:
        return "metadata", 0
    if name.endswith("_blocks") and t.dtype == "U8" and f"{name[: -len('_blocks')]}_scales" in names:
        return "mxfp4", 2 * t.numel
    return "plain", t.numel


def _compressed_params(t: Tensor, header: SafetensorsHeader, stem: str, bits: int) -> int:
    shape_tensor = next((x for x in header.tensors if x.name == f"{stem}.weight_shape"), None)
    if shape_tensor is not None:
        values = read_small_ints(header, shape_tensor)
        if values and all(v > 0 for v in values):
            return math.prod(values)
    per_element = {"I32": 32 // bits, "U32": 32 // bits, "U8": 8 // bits, "I8": 8 // bits}.get(t.dtype)
    if per_element is None:
        raise FileFormatError(f"{header.path}: tensor '{t.name}': cannot unpack weight_packed of {t.dtype}")
    return per_element * t.numel
