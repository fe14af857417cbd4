"""Hugging Face ``config.json`` -> :class:`~llmcalc.spec.ModelSpec`, one module per family.

This is the boundary where untrusted architecture values are checked: every problem in a config is
collected and reported at once, with the source and the key. Nothing here reads files (see
:mod:`llmcalc.importers.files`); it takes the parsed mapping.

Layout: :mod:`.fields` (typed, error-collecting field access), :mod:`.common` (readers and layer
builders shared by families), one module per family mirroring the reference implementation,
Hugging Face transformers ``models/<model_type>/modeling_<model_type>.py`` with the defaults of its
``configuration_<model_type>.py``, and :mod:`.registry` (model_type -> module and builder).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

from llmcalc.errors import SpecError
from llmcalc.importers.hf.fields import Fields
from llmcalc.importers.hf.registry import BUILDERS, SUPPORTED_MODEL_TYPES
from llmcalc.spec import ModelSpec

__all__ = ["SUPPORTED_MODEL_TYPES", "Fields", "builder_for", "spec_from_hf_config"]

Builder = Callable[[Fields, str, str], ModelSpec]


def builder_for(model_type: str) -> Builder:
    """The builder registered for ``model_type``, or the generic Llama-style one."""
    target = BUILDERS.get(model_type, "llama:generic")
    module, attr = target.split(":")
    builder: Builder = getattr(importlib.import_module(f"llmcalc.importers.hf.{module}"), attr)
    return builder


def spec_from_hf_config(data: Mapping[str, Any], *, source: str, name: str | None = None) -> ModelSpec:
    """Build a :class:`ModelSpec` from a parsed Hugging Face config.json mapping.

    ``source`` names where the mapping came from (a path, or ``preset NAME``) and starts every
    error message. Raises :class:`~llmcalc.errors.SpecError` listing every problem found.
    """
    if not isinstance(data, Mapping):
        raise SpecError(f"{source}: a config must be a mapping of fields, got {type(data).__name__}")
    f = Fields(data, source)
    model_type = f.string("model_type", default="")
    if not model_type:
        f.errors.append("missing required field 'model_type'")
        f.check()
    builder = builder_for(model_type)
    label = name or _default_name(data) or model_type
    try:
        return builder(f, label, model_type)
    except SpecError as exc:
        message = str(exc)
        if message.startswith(source):
            raise
        raise SpecError(f"{source}: {message}") from None


def _default_name(data: Mapping[str, Any]) -> str | None:
    value = data.get("_name_or_path")
    return value if isinstance(value, str) and value else None
