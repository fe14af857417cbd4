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


def main() -> None:
    gc.disable()
    from llmcalc.cli import main as cli_main

    cli_main()
