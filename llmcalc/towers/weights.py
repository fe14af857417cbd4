"""The towers' weights in memory: what a multimodal checkpoint's encoders and projector take.

Engines keep vision and audio towers unquantized: vLLM loads them in the checkpoint's 16-bit dtype
beside a quantized language model (AWQ, GPTQ and FP8 exports leave them out of their target
modules), and llama.cpp keeps them in a separate ``mmproj`` GGUF, usually F16 (``mmproj-F16.gguf``,
what ``convert_hf_to_gguf.py --mmproj`` writes by default). So: the towers at the format's own
bits when the format is a float of 16 bits or more (``fp32``, ``bf16``, ``fp16``: the whole
checkpoint in that type), else at 16 bits (the checkpoint's dtype, bf16 or fp16). Pure: a spec
and a format in, one :class:`~llmcalc.quant.results.TypeBytes` out.
"""

from __future__ import annotations

from dataclasses import replace

from llmcalc.quant.bits import bits_to_bytes
from llmcalc.quant.catalogue import MIX, WeightFormat
from llmcalc.quant.results import TypeBytes, WeightsResult, make_result, sixteen_bit_type
from llmcalc.spec import ModelSpec

#: The ``type_name`` suffix of the towers' entry in :attr:`WeightsResult.by_type`.
TOWER_SUFFIX = " (towers)"


def tower_params(spec: ModelSpec) -> int:
    """Parameters of every vision/audio tower and projector."""
    return sum(t.params for t in spec.towers)


def tower_part(spec: ModelSpec, fmt: WeightFormat) -> TypeBytes | None:
    """The towers' bytes for ``fmt`` (module docstring), or ``None`` for a text-only model."""
    params = tower_params(spec)
    if not params:
        return None
    if fmt.kind != MIX and fmt.family == "float" and fmt.bits_per_weight >= 16:
        return TypeBytes(fmt.name + TOWER_SUFFIX, params, bits_to_bytes(params, fmt.bits_per_weight))
    return TypeBytes(sixteen_bit_type(spec) + TOWER_SUFFIX, params, 2 * params)


def with_towers(spec: ModelSpec, fmt: WeightFormat, result: WeightsResult) -> WeightsResult:
    """``result`` (the language model's weights) plus the towers' entry and a note saying where they live."""
    part = tower_part(spec, fmt)
    if part is None:
        return result
    where = "the mmproj GGUF file beside the model file" if fmt.kind == MIX else "16-bit beside the language model"
    if part.type_name.removesuffix(TOWER_SUFFIX) == fmt.name:
        where = f"{fmt.name}, like the rest"
    note = f"{towers_label(spec)}: {part.params:,} parameters, {part.bytes:,} bytes ({where})"
    merged = make_result(
        result.format,
        [*result.by_type, part],
        extra=result.extra_bytes,
        approximate=result.approximate,
        notes=[*result.notes, note],
        file_bytes=result.file_bytes,
        file_bytes_estimated=result.file_bytes_estimated,
    )
    return replace(merged)


def towers_label(spec: ModelSpec) -> str:
    """``vision tower and projector``, ``audio tower``, ... for the towers ``spec`` has."""
    roles = {t.role for t in spec.towers}
    encoders = [r for r in ("vision", "audio") if r in roles]
    label = " and ".join(encoders) + (" towers" if len(encoders) > 1 else " tower") if encoders else ""
    if "projector" in roles:
        label = f"{label} and projector" if label else "projector"
    return label


def tower_bytes(result: WeightsResult) -> int:
    """The towers' bytes inside a :class:`WeightsResult` (0 for a text-only model)."""
    return sum(p.bytes for p in result.by_type if p.type_name.endswith(TOWER_SUFFIX))
