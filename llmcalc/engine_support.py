"""What each inference engine runs: weight formats and KV cache types, as data with sources.

llmcalc prices any combination of weights, KV cache and engine, but some combinations no engine
runs; pricing them silently would mislead. :func:`check` says, for one engine, which asked-for
weight formats and KV cache type it does not run: a refusal (:class:`~llmcalc.errors.UsageError`,
with what to ask instead) where the figure would describe something that cannot exist, a warning
where the engine runs the model but not in the layout llmcalc prices.

Which weight-format families an engine loads is the one table in :mod:`llmcalc.engines`
(``SUPPORTED_FAMILIES`` of each engine module); this module adds the KV cache types, the formats
refused within a supported family, and the reason and source for each refusal.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from llmcalc.errors import UsageError


@dataclass(frozen=True, slots=True)
class Rule:
    """Why ``engine`` does not run something, where that is documented, and what to ask instead."""

    reason: str
    source: str
    instead: str
    refuse: bool = True


#: KV cache types each engine allocates (llmcalc's names: f32, f16, bf16, fp8, q8_0, q4_0).
KV_DTYPES: dict[str, tuple[str, ...]] = {
    # vllm/config/cache.py: CacheDType = auto, bfloat16, fp8, fp8_e4m3, fp8_e5m2 (... fp8 variants);
    # "auto" is the model dtype (f32/f16/bf16).
    "vllm": ("f32", "f16", "bf16", "fp8"),
    # llama.cpp common/arg.cpp (kv_cache_types): f32, f16, bf16, q8_0, q4_0, q4_1, iq4_nl, q5_0, q5_1.
    "llama.cpp": ("f32", "f16", "bf16", "q8_0", "q4_0"),
    # transformers 5.24 cache_utils.py: DynamicLayer holds the model dtype, Fp8QuantizedLayer fp8 (E4M3,
    # one scale per tensor); QuantoQuantizedLayer (2/4 bits) and HQQQuantizedLayer (1-8 bits) have their
    # own layouts, not ggml's q8_0/q4_0 blocks.
    "hf": ("f32", "f16", "bf16", "fp8"),
}

#: (engine, KV cache type) -> the rule for a type the engine does not allocate.
KV_RULES: dict[tuple[str, str], Rule] = {
    **{("vllm", t): Rule(f"vLLM has no {t} KV cache (its --kv-cache-dtype is auto or an fp8 type)",
                         "vllm/config/cache.py (CacheDType)", "--kv-dtype fp8, or --engine llama.cpp")
       for t in ("q8_0", "q4_0")},
    ("llama.cpp", "fp8"): Rule("llama.cpp has no fp8 KV cache (--cache-type-k/-v: f32, f16, bf16, q8_0, q4_0, "
                               "q4_1, iq4_nl, q5_0, q5_1)", "llama.cpp common/arg.cpp (kv_cache_types)",
                               "--kv-dtype q8_0, or --engine vllm"),
    **{("hf", t): Rule(f"transformers has no ggml {t} KV cache; its quantized caches (quanto 2/4-bit, HQQ "
                       "1-8-bit) keep their own layout, so the figure only approximates them",
                       "transformers cache_utils.py (QuantoQuantizedLayer, HQQQuantizedLayer)",
                       f"--engine llama.cpp for {t}", refuse=False)
       for t in ("q8_0", "q4_0")},
}

#: (engine, weight-format family) -> the rule for a family the engine does not load.
FAMILY_RULES: dict[tuple[str, str], Rule] = {
    ("hf", "gguf"): Rule("transformers dequantizes a GGUF file when it loads it, so its memory is that of the "
                         "dtype it loads to, not of the GGUF type", "transformers docs/source/en/gguf.md",
                         "--engine llama.cpp (or vllm), or price what it loads to: --quant bf16"),
    ("hf", "ggml"): Rule("transformers dequantizes ggml block types when it loads a GGUF file",
                         "transformers docs/source/en/gguf.md", "--engine llama.cpp"),
    ("llama.cpp", "bitsandbytes"): Rule("llama.cpp reads GGUF files only; bitsandbytes NF4 is a transformers/"
                                        "vLLM format", "llama.cpp README (supported models: GGUF)",
                                        "a GGUF type (--quant q4_k_m), or --engine hf"),
    ("llama.cpp", "gptq"): Rule("llama.cpp reads GGUF files only; GPTQ checkpoints are for transformers and vLLM",
                                "llama.cpp README (supported models: GGUF)", "a GGUF type (--quant q4_k_m)"),
    ("llama.cpp", "awq"): Rule("llama.cpp reads GGUF files only; AWQ checkpoints are for transformers and vLLM",
                               "llama.cpp README (supported models: GGUF)", "a GGUF type (--quant q4_k_m)"),
    ("llama.cpp", "integer"): Rule("llama.cpp reads GGUF files only; int8/int4 linear-layer checkpoints are for "
                                   "transformers and vLLM", "llama.cpp README (supported models: GGUF)",
                                   "a GGUF type (--quant q8_0, q4_0)"),
    ("llama.cpp", "microscaling"): Rule("llama.cpp reads MXFP4 only inside a GGUF file", "llama.cpp ggml/src/"
                                        "ggml-common.h (block_mxfp4)", "--quant mxfp4_moe (the GGUF file type)"),
    ("vllm", "ggml"): Rule("a raw ggml block type is not a file vLLM loads; vLLM's GGUF loader takes GGUF files",
                           "vllm docs/features/quantization/gguf.md", "a GGUF file type (--quant q4_k_m)"),
}

#: (engine, format name) -> a rule for one format inside a family the engine otherwise loads.
FORMAT_RULES: dict[tuple[str, str], Rule] = {
    ("llama.cpp", "fp8"): Rule("llama.cpp has no FP8 weight type", "llama.cpp ggml/include/ggml.h (ggml_type)",
                               "--quant q8_0"),
    ("llama.cpp", "fp8-block128"): Rule("llama.cpp has no FP8 weight type", "llama.cpp ggml/include/ggml.h "
                                        "(ggml_type)", "--quant q8_0"),
}


@dataclass(frozen=True, slots=True)
class StoredFormat:
    """The weights of model files as they are stored, for :func:`check` (a ``.gguf`` file is family gguf)."""

    name: str
    family: str


#: LoadedModel.kind -> the format family its stored weights are in (safetensors hold plain dtypes).
FILE_FAMILIES = {"gguf": "gguf"}


def rules_for(engine: str, *, formats: Iterable[object] = (), kv_dtype: str | None = None) -> list[Rule]:
    """The rules that apply to ``formats`` (:class:`~llmcalc.quant.WeightFormat`, :class:`StoredFormat`) and
    ``kv_dtype`` on ``engine``."""
    from llmcalc.engines import ENGINE_MODULES, supports
    from llmcalc.kvcache import normalise_engine, normalise_kv_dtype

    name = normalise_engine(engine)
    found: list[Rule] = []
    for fmt in formats:
        family, fmt_name = getattr(fmt, "family", ""), getattr(fmt, "name", "")
        rule = FORMAT_RULES.get((name, fmt_name))
        if rule is None and name in ENGINE_MODULES and not supports(name, family):
            rule = FAMILY_RULES.get((name, family)) or Rule(
                f"{name} does not load {family} formats", "llmcalc.engines (SUPPORTED_FAMILIES)", "another engine")
        if rule is not None and rule not in found:
            found.append(rule)
    if kv_dtype is not None:
        kv = normalise_kv_dtype(kv_dtype)
        if kv not in KV_DTYPES.get(name, (kv,)):
            rule = KV_RULES.get((name, kv)) or Rule(f"{name} has no {kv} KV cache", "llmcalc.engine_support",
                                                    "another --kv-dtype")
            found.append(rule)
    return found


def check(engine: str, *, formats: Iterable[object] = (), kv_dtype: str | None = None) -> list[str]:
    """Raise :class:`UsageError` for a combination ``engine`` does not run; return the warnings for the
    ones it runs only approximately as priced."""
    found = rules_for(engine, formats=formats, kv_dtype=kv_dtype)
    refused = [r for r in found if r.refuse]
    if refused:
        r = refused[0]
        raise UsageError(f"{r.reason} ({r.source}); ask for {r.instead}")
    return [f"{r.reason} ({r.source}); {r.instead}" for r in found]
