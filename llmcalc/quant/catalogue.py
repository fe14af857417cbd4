"""The catalogue of named weight formats, their aliases and a quality order."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from fractions import Fraction

from llmcalc.errors import QuantError
from llmcalc.quant.ggml_types import GGML_TYPES, GGUF_FILE_TYPES


@dataclass(frozen=True)
class WeightFormat:
    """One named weight format.

    ``bits_per_weight`` is exact: the format's own bits plus its per-block scales (NF4 4 + 32/64),
    or, for a GGUF file type, the bits of its default ggml type (the actual mix depends on the
    model; :func:`weights_for_format` computes it). ``approximate`` marks formats whose figure leaves
    out a small term (per-channel scales) or, for GGUF mixes, depends on the model. ``kind`` says
    which tensors the format applies to (see the module docstring). ``engine_hint`` names the
    engine that reads the format when there is one.
    """

    name: str
    label: str
    family: str
    bits_per_weight: Fraction
    description: str
    source: str
    approximate: bool
    engine_hint: str | None
    kind: str

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready view: ``bits_per_weight`` as a float and as an exact fraction."""
        return {
            "name": self.name,
            "label": self.label,
            "family": self.family,
            "kind": self.kind,
            "bits_per_weight": float(self.bits_per_weight),
            "bits_per_weight_exact": str(self.bits_per_weight),
            "approximate": self.approximate,
            "engine_hint": self.engine_hint,
            "description": self.description,
            "source": self.source,
        }


UNIFORM, LINEAR, MIX = "uniform", "linear layers", "per-tensor mix"
#: only the routed experts' weight matrices at the format's bits, the rest 16-bit (gpt-oss's checkpoint)
EXPERTS = "routed experts"

_GGML_SRC = "llama.cpp ggml/src/ggml-common.h (block structs)"
_GGUF_SRC = "llama.cpp src/llama-quant.cpp (llama_tensor_get_type); tools/quantize/README.md"
_QLORA = "QLoRA, Dettmers et al. 2023, arXiv 2305.14314, section 3; bitsandbytes Linear4bit (blocksize 64)"
_GPTQ = "GPTQ, Frantar et al. 2022, arXiv 2210.17323; AutoGPTQ/GPTQModel layout (qweight, qzeros, fp16 scales, g_idx)"
_AWQ = "AWQ, Lin et al. 2023, arXiv 2306.00978; AutoAWQ GEMM layout (qweight, qzeros, fp16 scales)"


def _fmt(
    name: str,
    label: str,
    family: str,
    bits: Fraction | int,
    description: str,
    source: str,
    *,
    kind: str,
    approximate: bool = False,
    engine: str | None = None,
) -> WeightFormat:
    return WeightFormat(name, label, family, Fraction(bits), description, source, approximate, engine, kind)


def _group_bits(bits: int, group: int) -> Fraction:
    """GPTQ/AWQ: ``b + (16 + b) / g``: an fp16 scale and a ``b``-bit packed zero point per group of ``g``."""
    return bits + Fraction(16 + bits, group)


#: llama-quantize file types: canonical name -> (LLAMA_FTYPE name, default ggml type), after
#: ``llama_ftype_get_default_type`` in src/llama-quant.cpp. Note IQ2_S defaults to IQ2_XS, IQ2_M to
def _build_catalogue() -> tuple[WeightFormat, ...]:
    formats = [
        _fmt("fp32", "FP32", "float", 32, "32-bit IEEE float", "IEEE 754 binary32", kind=UNIFORM),
        _fmt("fp16", "FP16", "float", 16, "16-bit IEEE float", "IEEE 754 binary16", kind=UNIFORM),
        _fmt(
            "bf16",
            "BF16",
            "float",
            16,
            "bfloat16 (8-bit exponent, 7-bit mantissa)",
            "bfloat16 (Kalamkar et al. 2019, arXiv 1905.12322)",
            kind=UNIFORM,
        ),
        _fmt(
            "fp8",
            "FP8 (E4M3)",
            "float",
            8,
            "FP8 E4M3 weights in the linear layers; one fp32 scale per tensor (negligible, not counted)",
            "Micikevicius et al. 2022, FP8 Formats for Deep Learning, arXiv 2209.05433",
            kind=LINEAR,
        ),
        _fmt(
            "fp8-block128",
            "FP8 (E4M3, 128x128 block scales)",
            "float",
            8 + Fraction(32, 128 * 128),
            "FP8 E4M3 linear layers with an fp32 scale per 128x128 block, as DeepSeek-V3 ships",
            "DeepSeek-V3 technical report, arXiv 2412.19437, section 3.3.2; its config's weight_block_size",
            kind=LINEAR,
        ),
        _fmt(
            "int8",
            "INT8",
            "integer",
            8,
            "8-bit integer linear layers; per-channel scales (out_features values per matrix) not counted",
            "LLM.int8(), Dettmers et al. 2022, arXiv 2208.07339 (row-wise absmax scales)",
            kind=LINEAR,
            approximate=True,
        ),
        _fmt(
            "int4",
            "INT4",
            "integer",
            4,
            "4-bit integer linear layers; per-channel scales not counted",
            "per-channel integer quantization (Nagel et al. 2021, arXiv 2106.08295)",
            kind=LINEAR,
            approximate=True,
        ),
        _fmt(
            "nf4",
            "bitsandbytes NF4",
            "bitsandbytes",
            4 + Fraction(32, 64),
            "4-bit NormalFloat, an fp32 absmax per block of 64: 4 + 32/64",
            _QLORA,
            kind=LINEAR,
        ),
        _fmt(
            "nf4-dq",
            "bitsandbytes NF4 + double quant",
            "bitsandbytes",
            4 + Fraction(8, 64) + Fraction(32, 64 * 256),
            "NF4 with 8-bit absmax constants and an fp32 scale per 256 of them: 4 + 8/64 + 32/(64x256)",
            _QLORA,
            kind=LINEAR,
        ),
        _fmt(
            "gptq-4bit-g128",
            "GPTQ 4-bit g128",
            "gptq",
            _group_bits(4, 128),
            "4-bit, group 128: 4 + (16 + 4)/128, plus an int32 g_idx per input channel",
            _GPTQ,
            kind=LINEAR,
        ),
        _fmt(
            "gptq-4bit-g32",
            "GPTQ 4-bit g32",
            "gptq",
            _group_bits(4, 32),
            "4-bit, group 32: 4 + (16 + 4)/32, plus an int32 g_idx per input channel",
            _GPTQ,
            kind=LINEAR,
        ),
        _fmt(
            "gptq-3bit-g128",
            "GPTQ 3-bit g128",
            "gptq",
            _group_bits(3, 128),
            "3-bit, group 128: 3 + (16 + 3)/128, plus an int32 g_idx per input channel",
            _GPTQ,
            kind=LINEAR,
        ),
        _fmt(
            "gptq-8bit-g128",
            "GPTQ 8-bit g128",
            "gptq",
            _group_bits(8, 128),
            "8-bit, group 128: 8 + (16 + 8)/128, plus an int32 g_idx per input channel",
            _GPTQ,
            kind=LINEAR,
        ),
        _fmt(
            "awq-4bit-g128",
            "AWQ 4-bit g128",
            "awq",
            _group_bits(4, 128),
            "4-bit, group 128: 4 + (16 + 4)/128",
            _AWQ,
            kind=LINEAR,
        ),
        _fmt(
            "mxfp4",
            "MXFP4",
            "microscaling",
            4 + Fraction(8, 32),
            "OCP MX FP4: 32 E2M1 values share an 8-bit E8M0 scale: 17 bytes per 32",
            "OCP Microscaling Formats (MX) Specification v1.0 (2023)",
            kind=LINEAR,
        ),
        _fmt(
            "mxfp4-experts",
            "MXFP4 experts + BF16",
            "microscaling",
            4 + Fraction(8, 32),
            "MXFP4 routed-expert weights (17 bytes per 32 values), everything else bf16: gpt-oss's release",
            "openai/gpt-oss-20b and -120b config.json quantization_config (quant_method mxfp4, "
            "modules_to_not_convert: attention, router, embeddings, head); OCP MX v1.0",
            kind=EXPERTS,
        ),
        _fmt(
            "nvfp4",
            "NVFP4",
            "microscaling",
            4 + Fraction(8, 16),
            "E2M1 values with an FP8 E4M3 scale per 16; the per-tensor fp32 scale is negligible (not counted)",
            "NVIDIA, 'Introducing NVFP4 for Efficient and Accurate Low-Precision Inference' (2025)",
            kind=LINEAR,
        ),
    ]
    for name, (ftype, default) in GGUF_FILE_TYPES.items():
        formats.append(
            _fmt(
                name,
                f"GGUF {ftype}",
                "gguf",
                GGML_TYPES[default].bits_per_weight,
                f"llama-quantize {ftype}: {default} by default, more bits for some tensors",
                _GGUF_SRC,
                kind=MIX,
                approximate=True,
                engine="llama.cpp",
            )
        )
    for t in GGML_TYPES.values():
        formats.append(
            _fmt(
                f"ggml-{t.name.lower()}",
                f"ggml {t.name} block",
                "ggml",
                t.bits_per_weight,
                f"{t.description}; {t.block_bytes} bytes per {t.block_elements} values, every parameter",
                _GGML_SRC,
                kind=UNIFORM,
                engine="llama.cpp",
            )
        )
    return tuple(formats)


_CATALOGUE = _build_catalogue()

#: Other spellings people use -> canonical name.
_ALIASES = {
    "f32": "fp32",
    "float32": "fp32",
    "float16": "fp16",
    "half": "fp16",
    "bfloat16": "bf16",
    "f16": "gguf-f16",
    "fp8-e4m3": "fp8",
    "e4m3": "fp8",
    "float8": "fp8",
    "gptq": "gptq-4bit-g128",
    "awq": "awq-4bit-g128",
    "mxfp4-moe": "mxfp4_moe",
}

#: Named formats from highest to lowest quality, for a "best format that fits" search. A rule of
#: thumb drawn from the perplexity tables in llama.cpp's ``tools/quantize/README.md`` and the GPTQ,
#: AWQ and QLoRA papers, not a measurement for any one model.
QUALITY_ORDER: tuple[str, ...] = (
    "bf16",
    "fp16",
    "q8_0",
    "fp8",
    "int8",
    "q6_k",
    "q5_k_m",
    "q5_k_s",
    "q4_k_m",
    "gptq-4bit-g128",
    "awq-4bit-g128",
    "q4_k_s",
    "nf4",
    "iq4_xs",
    "q3_k_l",
    "q3_k_m",
    "iq3_m",
    "q3_k_s",
    "q2_k",
    "iq2_m",
    "iq2_xxs",
    "iq1_m",
    "iq1_s",
)


def _key(name: str) -> str:
    return re.sub(r"[-_\s]+", "_", name.strip().lower())


_BY_KEY: dict[str, WeightFormat] = {_key(f.name): f for f in _CATALOGUE}
_BY_KEY.update({_key(alias): _BY_KEY[_key(target)] for alias, target in _ALIASES.items()})


def all_formats() -> tuple[WeightFormat, ...]:
    """The catalogue, in display order: float, integer, bitsandbytes, GPTQ/AWQ, MX, GGUF file types, ggml types."""
    return _CATALOGUE


def get_format(name: str) -> WeightFormat:
    """The format called ``name`` (case-insensitive; ``-``, ``_`` and spaces alike), or ``QuantError``."""
    found = _BY_KEY.get(_key(name))
    if found is not None:
        return found
    names = [f.name for f in _CATALOGUE]
    scores = sorted(((difflib.SequenceMatcher(None, name.lower(), n).ratio(), n) for n in names), reverse=True)
    best = scores[0][0] if scores else 0.0
    close = sorted(n for s, n in scores[:3] if s >= 0.6 and s >= best - 0.1)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise QuantError(f"unknown weight format '{name}'{hint} (`llmcalc quant` lists them)")

