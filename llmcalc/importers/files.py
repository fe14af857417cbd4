"""Reading JSON and YAML files: the one place that turns bytes on disk into mappings.

Every error names the file and, where the parser reports one, the line. YAML is read with the safe
loader only (``yaml.CSafeLoader`` when PyYAML has its C extension, else ``yaml.SafeLoader``: the
same safe subset, faster).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from llmcalc.errors import ConfigError

#: Files larger than this are not architecture descriptions; refuse before reading them.
MAX_TEXT_FILE_BYTES = 16 * 1024 * 1024


@contextmanager
def reading(path: str | os.PathLike[str], *, error: type[Exception] = ConfigError,
            expected: str = "a file") -> Iterator[None]:
    """Turn the OS's errors while reading ``path`` into one ``error`` naming the file."""
    try:
        yield
    except FileNotFoundError:
        raise error(f"{path}: no such file") from None
    except IsADirectoryError:
        raise error(f"{path}: is a folder, expected {expected}") from None
    except OSError as exc:
        raise error(f"{path}: cannot read ({exc.strerror})") from None


def read_text(path: str | os.PathLike[str]) -> str:
    """The file's text (UTF-8), with errors that name it."""
    try:
        with reading(path):
            size = os.stat(path).st_size
            if size > MAX_TEXT_FILE_BYTES:
                raise ConfigError(f"{path}: {size:,} bytes is too large for a config file")
            with open(path, encoding="utf-8") as handle:
                return handle.read()
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def read_json(path: str | os.PathLike[str]) -> Any:
    """Parse a JSON file; a syntax error names the file, line and column."""
    import json

    text = read_text(path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None


def load_yaml(text: str, *, source: str) -> Any:
    """Parse YAML text with the safe loader; a syntax error names ``source`` and the line."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(text, Loader=loader)  # noqa: S506 - a SafeLoader, never the full loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{source}: invalid YAML{where}: {problem}") from None


def read_yaml(path: str | os.PathLike[str]) -> Any:
    """Parse a YAML file with the safe loader; a syntax error names the file and line."""
    return load_yaml(read_text(path), source=str(path))
