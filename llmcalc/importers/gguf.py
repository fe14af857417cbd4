"""Read GGUF files (llama.cpp's format): metadata, tensor infos, exact tensor bytes; never the weights.

Layout (``ggml-org/ggml`` ``docs/gguf.md``; ``ggml/include/gguf.h``): magic ``GGUF``, a uint32
version (2 or 3; 1 used 32-bit counts and lengths), tensor count and metadata count, the metadata
key/value pairs, the tensor infos (name, dims with ``ne[0]`` innermost, ggml type, offset), padding
to ``general.alignment`` (default 32), then the tensor data. A tensor of ggml type ``t`` takes
``numel / block_elems(t) * block_bytes(t)`` bytes (block sizes from ``ggml/src/ggml-common.h``).

Reading is bounded: every count and length is checked against the bytes left in the file before
anything is allocated, arrays longer than :data:`MAX_KEPT_ARRAY` (tokenizer vocabularies) are
skipped rather than kept, and every tensor's offset and size are checked against the file size.
Standard library only (``struct``); the optional ``gguf`` package is not needed.

:func:`config_from_gguf` maps an architecture's metadata (``{arch}.block_count``,
``{arch}.embedding_length``, ``{arch}.attention.head_count_kv`` ...) onto the Hugging Face
config.json fields that :func:`~llmcalc.importers.hf_config.spec_from_hf_config` reads, so a GGUF
file gets the same spec, and the same KV-cache figures, as the model's config.json.
"""

from __future__ import annotations

import math
import re
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from llmcalc.errors import FileFormatError
from llmcalc.importers.files import reading

MAGIC = b"GGUF"
DEFAULT_ALIGNMENT = 32
#: ggml's GGML_MAX_DIMS.
MAX_DIMS = 4
#: Metadata arrays longer than this (tokenizer tokens, merges, scores) are skipped, keeping only the length.
MAX_KEPT_ARRAY = 4096
#: Nested arrays deeper than this are refused.
MAX_ARRAY_DEPTH = 4

#: ggml type id -> (name, elements per block, bytes per block); ``ggml.h`` and ``ggml-common.h``.
GGML_TYPES: dict[int, tuple[str, int, int]] = {
    0: ("F32", 1, 4),
    1: ("F16", 1, 2),
    2: ("Q4_0", 32, 18),
    3: ("Q4_1", 32, 20),
    6: ("Q5_0", 32, 22),
    7: ("Q5_1", 32, 24),
    8: ("Q8_0", 32, 34),
    9: ("Q8_1", 32, 36),
    10: ("Q2_K", 256, 84),
    11: ("Q3_K", 256, 110),
    12: ("Q4_K", 256, 144),
    13: ("Q5_K", 256, 176),
    14: ("Q6_K", 256, 210),
    15: ("Q8_K", 256, 292),
    16: ("IQ2_XXS", 256, 66),
    17: ("IQ2_XS", 256, 74),
    18: ("IQ3_XXS", 256, 98),
    19: ("IQ1_S", 256, 50),
    20: ("IQ4_NL", 32, 18),
    21: ("IQ3_S", 256, 110),
    22: ("IQ2_S", 256, 82),
    23: ("IQ4_XS", 256, 136),
    24: ("I8", 1, 1),
    25: ("I16", 1, 2),
    26: ("I32", 1, 4),
    27: ("I64", 1, 8),
    28: ("F64", 1, 8),
    29: ("IQ1_M", 256, 56),
    30: ("BF16", 1, 2),
    34: ("TQ1_0", 256, 54),
    35: ("TQ2_0", 256, 66),
    39: ("MXFP4", 32, 17),
    40: ("NVFP4", 64, 36),
    41: ("Q1_0", 128, 18),
}
#: Ids that once existed and were removed from ggml (never reused); current llama.cpp cannot load them.
REMOVED_GGML_TYPES = {4: "Q4_2", 5: "Q4_3", 31: "Q4_0_4_4", 32: "Q4_0_4_8", 33: "Q4_0_8_8",
                      36: "IQ4_NL_4_4", 37: "IQ4_NL_4_8", 38: "IQ4_NL_8_8"}

#: ``general.file_type`` (llama.cpp ``LLAMA_FTYPE_*``) -> name.
FILE_TYPES = {
    0: "ALL_F32", 1: "MOSTLY_F16", 2: "MOSTLY_Q4_0", 3: "MOSTLY_Q4_1", 7: "MOSTLY_Q8_0", 8: "MOSTLY_Q5_0",
    9: "MOSTLY_Q5_1", 10: "MOSTLY_Q2_K", 11: "MOSTLY_Q3_K_S", 12: "MOSTLY_Q3_K_M", 13: "MOSTLY_Q3_K_L",
    14: "MOSTLY_Q4_K_S", 15: "MOSTLY_Q4_K_M", 16: "MOSTLY_Q5_K_S", 17: "MOSTLY_Q5_K_M", 18: "MOSTLY_Q6_K",
    19: "MOSTLY_IQ2_XXS", 20: "MOSTLY_IQ2_XS", 21: "MOSTLY_Q2_K_S", 22: "MOSTLY_IQ3_XS", 23: "MOSTLY_IQ3_XXS",
    24: "MOSTLY_IQ1_S", 25: "MOSTLY_IQ4_NL", 26: "MOSTLY_IQ3_S", 27: "MOSTLY_IQ3_M", 28: "MOSTLY_IQ2_S",
    29: "MOSTLY_IQ2_M", 30: "MOSTLY_IQ4_XS", 31: "MOSTLY_IQ1_M", 32: "MOSTLY_BF16", 36: "MOSTLY_TQ1_0",
    37: "MOSTLY_TQ2_0", 38: "MOSTLY_MXFP4_MOE",
}

# Metadata value types: id -> (struct format, size); 7 BOOL, 8 STRING, 9 ARRAY handled apart.
_SCALARS: dict[int, tuple[str, int]] = {
    0: ("B", 1), 1: ("b", 1), 2: ("H", 2), 3: ("h", 2), 4: ("I", 4), 5: ("i", 4), 6: ("f", 4),
    10: ("Q", 8), 11: ("q", 8), 12: ("d", 8),
}
_BOOL, _STRING, _ARRAY = 7, 8, 9

#: Tensors that hold buffers, not learned parameters: llama.cpp's generated Llama-3 rope
#: frequencies and LongRoPE factors, DeepSeek-V3's router score-correction bias (``exp_probs_b``).
_BUFFER_TENSORS = re.compile(r"^(rope_freqs|rope_factors_long|rope_factors_short)\.weight$|\.exp_probs_b(\.bias)?$")
_SPLIT_NAME = re.compile(r"^(?P<prefix>.*)-(?P<no>\d{5})-of-(?P<count>\d{5})\.gguf$")


def is_first_part(file_name: str) -> bool:
    """True for a whole GGUF file or the first part of a split one (``NAME-00001-of-00003.gguf``)."""
    m = _SPLIT_NAME.match(file_name)
    return m is None or m["no"] == "00001"


@dataclass(frozen=True)
class SkippedArray:
    """A metadata array too long to keep (a tokenizer vocabulary): its element type and length."""

    element_type: int
    length: int


@dataclass(frozen=True)
class GGUFTensor:
    """One tensor info: ``shape`` in ggml order (``ne[0]``, the row length, first)."""

    name: str
    shape: tuple[int, ...]
    ggml_type: str
    offset: int
    nbytes: int

    @property
    def numel(self) -> int:
        return math.prod(self.shape)


@dataclass(frozen=True)
class GGUFFile:
    """The parsed header of one GGUF file."""

    path: Path
    version: int
    metadata: Mapping[str, Any]
    tensors: tuple[GGUFTensor, ...]
    alignment: int
    data_start: int
    file_bytes: int

    @property
    def architecture(self) -> str:
        arch = self.metadata.get("general.architecture")
        if not isinstance(arch, str) or not arch:
            raise FileFormatError(f"{self.path}: missing 'general.architecture'")
        return arch


class _Reader:
    """Sequential reads that never go past the end of the file."""

    def __init__(self, fh: IO[bytes], path: Path, size: int) -> None:
        self.fh, self.path, self.size = fh, path, size
        self.pos = 0
        self.endian = "<"
        self.wide = True  # uint64 counts and lengths (v2+); uint32 in v1

    @property
    def left(self) -> int:
        return self.size - self.pos

    def read(self, n: int, what: str) -> bytes:
        if n > self.left:
            raise FileFormatError(f"{self.path}: truncated: {what} needs {n:,} bytes at offset {self.pos:,} "
                                  f"but the file has {self.size:,}")
        data = self.fh.read(n)
        if len(data) != n:
            raise FileFormatError(f"{self.path}: truncated while reading {what}")
        self.pos += n
        return data

    def skip(self, n: int, what: str) -> None:
        if n > self.left:
            raise FileFormatError(f"{self.path}: truncated: {what} needs {n:,} bytes at offset {self.pos:,} "
                                  f"but the file has {self.size:,}")
        self.fh.seek(n, 1)
        self.pos += n

    def skip_strings(self, count: int, what: str) -> None:
        """Step over ``count`` strings (a vocabulary), reading the file in 1 MiB chunks."""
        word = 8 if self.wide else 4
        fmt = self.endian + ("Q" if self.wide else "I")
        start = self.pos
        buf, i, base = b"", 0, start  # buf holds file bytes [base, base + len(buf))
        past_end = f"{self.path}: truncated: {what} runs past the end of the file ({self.size:,} bytes)"
        for _ in range(count):
            if len(buf) - i < word:
                self.fh.seek(base + i)
                base += i
                buf, i = self.fh.read(1 << 20), 0
                if len(buf) < word:
                    raise FileFormatError(past_end)
            (n,) = struct.unpack_from(fmt, buf, i)
            i += word + n
            if base + i > self.size:
                raise FileFormatError(past_end)
        self.pos = base + i
        self.fh.seek(self.pos)

    def unpack(self, fmt: str, size: int, what: str) -> Any:
        return struct.unpack(self.endian + fmt, self.read(size, what))[0]

    def u32(self, what: str) -> int:
        return int(self.unpack("I", 4, what))

    def length(self, what: str) -> int:
        return int(self.unpack("Q", 8, what)) if self.wide else self.u32(what)

    def string(self, what: str) -> str:
        n = self.length(what)
        raw = self.read(n, what)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise FileFormatError(f"{self.path}: {what} is not UTF-8") from None

    def value(self, vtype: int, what: str, depth: int = 0, *, keep: bool = True) -> Any:
        """One metadata value; with ``keep`` False it is only stepped over (long or nested arrays)."""
        if vtype in _SCALARS:
            fmt, size = _SCALARS[vtype]
            if not keep:
                self.skip(size, what)
                return None
            return self.unpack(fmt, size, what)
        if vtype == _BOOL:
            b = self.read(1, what)[0]
            if b > 1:
                raise FileFormatError(f"{self.path}: {what}: invalid bool byte {b}")
            return bool(b)
        if vtype == _STRING:
            if not keep:
                self.skip(self.length(what), what)
                return None
            return self.string(what)
        if vtype == _ARRAY:
            if depth >= MAX_ARRAY_DEPTH:
                raise FileFormatError(f"{self.path}: {what}: arrays nested deeper than {MAX_ARRAY_DEPTH}")
            etype = self.u32(what)
            count = self.length(what)
            word = 8 if self.wide else 4
            minimum = {_BOOL: 1, _STRING: word, _ARRAY: 4 + word}.get(etype) or _SCALARS.get(etype, (None, 0))[1]
            if not minimum:
                raise FileFormatError(f"{self.path}: {what}: unknown array element type {etype}")
            if count * minimum > self.left:
                raise FileFormatError(f"{self.path}: truncated: {what} claims {count:,} elements, more than the "
                                      f"{self.left:,} bytes left")
            # Keep short flat arrays (per-layer values); step over vocabularies and nested arrays.
            if keep and count <= MAX_KEPT_ARRAY and etype != _ARRAY:
                return [self.value(etype, what, depth + 1) for _ in range(count)]
            if etype in _SCALARS or etype == _BOOL:
                self.skip(count * minimum, what)
            elif etype == _STRING:
                self.skip_strings(count, what)
            else:
                for _ in range(count):
                    self.value(etype, what, depth + 1, keep=False)
            return SkippedArray(etype, count) if keep else None
        raise FileFormatError(f"{self.path}: {what}: unknown value type {vtype}")


def read_gguf(path: Path) -> GGUFFile:
    """Read one GGUF file's metadata and tensor infos; raises :class:`FileFormatError` naming it."""
    with reading(path, error=FileFormatError, expected="a .gguf file"):
        size = path.stat().st_size
        with path.open("rb") as fh:
            return _read(_Reader(fh, path, size))


def _read(r: _Reader) -> GGUFFile:
    path = r.path
    if r.size < 4 or r.read(4, "magic") != MAGIC:
        raise FileFormatError(f"{path}: not a GGUF file (the first 4 bytes are not 'GGUF')")
    version = r.u32("version")
    if version & 0xFFFF == 0 and version:  # written big-endian (allowed by v3)
        r.endian = ">"
        version = struct.unpack(">I", struct.pack("<I", version))[0]
    if version not in (1, 2, 3):
        raise FileFormatError(f"{path}: unsupported GGUF version {version} (llmcalc reads 1 to 3)")
    r.wide = version >= 2
    n_tensors = r.length("tensor count")
    n_kv = r.length("metadata count")
    word = 8 if r.wide else 4
    if n_kv * (word + 4 + 1) > r.left:
        raise FileFormatError(f"{path}: metadata count {n_kv:,} is more than the file can hold (truncated?)")
    if n_tensors * (word + 4 + 4 + 8) > r.left:
        raise FileFormatError(f"{path}: tensor count {n_tensors:,} is more than the file can hold (truncated?)")
    metadata: dict[str, Any] = {}
    for i in range(n_kv):
        key = r.string(f"metadata key {i}")
        vtype = r.u32(f"type of '{key}'")
        metadata[key] = r.value(vtype, f"metadata '{key}'")
    alignment = metadata.get("general.alignment", DEFAULT_ALIGNMENT)
    if not isinstance(alignment, int) or isinstance(alignment, bool) or alignment <= 0 or alignment & (alignment - 1):
        raise FileFormatError(f"{path}: general.alignment must be a power of two, got {alignment!r}")
    infos: list[tuple[str, tuple[int, ...], int, int]] = []
    for i in range(n_tensors):
        name = r.string(f"name of tensor {i}")
        n_dims = r.u32(f"tensor '{name}' dimensions")
        if n_dims > MAX_DIMS:
            raise FileFormatError(f"{path}: tensor '{name}' has {n_dims} dimensions (ggml allows {MAX_DIMS})")
        shape = tuple(r.length(f"tensor '{name}' shape") for _ in range(n_dims))
        type_id = r.u32(f"tensor '{name}' type")
        offset = int(r.unpack("Q", 8, f"tensor '{name}' offset"))
        infos.append((name, shape, type_id, offset))
    data_start = r.pos + (-r.pos) % alignment
    tensors: list[GGUFTensor] = []
    seen: set[str] = set()
    for name, shape, type_id, offset in infos:
        where = f"{path}: tensor '{name}'"
        if name in seen:
            raise FileFormatError(f"{where} appears twice")
        seen.add(name)
        if type_id not in GGML_TYPES:
            removed = f" ({REMOVED_GGML_TYPES[type_id]}, removed from ggml)" if type_id in REMOVED_GGML_TYPES else ""
            raise FileFormatError(f"{where}: unknown ggml type {type_id}{removed}")
        type_name, block, block_bytes = GGML_TYPES[type_id]
        if shape and shape[0] % block:
            raise FileFormatError(f"{where}: row length {shape[0]} is not a multiple of the {type_name} block "
                                  f"of {block}")
        nbytes = math.prod(shape) // block * block_bytes
        if offset % alignment:
            raise FileFormatError(f"{where}: offset {offset} is not a multiple of the alignment {alignment}")
        if data_start + offset + nbytes > r.size:
            raise FileFormatError(f"{where}: data ends at byte {data_start + offset + nbytes:,} but the file has "
                                  f"{r.size:,} bytes (truncated?)")
        tensors.append(GGUFTensor(name=name, shape=shape, ggml_type=type_name, offset=offset, nbytes=nbytes))
    return GGUFFile(path=path, version=version, metadata=metadata, tensors=tuple(tensors), alignment=alignment,
                    data_start=data_start, file_bytes=r.size)


def read_gguf_model(path: Path) -> list[GGUFFile]:
    """A GGUF model: the file, or every part of a split model (``name-00001-of-00003.gguf``) in order.

    Any part may be given; a missing part is an error naming it.
    """
    first = read_gguf(path)
    count = first.metadata.get("split.count")
    if not isinstance(count, int) or count <= 1:
        return [first]
    m = _SPLIT_NAME.match(path.name)
    if not m or int(m["count"]) != count:
        raise FileFormatError(f"{path}: split.count is {count} but the name is not like NAME-00001-of-{count:05d}.gguf")
    parts = []
    for i in range(1, count + 1):
        part = path.with_name(f"{m['prefix']}-{i:05d}-of-{count:05d}.gguf")
        if not part.is_file():
            raise FileFormatError(f"{path}: missing split part {part.name}")
        parts.append(first if part == path else read_gguf(part))
    names: set[str] = set()
    for part_file in parts:
        for t in part_file.tensors:
            if t.name in names:
                raise FileFormatError(f"{part_file.path}: tensor '{t.name}' is also in another part")
            names.add(t.name)
    return parts


# --- counting --------------------------------------------------------------------------------


@dataclass(frozen=True)
class GGUFCount:
    """Exact tensor bytes per ggml type and the parameters the tensors hold."""

    files: tuple[str, ...]
    tensors: int
    params: int
    total_bytes: int
    bytes_by_type: tuple[tuple[str, int], ...]
    params_by_type: tuple[tuple[str, int], ...]
    buffer_params: int
    file_type: str | None

    @property
    def bits_per_weight(self) -> float:
        """8 x tensor bytes / parameters: the file's effective bits per weight."""
        return 8 * self.total_bytes / self.params if self.params else 0.0


def count_gguf(parts: Sequence[GGUFFile]) -> GGUFCount:
    """Count parameters (elements, less buffers) and exact bytes per ggml type across ``parts``."""
    by_type: dict[str, int] = {}
    params_by_type: dict[str, int] = {}
    params = buffers = 0
    for part in parts:
        for t in part.tensors:
            by_type[t.ggml_type] = by_type.get(t.ggml_type, 0) + t.nbytes
            if _BUFFER_TENSORS.search(t.name):
                buffers += t.numel
                continue
            params += t.numel
            params_by_type[t.ggml_type] = params_by_type.get(t.ggml_type, 0) + t.numel
    ftype = parts[0].metadata.get("general.file_type")
    return GGUFCount(
        files=tuple(str(p.path) for p in parts),
        tensors=sum(len(p.tensors) for p in parts),
        params=params,
        total_bytes=sum(by_type.values()),
        bytes_by_type=tuple(sorted(by_type.items(), key=lambda kv: (-kv[1], kv[0]))),
        params_by_type=tuple(sorted(params_by_type.items(), key=lambda kv: (-kv[1], kv[0]))),
        buffer_params=buffers,
        file_type=FILE_TYPES.get(ftype, str(ftype)) if isinstance(ftype, int) else None,
    )


# --- metadata -> config.json fields ------------------------------------------------------------

#: general.architecture -> Hugging Face model_type (llama.cpp names Mixtral and Mistral ``llama``).
ARCH_MODEL_TYPES = {
    "llama": "llama",
    "mistral": "mistral",
    "qwen2": "qwen2",
    "qwen2moe": "qwen2_moe",
    "qwen3": "qwen3",
    "qwen3moe": "qwen3_moe",
    "gemma": "gemma",
    "gemma2": "gemma2",
    "gemma3": "gemma3_text",
    "phi3": "phi3",
    "granite": "granite",
    "olmo2": "olmo2",
    "olmoe": "olmoe",
    "starcoder2": "starcoder2",
    "command-r": "cohere",
    "stablelm": "stablelm",
    "gpt-oss": "gpt_oss",
    "deepseek2": "deepseek_v3",
}


def config_from_gguf(parts: Sequence[GGUFFile]) -> tuple[dict[str, Any], list[str]]:
    """Hugging Face config.json fields equivalent to a GGUF model's metadata, and notes on the mapping.

    Per-layer arrays (``head_count_kv``, ``feed_forward_length``) must be uniform; a mixed array is
    reduced to its largest value and noted. Tying is read from the tensors (no ``output.weight``
    means the head shares ``token_embd.weight``), as are the attention and MLP biases.
    """
    first = parts[0]
    arch = first.architecture
    meta = first.metadata
    notes: list[str] = []
    tensors = {t.name: t for p in parts for t in p.tensors}

    def get(key: str) -> Any:
        value = meta.get(f"{arch}.{key}")
        if isinstance(value, list) and value and all(isinstance(v, int) for v in value):
            nonzero = [v for v in value if v]
            if len(set(nonzero)) > 1:
                notes.append(f"{arch}.{key} varies by layer ({min(nonzero)} to {max(nonzero)}); using {max(nonzero)}")
            return max(value)
        return value

    model_type = ARCH_MODEL_TYPES.get(arch, arch)
    experts = get("expert_count") or 0
    if arch == "llama" and experts:
        model_type = "mixtral"
    config: dict[str, Any] = {
        "model_type": model_type,
        "hidden_size": get("embedding_length"),
        "num_hidden_layers": get("block_count"),
        "num_attention_heads": get("attention.head_count"),
        "num_key_value_heads": get("attention.head_count_kv"),
        "intermediate_size": get("feed_forward_length") or get("expert_feed_forward_length"),
        "max_position_embeddings": get("context_length"),
        "rope_theta": get("rope.freq_base"),
        "sliding_window": get("attention.sliding_window"),
        "tie_word_embeddings": "output.weight" not in tensors,
        "attention_bias": "blk.0.attn_q.bias" in tensors,
        "mlp_bias": "blk.0.ffn_up.bias" in tensors,
    }
    key_length, value_length = get("attention.key_length"), get("attention.value_length")
    if key_length and arch != "deepseek2":
        config["head_dim"] = key_length
        if value_length and value_length != key_length:
            notes.append(f"value_length {value_length} differs from key_length {key_length}; llmcalc uses "
                         "key_length for both")
    vocab = get("vocab_size")
    embd = tensors.get("token_embd.weight")
    if not vocab and embd is not None and len(embd.shape) == 2:
        vocab = embd.shape[1]
    tokens = meta.get("tokenizer.ggml.tokens")
    if not vocab and tokens is not None:
        vocab = tokens.length if isinstance(tokens, SkippedArray) else len(tokens)
    config["vocab_size"] = vocab
    if experts:
        config["num_local_experts"] = config["num_experts"] = experts
        config["num_experts_per_tok"] = get("expert_used_count")
        config["moe_intermediate_size"] = get("expert_feed_forward_length")
        shared = get("expert_shared_feed_forward_length")
        if shared:
            config["shared_expert_intermediate_size"] = shared
        if model_type in ("gpt_oss",):
            config["intermediate_size"] = get("expert_feed_forward_length")
    if model_type == "gpt_oss":
        n = config["num_hidden_layers"] or 0
        config["layer_types"] = ["sliding_attention" if i % 2 == 0 else "full_attention" for i in range(n)]
    if model_type == "gemma3_text" and isinstance(get("attention.sliding_window_pattern"), int):
        config["sliding_window_pattern"] = get("attention.sliding_window_pattern")
    if model_type in ("phi3", "stablelm") and get("rope.dimension_count") and key_length:
        config["partial_rotary_factor"] = get("rope.dimension_count") / key_length
    if model_type == "deepseek_v3":
        _deepseek_fields(config, get, key_length, value_length)
    return {k: v for k, v in config.items() if v is not None}, notes


def _deepseek_fields(config: dict[str, Any], get: Any, key_length: Any, value_length: Any) -> None:
    """MLA dims: newer conversions give key/value_length_mla; older ones give them as key/value_length."""
    rope = get("rope.dimension_count")
    k_mla, v_mla = get("attention.key_length_mla"), get("attention.value_length_mla")
    k, v = (k_mla, v_mla) if k_mla else (key_length, value_length)
    config.update({
        "kv_lora_rank": get("attention.kv_lora_rank"),
        "q_lora_rank": get("attention.q_lora_rank") or None,
        "qk_rope_head_dim": rope,
        "qk_nope_head_dim": (k - rope) if isinstance(k, int) and isinstance(rope, int) else None,
        "v_head_dim": v,
        "n_routed_experts": get("expert_count"),
        "n_shared_experts": get("expert_shared_count"),
        "first_k_dense_replace": get("leading_dense_block_count"),
    })
    nextn = get("nextn_predict_layers")
    if isinstance(nextn, int) and nextn and isinstance(config.get("num_hidden_layers"), int):
        config["num_hidden_layers"] -= nextn
        config["num_nextn_predict_layers"] = nextn
