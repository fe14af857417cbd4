"""Reading JSON and YAML files: the one place that turns bytes on disk into mappings.

Every error names the file and, where the parser reports one, the line. YAML is read with the safe
loader only (``yaml.CSafeLoader`` when PyYAML has its C extension, else ``yaml.SafeLoader``: the
same safe subset, faster).

Reading is bounded whatever the file claims: only regular files are read (a FIFO would block
forever, ``/dev/zero`` never ends), at most :data:`MAX_TEXT_FILE_BYTES` bytes are read, however
large ``stat`` says the file is; JSON integers longer than :data:`MAX_INT_DIGITS` digits are
refused (NaN and Infinity are floats, refused by the fields that read them); nesting deeper than
the parser's recursion limit is an error, not a ``RecursionError``; and a YAML document whose
aliases expand to more than :data:`MAX_YAML_NODES` values (a "billion laughs" file) is refused
before anything walks it.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from llmcalc.errors import ConfigError

#: Files larger than this are not architecture descriptions (the largest real config.json files are
#: ~100 KB, presets ~10 KB); refuse them after reading at most this much.
MAX_TEXT_FILE_BYTES = 4 * 1024 * 1024

#: The longest integer a config or preset may hold (published totals are 13 digits; the
#: ``model_max_length`` sentinel transformers writes into tokenizer_config.json, int(1e30), has 31).
MAX_INT_DIGITS = 40

#: Values a YAML document may expand to once its aliases are followed (presets hold ~100).
MAX_YAML_NODES = 200_000


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


def read_bytes(path: str | os.PathLike[str], *, limit: int = MAX_TEXT_FILE_BYTES, what: str = "a config file",
               error: type[Exception] = ConfigError) -> bytes:
    """At most ``limit`` bytes of a regular file; anything else (FIFO, device, larger file) is an error."""
    with reading(path, error=error):
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as handle:
            mode = os.fstat(handle.fileno()).st_mode
            if stat.S_ISDIR(mode):
                raise error(f"{path}: is a folder, expected {what}")
            if not stat.S_ISREG(mode):
                raise error(f"{path}: not a regular file (a pipe or device), expected {what}")
            data = handle.read(limit + 1)
    if len(data) > limit:
        raise error(f"{path}: more than {limit:,} bytes is too large for {what}")
    return data


def read_text(path: str | os.PathLike[str]) -> str:
    """The file's text (UTF-8), with errors that name it."""
    return decode_text(read_bytes(path), path)


def decode_text(data: bytes, path: str | os.PathLike[str]) -> str:
    """``data`` read from ``path`` as UTF-8 text; an error names the file."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def _bounded_int(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > MAX_INT_DIGITS:
        raise ValueError(f"an integer of {digits:,} digits")
    return int(text)


def parse_json(text: str, *, source: str) -> Any:
    """Parse JSON text: integers bounded, nesting bounded; errors name ``source``.

    ``Infinity``, ``-Infinity`` and ``NaN`` are read as floats, as Python's json module and
    transformers do: real configs carry them (Nemotron-H's ``time_step_limit: [0.0, Infinity]``).
    A field llmcalc reads refuses a non-finite value there (:meth:`Fields.number`).
    """
    import json

    try:
        return json.loads(text, parse_int=_bounded_int)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{source}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    except RecursionError:
        raise ConfigError(f"{source}: JSON nested too deeply") from None
    except ValueError as exc:
        raise ConfigError(f"{source}: invalid JSON: {exc}") from None


def read_json(path: str | os.PathLike[str]) -> Any:
    """Parse a JSON file; a syntax error names the file, line and column."""
    return parse_json(read_text(path), source=str(path))


def load_yaml(text: str, *, source: str) -> Any:
    """Parse YAML text with the safe loader; a syntax error names ``source`` and the line."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        data = yaml.load(text, Loader=loader)  # noqa: S506 - a SafeLoader, never the full loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{source}: invalid YAML{where}: {problem}") from None
    except RecursionError:
        raise ConfigError(f"{source}: YAML nested too deeply") from None
    except (ValueError, OverflowError) as exc:  # e.g. an integer past Python's 4,300-digit limit
        raise ConfigError(f"{source}: invalid YAML value: {str(exc).splitlines()[0][:120]}") from None
    _check_yaml_size(data, source)
    return data


def _check_yaml_size(data: Any, source: str) -> None:
    """Refuse documents whose aliases expand past :data:`MAX_YAML_NODES` values, or huge integers.

    Aliases share objects, so the walk counts what printing the document would visit, and stops
    as soon as the budget is spent (work bounded by the budget, not by the expansion).
    """
    budget = MAX_YAML_NODES
    stack = [data]
    while stack:
        item = stack.pop()
        budget -= 1
        if budget < 0:
            raise ConfigError(f"{source}: YAML expands to more than {MAX_YAML_NODES:,} values (aliases?)")
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, int) and not isinstance(item, bool) and item.bit_length() > 100:
            raise ConfigError(f"{source}: an integer of more than {MAX_INT_DIGITS} digits")


def read_yaml(path: str | os.PathLike[str]) -> Any:
    """Parse a YAML file with the safe loader; a syntax error names the file and line."""
    return load_yaml(read_text(path), source=str(path))
