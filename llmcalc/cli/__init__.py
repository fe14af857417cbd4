"""The ``llmcalc`` command: a thin click shell over the library.

Commands live one module per concern and are imported only when invoked (a lazy group), so
``llmcalc params`` never pays for the memory or sweep code. Domain errors (:class:`LLMCalcError`)
become one ``Error: ...`` line on stderr and exit status 1, in :meth:`LazyGroup.invoke`; bad flags are
click's usage errors (exit 2).
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from llmcalc.errors import LLMCalcError

#: command name -> "module:attribute"; add a command here and in a module of its own.
COMMANDS: dict[str, str] = {
    "context": "llmcalc.cli.context_cmd:context",
    "gpus": "llmcalc.cli.gpus_cmd:gpus",
    "memory": "llmcalc.cli.memory_cmd:memory",
    "params": "llmcalc.cli.params_cmd:params",
    "presets": "llmcalc.cli.params_cmd:presets",
    "quant": "llmcalc.cli.quant_cmd:quant",
    "speed": "llmcalc.cli.speed_cmd:speed",
    "sweep": "llmcalc.cli.sweep_cmd:sweep",
    "train": "llmcalc.cli.train_cmd:train",
}


#: The longest error line printed; longer messages are cut (a hostile value is never echoed whole).
MAX_ERROR_CHARS = 600


def error_line(message: str) -> str:
    """``message`` as one safe line: control characters (newlines, terminal escapes) shown escaped, and
    at most :data:`MAX_ERROR_CHARS` characters, so a value read from a file cannot forge a second
    ``Error:`` line or drive the terminal."""
    safe = "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in message)
    return safe if len(safe) <= MAX_ERROR_CHARS else safe[: MAX_ERROR_CHARS - 3] + "..."


class LazyGroup(click.Group):
    """A group whose commands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, attr = target.split(":")
        command = getattr(importlib.import_module(module), attr)
        assert isinstance(command, click.Command)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except LLMCalcError as exc:
            raise click.ClickException(error_line(str(exc))) from None
        except click.ClickException as exc:  # usage errors echo what was typed: keep them one safe line
            setattr(exc, "message", error_line(exc.message))  # noqa: B010 - click types it Final
            raise

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.ClickException as exc:
            setattr(exc, "message", error_line(exc.message))  # noqa: B010 - click types it Final
            raise
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            sys.exit(130)


@click.group(cls=LazyGroup, invoke_without_command=True,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="llmcalc-cli", prog_name="llmcalc")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Exact parameter counts and honest memory estimates for transformer LLMs, offline.

    MODEL is a preset name or alias (`llmcalc presets`), a YAML preset, a Hugging Face
    config.json, a model folder, .safetensors or .gguf files, or org/name from the local
    Hugging Face cache.
    """
    if ctx.invoked_subcommand is None:  # bare `llmcalc`: the help, and success
        click.echo(ctx.get_help())


def main() -> None:
    cli(prog_name="llmcalc")
