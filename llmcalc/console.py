"""The console entry point: the ``llmcalc`` command (pyproject ``[project.scripts]``) and ``python -m llmcalc``.

Start-up is most of what a user of a calculator waits for. While the CLI imports click, rich and
llmcalc and runs a short command, those imports allocate enough objects to trigger dozens of gen-0
garbage collections that free nothing: about 4 ms of a ~105 ms run (``benchmarks/bench.py``). So the
cyclic collector is off for the life of a CLI process; reference counting still frees every object
that is not part of a cycle, and the process ends within a second. The one command that can run long,
``llmcalc sweep``, switches the collector back on. Importing :mod:`llmcalc` or :mod:`llmcalc.cli`
from Python changes nothing.
"""

from __future__ import annotations

import gc
import os
import sys

#: Exit status after the reader of stdout went away (128 + SIGPIPE, what a shell reports for a Unix
#: tool killed by the signal): quietly, with no "Exception ignored ... BrokenPipeError".
EXIT_BROKEN_PIPE = 141


def main() -> None:
    gc.disable()
    from llmcalc.cli import main as cli_main

    try:
        cli_main()
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()
        sys.exit(EXIT_BROKEN_PIPE)
    except OSError as exc:  # stdout on a full disk or /dev/full
        _silence_stdout()
        sys.stderr.write(f"Error: cannot write the output: {exc.strerror or exc}\n")
        sys.exit(1)


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
