"""llmcalc: exact parameter counts and honest memory estimates for transformer LLMs, offline.

The library core imports neither click nor rich. Typical use::

    import llmcalc

    spec = llmcalc.load_model("mixtral").spec      # a preset, YAML, config.json or folder
    counts = llmcalc.count_params(spec)
    counts.total_params, counts.active_params      # 46702792704, 12879925248
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from llmcalc.errors import (
    ConfigError,
    FileFormatError,
    GPUError,
    LLMCalcError,
    PresetError,
    QuantError,
    SpecError,
    UsageError,
)

if TYPE_CHECKING:
    from llmcalc.importers.hf import SUPPORTED_MODEL_TYPES, spec_from_hf_config
    from llmcalc.importers.presets import Preset, load_all_presets, load_preset
    from llmcalc.loading import LoadedModel, load_model
    from llmcalc.params import Component, MoEStats, ParamCounts, count_params
    from llmcalc.spec import MLA, MLP, Attention, LayerGroup, ModelSpec, MoE, Norm, Positional, Stack
    from llmcalc.train.activations import ActivationEstimate, activation_memory
    from llmcalc.train.flops import ForwardFlops, TrainingFlops, forward_flops, training_flops
    from llmcalc.train.lora import TrainableParams, trainable_params
    from llmcalc.train.memory import ModelStateMemory, Parallelism, model_state_memory
    from llmcalc.train.plan import TrainPlan, TrainSettings, plan_training

#: Public names and the module each comes from. They are imported on first use (PEP 562), so that
#: ``llmcalc.cli`` (a subpackage, which imports this file first) starts without loading every importer.
_LAZY = {
    **dict.fromkeys(("SUPPORTED_MODEL_TYPES", "spec_from_hf_config"), "llmcalc.importers.hf"),
    **dict.fromkeys(("Preset", "load_all_presets", "load_preset"), "llmcalc.importers.presets"),
    **dict.fromkeys(("LoadedModel", "load_model"), "llmcalc.loading"),
    **dict.fromkeys(("Component", "MoEStats", "ParamCounts", "count_params"), "llmcalc.params"),
    **dict.fromkeys(("TrainPlan", "TrainSettings", "plan_training"), "llmcalc.train.plan"),
    **dict.fromkeys(("TrainableParams", "trainable_params"), "llmcalc.train.lora"),
    **dict.fromkeys(("ModelStateMemory", "Parallelism", "model_state_memory"), "llmcalc.train.memory"),
    **dict.fromkeys(("ActivationEstimate", "activation_memory"), "llmcalc.train.activations"),
    **dict.fromkeys(("ForwardFlops", "TrainingFlops", "forward_flops", "training_flops"), "llmcalc.train.flops"),
    **dict.fromkeys(("MLA", "MLP", "Attention", "LayerGroup", "ModelSpec", "MoE", "Norm", "Positional", "Stack"),
                    "llmcalc.spec"),
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'llmcalc' has no attribute '{name}'")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})

__version__ = "0.1.0"

__all__ = [
    "ActivationEstimate",
    "ForwardFlops",
    "ModelStateMemory",
    "Parallelism",
    "TrainPlan",
    "TrainSettings",
    "TrainableParams",
    "TrainingFlops",
    "activation_memory",
    "forward_flops",
    "model_state_memory",
    "plan_training",
    "trainable_params",
    "training_flops",
    "MLA",
    "MLP",
    "SUPPORTED_MODEL_TYPES",
    "Attention",
    "Component",
    "ConfigError",
    "FileFormatError",
    "GPUError",
    "LLMCalcError",
    "LayerGroup",
    "LoadedModel",
    "MoE",
    "MoEStats",
    "ModelSpec",
    "Norm",
    "ParamCounts",
    "Positional",
    "Preset",
    "PresetError",
    "QuantError",
    "SpecError",
    "Stack",
    "UsageError",
    "count_params",
    "load_all_presets",
    "load_model",
    "load_preset",
    "spec_from_hf_config",
]
