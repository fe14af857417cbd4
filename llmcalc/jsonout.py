"""Plain-JSON views of result dataclasses, so ``--json`` and the Python API tell the same story.

Every ``--json`` document is one JSON object that starts with :data:`SCHEMA_VERSION` and the llmcalc
version (:func:`envelope`), so a script can check what it reads. A command whose answer is a list
(every preset, every GPU, every format, every point of a sweep) puts it under one named key. The keys
of each command's document are tabled in README.md ("JSON output"); ``tests/test_json_schema.py``
fails when a key is added or removed without its row. Raise :data:`SCHEMA_VERSION` when a key is
renamed or removed, or changes meaning; adding a key does not change it.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

#: The version of the JSON documents' layout: raised when a key is renamed, removed or changes meaning.
SCHEMA_VERSION = 1


def llmcalc_version() -> str:
    """The installed distribution's version (``llmcalc-cli``), else the package's ``__version__``."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("llmcalc-cli")
    except PackageNotFoundError:
        pass
    from llmcalc import __version__

    return __version__


def envelope(value: Any, *, key: str = "items") -> dict[str, Any]:
    """``{"schema_version", "llmcalc_version", ...}``: a mapping's keys follow; a list goes under ``key``."""
    head: dict[str, Any] = {"schema_version": SCHEMA_VERSION, "llmcalc_version": llmcalc_version()}
    body = to_jsonable(value)
    if isinstance(body, dict):
        return {**head, **body}
    return {**head, key: body}


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


def dumps(value: Any, *, key: str = "items") -> str:
    """The indented JSON document of ``value`` (:func:`envelope`; json is imported here: a table never needs it)."""
    import json

    return json.dumps(envelope(value, key=key), indent=2)
