"""Writers of tiny safetensors and GGUF files with real layouts, for tests (no downloads).

Tensor data is zeros unless a test gives bytes; only the headers and sizes matter to llmcalc.
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

DTYPE_BYTES = {"F32": 4, "F16": 2, "BF16": 2, "I32": 4, "I64": 8, "U8": 1, "I8": 1, "F8_E4M3": 1}

#: A 2-layer Llama-style model small enough to write in a test.
TINY_LLAMA = {
    "model_type": "llama",
    "architectures": ["LlamaForCausalLM"],
    "vocab_size": 100,
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "max_position_embeddings": 256,
    "rms_norm_eps": 1e-5,
    "rope_theta": 10000.0,
    "tie_word_embeddings": False,
    "torch_dtype": "bfloat16",
}
#: Its parameters, by hand: embedding 100x64 = 6,400; per layer q 64x64 = 4,096, k and v 64x32 =
#: 2,048 each, o 4,096, gate/up/down 3x64x128 = 24,576, two norms 128 -> 36,992; two layers
#: 73,984; final norm 64; lm_head 6,400.
TINY_LLAMA_PARAMS = 6_400 + 2 * 36_992 + 64 + 6_400  # 86,848

LINEARS = {  # name -> (out, in) as PyTorch stores a Linear weight
    "self_attn.q_proj": (64, 64),
    "self_attn.k_proj": (32, 64),
    "self_attn.v_proj": (32, 64),
    "self_attn.o_proj": (64, 64),
    "mlp.gate_proj": (128, 64),
    "mlp.up_proj": (128, 64),
    "mlp.down_proj": (64, 128),
}


def llama_tensors(dtype: str = "BF16", *, layers: int = 2) -> dict[str, tuple[str, list[int]]]:
    """Hugging Face names and shapes of TINY_LLAMA's tensors."""
    tensors: dict[str, tuple[str, list[int]]] = {"model.embed_tokens.weight": (dtype, [100, 64])}
    for i in range(layers):
        p = f"model.layers.{i}."
        for name, shape in LINEARS.items():
            tensors[f"{p}{name}.weight"] = (dtype, list(shape))
        tensors[f"{p}input_layernorm.weight"] = (dtype, [64])
        tensors[f"{p}post_attention_layernorm.weight"] = (dtype, [64])
    tensors["model.norm.weight"] = (dtype, [64])
    tensors["lm_head.weight"] = (dtype, [100, 64])
    return tensors


def gptq_tensors(*, bits: int = 4, group: int = 32, awq: bool = False) -> dict[str, tuple[str, list[int]]]:
    """TINY_LLAMA with every Linear of the layers packed GPTQ-style (or AWQ-style); the rest F16."""
    pack = 32 // bits
    tensors = {k: ("F16", s) for k, (_, s) in llama_tensors().items()}
    for i in range(2):
        for name, (out, inp) in LINEARS.items():
            p = f"model.layers.{i}.{name}."
            del tensors[p + "weight"]
            if awq:
                tensors[p + "qweight"] = ("I32", [inp, out // pack])
            else:
                tensors[p + "qweight"] = ("I32", [inp // pack, out])
                tensors[p + "g_idx"] = ("I32", [inp])
            tensors[p + "qzeros"] = ("I32", [inp // group, out // pack])
            tensors[p + "scales"] = ("F16", [inp // group, out])
    return tensors


def write_safetensors(
    path: Path,
    tensors: Mapping[str, tuple[str, list[int]]],
    *,
    metadata: Mapping[str, str] | None = None,
    data: Mapping[str, bytes] | None = None,
) -> int:
    """Write a safetensors file (zeros, or ``data[name]``); returns the bytes of tensor data."""
    header: dict[str, Any] = {}
    if metadata is not None:
        header["__metadata__"] = dict(metadata)
    offset = 0
    blobs = []
    for name, (dtype, shape) in tensors.items():
        size = math.prod(shape) * DTYPE_BYTES[dtype]
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + size]}
        blob = (data or {}).get(name, bytes(size))
        assert len(blob) == size
        blobs.append(blob)
        offset += size
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + b"".join(blobs))
    return offset


def write_sharded(folder: Path, tensors: Mapping[str, tuple[str, list[int]]], shards: int) -> list[Path]:
    """Split ``tensors`` over ``shards`` files plus a model.safetensors.index.json."""
    names = list(tensors)
    per = -(-len(names) // shards)
    weight_map: dict[str, str] = {}
    paths = []
    total = 0
    for s in range(shards):
        part = {n: tensors[n] for n in names[s * per:(s + 1) * per]}
        file = f"model-{s + 1:05d}-of-{shards:05d}.safetensors"
        total += write_safetensors(folder / file, part)
        weight_map.update(dict.fromkeys(part, file))
        paths.append(folder / file)
    index = {"metadata": {"total_size": total}, "weight_map": weight_map}
    (folder / "model.safetensors.index.json").write_text(json.dumps(index))
    return paths


def write_config(folder: Path, config: Mapping[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config.json"
    path.write_text(json.dumps(config))
    return path


# --- GGUF -----------------------------------------------------------------------------------

GGML = {"F32": (0, 1, 4), "F16": (1, 1, 2), "Q4_0": (2, 32, 18), "Q8_0": (8, 32, 34), "Q4_K": (12, 256, 144),
        "Q6_K": (14, 256, 210), "BF16": (30, 1, 2)}
#: GGUF metadata value types.
U8, I8, U16, I16, U32, I32, F32, BOOL, STRING, ARRAY, U64, I64, F64 = range(13)
_FMT = {U8: "B", I8: "b", U16: "H", I16: "h", U32: "I", I32: "i", F32: "f", BOOL: "?", U64: "Q", I64: "q", F64: "d"}


def gguf_string(s: str | bytes) -> bytes:
    raw = s.encode() if isinstance(s, str) else s
    return struct.pack("<Q", len(raw)) + raw


def gguf_value(vtype: int, value: Any) -> bytes:
    if vtype == STRING:
        return gguf_string(value)
    if vtype == ARRAY:
        etype, items = value
        return struct.pack("<IQ", etype, len(items)) + b"".join(gguf_value(etype, v) for v in items)
    return struct.pack("<" + _FMT[vtype], value)


def gguf_bytes(
    metadata: Iterable[tuple[str, int, Any]],
    tensors: Iterable[tuple[str, list[int], str]],
    *,
    alignment: int = 32,
    version: int = 3,
    type_ids: Mapping[str, int] | None = None,
) -> bytes:
    """A whole GGUF file: ``metadata`` as (key, value type, value), ``tensors`` as (name, ne, ggml type).

    Shapes are in ggml order (``ne[0]``, the row length, first). Each tensor's data is zeros padded
    to ``alignment``, as gguf-py writes it. ``type_ids`` overrides a type's id (for bad-file tests).
    """
    meta = list(metadata)
    tens = list(tensors)
    out = bytearray(b"GGUF" + struct.pack("<IQQ", version, len(tens), len(meta)))
    for key, vtype, value in meta:
        out += gguf_string(key) + struct.pack("<I", vtype) + gguf_value(vtype, value)
    offset = 0
    sizes = []
    for name, shape, type_name in tens:
        type_id, block, block_bytes = GGML[type_name]
        type_id = (type_ids or {}).get(name, type_id)
        size = math.prod(shape) // block * block_bytes
        out += gguf_string(name) + struct.pack("<I", len(shape)) + struct.pack(f"<{len(shape)}Q", *shape)
        out += struct.pack("<IQ", type_id, offset)
        sizes.append(size)
        offset += size + (-size % alignment)
    out += bytes(-len(out) % alignment)
    for size in sizes:
        out += bytes(size + (-size % alignment))
    return bytes(out)


#: A tiny Llama GGUF: hidden 256 (so Q4_K's 256-wide blocks fit), 4 heads of 64, 2 KV heads, FFN 512,
#: vocab 128, 2 layers, untied output. Parameters by hand: token_embd 256x128 = 32,768; per layer
#: q 65,536, k 32,768, v 32,768, o 65,536, gate/up/down 3x131,072 = 393,216, 2 norms 512 ->
#: 590,336; two layers 1,180,672; output_norm 256; output 32,768.
TINY_GGUF_PARAMS = 32_768 + 2 * 590_336 + 256 + 32_768  # 1,246,464


def tiny_llama_gguf_tensors() -> list[tuple[str, list[int], str]]:
    """(name, ne, type): F32 norms, F16 attention, Q4_K gate/up, Q8_0 down, Q8_0 embedding, F16 output."""
    tensors: list[tuple[str, list[int], str]] = [("token_embd.weight", [256, 128], "Q8_0")]
    for i in range(2):
        b = f"blk.{i}."
        tensors += [
            (b + "attn_norm.weight", [256], "F32"),
            (b + "attn_q.weight", [256, 256], "F16"),
            (b + "attn_k.weight", [256, 128], "F16"),
            (b + "attn_v.weight", [256, 128], "F16"),
            (b + "attn_output.weight", [256, 256], "F16"),
            (b + "ffn_norm.weight", [256], "F32"),
            (b + "ffn_gate.weight", [256, 512], "Q4_K"),
            (b + "ffn_up.weight", [256, 512], "Q4_K"),
            (b + "ffn_down.weight", [512, 256], "Q8_0"),
        ]
    tensors += [("output_norm.weight", [256], "F32"), ("output.weight", [256, 128], "F16")]
    return tensors


def tiny_llama_gguf_metadata(arch: str = "llama") -> list[tuple[str, int, Any]]:
    return [
        ("general.architecture", STRING, arch),
        ("general.name", STRING, "Tiny Llama"),
        ("general.file_type", U32, 15),
        (f"{arch}.block_count", U32, 2),
        (f"{arch}.context_length", U32, 2048),
        (f"{arch}.embedding_length", U32, 256),
        (f"{arch}.feed_forward_length", U32, 512),
        (f"{arch}.attention.head_count", U32, 4),
        (f"{arch}.attention.head_count_kv", U32, 2),
        (f"{arch}.attention.key_length", U32, 64),
        (f"{arch}.attention.value_length", U32, 64),
        (f"{arch}.rope.freq_base", F32, 10000.0),
        (f"{arch}.attention.layer_norm_rms_epsilon", F32, 1e-5),
        ("tokenizer.ggml.model", STRING, "llama"),
        ("tokenizer.ggml.tokens", ARRAY, (STRING, [f"t{i}" for i in range(128)])),
        ("general.quantization_version", U32, 2),
    ]


def write_gguf(path: Path, metadata: Iterable[tuple[str, int, Any]] | None = None,
               tensors: Iterable[tuple[str, list[int], str]] | None = None, **kw: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gguf_bytes(
        tiny_llama_gguf_metadata() if metadata is None else metadata,
        tiny_llama_gguf_tensors() if tensors is None else tensors,
        **kw,
    ))
    return path
