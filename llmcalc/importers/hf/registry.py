"""model_type -> the family module and builder that reads it.

One line per ``model_type``: ``"module:function"`` inside :mod:`llmcalc.importers.hf`. The module
is imported only when a config of that type is read (as vLLM's model registry does), so start-up
pays only for the families it uses. Adding a family is one module in this package and its lines
here.
"""

from __future__ import annotations

#: model_type -> "module:builder" (each builder takes ``(fields, name, model_type)``).
BUILDERS: dict[str, str] = {
    "llama": "llama:llama",
    "mistral": "llama:mistral",
    "mixtral": "moe:mixtral",
    "qwen2": "llama:qwen2",
    "qwen2_moe": "moe:qwen2_moe",
    "qwen3": "llama:qwen3",
    "qwen3_moe": "moe:qwen3_moe",
    "gemma": "llama:gemma",
    "gemma2": "llama:gemma2",
    "gemma3_text": "llama:gemma3",
    "phi": "gpt:phi",
    "phi3": "llama:phi3",
    "gpt2": "gpt:gpt2",
    "gpt_bigcode": "gpt:gpt2",
    "gpt_neox": "gpt:gpt_neox",
    "gptj": "gpt:gptj",
    "opt": "gpt:opt",
    "bloom": "gpt:bloom",
    "falcon": "gpt:falcon",
    "bert": "encoders:bert",
    "t5": "encoders:t5",
    "deepseek_v2": "deepseek:deepseek",
    "deepseek_v3": "deepseek:deepseek",
    "kimi_k2": "deepseek:deepseek",
    "olmo2": "llama:olmo2",
    "olmoe": "moe:olmoe",
    "dbrx": "moe:dbrx",
    "granite": "llama:granite",
    "cohere": "llama:cohere",
    "stablelm": "llama:stablelm",
    "starcoder2": "llama:starcoder2",
    "gpt_oss": "moe:gpt_oss",
    "llama4": "moe:llama4",
    "llama4_text": "moe:llama4",
}

#: model_type values counted exactly (the rest go through the generic builder, with a warning).
SUPPORTED_MODEL_TYPES = tuple(sorted(BUILDERS))
