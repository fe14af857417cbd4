"""Argument checks at the library's boundary: wrong Python types become an :class:`UsageError`.

The CLI's parsers check what a user types; these check what a script passes to the public
functions (``count_params``, ``kv_cache``, ``estimate_memory``, ``weights_for_format``,
``load_model`` ...), so that a wrong type is one clear error naming the argument instead of an
``AttributeError`` or ``TypeError`` from deep inside a formula. Each check is a few ``isinstance``
calls: cheap enough for the sweep's inner loop, which calls the formulas directly anyway.
"""

from __future__ import annotations

from typing import Any

from llmcalc.errors import UsageError

#: The largest count any argument may take (tokens, sequences): 2^40.
MAX_ARGUMENT = 1 << 40


def require_spec(spec: object, name: str = "spec") -> None:
    """``spec`` must be a :class:`~llmcalc.spec.ModelSpec` (``load_model(...).spec``)."""
    from llmcalc.spec import ModelSpec

    if not isinstance(spec, ModelSpec):
        hint = "; pass load_model(name).spec" if isinstance(spec, str) else ""
        raise UsageError(f"{name} must be a ModelSpec, got {type(spec).__name__}{hint}")


def require_count(value: Any, name: str, *, minimum: int = 1, maximum: int = MAX_ARGUMENT) -> None:
    """``value`` must be an ``int`` (not a bool, float or string) in ``[minimum, maximum]``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise UsageError(f"{name} must be a whole number, got {type(value).__name__} {str(value)[:40]!r}")
    if not minimum <= value <= maximum:
        raise UsageError(f"{name} must be between {minimum:,} and {maximum:,}, got {str(value)[:40]}")


def require_optional_count(value: Any, name: str, *, minimum: int = 1) -> None:
    if value is not None:
        require_count(value, name, minimum=minimum)
