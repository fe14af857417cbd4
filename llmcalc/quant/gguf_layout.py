"""A whole GGUF file's size: header, metadata, tensor infos, alignment padding and tensor data.

The layout is the one ``gguf-py/gguf/gguf_writer.py`` (``GGUFWriter.write_header_to_file``,
``write_kv_data_to_file``, ``write_ti_data_to_file``, ``write_tensors_to_file``) and ggml's
``gguf_write_to_buf`` (``ggml/src/gguf.cpp``) write, and llama-quantize copies
(``llama_model_quantize_impl`` in src/llama-quant.cpp: the metadata of the input file, then every
tensor padded to ``GGML_PAD(size, 32)``):

- header: magic ``GGUF``, u32 version, u64 tensor count, u64 KV count: 24 bytes;
- each KV: key string, u32 value type, value. A string is a u64 length and its UTF-8 bytes; an
  array is a u32 item type, a u64 count and the items; u8/i8/bool 1 byte, u16/i16 2, u32/i32/f32 4,
  u64/i64/f64 8;
- each tensor info: name string, u32 n_dims, n_dims x u64 dims, u32 ggml type, u64 offset;
- zero padding to ``general.alignment`` (32 by default, ``GGUF_DEFAULT_ALIGNMENT``), then each
  tensor's data padded to the alignment.

``file_bytes = pad(header + KV + tensor infos) + sum(pad(tensor bytes))``. The layout is exact; what
the converter writes as metadata is modelled per converter class (:mod:`llmcalc.quant.gguf_metadata`) and
``_set_vocab_gpt2``/``_set_vocab_sentencepiece`` (convert_hf_to_gguf.py, conversion/base.py) and is
exact for the tokenizer when a ``tokenizer.json`` was read (:class:`TokenizerFacts`), else
estimated (:func:`estimate_tokenizer`). The general.* strings a publisher adds (name, license,
tags, base models) are estimated from the model name; they are a few hundred bytes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from llmcalc.quant.gguf_metadata import model_kv
from llmcalc.spec import ModelSpec
from llmcalc.tensors import Tensor

#: ``GGUF_DEFAULT_ALIGNMENT`` (gguf-py/gguf/constants.py, ggml/include/gguf.h).
GGUF_DEFAULT_ALIGNMENT = 32
#: magic (4) + version u32 (4) + tensor count u64 (8) + KV count u64 (8).
HEADER_BYTES = 24

#: Mean UTF-8 bytes of one token string as GGUF stores it (byte-level BPE in GPT-2's
#: byte-to-unicode spelling, SentencePiece with its 3-byte U+2581), used when no tokenizer.json
#: was read. Fitted to the 6 Meta-Llama-3-8B-Instruct file sizes of shared/reference/gguf-files.json
#: (Hugging Face repo ddh0/UnquantizedEmbeddingTesting, sizes.txt): with 128,256 tokens and
#: 280,147 merges the metadata comes to the published bytes; the same figure is used for other
#: tokenizers, an estimate.
MEAN_TOKEN_BYTES_NUM, MEAN_TOKEN_BYTES_DEN = 919978, 100000


def string_bytes(text: str | int) -> int:
    """A GGUF string: u64 length + the UTF-8 bytes (``text`` or, given an int, that many bytes)."""
    return 8 + (text if isinstance(text, int) else len(text.encode("utf-8")))


def kv_bytes(key: str, value_bytes: int) -> int:
    """One KV pair: the key string, the u32 value type, then ``value_bytes`` of value."""
    return string_bytes(key) + 4 + value_bytes


def array_bytes(item_bytes: int) -> int:
    """An array value: u32 item type, u64 count, then the items (``item_bytes`` in all)."""
    return 4 + 8 + item_bytes


def tensor_info_bytes(tensor: Tensor) -> int:
    """``name string + u32 n_dims + n_dims x u64 + u32 type + u64 offset``."""
    return string_bytes(tensor.name) + 4 + 8 * tensor.n_dims + 4 + 8


def pad(n: int, alignment: int = GGUF_DEFAULT_ALIGNMENT) -> int:
    """``GGML_PAD(n, alignment)``: ``n`` rounded up to a multiple of ``alignment``."""
    return -(-n // alignment) * alignment


@dataclass(frozen=True, slots=True)
class TokenizerFacts:
    """What a GGUF file's tokenizer metadata holds, read from a tokenizer.json or estimated.

    ``kind`` is ``tokenizer.ggml.model``: ``gpt2`` (byte-level BPE, with merges), ``llama``
    (SentencePiece, with scores), ``bert`` (WordPiece), ``t5`` (Unigram, with scores). Byte counts
    are the UTF-8 lengths of the strings alone (the u64 length prefixes are added by the layout).
    ``pre`` is ``tokenizer.ggml.pre`` (byte-level BPE only); ``special_ids`` the special token types
    with an id (``bos``, ``eos``, ``unk``, ``sep``, ``pad``, ``cls``, ``mask``) and ``add_special``
    those with an ``add_{type}_token`` flag, as ``SpecialVocab`` (gguf-py/gguf/vocab.py) finds them.
    """

    kind: str
    n_tokens: int
    token_bytes: int
    n_merges: int
    merge_bytes: int
    has_scores: bool
    chat_template_bytes: int
    estimated: bool
    source: str
    pre: str = "default"
    special_ids: tuple[str, ...] = ("bos", "eos")
    add_special: tuple[str, ...] = ("bos",)


#: Byte-level BPE tokenizers whose merges are not ``tokens - 256 byte tokens``: Llama 3's
#: tiktoken-derived tokenizer has 280,147 merges for 128,000 tokens (Meta-Llama-3-8B tokenizer.json).
_KNOWN_MERGES: dict[tuple[str, int], int] = {("llama", 128256): 280147}
_SENTENCEPIECE_TYPES = frozenset({"llama", "mistral", "mixtral", "gemma", "gemma2", "gemma3_text", "phi3"})


def tokenizer_kind(spec: ModelSpec) -> str:
    """``tokenizer.ggml.model`` llama.cpp's converter writes for this model (an estimate by family).

    SentencePiece (``llama``) for Llama 1-2, Mistral, Mixtral, Gemma and Phi-3 (``_set_vocab_sentencepiece``),
    except Llama 3's 128,256-token BPE; WordPiece (``bert``) for BERT; Unigram (``t5``) for T5;
    byte-level BPE (``gpt2``, ``_set_vocab_gpt2``) for the rest.
    """
    if spec.model_type in ("bert", "t5"):
        return spec.model_type
    if spec.model_type.startswith("gemma"):
        return "llama"
    if spec.model_type in _SENTENCEPIECE_TYPES and spec.vocab_size <= 65536:
        return "llama"
    return "gpt2"


def estimate_tokenizer(spec: ModelSpec) -> TokenizerFacts:
    """The tokenizer metadata of ``spec``'s GGUF, estimated from its vocabulary size and kind.

    ``vocab_size`` tokens (the converter pads the list to the config's size with ``[PAD<id>]``
    tokens, ``get_vocab_base``) of :data:`MEAN_TOKEN_BYTES_NUM` / ``_DEN`` bytes each; byte-level
    BPE merges ``vocab_size - 256`` (each merge ``"a b"`` is its result token plus a space), or the
    known count (Llama 3); SentencePiece and Unigram add an f32 score per token. No chat template.
    An estimate: say so (``estimated``).
    """
    kind = tokenizer_kind(spec)
    n = spec.vocab_size
    token_bytes = n * MEAN_TOKEN_BYTES_NUM // MEAN_TOKEN_BYTES_DEN
    merges = 0
    if kind == "gpt2":
        merges = _KNOWN_MERGES.get((spec.model_type, n), max(n - 256, 0))
    merge_bytes = merges * (MEAN_TOKEN_BYTES_NUM + MEAN_TOKEN_BYTES_DEN) // MEAN_TOKEN_BYTES_DEN
    return TokenizerFacts(
        kind=kind,
        n_tokens=n,
        token_bytes=token_bytes,
        n_merges=merges,
        merge_bytes=merge_bytes,
        has_scores=kind in ("llama", "t5"),
        chat_template_bytes=0,
        estimated=True,
        source=(
            f"estimated: {n:,} {kind} tokens of {MEAN_TOKEN_BYTES_NUM / MEAN_TOKEN_BYTES_DEN} bytes"
            + (f" and {merges:,} merges" if merges else "")
            + " (mean fitted to the Meta-Llama-3-8B-Instruct GGUF sizes in shared/reference/gguf-files.json)"
        ),
    )


#: ``tokenizer.ggml.*`` keys of the special token ids (gguf-py/gguf/constants.py ``Keys.Tokenizer``).
_SPECIAL_ID_KEYS = {"bos": "bos_token_id", "eos": "eos_token_id", "unk": "unknown_token_id",
                    "sep": "seperator_token_id", "pad": "padding_token_id", "cls": "cls_token_id",
                    "mask": "mask_token_id"}


def tokenizer_kv_bytes(tok: TokenizerFacts, *, pre: bool) -> int:
    """The tokenizer.* KV pairs: model, pre, tokens, scores, token_type, merges, special ids, add flags, template.

    ``_set_vocab_gpt2`` / ``_set_vocab_sentencepiece`` and ``SpecialVocab.add_to_gguf``
    (gguf-py/gguf/vocab.py): token strings, f32 scores (SentencePiece, Unigram), i32 token types,
    merge strings; each special token id as u32; each ``add_{bos,eos,sep}_token`` as a bool; the chat
    template when there is one.
    """
    n = tok.n_tokens
    total = kv_bytes("tokenizer.ggml.model", string_bytes(tok.kind))
    if pre:
        total += kv_bytes("tokenizer.ggml.pre", string_bytes(tok.pre))
    total += kv_bytes("tokenizer.ggml.tokens", array_bytes(8 * n + tok.token_bytes))
    if tok.has_scores:
        total += kv_bytes("tokenizer.ggml.scores", array_bytes(4 * n))
    total += kv_bytes("tokenizer.ggml.token_type", array_bytes(4 * n))
    if tok.n_merges:
        total += kv_bytes("tokenizer.ggml.merges", array_bytes(8 * tok.n_merges + tok.merge_bytes))
    total += sum(kv_bytes(f"tokenizer.ggml.{_SPECIAL_ID_KEYS[t]}", 4) for t in tok.special_ids)
    total += sum(kv_bytes(f"tokenizer.ggml.add_{t}_token", 1) for t in tok.add_special)
    if tok.chat_template_bytes:
        total += kv_bytes("tokenizer.chat_template", string_bytes(tok.chat_template_bytes))
    return total


#: ``general.architecture`` names (gguf-py/gguf/constants.py ``MODEL_ARCH_NAMES``) where they differ
#: from the config's model_type.
_ARCH_NAMES = {
    "mistral": "llama",
    "mixtral": "llama",
    "gpt_neox": "gptneox",
    "gpt_bigcode": "starcoder",
    "qwen2_moe": "qwen2moe",
    "qwen3_moe": "qwen3moe",
    "deepseek_v2": "deepseek2",
    "deepseek_v3": "deepseek2",
    "kimi_k2": "deepseek2",
    "gpt_oss": "gpt-oss",
    "gemma3_text": "gemma3",
    "llama4_text": "llama4",
    "phi": "phi2",
    "cohere": "command-r",
}


def arch_name(spec: ModelSpec) -> str:
    """The ``general.architecture`` llama.cpp uses for ``spec``'s model type."""
    return _ARCH_NAMES.get(spec.model_type, spec.model_type.replace("_", ""))


def model_kv_bytes(
    spec: ModelSpec,
    *,
    size_label: str = "8B",
    config: Mapping[str, Any] | None = None,
    quantized: bool = True,
) -> tuple[int, int]:
    """(bytes, count) of the general.* and ``{arch}.*`` KV pairs the converter writes, by converter
    class (:func:`llmcalc.quant.gguf_metadata.model_kv`, which cites the rules); ``config`` is the
    Hugging Face config when one was read. general.name is ``spec.name`` in title form
    (``Metadata.id_to_title``, gguf-py/gguf/metadata.py), an estimate of what a model card gives.
    """
    name = _title(spec.name.rsplit("/", 1)[-1])
    kv = model_kv(spec, arch_name(spec), config=config, name=name, size_label=size_label, quantized=quantized)
    return sum(kv_bytes(k, v) for k, v in kv.items()), len(kv)


def _title(text: str) -> str:
    """``Metadata.id_to_title``: dashes to spaces, lower-case words title-cased unless a version."""
    words = text.strip().replace("-", " ").split()
    return " ".join(w.title() if w.islower() and not re.match(r"^(v\d+(?:\.\d+)*|\d.*)$", w) else w
                    for w in words)


def _tokenizer_kv_count(tok: TokenizerFacts, *, pre: bool) -> int:
    return (3 + pre + tok.has_scores + bool(tok.n_merges) + bool(tok.chat_template_bytes)
            + len(tok.special_ids) + len(tok.add_special))


@dataclass(frozen=True, slots=True)
class GGUFFileSize:
    """A GGUF file's bytes, part by part; ``file_bytes`` is their sum.

    ``metadata_bytes`` is the header, the KV pairs and the tensor infos; ``tokenizer_bytes`` is
    the tokenizer's share of the KV pairs. ``padding_bytes`` pads the metadata and every tensor to
    ``alignment``. ``estimated`` is set when the tokenizer was estimated (``tokenizer_source``).
    """

    file_bytes: int
    tensor_data_bytes: int
    metadata_bytes: int
    tokenizer_bytes: int
    tensor_info_bytes: int
    padding_bytes: int
    n_tensors: int
    n_kv: int
    alignment: int
    estimated: bool
    tokenizer_source: str


def gguf_file_size(
    spec: ModelSpec,
    tensors: Iterable[tuple[int, int]],
    *,
    infos_bytes: int,
    tokenizer: TokenizerFacts | None = None,
    alignment: int = GGUF_DEFAULT_ALIGNMENT,
    size_label: str = "8B",
    config: Mapping[str, Any] | None = None,
    quantized: bool = True,
) -> GGUFFileSize:
    """The size of a GGUF file for ``spec`` whose tensors are ``tensors``: ``(data bytes of one
    tensor, how many tensors of that size)``, with ``infos_bytes`` the sum of their
    :func:`tensor_info_bytes`.

    ``file_bytes = pad(24 + KV + tensor infos) + sum(pad(tensor bytes))`` (module docstring);
    ``tokenizer`` from :func:`llmcalc.importers.tokenizer_json.read_tokenizer_json` when one was
    read, else :func:`estimate_tokenizer`. Pure.
    """
    sizes = list(tensors)
    tok = tokenizer if tokenizer is not None else estimate_tokenizer(spec)
    pre = tok.kind == "gpt2"
    tok_bytes = tokenizer_kv_bytes(tok, pre=pre)
    model_bytes, n_model_kv = model_kv_bytes(spec, size_label=size_label, config=config, quantized=quantized)
    n_kv = n_model_kv + _tokenizer_kv_count(tok, pre=pre)
    if alignment != GGUF_DEFAULT_ALIGNMENT:
        model_bytes += kv_bytes("general.alignment", 4)
        n_kv += 1
    infos = infos_bytes
    meta = HEADER_BYTES + model_bytes + tok_bytes + infos
    data = sum(nbytes * count for nbytes, count in sizes)
    padded = pad(meta, alignment) + sum(pad(nbytes, alignment) * count for nbytes, count in sizes)
    return GGUFFileSize(
        file_bytes=padded,
        tensor_data_bytes=data,
        metadata_bytes=meta,
        tokenizer_bytes=tok_bytes,
        tensor_info_bytes=infos,
        padding_bytes=padded - meta - data,
        n_tensors=sum(count for _, count in sizes),
        n_kv=n_kv,
        alignment=alignment,
        estimated=tok.estimated,
        tokenizer_source=tok.source,
    )


__all__ = [
    "GGUF_DEFAULT_ALIGNMENT",
    "GGUFFileSize",
    "TokenizerFacts",
    "arch_name",
    "estimate_tokenizer",
    "gguf_file_size",
    "pad",
    "tensor_info_bytes",
    "tokenizer_kind",
]
