"""Reading a Hugging Face ``tokenizer.json`` for what a GGUF file's tokenizer metadata holds.

llama.cpp's converter copies the tokenizer into the GGUF metadata (``_set_vocab_gpt2``,
``_set_vocab_sentencepiece`` and ``get_vocab_base`` in convert_hf_to_gguf.py / conversion/base.py):
one string per token id up to the config's ``vocab_size`` (ids with no token become
``[PAD<id>]``), the merges of a BPE model as ``"left right"`` strings, an f32 score per token for
SentencePiece and Unigram models, and the chat template from ``tokenizer_config.json`` when there
is one beside it. This module measures those strings (UTF-8 bytes) without keeping them.

Bounded: at most :data:`MAX_TOKENIZER_BYTES` bytes are read (the largest real tokenizer.json
files, Gemma's 256k vocabulary, are ~35 MB).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from llmcalc.errors import ConfigError
from llmcalc.importers.files import parse_json, read_bytes
from llmcalc.quant.gguf_layout import TokenizerFacts

#: The most of a tokenizer.json that is read.
MAX_TOKENIZER_BYTES = 64 * 1024 * 1024


def _utf8(text: str) -> int:
    return len(text.encode("utf-8"))


def _kind(model: Mapping[str, Any]) -> str:
    """``tokenizer.ggml.model``: ``gpt2`` for byte-level BPE, ``llama`` for SentencePiece-style BPE
    (``byte_fallback``) and Unigram, ``bert`` for WordPiece."""
    kind = model.get("type")
    if kind == "BPE":
        return "llama" if model.get("byte_fallback") else "gpt2"
    if kind == "Unigram":
        return "llama"
    if kind == "WordPiece":
        return "bert"
    raise ConfigError(f"tokenizer.json: model type {kind!r} is not one llmcalc can size")


def tokenizer_facts(data: object, *, vocab_size: int, source: str, chat_template: str | None = None) -> TokenizerFacts:
    """The GGUF tokenizer metadata measured from a parsed tokenizer.json (``data``).

    Tokens: ``model.vocab`` (a mapping for BPE/WordPiece, a list of ``[piece, score]`` for Unigram)
    plus ``added_tokens``, one per id up to ``max(vocab_size, highest id + 1)``, missing ids as
    ``[PAD<id>]``. Merges: ``model.merges``, either ``"a b"`` strings or ``[a, b]`` pairs, each
    ``len(a) + 1 + len(b)`` bytes. Pure.
    """
    if not isinstance(data, Mapping) or not isinstance(data.get("model"), Mapping):
        raise ConfigError(f"{source}: not a tokenizer.json (no 'model' object)")
    model = data["model"]
    kind = _kind(model)
    by_id: dict[int, str] = {}
    vocab = model.get("vocab")
    if isinstance(vocab, Mapping):
        by_id.update((int(i), str(tok)) for tok, i in vocab.items())
    elif isinstance(vocab, list):
        by_id.update((i, str(item[0])) for i, item in enumerate(vocab) if isinstance(item, list) and item)
    else:
        raise ConfigError(f"{source}: model.vocab is neither a mapping nor a list")
    for added in data.get("added_tokens") or ():
        if isinstance(added, Mapping) and isinstance(added.get("id"), int):
            by_id[added["id"]] = str(added.get("content", ""))
    n = max(vocab_size, max(by_id, default=-1) + 1)
    token_bytes = sum(_utf8(by_id[i]) if i in by_id else len(f"[PAD{i}]") for i in range(n))
    merges = model.get("merges") or []
    merge_bytes = 0
    for m in merges:
        if isinstance(m, str):
            merge_bytes += _utf8(m)
        elif isinstance(m, list) and len(m) == 2:
            merge_bytes += _utf8(str(m[0])) + 1 + _utf8(str(m[1]))
    template = _utf8(chat_template) if chat_template else 0
    return TokenizerFacts(
        kind=kind,
        n_tokens=n,
        token_bytes=token_bytes,
        n_merges=len(merges) if kind == "gpt2" else 0,
        merge_bytes=merge_bytes if kind == "gpt2" else 0,
        has_scores=kind == "llama",
        chat_template_bytes=template,
        estimated=False,
        source=f"read from {source}: {n:,} tokens" + (f", {len(merges):,} merges" if kind == "gpt2" else ""),
    )


def _chat_template(folder: str) -> str | None:
    path = os.path.join(folder, "tokenizer_config.json")
    if not os.path.isfile(path):
        return None
    data = parse_json(read_bytes(path, what="a tokenizer_config.json").decode("utf-8", "replace"), source=path)
    template = data.get("chat_template") if isinstance(data, Mapping) else None
    return template if isinstance(template, str) else None


def read_tokenizer_json(path: str | os.PathLike[str], *, vocab_size: int) -> TokenizerFacts:
    """Read ``path`` (a tokenizer.json) and the chat template of a tokenizer_config.json beside it."""
    raw = read_bytes(path, limit=MAX_TOKENIZER_BYTES, what="a tokenizer.json")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    data = parse_json(text, source=str(path))
    template = _chat_template(os.path.dirname(os.fspath(path)) or ".")
    return tokenizer_facts(data, vocab_size=vocab_size, source=str(path), chat_template=template)


def tokenizer_beside(source: str, *, vocab_size: int) -> TokenizerFacts | None:
    """The tokenizer.json in the folder of a model source path (a folder or a file in it), if any."""
    if not source or not os.path.exists(source):
        return None
    folder = source if os.path.isdir(source) else os.path.dirname(source)
    path = os.path.join(folder or ".", "tokenizer.json")
    return read_tokenizer_json(path, vocab_size=vocab_size) if os.path.isfile(path) else None


__all__ = ["MAX_TOKENIZER_BYTES", "read_tokenizer_json", "tokenizer_beside", "tokenizer_facts"]
