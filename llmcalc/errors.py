"""Error types.

One base class, :class:`LLMCalcError`; each subclass also inherits the builtin it refines,
so ``except ValueError`` keeps working for callers who do not know this library. The CLI turns
any :class:`LLMCalcError` into one ``Error: ...`` line on stderr and exit status 1.
"""

from __future__ import annotations


def shown(value: object, limit: int = 40) -> str:
    """``repr(value)`` for an error message, shortened: an error line never repeats a whole hostile
    value, and an integer too long to print (Python refuses past 4,300 digits) is described instead."""
    if isinstance(value, int) and value.bit_length() >= 200:
        return f"an integer of about {int(value.bit_length() * 0.30103)} digits"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class LLMCalcError(Exception):
    """Base class of every error llmcalc raises on purpose."""


class SpecError(ValueError, LLMCalcError):
    """A model description is invalid: a field is missing, of the wrong type or out of range."""


class ConfigError(ValueError, LLMCalcError):
    """A config.json or YAML file cannot be read or parsed."""


class PresetError(LookupError, LLMCalcError):
    """A model name does not resolve to a preset, file or folder."""


class QuantError(LookupError, LLMCalcError):
    """An unknown or malformed weight-format name or bits-per-weight value."""


class GPUError(LookupError, LLMCalcError):
    """An unknown GPU name or a malformed GPU catalogue."""


class FileFormatError(ValueError, LLMCalcError):
    """A model file (safetensors, GGUF) is malformed, truncated or unsupported."""


class UsageError(ValueError, LLMCalcError):
    """Arguments that are each valid but cannot be used together."""
