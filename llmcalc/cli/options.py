"""Option groups shared by several commands, as plain decorator functions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def _forbid_hub(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    """``--offline``: the same switch as HF_HUB_OFFLINE=1, for this process (llmcalc.importers.hub)."""
    if value:
        import os

        os.environ["HF_HUB_OFFLINE"] = "1"


def presets_dir_option(f: F) -> F:
    """Where models come from: --presets-dir, and --offline (never ask the Hugging Face Hub)."""
    f = click.option(
        "--offline",
        is_flag=True,
        expose_value=False,
        callback=_forbid_hub,
        help="Never ask the Hugging Face Hub for an org/name missing from the local cache (also HF_HUB_OFFLINE=1).",
    )(f)
    return click.option(
        "--presets-dir",
        "presets_dirs",
        multiple=True,
        type=click.Path(file_okay=False),
        help="Extra folder of preset YAML files (repeatable; also LLMCALC_PRESETS, joined with ':').",
    )(f)


def json_option(f: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON instead of a table.")(f)


def width_option(f: F) -> F:
    return click.option("--width", type=click.IntRange(40, 400), default=None, hidden=True,
                        help="Render tables at this width (for tests and pipes).")(f)


def warn(message: str) -> None:
    """A warning line on stderr."""
    click.echo(f"Warning: {message}", err=True)


def units_option(f: F) -> F:
    return click.option("--units", type=click.Choice(["binary", "decimal", "GiB", "GB"], case_sensitive=False),
                        default="binary", show_default=True, callback=_units,
                        help="Memory in GiB (2^30 bytes: binary, GiB) or GB (10^9 bytes: decimal, GB).")(f)


def gpus_file_option(f: F) -> F:
    return click.option(
        "--gpus-file",
        "gpus_files",
        multiple=True,
        type=click.Path(exists=True, dir_okay=False),
        help="Extra GPU catalogue YAML file; its entries replace built-in ones of the same name "
             "(repeatable; also LLMCALC_GPUS, joined with ':').",
    )(f)


# --- one parser for every command: counts, lists, GPU sets, units, completion -------------------------
#
# Bad values of one kind fail the same way everywhere: click's usage error, exit status 2. Domain
# checks that need a model (a context past its maximum, say) stay in the library (exit 1).

from llmcalc.units import COUNT_SUFFIXES, MAX_COUNT, parse_count  # noqa: E402 - the pure parser, shared

__all__ = ["COUNT_SUFFIXES", "MAX_COUNT", "parse_count"]


class Count(click.ParamType):  # type: ignore[type-arg]
    """A whole number with an optional K/M suffix (:func:`parse_count`), at least ``minimum``."""

    name = "count"

    def __init__(self, minimum: int = 1) -> None:
        self.minimum = minimum

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        else:
            try:
                number = parse_count(str(value))
            except ValueError as exc:
                self.fail(f"'{_shown(value)}': {exc}", param, ctx)
        if number < self.minimum:
            self.fail(f"'{_shown(value)}' is less than {self.minimum}", param, ctx)
        return number


def _shown(value: object, limit: int = 40) -> str:
    """A user's value as echoed in a message: one line, at most ``limit`` characters."""
    text = repr(str(value))[1:-1]
    return text if len(text) <= limit else text[: limit - 3] + "..."


def split_list(values: tuple[str, ...] | list[str] | str | None, *, what: str) -> list[str]:
    """Comma-separated and repeated values as one list: ``("4,8", "16")`` -> ``["4", "8", "16"]``.

    An empty item (``4,,8``, a trailing comma) is an error, not skipped.
    """
    if values is None:
        return []
    items = [values] if isinstance(values, str) else list(values)
    out: list[str] = []
    for item in items:
        for part in item.split(","):
            part = part.strip()
            if not part:
                raise click.BadParameter(f"'{_shown(item)}' has an empty {what}")
            out.append(part)
    return out


def _bpw_list(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> list[str]:
    from llmcalc.errors import LLMCalcError
    from llmcalc.quant import bits_to_bytes

    out = split_list(value, what="bits-per-weight value")
    for item in out:
        try:
            bits_to_bytes(8, item)  # checks the value (llmcalc.quant's one bits parser)
        except LLMCalcError as exc:
            raise click.BadParameter(str(exc)) from None
    return out


def _format_list(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> list[str]:
    from llmcalc.errors import LLMCalcError
    from llmcalc.quant import get_format

    out = split_list(value, what="format name")
    for item in out:
        try:
            get_format(item)
        except LLMCalcError as exc:
            raise click.BadParameter(str(exc)) from None
    return out


def _gpu_list(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> list[tuple[str, int]]:
    from llmcalc.gpus import split_gpu_set

    out = []
    for item in split_list(value, what="GPU"):
        parts = split_gpu_set(item)
        if parts is None or parts[1] > 4096:
            raise click.BadParameter(f"'{_shown(item)}' is not a GPU or a count x GPU (h100, 2xh100)")
        out.append(parts)
    return out


def bpw_option(help: str = "Bits per weight, applied to every parameter; several give one column each "
                           "(--bpw 16,8,4, or --bpw repeated).") -> Callable[[F], F]:
    return click.option("--bpw", multiple=True, callback=_bpw_list, metavar="BITS[,BITS...]", help=help)


def quant_option(help: str = "Named weight formats (`llmcalc quant` lists them), e.g. q4_k_m,q8_0 or fp8; "
                             "comma-separated or repeated.") -> Callable[[F], F]:
    return click.option("--quant", multiple=True, callback=_format_list, metavar="NAME[,NAME...]", help=help,
                        shell_complete=complete_formats)


def gpu_option(help: str = "GPU to judge the fit on (`llmcalc gpus` lists them); 2xh100 for two.") -> Callable[[F], F]:
    return click.option("--gpu", "gpu_set", multiple=True, callback=_gpu_list, metavar="[Nx]GPU", help=help,
                        shell_complete=complete_gpus)


def num_gpus_option(help: str = "Number of GPUs (tensor parallel).") -> Callable[[F], F]:
    """``--gpus N``, read with ``--gpu`` by :func:`resolve_gpu`."""
    return click.option("--gpus", "num_gpus", type=click.IntRange(min=1), metavar="N", help=help)


def kv_dtype_option(help: str = "KV cache type: f32, f16, bf16, fp8, q8_0, q4_0.") -> Callable[[F], F]:
    """``--kv-dtype``: the KV cache element type (a llmcalc.kvcache name), f16 by default."""
    return click.option("--kv-dtype", default="f16", show_default=True, metavar="TYPE", help=help)


def batch_option(f: F) -> F:
    """``--batch``: sequences in flight, a :class:`Count`, 1 by default."""
    return click.option("--batch", type=Count(), default=1, show_default=True, help="Sequences in flight.")(f)


def engine_option(f: F) -> F:
    """``--engine NAME`` for the memory estimates: a name the library checks, not a click choice."""
    return click.option("--engine", metavar="NAME", help="Inference engine: hf, vllm, llama.cpp.  "
                        "[default: llama.cpp for GGUF formats, else hf]")(f)


def resolve_gpu(gpu_set: list[tuple[str, int]], num_gpus: int | None) -> tuple[str | None, int | None]:
    """One GPU name and count from ``--gpu`` (``2xh100``) and ``--gpus N``, or a usage error.

    ``--gpu 2xh100`` is ``--gpu h100 --gpus 2``; both may be given when they agree. Mixed sets
    (``rtx4090,rtx3090``) are refused here: the commands using this take one kind of GPU.
    """
    if not gpu_set:
        return None, num_gpus
    names = {name.lower() for name, _ in gpu_set}
    if len(names) > 1:
        raise click.UsageError(f"--gpu: one kind of GPU at a time here, got {', '.join(n for n, _ in gpu_set)}")
    name = gpu_set[0][0]
    count = sum(n for _, n in gpu_set)
    explicit = len(gpu_set) > 1 or gpu_set[0][1] != 1
    if num_gpus is not None and explicit and num_gpus != count:
        raise click.UsageError(f"--gpu gives {count} x {name} but --gpus gives {num_gpus}; give one count")
    return name, num_gpus if num_gpus is not None else (count if explicit else None)


def one_value(values: list[str], flag: str) -> str | None:
    """The single value of a list option where a command shows one (``context --quant``), or a usage error."""
    if len(values) > 1:
        raise click.UsageError(f"{flag}: one value here, got {', '.join(values)}")
    return values[0] if values else None


def count_option(name: str, *, metavar: str, help: str, default: int | None = None,
                 dest: str | None = None) -> Callable[[F], F]:
    """``--context 32k``, ``--batch 8``: a :class:`Count`."""
    args = [name] + ([dest] if dest else [])
    return click.option(*args, type=Count(), default=default, metavar=metavar, help=help,
                        show_default=default is not None)


UNIT_CHOICES = {"binary": "binary", "decimal": "decimal", "gib": "binary", "gb": "decimal"}


def _units(ctx: click.Context, param: click.Parameter, value: str) -> str:
    return UNIT_CHOICES[value.lower()]


# --- shell completion (click's: eval "$(_LLMCALC_COMPLETE=bash_source llmcalc)") --------------------


def _items(candidates: list[str], incomplete: str) -> list[Any]:
    from click.shell_completion import CompletionItem

    low = incomplete.lower()
    return [CompletionItem(c) for c in dict.fromkeys(candidates) if c.lower().startswith(low)]


def complete_models(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    """Preset names and aliases (from the built-in index), and paths."""
    from click.shell_completion import CompletionItem

    try:
        from llmcalc.importers.files import load_yaml, read_text
        from llmcalc.importers.presets import INDEX_FILE, builtin_dir

        index = load_yaml(read_text(f"{builtin_dir()}/{INDEX_FILE}"), source=INDEX_FILE)
        names = sorted(set(index["aliases"].values())) + sorted(index["aliases"])
    except Exception:  # noqa: BLE001 - completion must never fail loudly
        names = []
    items = _items(names, incomplete)
    if "/" in incomplete or incomplete.startswith((".", "~")):
        items.append(CompletionItem(incomplete, type="file"))
    return items


def complete_gpus(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    """GPU names and aliases, after an optional ``Nx`` count."""
    import re

    try:
        from llmcalc.gpus import load_catalogue

        labels = [label for g in load_catalogue().values() for label in (g.name, *g.aliases)]
    except Exception:  # noqa: BLE001 - completion must never fail loudly
        labels = []
    prefix, rest = "", incomplete
    head, sep, last = incomplete.rpartition(",")
    prefix, rest = (head + sep, last)
    m = re.match(r"(\d+x)(.*)", rest, flags=re.IGNORECASE)
    if m:
        prefix, rest = prefix + m.group(1), m.group(2)
    return _items([prefix + label for label in labels], prefix + rest)


def complete_formats(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    """Weight format names (after any comma-separated ones already typed)."""
    from llmcalc.quant import all_formats

    head, sep, _ = incomplete.rpartition(",")
    return _items([head + sep + f.name for f in all_formats()], incomplete)


def model_argument(required: bool = True) -> Callable[[F], F]:
    """The MODEL argument, completing preset names and aliases."""
    return click.argument("model", required=required, shell_complete=complete_models)
