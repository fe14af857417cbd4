"""What a loaded model tells llmcalc's GGUF pricing beyond its spec: a stored head, a tokenizer.

:func:`llmcalc.quant.weights_for_format` takes ``stored_output_head`` and ``tokenizer`` as
arguments (it never reads files); this module finds them for a :class:`~llmcalc.loading.LoadedModel`:

- ``stored_output_head``: the preset's ``stored_output_head`` key, or, for model files, a tied
  config whose safetensors headers hold exactly one embedding table more than the architecture
  (``counted_params - total_params == vocab_size x embedding width``): the checkpoint stores
  ``lm_head.weight``, and llama.cpp's converter writes it as ``output.weight``.
- ``tokenizer``: the ``tokenizer.json`` beside a local config.json or model folder, read by
  :mod:`llmcalc.importers.tokenizer_json`; ``None`` (estimated) for presets and GGUF files.
- ``hf_config``: that config.json itself, whose keys decide which model keys llama.cpp's converter
  writes (:mod:`llmcalc.quant.gguf_metadata`); ``None`` (keys from the spec) otherwise.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, TypedDict

from llmcalc.params import count_params

if TYPE_CHECKING:
    from llmcalc.loading import LoadedModel
    from llmcalc.quant.gguf_layout import TokenizerFacts


class GGUFOptions(TypedDict):
    """Keyword arguments for :func:`llmcalc.quant.weights_for_format`."""

    stored_output_head: bool
    tokenizer: TokenizerFacts | None
    hf_config: dict[str, Any] | None


def stored_output_head(loaded: LoadedModel) -> bool:
    """Whether the checkpoint stores an output head that its config ties (see the module docstring)."""
    spec = loaded.spec
    if loaded.preset is not None:
        return loaded.preset.stored_output_head
    if spec.lm_head != "tied" or loaded.counted_params is None:
        return False
    head = spec.vocab_size * (spec.embedding_dim or spec.hidden_size)
    return loaded.counted_params - count_params(spec).total_params == head


def _config_beside(source: str) -> dict[str, Any] | None:
    """The config.json of a local model source (a config.json, a folder, or a file in one)."""
    from llmcalc.importers.files import read_json

    path = source if os.path.isfile(source) and source.endswith(".json") else None
    if path is None:
        folder = source if os.path.isdir(source) else os.path.dirname(source)
        path = os.path.join(folder or ".", "config.json")
    if not os.path.isfile(path):
        return None
    data = read_json(path)
    return data if isinstance(data, dict) else None


def gguf_options(loaded: LoadedModel) -> GGUFOptions:
    """``stored_output_head``, ``tokenizer`` and ``hf_config`` for ``loaded`` (reads the tokenizer.json
    and config.json when they are beside it)."""
    tokenizer = None
    config = None
    if loaded.kind in ("config", "safetensors", "hf-cache"):
        from llmcalc.importers.tokenizer_json import tokenizer_beside

        tokenizer = tokenizer_beside(loaded.source, vocab_size=loaded.spec.vocab_size)
        config = _config_beside(loaded.source) if os.path.exists(loaded.source) else None
    return GGUFOptions(stored_output_head=stored_output_head(loaded), tokenizer=tokenizer, hf_config=config)


__all__ = ["GGUFOptions", "gguf_options", "stored_output_head"]
