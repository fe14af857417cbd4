"""Typed access to a config.json mapping that collects every problem instead of stopping at one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from llmcalc.errors import SpecError, shown

_MISSING = object()

#: The largest value any integer field may take: well above every real dimension (vocabularies of
#: 10^6, widths of 10^5, context of 10^7) and small enough that no product overflows a float.
MAX_FIELD = 1 << 40

#: Tighter bounds for counts that drive loops: no real model has 10^5 layers or 10^6 experts, and
#: a config claiming 10^18 must fail at once rather than after minutes of work.
FIELD_LIMITS: dict[str, int] = {
    **dict.fromkeys(
        ("num_hidden_layers", "n_layer", "num_layers", "n_layers", "num_decoder_layers", "decoder_layers",
         "encoder_layers", "num_encoder_layers", "block_count", "first_k_dense_replace"),
        100_000,
    ),
    **dict.fromkeys(("num_experts", "num_local_experts", "n_routed_experts", "moe_num_experts"), 1_000_000),
}


class Fields:
    """Typed access to a config mapping that collects every problem instead of stopping at one."""

    def __init__(self, data: Mapping[str, Any], source: str) -> None:
        self.data = data
        self.source = source
        self.errors: list[str] = []
        self.assumptions: list[str] = []

    def _raw(self, names: tuple[str, ...]) -> tuple[str, Any]:
        for name in names:
            if name in self.data and self.data[name] is not None:
                return name, self.data[name]
        return names[0], _MISSING

    def has(self, *names: str) -> bool:
        return self._raw(names)[1] is not _MISSING

    def integer(self, *names: str, default: Any = _MISSING, minimum: int = 1, maximum: int | None = None) -> int:
        """The first present key among ``names`` as an int >= ``minimum``; records an error if bad."""
        name, value = self._raw(names)
        if value is _MISSING:
            if default is _MISSING:
                self.errors.append(f"missing required field '{name}'")
                return 1
            return int(default)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            self.errors.append(f"field '{name}' must be an integer, got {shown(value)}")
            return 1
        if value < minimum:
            bound = "positive" if minimum == 1 else f">= {minimum}"
            self.errors.append(f"field '{name}' must be {bound}, got {shown(value)}")
            return 1
        limit = maximum if maximum is not None else FIELD_LIMITS.get(name, MAX_FIELD)
        if value > limit:
            self.errors.append(f"field '{name}' is {shown(value)}, more than any model has (at most {limit:,})")
            return 1
        return value

    def opt_int(self, *names: str, minimum: int = 1) -> int | None:
        return self.integer(*names, minimum=minimum) if self.has(*names) else None

    def boolean(self, *names: str, default: bool) -> bool:
        name, value = self._raw(names)
        if value is _MISSING:
            return default
        if not isinstance(value, bool):
            self.errors.append(f"field '{name}' must be true or false, got {shown(value)}")
            return default
        return value

    def number(self, *names: str, default: float | None = None) -> float | None:
        name, value = self._raw(names)
        if value is _MISSING:
            return default
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.errors.append(f"field '{name}' must be a number, got {shown(value)}")
            return default
        if isinstance(value, int) and abs(value) > MAX_FIELD * MAX_FIELD:
            self.errors.append(f"field '{name}' is {shown(value)}, out of range")
            return default
        number = float(value)
        if number != number or number in (float("inf"), float("-inf")):
            self.errors.append(f"field '{name}' must be a finite number, got {number}")
            return default
        return number

    def string(self, *names: str, default: str) -> str:
        name, value = self._raw(names)
        if value is _MISSING:
            return default
        if not isinstance(value, str):
            self.errors.append(f"field '{name}' must be a string, got {shown(value)}")
            return default
        return value

    def int_list(self, name: str) -> list[int]:
        value = self.data.get(name)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            self.errors.append(f"field '{name}' must be a list of integers, got {shown(value)}")
            return []
        return value

    def str_list(self, name: str) -> list[str] | None:
        value = self.data.get(name)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.errors.append(f"field '{name}' must be a list of strings, got {shown(value)}")
            return None
        return value

    def head_dim(self, hidden: int, heads: int, *names: str) -> int:
        """Explicit ``head_dim`` when the config has one, else ``hidden / heads`` (must divide)."""
        if names and self.has(*names):
            return self.integer(*names)
        if hidden % heads:
            self.errors.append(
                f"hidden size {hidden} is not divisible by {heads} attention heads and no head_dim is given"
            )
            return 1
        return hidden // heads

    def check(self) -> None:
        """Raise one :class:`SpecError` listing every problem once (builders may read a field twice)."""
        if self.errors:
            raise SpecError(f"{self.source}: " + "; ".join(dict.fromkeys(self.errors)))
