"""Engine rules as data: one module per inference engine, imported only when asked for.

Each module (``hf``, ``vllm``, ``llamacpp``) holds that engine's memory-budget rules and its
supported-formats table, each figure with the source file and function it was read from. The
formulas in :mod:`llmcalc.memory`, :mod:`llmcalc.fit` and :mod:`llmcalc.plans` read them from here,
so a change in an engine is a change in one table.
"""

from __future__ import annotations

import importlib
from types import ModuleType

#: engine name (as :func:`llmcalc.kvcache.normalise_engine` gives it) -> module holding its rules
ENGINE_MODULES: dict[str, str] = {
    "hf": "llmcalc.engines.hf",
    "vllm": "llmcalc.engines.vllm",
    "llama.cpp": "llmcalc.engines.llamacpp",
}


def rules(engine: str) -> ModuleType:
    """The module of ``engine``'s rules (``hf``, ``vllm`` or ``llama.cpp``)."""
    module = _LOADED.get(engine)
    if module is None:
        module = _LOADED[engine] = importlib.import_module(ENGINE_MODULES[engine])
    return module


_LOADED: dict[str, ModuleType] = {}


def supports(engine: str, family: str) -> bool:
    """Whether ``engine`` loads weight formats of ``family`` (a :class:`~llmcalc.quant.WeightFormat` family)."""
    table: tuple[str, ...] = rules(engine).SUPPORTED_FAMILIES
    return family in table
