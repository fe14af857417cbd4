"""Plain-JSON views of result dataclasses, so ``--json`` and the Python API tell the same story."""

from __future__ import annotations

import dataclasses
import os
from typing import Any


def to_jsonable(value: Any) -> Any:
    """Dataclasses -> dicts (fields in order), tuples -> lists, Paths -> strings; ints stay ints."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return value


def dumps(value: Any) -> str:
    """Indented JSON of :func:`to_jsonable` (json is imported here: a table never needs it)."""
    import json

    return json.dumps(to_jsonable(value), indent=2)
