"""Weight formats: what a model's weights cost in bytes at a given precision or quantization.

Three kinds of format, each priced tensor by tensor from :func:`llmcalc.tensors.weight_tensors`:

- **uniform** (``kind="uniform"``): every parameter at the format's bits per weight. The float
  formats ``fp32``/``fp16``/``bf16``, a user's ``--bpw`` (:func:`weights_for_bpw`), and the raw ggml
  block types (``ggml-q4_k`` ...), which say what one block type costs, not what a GGUF file holds.
- **linear layers** (``kind="linear layers"``): the weight matrices of the transformer blocks
  (attention and MLA projections, dense MLPs, routed and shared experts) at the format's bits per
  weight; everything else (token and position embeddings, the output head, norms, biases, MoE
  routers) stays at the model's 16-bit dtype. That is what GPTQ (AutoGPTQ / GPTQModel), AWQ
  (AutoAWQ), bitsandbytes (transformers' ``BitsAndBytesConfig`` skips ``lm_head``), FP8 checkpoints
  (DeepSeek-V3, FBGEMM/compressed-tensors FP8) and MX/NVFP4 exports do by default.
- **per-tensor mix** (``kind="per-tensor mix"``): a GGUF *file type* such as ``q4_k_m``, priced as
  llama.cpp's ``llama-quantize`` builds it: a type for every tensor by the rules of
  ``llama_tensor_get_type`` in ``src/llama-quant.cpp`` (more bits for ``output.weight``, some
  ``attn_v`` and ``ffn_down`` layers; 1-D tensors, routers and position tables stay F32; a shape
  fallback when a row is not a multiple of the block), each tensor costing
  ``rows x ne0 / block_elements x block_bytes`` with the block sizes of ``ggml/src/ggml-common.h``.

Names: a GGUF file type keeps its llama-quantize name in lower case (``q4_k_m``, ``q8_0``,
``iq4_xs``, ``mxfp4_moe``); the raw ggml block type of the same name carries a ``ggml-`` prefix
(``ggml-q4_0`` is 4.5 bits everywhere; the file type ``q4_0`` also stores ``output.weight`` as Q6_K
and norms as F32). GGUF's F16 and BF16 file types are ``gguf-f16`` and ``gguf-bf16`` (norms in F32),
so that ``fp16`` and ``bf16`` keep meaning "every parameter in 16 bits". Lookups ignore case and
treat ``-``, ``_`` and spaces alike.

Bits become bytes in one place, :func:`bits_to_bytes`, with exact fractions.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction

from llmcalc.errors import QuantError
from llmcalc.params import count_params
from llmcalc.spec import ModelSpec
from llmcalc.tensors import Tensor, weight_tensors

Bits = float | int | Fraction | str


#: The largest bits per weight accepted (float64); anything above is a typo, not a format.
MAX_BITS_PER_WEIGHT = 64


def parse_bits(bits_per_weight: Bits) -> Fraction:
    """A bits-per-weight value as an exact fraction in ``(0, 64]``, or :class:`QuantError`.

    ``Fraction(str(b))``: the decimal number as the user typed it (``4.156`` is 1039/250, not the
    nearest binary float).
    """
    problem = f"bits per weight must be a positive number up to {MAX_BITS_PER_WEIGHT}, got '{bits_per_weight}'"
    if isinstance(bits_per_weight, bool):
        raise QuantError(problem)
    try:
        bits = Fraction(str(bits_per_weight).strip())
    except (ValueError, ZeroDivisionError, OverflowError):
        raise QuantError(problem) from None
    if not 0 < bits <= MAX_BITS_PER_WEIGHT:
        raise QuantError(problem)
    return bits


def bits_to_bytes(n_elements: int, bits_per_weight: Bits) -> int:
    """Bytes to store ``n_elements`` values at ``bits_per_weight`` bits each.

    ``ceil(n x b / 8)`` with ``b`` from :func:`parse_bits`, rounded up once to a whole byte. Every
    float bits-per-weight in llmcalc becomes bytes here.
    """
    bits = parse_bits(bits_per_weight)
    if isinstance(n_elements, bool) or not isinstance(n_elements, int) or n_elements < 0:
        raise QuantError(f"element count must be a non-negative integer, got {n_elements!r}")
    return -(-n_elements * bits.numerator // (8 * bits.denominator))


# --- ggml block types (ggml/src/ggml-common.h) -------------------------------------------------


@dataclass(frozen=True)
class GGMLType:
    """A ggml tensor type: ``block_bytes`` bytes hold ``block_elements`` consecutive values of a row.

    Sizes from the block structs of llama.cpp ``ggml/src/ggml-common.h`` (``block_q4_K`` ...), as
    ``GGML_QUANT_SIZES`` in ``gguf-py/gguf/constants.py`` lists them.
    """

    name: str
    block_elements: int
    block_bytes: int
    description: str

    @property
    def bits_per_weight(self) -> Fraction:
        """``8 x block_bytes / block_elements``: Q4_K 144 bytes per 256 values = 4.5."""
        return Fraction(8 * self.block_bytes, self.block_elements)

    def tensor_bytes(self, tensor: Tensor) -> int:
        """``n_elements / block_elements x block_bytes``; a row (``ne[0]``) must be whole blocks."""
        if tensor.shape[0] % self.block_elements:
            raise QuantError(
                f"{tensor.name}: a row of {tensor.shape[0]} is not a whole number of "
                f"{self.name} blocks of {self.block_elements}"
            )
        return tensor.n_elements // self.block_elements * self.block_bytes


def _ggml(name: str, elements: int, nbytes: int, description: str) -> GGMLType:
    return GGMLType(name, elements, nbytes, description)


#: Every ggml type a GGUF file type can produce, plus Q8_K (an intermediate for dot products).
GGML_TYPES: dict[str, GGMLType] = {
    t.name: t
    for t in (
        _ggml("F32", 1, 4, "32-bit IEEE float"),
        _ggml("F16", 1, 2, "16-bit IEEE float"),
        _ggml("BF16", 1, 2, "bfloat16"),
        _ggml("Q4_0", 32, 18, "4-bit, blocks of 32 with an fp16 scale"),
        _ggml("Q4_1", 32, 20, "4-bit, blocks of 32 with an fp16 scale and minimum"),
        _ggml("Q5_0", 32, 22, "5-bit, blocks of 32 with an fp16 scale"),
        _ggml("Q5_1", 32, 24, "5-bit, blocks of 32 with an fp16 scale and minimum"),
        _ggml("Q8_0", 32, 34, "8-bit, blocks of 32 with an fp16 scale"),
        _ggml("Q2_K", 256, 84, "2-bit k-quant, super-blocks of 256 with 4-bit sub-block scales"),
        _ggml("Q3_K", 256, 110, "3-bit k-quant, super-blocks of 256 with 6-bit sub-block scales"),
        _ggml("Q4_K", 256, 144, "4-bit k-quant, super-blocks of 256 with 6-bit scales and minimums"),
        _ggml("Q5_K", 256, 176, "5-bit k-quant, super-blocks of 256 with 6-bit scales and minimums"),
        _ggml("Q6_K", 256, 210, "6-bit k-quant, super-blocks of 256 with 8-bit sub-block scales"),
        _ggml("Q8_K", 256, 292, "8-bit k-quant, fp32 scale and block sums; an intermediate, not stored in files"),
        _ggml("IQ1_S", 256, 50, "1.56-bit i-quant (lattice codebook)"),
        _ggml("IQ1_M", 256, 56, "1.75-bit i-quant (lattice codebook)"),
        _ggml("IQ2_XXS", 256, 66, "2.06-bit i-quant (E8 lattice codebook)"),
        _ggml("IQ2_XS", 256, 74, "2.31-bit i-quant (E8 lattice codebook)"),
        _ggml("IQ2_S", 256, 82, "2.56-bit i-quant (E8 lattice codebook)"),
        _ggml("IQ3_XXS", 256, 98, "3.06-bit i-quant (lattice codebook)"),
        _ggml("IQ3_S", 256, 110, "3.44-bit i-quant (lattice codebook)"),
        _ggml("IQ4_NL", 32, 18, "4-bit non-linear (lookup table), blocks of 32"),
        _ggml("IQ4_XS", 256, 136, "4.25-bit non-linear, super-blocks of 256"),
        _ggml("TQ1_0", 256, 54, "ternary (1.69 bits), for BitNet-style models"),
        _ggml("TQ2_0", 256, 66, "ternary (2.06 bits), for BitNet-style models"),
        _ggml("MXFP4", 32, 17, "OCP MXFP4: 32 E2M1 values and an E8M0 scale"),
    )
}


# --- the catalogue -----------------------------------------------------------------------------


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
#: IQ2_S and IQ3_XS to IQ3_S.
GGUF_FILE_TYPES: dict[str, tuple[str, str]] = {
    "q2_k": ("Q2_K", "Q2_K"),
    "q2_k_s": ("Q2_K_S", "Q2_K"),
    "q3_k_s": ("Q3_K_S", "Q3_K"),
    "q3_k_m": ("Q3_K_M", "Q3_K"),
    "q3_k_l": ("Q3_K_L", "Q3_K"),
    "q4_0": ("Q4_0", "Q4_0"),
    "q4_1": ("Q4_1", "Q4_1"),
    "q5_0": ("Q5_0", "Q5_0"),
    "q5_1": ("Q5_1", "Q5_1"),
    "q4_k_s": ("Q4_K_S", "Q4_K"),
    "q4_k_m": ("Q4_K_M", "Q4_K"),
    "q5_k_s": ("Q5_K_S", "Q5_K"),
    "q5_k_m": ("Q5_K_M", "Q5_K"),
    "q6_k": ("Q6_K", "Q6_K"),
    "q8_0": ("Q8_0", "Q8_0"),
    "gguf-f16": ("F16", "F16"),
    "gguf-bf16": ("BF16", "BF16"),
    "iq1_s": ("IQ1_S", "IQ1_S"),
    "iq1_m": ("IQ1_M", "IQ1_M"),
    "iq2_xxs": ("IQ2_XXS", "IQ2_XXS"),
    "iq2_xs": ("IQ2_XS", "IQ2_XS"),
    "iq2_s": ("IQ2_S", "IQ2_XS"),
    "iq2_m": ("IQ2_M", "IQ2_S"),
    "iq3_xxs": ("IQ3_XXS", "IQ3_XXS"),
    "iq3_xs": ("IQ3_XS", "IQ3_S"),
    "iq3_s": ("IQ3_S", "IQ3_S"),
    "iq3_m": ("IQ3_M", "IQ3_S"),
    "iq4_nl": ("IQ4_NL", "IQ4_NL"),
    "iq4_xs": ("IQ4_XS", "IQ4_XS"),
    "tq1_0": ("TQ1_0", "TQ1_0"),
    "tq2_0": ("TQ2_0", "TQ2_0"),
    "mxfp4_moe": ("MXFP4_MOE", "MXFP4"),
}


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


# --- results -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TypeBytes:
    """Parameters stored in one type and the bytes they take."""

    type_name: str
    params: int
    bytes: int


@dataclass(frozen=True)
class WeightsResult:
    """A model's weights in one format.

    ``total_bytes`` is the sum of ``by_type`` plus ``extra_bytes``: stored values that are not
    parameters (GPTQ's ``g_idx``, llama.cpp's ``rope_freqs`` table). ``bits_per_weight`` is
    ``8 x total_bytes / params`` over the model's parameters. ``approximate`` is set when the figure
    rests on an assumption that ``notes`` states.
    """

    format: str
    params: int
    total_bytes: int
    bits_per_weight: float
    approximate: bool
    notes: tuple[str, ...]
    by_type: tuple[TypeBytes, ...]
    extra_bytes: int = 0


def _result(
    name: str, parts: Iterable[TypeBytes], *, extra: int = 0, approximate: bool = False, notes: Iterable[str] = ()
) -> WeightsResult:
    by_type = tuple(sorted((p for p in parts if p.params), key=lambda p: -p.bytes))
    params = sum(p.params for p in by_type)
    total = sum(p.bytes for p in by_type) + extra
    return WeightsResult(
        format=name,
        params=params,
        total_bytes=total,
        bits_per_weight=8 * total / params if params else 0.0,
        approximate=approximate,
        notes=tuple(notes),
        by_type=by_type,
        extra_bytes=extra,
    )


def weights_for_bpw(spec: ModelSpec, bits_per_weight: Bits) -> WeightsResult:
    """Every parameter at ``bits_per_weight``: ``ceil(P x b / 8)`` bytes (:func:`bits_to_bytes`).

    Uniform on purpose: embeddings, norms and the head are priced like the rest, which is what a
    single "bits per weight" figure means.
    """
    params = count_params(spec).total_params
    label = f"{bits_per_weight} bpw"
    return _result(
        label,
        [TypeBytes(label, params, bits_to_bytes(params, bits_per_weight))],
        notes=[f"every parameter at {bits_per_weight} bits"],
    )


def sixteen_bit_type(spec: ModelSpec) -> str:
    """``bf16`` for a bfloat16 checkpoint, else ``fp16``: what unquantized tensors are kept in."""
    return "bf16" if spec.torch_dtype == "bfloat16" else "fp16"


def is_block_linear(tensor: Tensor) -> bool:
    """A weight matrix inside a transformer layer, other than an MoE router or T5's position bias.

    These are the modules GPTQ, AWQ, bitsandbytes and FP8 exports quantize (``nn.Linear`` in the
    decoder layers; routers are kept in 16 bits by AutoAWQ's and GPTQModel's MoE definitions).
    """
    return (
        tensor.layer is not None
        and tensor.n_dims >= 2
        and tensor.name.endswith(".weight")
        and "ffn_gate_inp" not in tensor.name
        and tensor.role != "relative_position_bias"
    )


def _linear_layers(spec: ModelSpec, fmt: WeightFormat) -> WeightsResult:
    """Linear layers at ``fmt.bits_per_weight``; the rest at 16 bits; GPTQ adds 4 bytes per input row.

    ``bytes = ceil(P_linear x b / 8) + 2 x P_rest (+ 4 x sum(ne0) for GPTQ's int32 g_idx)``. Group
    scales assume each row is a whole number of groups (true of the models llmcalc ships).
    """
    tensors = weight_tensors(spec)
    linear = [t for t in tensors if is_block_linear(t)]
    n_linear = sum(t.n_elements for t in linear)
    n_rest = sum(t.n_elements for t in tensors) - n_linear
    dtype = sixteen_bit_type(spec)
    notes = [
        f"{fmt.label} on the linear layers of the transformer blocks; embeddings, output head, norms, "
        f"biases and routers stay {dtype} (the tools' default)"
    ]
    extra = 0
    if fmt.family == "gptq":
        extra = 4 * sum(t.n_elements // t.shape[1] for t in linear)
        notes.append(f"includes GPTQ's int32 g_idx, one per input channel of each layer ({extra:,} bytes)")
    if fmt.name == "mxfp4" and spec.is_moe:
        notes.append(
            "gpt-oss's released checkpoint stores only the routed experts in MXFP4 (the rest bf16); "
            "mxfp4_moe is the GGUF counterpart"
        )
    if fmt.approximate:
        notes.append(fmt.description)
    parts = [
        TypeBytes(fmt.name, n_linear, bits_to_bytes(n_linear, fmt.bits_per_weight)),
        TypeBytes(dtype, n_rest, 2 * n_rest),
    ]
    return _result(fmt.name, parts, extra=extra, approximate=fmt.approximate, notes=notes)


# --- GGUF file types: llama.cpp's per-tensor rules -----------------------------------------------

_LOW_IQ = frozenset({"IQ2_XXS", "IQ2_XS", "IQ1_S", "IQ2_S", "IQ2_M", "IQ1_M"})
#: File types whose main type llama-quantize refuses to produce without an importance matrix.
_NEEDS_IMATRIX = frozenset({"IQ1_S", "IQ1_M", "IQ2_XXS", "IQ2_XS", "IQ2_S", "IQ2_M", "IQ3_XXS", "Q2_K_S"})
#: Shape fallback (``tensor_type_fallback``) when ``ne[0]`` is not a multiple of the type's block.
_FALLBACK = {
    **dict.fromkeys(("IQ1_S", "IQ1_M", "IQ2_XXS", "IQ2_XS", "IQ2_S", "IQ3_XXS", "IQ3_S", "IQ4_XS"), "IQ4_NL"),
    **dict.fromkeys(("Q2_K", "Q3_K", "TQ1_0", "TQ2_0"), "Q4_0"),
    "Q4_K": "Q5_0",
    "Q5_K": "Q5_1",
    "Q6_K": "Q8_0",
}
#: Model types llama.cpp stores with a fused ``attn_qkv`` (and sometimes a fused ``ffn_up``).
_FUSED_QKV = frozenset({"phi3", "falcon", "gpt2", "bloom", "gpt_neox", "gpt_bigcode"})
#: Model types whose 80-layer versions llama.cpp tags ``LLM_TYPE_70B`` (``llama-model.cpp``).
_ARCH_70B = frozenset({"llama", "mistral", "mixtral", "qwen2"})


@dataclass(frozen=True)
class _Facts:
    """What llama.cpp's rules read from the model's hyperparameters."""

    n_layer: int
    n_gqa: int
    n_expert: int
    falcon: bool
    is_70b: bool
    tied: bool


def _facts(spec: ModelSpec) -> _Facts:
    attn = spec.first_attention
    moe = next((g.moe for s in spec.stacks for g in s.groups if g.moe is not None), None)
    n_layer = spec.num_hidden_layers
    is_70b = (
        spec.model_type in _ARCH_70B
        and n_layer == 80
        and attn is not None
        and (spec.model_type == "qwen2" or attn.num_heads != attn.num_kv_heads)
    )
    return _Facts(
        n_layer=n_layer,
        n_gqa=attn.gqa_group if attn is not None else 1,
        n_expert=moe.num_experts if moe else 0,
        falcon=spec.model_type == "falcon",
        is_70b=is_70b,
        tied=spec.lm_head != "untied",
    )


def use_more_bits(i: int, n: int) -> bool:
    """llama.cpp's layer pick for extra bits: the first and last eighth, and every third between.

    ``i < n/8 or i >= 7n/8 or (i - n/8) % 3 == 2`` with integer division (src/llama-quant.cpp).
    For n = 32: layers 0-3, 6, 9, ..., 27 and 28-31, half the layers.
    """
    return i < n // 8 or i >= 7 * n // 8 or (i - n // 8) % 3 == 2


def _block_layer(name: str) -> int:
    """The N of a leading ``blk.N.``, -1 otherwise, as llama.cpp's tensor-order comparator parses it."""
    m = re.match(r"blk\.(\d+)\.", name)
    return int(m.group(1)) if m else -1


def _kept_type(tensor: Tensor, default: str) -> str | None:
    """The type of a tensor llama-quantize does not quantize, or ``None`` when it is eligible.

    The converter writes 1-D tensors, norms, biases, MoE routers, position and token-type tables as
    F32 (``convert_hf_to_gguf.py``) and ``tensor_allows_quantization`` leaves them so; T5's
    relative-position bias is excluded by name and keeps the 16-bit source type.
    """
    name = tensor.name
    if tensor.n_dims < 2 or not name.endswith("weight") or "_norm.weight" in name:
        return "F32"
    if any(s in name for s in ("ffn_gate_inp", "position_embd", "token_types")):
        return "F32"
    if "attn_rel_b" in name:
        return "BF16" if default == "BF16" else "F16"
    return None


class _Counters:
    """llama-quantize's running counters (``quantize_state_impl``)."""

    def __init__(self, n_attention_wv: int) -> None:
        self.n_attention_wv = n_attention_wv
        self.i_attention_wv = 0
        self.i_ffn_down = self.i_ffn_gate = self.i_ffn_up = 0


def _pick(ft: str, new: str, t: Tensor, m: _Facts, c: _Counters, imatrix: bool) -> str:
    """The ggml type llama-quantize gives tensor ``t`` in file type ``ft`` of default type ``new``.

    Before the shape fallback.

    Transcribes ``llama_tensor_get_type_impl`` (src/llama-quant.cpp), branch for branch and in its
    order; :func:`gguf_tensor_types` lists what is not modelled.
    """
    name, ne0 = t.name, t.shape[0]
    is_output = name == "output.weight" or (m.tied and name == "token_embd.weight")

    def layer(counter: int) -> int:
        return t.layer if (m.n_expert > 1 and t.layer is not None) else counter

    if is_output:
        if ft == "MXFP4_MOE" or m.falcon or ne0 % GGML_TYPES[new].block_elements:
            return "Q8_0"
        if ft in ("IQ2_XXS", "IQ2_XS", "IQ3_XXS", "IQ1_S", "IQ2_S", "IQ2_M", "IQ1_M"):
            return "Q5_K"
        return new if new == "Q8_0" else "Q6_K"
    if ft == "MXFP4_MOE":
        return "MXFP4" if t.n_dims == 3 and t.shape[2] > 1 else "Q8_0"
    if name == "token_embd.weight":
        if ft in ("IQ2_XXS", "IQ2_XS", "IQ1_S", "IQ1_M"):
            return "Q2_K"
        if ft in ("IQ2_S", "IQ2_M", "IQ3_XXS"):
            return "IQ3_S"
        if ft in ("TQ1_0", "TQ2_0"):
            return "Q4_K"
        return new
    attn_v = "attn_v.weight" in name
    if ft in _LOW_IQ:
        if attn_v:
            c.i_attention_wv += 1
            if m.n_gqa >= 4 or m.n_expert >= 4:
                return "Q4_K"
            return "IQ3_S" if ft in ("IQ2_S", "IQ2_M") else "Q2_K"
        if "attn_k.weight" in name and m.n_expert == 8:
            return "Q4_K"
        if "ffn_down" in name:
            first = c.i_ffn_down < m.n_layer // 8
            c.i_ffn_down += 1
            if first:
                return "IQ3_S" if ft in ("IQ2_S", "IQ2_M") else "Q2_K"
            return new
        if "attn_output.weight" in name:
            if m.n_expert == 8:
                return "Q5_K"
            if ft in ("IQ1_S", "IQ1_M"):
                return "IQ2_XXS"
            if ft in ("IQ2_S", "IQ2_M"):
                return "IQ3_S"
        return new
    if attn_v:
        i, n = c.i_attention_wv, c.n_attention_wv
        c.i_attention_wv += 1
        if ft == "Q2_K":
            new = "Q4_K" if m.n_gqa >= 4 else "Q3_K"
        elif ft == "Q2_K_S" and m.n_gqa >= 4:
            new = "Q4_K"
        elif ft == "IQ3_XXS":
            new = "Q4_K" if m.n_gqa >= 4 else ("IQ3_XXS" if imatrix else "IQ3_S")
        elif (ft in ("IQ3_XS", "IQ3_S") and m.n_gqa >= 4) or ft == "IQ3_M":
            new = "Q4_K"
        elif ft == "Q3_K_M":
            new = "Q5_K" if i < 2 else "Q4_K"
        elif ft == "Q3_K_L" or (ft in ("IQ4_NL", "IQ4_XS") and m.n_gqa >= 4):
            new = "Q5_K"
        elif ft in ("Q4_K_M", "Q5_K_M") and use_more_bits(i, n):
            new = "Q6_K"
        elif ft == "Q4_K_S" and i < 4:
            new = "Q5_K"
        if m.is_70b and new in ("Q3_K", "Q4_K"):
            new = "Q5_K"
        return "Q8_0" if m.n_expert == 8 else new
    if "attn_k.weight" in name:
        if m.n_expert == 8:
            return "Q8_0"
        return {"IQ3_XS": "IQ3_XXS", "IQ3_XXS": "IQ2_S"}.get(ft, new)
    if "attn_q.weight" in name:
        return {"IQ3_XS": "IQ3_XXS", "IQ3_XXS": "IQ2_S"}.get(ft, new)
    if "ffn_down" in name:
        i, n = layer(c.i_ffn_down), m.n_layer
        c.i_ffn_down += 1
        more = use_more_bits(i, n)
        if ft == "Q2_K":
            return "Q3_K"
        if ft == "Q2_K_S":
            return "Q4_K" if i < n // 8 else new
        if ft == "IQ3_XXS" and not imatrix:
            return "Q4_K" if i < n // 8 else "Q3_K"
        if ft == "Q3_K_M":
            if i < n // 16:
                return "Q5_K"
            return ("Q4_K" if more else "Q3_K") if m.falcon else "Q4_K"
        if ft == "IQ3_M":
            return "Q4_K" if (i < n // 8 or (m.n_expert == 8 and more)) else new
        if ft == "Q3_K_L":
            return "Q4_K" if m.falcon else "Q5_K"
        if ft == "Q4_K_M":
            if m.falcon:
                return "Q6_K" if i < n // 16 else ("Q5_K" if more else "Q4_K")
            return "Q6_K" if more else new
        if ft in ("IQ4_NL", "IQ4_XS"):
            return "Q5_K" if (i < n // 8 and not imatrix) else new
        if ft == "Q5_K_M":
            return "Q6_K" if more else new
        if ft == "Q4_K_S" and not m.falcon:
            return "Q5_K" if i < n // 8 else new
        if ft in ("Q4_0", "Q5_0") and imatrix and i < n // 8:
            return "Q4_1" if ft == "Q4_0" else "Q5_1"
        return new
    if "attn_output.weight" in name:
        if m.falcon:
            return "Q4_K" if ft == "Q3_K_L" else new
        if m.n_expert == 8:
            eight = (
                "Q2_K",
                "IQ3_XS",
                "IQ3_XXS",
                "Q3_K_S",
                "Q3_K_M",
                "IQ4_NL",
                "Q4_K_S",
                "Q4_K_M",
                "IQ3_S",
                "IQ3_M",
                "IQ4_XS",
            )
            return "Q5_K" if ft in eight else new
        return {"Q2_K": "Q3_K", "IQ3_XXS": "IQ3_S", "Q3_K_M": "Q4_K", "Q3_K_L": "Q5_K", "IQ3_M": "Q4_K"}.get(ft, new)
    for part, attr in (("ffn_gate", "i_ffn_gate"), ("ffn_up", "i_ffn_up")):
        if part in name:
            i, n = layer(getattr(c, attr)), m.n_layer
            setattr(c, attr, getattr(c, attr) + 1)
            return "IQ3_XXS" if ft == "IQ3_XS" and n // 8 <= i < 7 * n // 8 else new
    return new


def _fallback(type_name: str, ne0: int) -> str:
    """``tensor_type_fallback``: a type whose block does not divide the row gives way to a 32-block type,
    and to F16 if even that does not fit (llama-quantize refuses some of these; F16 is the honest size)."""
    if ne0 % GGML_TYPES[type_name].block_elements == 0:
        return type_name
    smaller = _FALLBACK.get(type_name, "F16")
    return smaller if ne0 % GGML_TYPES[smaller].block_elements == 0 else "F16"


def gguf_tensor_types(
    spec: ModelSpec, fmt: WeightFormat | str, *, imatrix: bool | None = None
) -> tuple[tuple[Tensor, str], ...]:
    """Each tensor with the ggml type llama-quantize gives it in GGUF file type ``fmt``.

    Tensors are visited in llama.cpp's order (tensors outside the layers first, then by layer, by
    name within a layer) because some rules count the tensors seen so far. ``imatrix`` says whether
    an importance matrix is supplied; ``None`` assumes one only for the file types that demand it,
    which is how llama.cpp's published Llama-3.1-8B table was made. Source: ``llama_tensor_get_type``
    and ``tensor_type_fallback`` in src/llama-quant.cpp; the order from ``weight_name_comparer`` in
    src/llama-model-loader.h.

    Deliberate differences: ``attn_kv_b`` (MLA) gets the default type, as in the files llama.cpp's
    converter writes today (it splits it into ``attn_k_b``/``attn_v_b``, which no rule names); user
    overrides (``--output-tensor-type``, ``--pure``) are not modelled.
    """
    fmt = get_format(fmt) if isinstance(fmt, str) else fmt
    if fmt.family != "gguf":
        raise QuantError(f"{fmt.name} is not a GGUF file type")
    ft, default = GGUF_FILE_TYPES[fmt.name]
    use_imatrix = (ft in _NEEDS_IMATRIX) if imatrix is None else imatrix
    facts = _facts(spec)
    ordered = sorted(weight_tensors(spec), key=lambda t: (_block_layer(t.name), t.name))
    counters = _Counters(sum("attn_v.weight" in t.name for t in ordered))
    out = []
    for t in ordered:
        kept = _kept_type(t, default)
        if kept is not None:
            out.append((t, kept))
        elif default in ("F16", "BF16", "F32"):
            out.append((t, default))
        else:
            out.append((t, _fallback(_pick(ft, default, t, facts, counters, use_imatrix), t.shape[0])))
    return tuple(out)


def gguf_extra_tensors(spec: ModelSpec) -> tuple[Tensor, ...]:
    """Non-parameter F32 tensors llama.cpp's converter writes into a GGUF file for this model.

    ``rope_freqs.weight`` (rotary dims / 2 values) for Llama models with ``rope_type: llama3``
    (Llama 3.1-3.3; ``LlamaModel.generate_extra_tensors`` in convert_hf_to_gguf.py), and
    ``rope_factors_long``/``rope_factors_short`` for Phi-3's ``longrope``/``su`` scaling. Other
    converters' extras are not known to llmcalc.
    """
    scaling = spec.positional.rope_scaling
    if scaling is None:
        return ()
    half = (spec.positional.rotary_dim or spec.head_dim) // 2
    kind = scaling.rope_type.lower()
    if kind == "llama3" and spec.model_type == "llama":
        return (Tensor("rope_freqs.weight", None, (half,), "buffer"),)
    if kind in ("longrope", "su") and spec.model_type == "phi3":
        return (
            Tensor("rope_factors_long.weight", None, (half,), "buffer"),
            Tensor("rope_factors_short.weight", None, (half,), "buffer"),
        )
    return ()


def _gguf_bytes(assigned: Iterable[tuple[Tensor, str]]) -> list[TypeBytes]:
    params: dict[str, int] = {}
    nbytes: dict[str, int] = {}
    for t, type_name in assigned:
        params[type_name] = params.get(type_name, 0) + t.n_elements
        nbytes[type_name] = nbytes.get(type_name, 0) + GGML_TYPES[type_name].tensor_bytes(t)
    return [TypeBytes(k, params[k], nbytes[k]) for k in params]


def _gguf(spec: ModelSpec, fmt: WeightFormat, imatrix: bool | None) -> WeightsResult:
    """A GGUF file type: ``sum over tensors of rows x ne0 / block x block_bytes`` for each tensor's type.

    Counts tensor data only: the header, metadata and the 32-byte alignment padding of each tensor
    are left out (as in llama-quantize's reported size and the README table). The non-parameter
    tensors of :func:`gguf_extra_tensors` are in ``extra_bytes``.
    """
    ft = GGUF_FILE_TYPES[fmt.name][0]
    parts = _gguf_bytes(gguf_tensor_types(spec, fmt, imatrix=imatrix))
    extras = gguf_extra_tensors(spec)
    extra = sum(4 * t.n_elements for t in extras)
    notes: list[str] = []
    approximate = False
    if extras:
        notes.append(
            f"includes llama.cpp's F32 {', '.join(t.name for t in extras)} ({extra:,} bytes; not model parameters)"
        )
    if imatrix is None:
        used = ft in _NEEDS_IMATRIX
        other = sum(p.bytes for p in _gguf_bytes(gguf_tensor_types(spec, fmt, imatrix=not used)))
        mine = sum(p.bytes for p in parts)
        if other != mine:
            approximate = True
            notes.append(
                f"assumes {'an' if used else 'no'} importance matrix (llama-quantize's usual "
                f"choice for {ft}); {'without' if used else 'with'} one: {other - mine:+,} bytes"
            )
        elif used:
            notes.append(f"llama-quantize needs an importance matrix for {ft} (the size does not depend on it)")
    if spec.is_moe:
        approximate = True
        notes.append(
            "MoE: llama.cpp may lay the experts out differently for this architecture "
            "(fused gate/up experts, split MLA tensors); treat the mix as an estimate"
        )
    if spec.model_type in _FUSED_QKV:
        approximate = True
        notes.append(
            f"llama.cpp stores {spec.model_type} with a fused attn_qkv, whose rules differ "
            "from separate q/k/v; treat the mix as an estimate"
        )
    if spec.architecture != "decoder":
        approximate = True
        notes.append(
            f"{spec.architecture} models use a different llama.cpp tensor layout; treat the mix as an estimate"
        )
    notes.append("tensor data only; the GGUF header, metadata and 32-byte alignment padding add a few MB")
    return _result(fmt.name, parts, extra=extra, approximate=approximate, notes=notes)


def weights_for_format(spec: ModelSpec, fmt: WeightFormat | str, *, imatrix: bool | None = None) -> WeightsResult:
    """``spec``'s weights in format ``fmt`` (a :class:`WeightFormat` or a name for :func:`get_format`).

    - uniform formats (float, raw ggml types): every parameter at the format's bits,
      ``ceil(P x b / 8)`` bytes;
    - linear-layer formats (FP8, INT8/INT4, NF4, GPTQ, AWQ, MXFP4, NVFP4): see :func:`is_block_linear`;
      the rest at the model's 16-bit dtype. Sources: GPTQ arXiv 2210.17323, AWQ arXiv 2306.00978,
      QLoRA arXiv 2305.14314 section 3, OCP MX spec v1.0, the NVIDIA NVFP4 blog, DeepSeek-V3
      arXiv 2412.19437;
    - GGUF file types: llama.cpp's per-tensor mix (:func:`gguf_tensor_types`), with ``imatrix`` as
      there. Exact for dense Llama-style decoders (tested against llama.cpp's published table);
      marked approximate for MoE models, fused-QKV and encoder architectures, and where the mix
      depends on an importance matrix the caller did not specify.
    """
    fmt = get_format(fmt) if isinstance(fmt, str) else fmt
    if fmt.kind == MIX:
        return _gguf(spec, fmt, imatrix)
    if fmt.kind == LINEAR:
        return _linear_layers(spec, fmt)
    params = count_params(spec).total_params
    notes = [f"every parameter at {fmt.bits_per_weight} bits"]
    if fmt.family == "ggml":
        name = fmt.name.removeprefix("ggml-")
        hint = f"; a GGUF file of type {name} is a per-tensor mix" if name in GGUF_FILE_TYPES else ""
        notes.append(f"a raw ggml block type applied to every tensor, norms included{hint}")
    return _result(
        fmt.name,
        [TypeBytes(fmt.name, params, bits_to_bytes(params, fmt.bits_per_weight))],
        approximate=fmt.approximate,
        notes=notes,
    )


__all__ = [
    "GGML_TYPES",
    "GGUF_FILE_TYPES",
    "QUALITY_ORDER",
    "GGMLType",
    "TypeBytes",
    "WeightFormat",
    "WeightsResult",
    "all_formats",
    "bits_to_bytes",
    "get_format",
    "gguf_extra_tensors",
    "gguf_tensor_types",
    "is_block_linear",
    "sixteen_bit_type",
    "use_more_bits",
    "weights_for_bpw",
    "weights_for_format",
]
