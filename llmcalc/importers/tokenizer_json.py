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


#: ``SpecialVocab``'s special token types (gguf-py/gguf/vocab.py), and those with an add_*_token key.
_SPECIAL_TYPES = ("bos", "eos", "unk", "sep", "pad", "cls", "mask")
_ADD_TYPES = ("bos", "eos", "sep")


def _special_tokens(
    data: Mapping[str, Any], tokenizer_config: Mapping[str, Any] | None, model_config: Mapping[str, Any] | None
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(special token types with an id, types with an add flag), as ``SpecialVocab._load`` finds them.

    Add flags: a ``ByteLevel`` post-processor sets bos and eos (false), ``RobertaProcessing`` bos,
    eos and sep, ``TemplateProcessing`` bos when its single template starts with a special token
    and eos when it ends with one (sep from the pair template is not modelled); then
    tokenizer_config.json's ``add_{type}_token`` booleans. Ids: tokenizer_config.json's
    ``{type}_token`` (a string or ``{"content": ...}``) found among ``added_tokens`` (bos falls back to
    cls, eos to sep), then config.json's ``{type}_token_id`` integers (vocab.py ~183-367).
    """
    tc = dict(tokenizer_config or {})
    add: set[str] = set()
    post = data.get("post_processor")
    if isinstance(post, Mapping):
        procs = post.get("processors", [post])
        for proc in procs if isinstance(procs, list) else ():
            kind = proc.get("type") if isinstance(proc, Mapping) else None
            if kind == "ByteLevel":
                add |= {"bos", "eos"}
            elif kind == "RobertaProcessing":
                add |= {"bos", "eos", "sep"}
            elif kind == "TemplateProcessing":
                single = proc.get("single") or []
                if len(single) > 1 and isinstance(single[0], Mapping) and single[0].get("SpecialToken"):
                    add.add("bos")
                if len(single) > 1 and isinstance(single[-1], Mapping) and single[-1].get("SpecialToken"):
                    add.add("eos")
    if not tc.get("bos_token") and tc.get("cls_token"):
        tc["bos_token"] = tc["cls_token"]
    if not tc.get("eos_token") and tc.get("sep_token"):
        tc["eos_token"] = tc["sep_token"]
    added = [a for a in data.get("added_tokens") or () if isinstance(a, Mapping)]
    ids: list[str] = []
    for typ in _SPECIAL_TYPES:
        if isinstance(tc.get(f"add_{typ}_token"), bool):
            add.add(typ)
        entry = tc.get(f"{typ}_token")
        content = entry.get("content") if isinstance(entry, Mapping) else entry
        if isinstance(content, str) and any(isinstance(a.get("id"), int) and a.get("content") == content
                                            for a in added):
            ids.append(typ)
    for typ in _SPECIAL_TYPES:
        if typ not in ids and isinstance((model_config or {}).get(f"{typ}_token_id"), int):
            ids.append(typ)
    return tuple(ids), tuple(t for t in _ADD_TYPES if t in add)


def _pre_name(data: Mapping[str, Any]) -> str:
    """``tokenizer.ggml.pre``: the converter names it from a hash of a test string's tokens
    (``get_vocab_base_pre``), which llmcalc cannot compute; a lone ``ByteLevel`` pre-tokenizer with
    GPT-2's regex is ``gpt-2``, anything else is sized as ``default`` (an estimate of a few bytes)."""
    pre = data.get("pre_tokenizer")
    if (isinstance(pre, Mapping) and pre.get("type") == "ByteLevel" and pre.get("use_regex", True)
            and not data.get("normalizer")):
        return "gpt-2"
    return "default"


def tokenizer_facts(
    data: object,
    *,
    vocab_size: int,
    source: str,
    chat_template: str | None = None,
    tokenizer_config: Mapping[str, Any] | None = None,
    model_config: Mapping[str, Any] | None = None,
) -> TokenizerFacts:
    """The GGUF tokenizer metadata measured from a parsed tokenizer.json (``data``).

    Tokens: ``model.vocab`` (a mapping for BPE/WordPiece, a list of ``[piece, score]`` for Unigram)
    plus ``added_tokens``, one per id up to ``max(vocab_size, highest id + 1)``, missing ids as
    ``[PAD<id>]``. Merges: ``model.merges``, either ``"a b"`` strings or ``[a, b]`` pairs, each
    ``len(a) + 1 + len(b)`` bytes. Special token ids and add flags from ``tokenizer_config`` and
    ``model_config`` (:func:`_special_tokens`); without either, bos and eos ids and add_bos. Pure.
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
    specials: dict[str, Any] = {}
    if tokenizer_config is not None or model_config is not None:
        ids, add = _special_tokens(data, tokenizer_config, model_config)
        specials = {"special_ids": ids, "add_special": add}
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
        pre=_pre_name(data),
        **specials,
    )


def _json_beside(folder: str, name: str) -> dict[str, Any] | None:
    path = os.path.join(folder, name)
    if not os.path.isfile(path):
        return None
    data = parse_json(read_bytes(path, what=f"a {name}").decode("utf-8", "replace"), source=path)
    return data if isinstance(data, dict) else None


def read_tokenizer_json(path: str | os.PathLike[str], *, vocab_size: int) -> TokenizerFacts:
    """Read ``path`` (a tokenizer.json), the tokenizer_config.json beside it (chat template, special
    tokens) and the config.json beside it (special token ids), as the converter's ``SpecialVocab`` does."""
    raw = read_bytes(path, limit=MAX_TOKENIZER_BYTES, what="a tokenizer.json")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    data = parse_json(text, source=str(path))
    folder = os.path.dirname(os.fspath(path)) or "."
    tc = _json_beside(folder, "tokenizer_config.json")
    template = tc.get("chat_template") if tc is not None else None
    return tokenizer_facts(data, vocab_size=vocab_size, source=str(path),
                           chat_template=template if isinstance(template, str) else None,
                           tokenizer_config=tc if tc is not None else {},
                           model_config=_json_beside(folder, "config.json"))


def tokenizer_beside(source: str, *, vocab_size: int) -> TokenizerFacts | None:
    """The tokenizer.json in the folder of a model source path (a folder or a file in it), if any."""
    if not source or not os.path.exists(source):
        return None
    folder = source if os.path.isdir(source) else os.path.dirname(source)
    path = os.path.join(folder or ".", "tokenizer.json")
    return read_tokenizer_json(path, vocab_size=vocab_size) if os.path.isfile(path) else None


__all__ = ["MAX_TOKENIZER_BYTES", "read_tokenizer_json", "tokenizer_beside", "tokenizer_facts"]
